#pragma once
// Heap allocations counted while counting is on, on every thread: the malloc family and operator
// new are replaced in this binary (counting_allocator.cpp), so allocations by the C library, by
// std::vector and by aligned host buffers are all seen.
namespace alloc_count {
void start();
// Stops counting and returns the allocations seen since start().
long stop();
}  // namespace alloc_count
