#pragma once
// Writes a zip of stored (uncompressed) entries, as torch.save lays out a checkpoint: each
// entry's data starts on a 64-byte boundary (padding in the local header's extra field, as
// torch pads for memory-mapped loading), CRC-32 per entry, then the central directory. Written
// to a temporary file in the target's folder and renamed into place when complete, so a failure
// leaves the previous file (or none). Archives past 4 GiB (ZIP64) are refused.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "mimic/core/durable_rename.hpp"
#include "mimic/io/zip_archive.hpp"

namespace mimic::io {

class ZipWriter {
 public:
  explicit ZipWriter(std::string path)
      : path_(std::move(path)), tmp_(path_ + ".tmp-" + std::to_string(::getpid())) {
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) throw IoError(path_ + ": cannot create " + tmp_);
  }
  ~ZipWriter() {
    if (!done_) {
      out_.close();
      std::remove(tmp_.c_str());
    }
  }
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  void add(const std::string& name, const void* data, size_t size) {
    const uint32_t crc = crc32_update(0, static_cast<const unsigned char*>(data), size);
    const uint64_t header = offset_;
    const size_t fixed = 30 + name.size() + 4;  // the extra field's own 4-byte header
    const size_t pad = (64 - (header + fixed) % 64) % 64;
    const uint64_t end = header + fixed + pad + size;
    if (end > 0xFFFFFFFFull || name.size() > 0xFFFF)
      throw IoError(path_ + ": archives past 4 GiB are not supported");
    std::string h;
    put32(h, 0x04034b50u);
    put16(h, 20);  // version needed
    put16(h, 0);   // flags
    put16(h, 0);   // stored
    put16(h, 0);   // time
    put16(h, 0);   // date
    put32(h, crc);
    put32(h, uint32_t(size));
    put32(h, uint32_t(size));
    put16(h, uint16_t(name.size()));
    put16(h, uint16_t(4 + pad));
    h += name;
    put16(h, 0x4246);  // "FB": padding
    put16(h, uint16_t(pad));
    h.append(pad, 'Z');
    write(h.data(), h.size());
    write(data, size);
    entries_.push_back({name, header, size, crc});
  }
  void add(const std::string& name, const std::string& text) {
    add(name, text.data(), text.size());
  }

  // The central directory, then flush, fsync and rename into place.
  void finish() {
    const uint64_t cd_start = offset_;
    for (const Entry& e : entries_) {
      std::string h;
      put32(h, 0x02014b50u);
      put16(h, 20);  // made by
      put16(h, 20);  // needed
      put16(h, 0);
      put16(h, 0);
      put16(h, 0);
      put16(h, 0);
      put32(h, e.crc);
      put32(h, uint32_t(e.size));
      put32(h, uint32_t(e.size));
      put16(h, uint16_t(e.name.size()));
      put16(h, 0);  // extra
      put16(h, 0);  // comment
      put16(h, 0);  // disk
      put16(h, 0);  // internal attributes
      put32(h, 0);  // external attributes
      put32(h, uint32_t(e.offset));
      h += e.name;
      write(h.data(), h.size());
    }
    const uint64_t cd_size = offset_ - cd_start;
    if (offset_ > 0xFFFFFFFFull || entries_.size() > 0xFFFF)
      throw IoError(path_ + ": archives past 4 GiB are not supported");
    std::string e;
    put32(e, 0x06054b50u);
    put16(e, 0);
    put16(e, 0);
    put16(e, uint16_t(entries_.size()));
    put16(e, uint16_t(entries_.size()));
    put32(e, uint32_t(cd_size));
    put32(e, uint32_t(cd_start));
    put16(e, 0);
    write(e.data(), e.size());
    if (!out_.flush()) fail();
    out_.close();
    durable_rename(tmp_, path_);
    done_ = true;
  }

 private:
  struct Entry {
    std::string name;
    uint64_t offset, size;
    uint32_t crc;
  };
  static void put16(std::string& s, uint16_t v) {
    s.push_back(char(v & 0xFF));
    s.push_back(char(v >> 8));
  }
  static void put32(std::string& s, uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xFF));
  }
  void write(const void* p, size_t n) {
    out_.write(static_cast<const char*>(p), std::streamsize(n));
    if (!out_) fail();
    offset_ += n;
  }
  [[noreturn]] void fail() {
    const std::string why = errno ? std::strerror(errno) : "disk full?";
    throw IoError(path_ + ": write failed (" + why + ")");
  }

  std::string path_, tmp_;
  std::ofstream out_;
  uint64_t offset_ = 0;
  std::vector<Entry> entries_;
  bool done_ = false;
};

}  // namespace mimic::io
