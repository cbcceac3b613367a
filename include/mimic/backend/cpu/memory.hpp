#pragma once
#include <cstdlib>
#include <cstring>
#include <new>

#include "mimic/core/device.hpp"

namespace mimic::cpu {

// Host memory: 64-byte aligned so that AVX-512 loads never split a cache line.
struct Memory {
  static constexpr size_t kAlignment = 64;
  static void* allocate(size_t bytes) {
    size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
    if (!p) throw std::bad_alloc();
    return p;
  }
  static void deallocate(void* p) { std::free(p); }
  static void copy_bytes(void* dst, const void* src, size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  static void zero_bytes(void* dst, size_t bytes) {
    if (bytes) std::memset(dst, 0, bytes);
  }
  template <class T>
  static void fill(T* dst, int64_t n, T value) {
    for (int64_t i = 0; i < n; ++i) dst[i] = value;
  }
  // Host <-> device transfers are plain copies on the CPU.
  static void to_host(void* dst, const void* src, size_t bytes) { copy_bytes(dst, src, bytes); }
  static void from_host(void* dst, const void* src, size_t bytes) { copy_bytes(dst, src, bytes); }
};

}  // namespace mimic::cpu
