#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "mimic/core/device_memory.hpp"

namespace mimic {

// A bump allocator over a chain of device blocks, rewound by reset(). A training or inference
// step asks for the same sequence of sizes every time, so after the first step every request is
// served from blocks that already exist: steady-state steps make no heap allocation.
template <class D>
class Arena {
 public:
  static constexpr size_t kAlignment = 64;
  explicit Arena(size_t first_block_bytes = size_t(1) << 20) : first_block_(first_block_bytes) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() {
    for (Block& b : blocks_) DeviceMemory<D>::deallocate(b.base);
  }

  void* allocate(size_t bytes) {
    bytes = std::max<size_t>(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
    while (current_ < blocks_.size()) {
      Block& b = blocks_[current_];
      if (b.used + bytes <= b.size) {
        void* p = static_cast<char*>(b.base) + b.used;
        b.used += bytes;
        in_use_ += bytes;
        peak_ = std::max(peak_, in_use_);
        return p;
      }
      ++current_;  // later blocks of the chain are tried in order, as in the first step
    }
    // Grow: a new block at least as large as everything so far, so the chain stays short.
    size_t size = std::max({bytes, first_block_, capacity_});
    blocks_.push_back(Block{DeviceMemory<D>::allocate(size), size, 0});
    capacity_ += size;
    current_ = blocks_.size() - 1;
    return allocate(bytes);
  }
  template <class T>
  T* allocate_array(int64_t n) {
    return static_cast<T*>(allocate(static_cast<size_t>(n) * sizeof(T)));
  }

  // A position in the allocation sequence; rewind() frees everything allocated after it, so
  // short-lived buffers can reuse the same memory (allocations must be released LIFO).
  struct Mark {
    size_t block = 0, used = 0, in_use = 0;
  };
  Mark mark() const {
    return {current_, current_ < blocks_.size() ? blocks_[current_].used : 0, in_use_};
  }
  void rewind(const Mark& m) {
    for (size_t i = m.block + 1; i < blocks_.size(); ++i) blocks_[i].used = 0;
    if (m.block < blocks_.size()) blocks_[m.block].used = m.used;
    current_ = m.block;
    in_use_ = m.in_use;
  }

  // Forget every allocation; memory is kept for the next step.
  void reset() {
    for (Block& b : blocks_) b.used = 0;
    current_ = 0;
    in_use_ = 0;
  }
  size_t capacity() const { return capacity_; }
  size_t in_use() const { return in_use_; }
  size_t peak() const { return peak_; }

 private:
  struct Block {
    void* base;
    size_t size;
    size_t used;
  };
  std::vector<Block> blocks_;
  size_t current_ = 0;
  size_t first_block_;
  size_t capacity_ = 0;
  size_t in_use_ = 0;
  size_t peak_ = 0;
};

}  // namespace mimic
