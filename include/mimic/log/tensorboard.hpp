#pragma once
// TensorBoard event files without a protobuf library: TFRecord framing (little-endian uint64
// length, masked CRC-32C of the length, payload, masked CRC-32C of the payload) around Event
// messages encoded by hand:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "mimic/core/error.hpp"
#include "mimic/log/crc32c.hpp"

namespace mimic::log {

namespace pb {
inline void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(uint8_t(v) | 0x80));
    v >>= 7;
  }
  out.push_back(char(uint8_t(v)));
}
inline void tag(std::string& out, int field, int wire) {
  varint(out, uint64_t(field) << 3 | uint64_t(wire));
}
inline void bytes(std::string& out, int field, const std::string& s) {
  tag(out, field, 2);
  varint(out, s.size());
  out += s;
}
inline void fixed64(std::string& out, int field, double v) {
  tag(out, field, 1);
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}
inline void fixed32(std::string& out, int field, float v) {
  tag(out, field, 5);
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}
}  // namespace pb

class EventWriter {
 public:
  // Creates `<dir>/events.out.tfevents.<unix seconds>.<hostname>` and writes the version event.
  explicit EventWriter(const std::string& dir) {
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    path_ = dir + "/events.out.tfevents." + std::to_string(long(now())) + "." + host;
    f_ = std::fopen(path_.c_str(), "ab");
    if (!f_) throw IoError(path_ + ": cannot create the TensorBoard event file");
    std::string e;
    pb::fixed64(e, 1, now());
    pb::bytes(e, 3, "brain.Event:2");
    record(e);
    flush();
  }
  ~EventWriter() {
    if (f_) std::fclose(f_);
  }
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  const std::string& path() const { return path_; }

  void add_scalar(const std::string& tag, double value, int64_t step) {
    std::string v, summary, e;
    pb::bytes(v, 1, tag);
    pb::fixed32(v, 2, float(value));
    pb::bytes(summary, 1, v);
    pb::fixed64(e, 1, now());
    pb::tag(e, 2, 0);
    pb::varint(e, uint64_t(step));
    pb::bytes(e, 5, summary);
    record(e);
  }
  // Records are complete on disk after a flush, so a crash between flushes loses only new ones.
  void flush() {
    if (std::fflush(f_) != 0) throw IoError(path_ + ": write failed");
  }

 private:
  static double now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  void record(const std::string& data) {
    char len[8];
    const uint64_t n = data.size();
    for (int i = 0; i < 8; ++i) len[i] = char(uint8_t(n >> (8 * i)));
    const uint32_t len_crc = masked_crc32c(len, 8),
                   data_crc = masked_crc32c(data.data(), data.size());
    char c1[4], c2[4];
    for (int i = 0; i < 4; ++i)
      c1[i] = char(uint8_t(len_crc >> (8 * i))), c2[i] = char(uint8_t(data_crc >> (8 * i)));
    std::string rec(len, 8);
    rec.append(c1, 4);
    rec += data;
    rec.append(c2, 4);
    if (std::fwrite(rec.data(), 1, rec.size(), f_) != rec.size())
      throw IoError(path_ + ": write failed");
  }

  std::string path_;
  std::FILE* f_ = nullptr;
};

}  // namespace mimic::log
