// glibc allows a program to replace malloc (its manual, "Replacing malloc"): defining the family
// here routes every allocation of the process through these wrappers, which count and forward to
// glibc's own implementation (__libc_malloc and friends).
#include "counting_allocator.hpp"

#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <new>

// The replacements below pair malloc with free by construction; GCC cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
// MIMIC_ALLOC_TRACE=N prints the call stacks of the first N counted allocations (to find them).
long trace_limit() {
  static const long limit = [] {
    const char* v = std::getenv("MIMIC_ALLOC_TRACE");
    return v ? std::atol(v) : 0L;
  }();
  return limit;
}
inline void count() {
  if (!g_counting.load(std::memory_order_relaxed)) return;
  const long n = g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n < trace_limit()) {  // backtrace_symbols_fd writes without allocating
    void* frames[24];
    const int depth = backtrace(frames, 24);
    (void)!write(2, "--- allocation\n", 15);
    backtrace_symbols_fd(frames, depth, 2);
  }
}
}  // namespace

namespace alloc_count {
void start() {
  if (trace_limit() >
      0) {  // backtrace's first call loads libgcc (and allocates): not while counting
    void* frame[1];
    backtrace(frame, 1);
  }
  g_allocations = 0;
  g_counting = true;
}
long stop() {
  g_counting = false;
  return g_allocations.load();
}
}  // namespace alloc_count

extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);

void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void free(void* p) { __libc_free(p); }
void* calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* memalign(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  count();
  void* p = __libc_memalign(alignment, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}

// operator new goes through malloc above, so it is counted there.
void* operator new(std::size_t n) {
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
