#pragma once
// Draws small structured choices (counts, names, shapes, values) from a fuzzer's bytes, so that a
// target can build inputs the way real files look and still reach every odd corner. When the
// bytes run out every draw returns zero, which is a valid choice.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace mimic::fuzz {

class ByteSource {
 public:
  ByteSource(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // A value in [0, n) for n >= 1.
  size_t below(size_t n) { return n <= 256 ? byte() % n : (size_t(byte()) << 8 | byte()) % n; }
  bool flag() { return byte() & 1; }
  int64_t int64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | byte();
    return int64_t(v);
  }
  float float32() {
    uint32_t bits = 0;
    for (int i = 0; i < 4; ++i) bits = bits << 8 | byte();
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  // Up to max_len bytes as a string.
  std::string text(size_t max_len) {
    std::string s;
    for (size_t n = below(max_len + 1); n > 0 && pos_ < size_; --n) s.push_back(char(byte()));
    return s;
  }
  bool empty() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

}  // namespace mimic::fuzz
