#pragma once
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "mimic/backend/cpu/parallel.hpp"
#include "mimic/core/device.hpp"
#include "mimic/core/device_memory.hpp"

namespace mimic::cpu {

// Host memory: 64-byte aligned so that AVX-512 loads never split a cache line. Large blocks
// (tape arenas, gradient buffers) are 2 MiB aligned and asked to be backed by transparent huge
// pages: the memory-bound passes over multi-megabyte activations (Winograd transforms, im2col)
// otherwise miss the TLB every 4 KiB.
struct Memory {
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kHugePage = size_t(1) << 21;
  static void* allocate(size_t bytes) {
    const size_t align = bytes >= 2 * kHugePage ? kHugePage : kAlignment;
    size_t rounded = (bytes + align - 1) / align * align;
    void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded);
    if (!p) throw std::bad_alloc();
#if defined(__linux__)
    if (align == kHugePage) madvise(p, rounded, MADV_HUGEPAGE);  // a hint; failure is harmless
#endif
    return p;
  }
  static void deallocate(void* p) { std::free(p); }
  static void copy_bytes(void* dst, const void* src, size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  // Large buffers (a ResNet18's 45 MB of gradients) are zeroed by all threads: one core
  // cannot saturate the memory bus with stores.
  static void zero_bytes(void* dst, size_t bytes) {
    constexpr size_t kParallelBytes = size_t(1) << 22, kBlock = size_t(1) << 16;
    if (bytes < kParallelBytes || max_threads() < 2) {
      if (bytes) std::memset(dst, 0, bytes);
      return;
    }
    const int64_t blocks = int64_t((bytes + kBlock - 1) / kBlock);
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      const size_t begin = size_t(b0) * kBlock, end = std::min(bytes, size_t(b1) * kBlock);
      std::memset(static_cast<char*>(dst) + begin, 0, end - begin);
    });
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

namespace mimic {
// Core's tensors and arenas allocate through this (core/device_memory.hpp).
template <>
struct DeviceMemory<Cpu> : cpu::Memory {};
}  // namespace mimic
