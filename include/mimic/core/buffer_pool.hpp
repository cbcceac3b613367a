#pragma once
// Device buffers handed out by exact size and taken back one by one (a caching allocator without
// coalescing). The tape keeps gradient buffers of intermediate values here so that a buffer
// freed once its producer's backward has run serves a later node of the same size; a training
// step asks for the same sizes every time, so steady-state steps make no heap allocation.
#include <cstddef>
#include <unordered_map>
#include <vector>

#include "mimic/core/device_memory.hpp"

namespace mimic {

template <class D>
class BufferPool {
 public:
  static constexpr size_t kAlignment = 64;
  BufferPool() = default;
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  ~BufferPool() {
    for (auto& [bytes, list] : owned_)
      for (void* p : list) DeviceMemory<D>::deallocate(p);
  }

  void* acquire(size_t bytes) {
    bytes = round(bytes);
    std::vector<void*>& free = free_[bytes];
    in_use_ += bytes;
    if (in_use_ > peak_) peak_ = in_use_;
    if (!free.empty()) {
      void* p = free.back();
      free.pop_back();
      return p;
    }
    void* p = DeviceMemory<D>::allocate(bytes);
    owned_[bytes].push_back(p);
    free.reserve(owned_[bytes].size());  // so release() and reset() never allocate later
    capacity_ += bytes;
    return p;
  }
  void release(void* p, size_t bytes) {
    bytes = round(bytes);
    free_[bytes].push_back(p);
    in_use_ -= bytes;
  }
  // Takes every buffer back (the next step reuses them).
  void reset() {
    for (auto& [bytes, list] : owned_) free_[bytes] = list;
    in_use_ = 0;
  }
  size_t capacity() const { return capacity_; }
  size_t peak() const { return peak_; }

 private:
  static size_t round(size_t bytes) {
    return bytes == 0 ? kAlignment : (bytes + kAlignment - 1) / kAlignment * kAlignment;
  }
  std::unordered_map<size_t, std::vector<void*>> owned_, free_;
  size_t in_use_ = 0, peak_ = 0, capacity_ = 0;
};

}  // namespace mimic
