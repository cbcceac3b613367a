#pragma once
#include <cstdint>
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace mimic::cpu {

inline int max_threads() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// True inside an OpenMP parallel region, where nested parallel_for calls run inline.
inline bool in_parallel() {
#if defined(_OPENMP)
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

// Runs fn(begin, end) over [0, n) split into one contiguous chunk per thread. Chunks depend only
// on n and the thread count, so results are deterministic for a given thread count. Work below
// `grain` items runs inline: thread start-up (~1-5 us) costs more than it saves.
template <class Fn>
inline void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
#if defined(_OPENMP)
  int threads = omp_get_max_threads();
  if (threads > 1 && n > grain && !in_parallel()) {
    int64_t chunks = n / (grain > 0 ? grain : 1);
    if (chunks < threads) threads = static_cast<int>(chunks < 1 ? 1 : chunks);
    // One thread runs inline: libgomp frees a one-thread team after each region and reuses a
    // team only for the thread count it last had, so regions of varying size allocate.
    if (threads < 2) {
      fn(int64_t{0}, n);
      return;
    }
#pragma omp parallel num_threads(threads)
    {
      int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      int64_t begin = n * t / nt, end = n * (t + 1) / nt;
      if (begin < end) fn(begin, end);
    }
    return;
  }
#endif
  fn(int64_t{0}, n);
}

}  // namespace mimic::cpu
