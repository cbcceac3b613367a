#pragma once
// What core's containers (Tensor, Arena, BufferPool) need from a device: its memory. Declared
// here so that core depends on nothing above it; each backend specializes the trait next to its
// allocator (DeviceMemory<Cpu> in backend/cpu/memory.hpp, DeviceMemory<Cuda> in
// cuda/mimic/cuda/memory.cuh). A specialization provides, as static functions:
//   void* allocate(size_t bytes)                      at least 64-byte aligned; bytes may be 0
//   void  deallocate(void* p)                         never throws
//   void  copy_bytes(void* dst, const void* src, size_t bytes)   device to device
//   void  zero_bytes(void* dst, size_t bytes)
//   template <class T> void fill(T* dst, int64_t n, T value)
//   void  to_host(void* dst, const void* src, size_t bytes)      device to host
//   void  from_host(void* dst, const void* src, size_t bytes)    host to device
// The same functions are the memory family of the kernel contract (backend/contract.hpp).
namespace mimic {
template <class Device>
struct DeviceMemory;
}  // namespace mimic
