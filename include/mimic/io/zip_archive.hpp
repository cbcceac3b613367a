#pragma once
// Read-only access to the stored (uncompressed) entries of a zip file, as torch.save writes them
// (a checkpoint is a zip of data.pkl, data/<storage key> and a few small text entries; torch
// never compresses). The central directory is read once, ZIP64 sizes and offsets included; every
// entry is checked to lie inside the file, and reading an entry checks its CRC-32. Compressed or
// encrypted entries are refused by name.
#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::io {

struct ZipEntry {
  std::string name;
  uint64_t header_offset = 0;  // of the local file header
  uint64_t size = 0;           // stored bytes (= uncompressed bytes)
  uint32_t crc32 = 0;
  uint16_t method = 0;  // 0: stored
  uint16_t flags = 0;
};

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip stores it.
inline uint32_t crc32_update(uint32_t crc, const unsigned char* p, size_t n) {
  static constexpr auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

class ZipArchive {
 public:
  explicit ZipArchive(std::string path) : path_(std::move(path)), in_(path_, std::ios::binary) {
    if (!in_) throw IoError(path_ + ": cannot open");
    in_.seekg(0, std::ios::end);
    file_size_ = static_cast<uint64_t>(in_.tellg());
    read_central_directory();
  }

  const std::string& path() const { return path_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const {
    for (const ZipEntry& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  // The entry's bytes, CRC-checked.
  std::vector<char> read(const ZipEntry& e) {
    if (e.flags & 1) throw IoError(path_ + ": entry '" + e.name + "' is encrypted");
    if (e.method != 0)
      throw IoError(path_ + ": entry '" + e.name + "' is compressed (method " +
                    std::to_string(e.method) +
                    "); torch checkpoints store their entries uncompressed");
    unsigned char local[30];
    read_at(e.header_offset, local, 30, "the local header of '" + e.name + "'");
    if (u32(local) != 0x04034b50u)
      throw IoError(path_ + ": entry '" + e.name + "' has no local file header at offset " +
                    std::to_string(e.header_offset));
    const uint64_t data = e.header_offset + 30 + u16(local + 26) + u16(local + 28);
    if (data > file_size_ || e.size > file_size_ - data)
      throw IoError(path_ + ": entry '" + e.name + "' (" + std::to_string(e.size) +
                    " bytes at offset " + std::to_string(data) + ") runs past the end of the " +
                    std::to_string(file_size_) + "-byte file (truncated?)");
    std::vector<char> out(e.size);
    read_at(data, out.data(), out.size(), "entry '" + e.name + "'");
    const uint32_t crc =
        crc32_update(0, reinterpret_cast<const unsigned char*>(out.data()), out.size());
    if (crc != e.crc32)
      throw IoError(path_ + ": entry '" + e.name + "' fails its CRC-32 check (damaged file)");
    return out;
  }

 private:
  static uint16_t u16(const unsigned char* p) { return uint16_t(p[0] | (p[1] << 8)); }
  static uint32_t u32(const unsigned char* p) {
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
  }
  static uint64_t u64(const unsigned char* p) { return u32(p) | (uint64_t(u32(p + 4)) << 32); }

  void read_at(uint64_t offset, void* out, uint64_t n, const std::string& what) {
    if (offset > file_size_ || n > file_size_ - offset)
      throw IoError(path_ + ": " + what + " runs past the end of the file (truncated?)");
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    if (!in_.read(static_cast<char*>(out), static_cast<std::streamsize>(n)))
      throw IoError(path_ + ": cannot read " + what);
  }

  // The end-of-central-directory record sits in the last 22 + 65535 bytes (its comment).
  void read_central_directory() {
    const uint64_t tail = std::min<uint64_t>(file_size_, 22 + 65535);
    std::vector<unsigned char> buf(tail);
    read_at(file_size_ - tail, buf.data(), tail, "the end of the archive");
    int64_t eocd = -1;
    for (int64_t i = int64_t(tail) - 22; i >= 0; --i)
      if (u32(&buf[size_t(i)]) == 0x06054b50u) {
        eocd = i;
        break;
      }
    if (eocd < 0)
      throw IoError(path_ +
                    ": not a zip archive (no end-of-central-directory record; a torch file "
                    "saved before torch 1.6, or a truncated file?)");
    const unsigned char* e = &buf[size_t(eocd)];
    uint64_t count = u16(e + 10), cd_size = u32(e + 12), cd_offset = u32(e + 16);
    if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu) {
      // ZIP64: a locator 20 bytes before the record points at the ZIP64 end record.
      const uint64_t at = file_size_ - tail + uint64_t(eocd);
      if (at < 20) throw IoError(path_ + ": ZIP64 archive without its locator");
      unsigned char loc[20];
      read_at(at - 20, loc, 20, "the ZIP64 locator");
      if (u32(loc) != 0x07064b50u) throw IoError(path_ + ": ZIP64 archive without its locator");
      unsigned char rec[56];
      read_at(u64(loc + 8), rec, 56, "the ZIP64 end record");
      if (u32(rec) != 0x06064b50u) throw IoError(path_ + ": bad ZIP64 end record");
      count = u64(rec + 32);
      cd_size = u64(rec + 40);
      cd_offset = u64(rec + 48);
    }
    if (cd_offset > file_size_ || cd_size > file_size_ - cd_offset)
      throw IoError(path_ + ": the central directory (" + std::to_string(cd_size) +
                    " bytes at offset " + std::to_string(cd_offset) +
                    ") lies outside the file (truncated?)");
    if (count > cd_size / 46)
      throw IoError(path_ + ": the central directory cannot hold " + std::to_string(count) +
                    " entries in " + std::to_string(cd_size) + " bytes");
    std::vector<unsigned char> cd(cd_size);
    read_at(cd_offset, cd.data(), cd_size, "the central directory");
    size_t p = 0;
    for (uint64_t k = 0; k < count; ++k) {
      if (cd.size() - p < 46 || u32(&cd[p]) != 0x02014b50u)
        throw IoError(path_ + ": central directory entry " + std::to_string(k) + " is damaged");
      const unsigned char* h = &cd[p];
      ZipEntry z;
      z.flags = u16(h + 8);
      z.method = u16(h + 10);
      z.crc32 = u32(h + 16);
      uint64_t compressed = u32(h + 20), size = u32(h + 24);
      const size_t name_len = u16(h + 28), extra_len = u16(h + 30), comment_len = u16(h + 32);
      uint64_t offset = u32(h + 42);
      if (cd.size() - p - 46 < name_len + extra_len + comment_len)
        throw IoError(path_ + ": central directory entry " + std::to_string(k) + " is damaged");
      z.name.assign(reinterpret_cast<const char*>(h + 46), name_len);
      // ZIP64 extra field (id 1): the 64-bit values of the fields that read 0xFFFFFFFF, in order.
      for (size_t x = 0; x + 4 <= extra_len;) {
        const unsigned char* f = h + 46 + name_len + x;
        const size_t id = u16(f), len = u16(f + 2);
        if (x + 4 + len > extra_len) break;
        if (id == 1) {
          size_t q = 4;
          auto take = [&](uint64_t& v) {
            if (v != 0xFFFFFFFFu) return;
            if (q + 8 > 4 + len) throw IoError(path_ + ": bad ZIP64 field of '" + z.name + "'");
            v = u64(f + q);
            q += 8;
          };
          take(size);
          take(compressed);
          take(offset);
        }
        x += 4 + len;
      }
      if (z.method == 0 && compressed != size)
        throw IoError(path_ + ": stored entry '" + z.name + "' has different sizes");
      z.size = size;
      z.header_offset = offset;
      if (offset > file_size_)
        throw IoError(path_ + ": entry '" + z.name + "' starts past the end of the file");
      entries_.push_back(std::move(z));
      p += 46 + name_len + extra_len + comment_len;
    }
  }

  std::string path_;
  std::ifstream in_;
  uint64_t file_size_ = 0;
  std::vector<ZipEntry> entries_;
};

}  // namespace mimic::io
