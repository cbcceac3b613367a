#pragma once
#include <cstdint>

#include "mimic/backend/cpu/parallel.hpp"
#include "mimic/core/broadcast.hpp"
#include "mimic/core/shape.hpp"

namespace mimic::cpu {

// Elementwise launchers. The functors are the MIMIC_HD structs of ops/, shared with the CUDA
// backend. An elementwise op moves 8-12 bytes per element and costs a few FLOPs, so it is bound
// by memory: threads only pay off above ~32k elements.
struct Elementwise {
  static constexpr int64_t kGrain = 32768;

  // out[i] = f(a[i])
  template <class F, class T, class U>
  static void map(int64_t n, const F& f, T* out, const U* a) {
    parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = f(a[i]);
    });
  }
  // out[i] = f(a[i], b[i])
  template <class F, class T, class U, class V>
  static void map(int64_t n, const F& f, T* out, const U* a, const V* b) {
    parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) out[i] = f(a[i], b[i]);
    });
  }
  // out[i] = f(a[i], b[i], c[i])
  template <class F, class T, class U, class V, class W>
  static void map(int64_t n, const F& f, T* out, const U* a, const V* b, const W* c) {
    parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) out[i] = f(a[i], b[i], c[i]);
    });
  }
  // out[i] = f(a[i], b[i], c[i], d[i])
  template <class F, class T, class U, class V, class W, class X>
  static void map(int64_t n, const F& f, T* out, const U* a, const V* b, const W* c, const X* d) {
    parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) out[i] = f(a[i], b[i], c[i], d[i]);
    });
  }
  // out[i] = f(i): generators (random numbers, index patterns). A functor that also has
  // run(begin, end, out) computes a range at once (dropout draws whole Philox blocks); it must
  // give the values f(i) gives.
  template <class F, class T>
  static void generate(int64_t n, const F& f, T* out) {
    parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
      if constexpr (requires { f.run(s, e, out); })
        f.run(s, e, out);
      else
        for (int64_t i = s; i < e; ++i) out[i] = f(i);
    });
  }

  // out (contiguous, shape `shape`) = f(a, b) where a and b are read through broadcast strides.
  template <class F, class T>
  static void broadcast_map(const Shape& shape, const F& f, T* out, const T* a, const Strides& sa,
                            const T* b, const Strides& sb) {
    const T* ptr[2] = {a, b};
    const Strides st[2] = {sa, sb};
    broadcast_loop<2>(
        shape, ptr, st,
        [&](int64_t i, const T* pa, int64_t ia, const T* pb, int64_t ib, int64_t run) {
          for (int64_t r = 0; r < run; ++r) out[i + r] = f(pa[r * ia], pb[r * ib]);
        });
  }
  // out = f(a) with a read through broadcast strides (for example a bias repeated over rows).
  template <class F, class T>
  static void broadcast_map(const Shape& shape, const F& f, T* out, const T* a, const Strides& sa) {
    const T* ptr[2] = {a, a};
    const Strides st[2] = {sa, sa};
    broadcast_loop<2>(shape, ptr, st,
                      [&](int64_t i, const T* pa, int64_t ia, const T*, int64_t, int64_t run) {
                        for (int64_t r = 0; r < run; ++r) out[i + r] = f(pa[r * ia]);
                      });
  }

  // Splits [0, numel) over threads and calls body(i, a + off_a, inner_a, b + off_b, inner_b, run)
  // for each run of `run` outputs along the innermost dimension starting at flat output index i.
  template <int N, class T, class Body>
  static void broadcast_loop(const Shape& shape, const T* const (&ptr)[N], const Strides (&st)[N],
                             const Body& body) {
    const int64_t n = shape.numel();
    if (n == 0) return;
    const int last = shape.rank - 1;
    const int64_t inner = last >= 0 ? shape.dims[last] : 1;
    parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
      NdCounter c(shape);
      c.seek(s);
      int64_t i = s;
      while (i < e) {
        const int64_t pos = last >= 0 ? c.idx[last] : 0;
        int64_t run = inner - pos;
        if (run > e - i) run = e - i;
        body(i, ptr[0] + c.offset(st[0]), last >= 0 ? st[0][last] : 0,
             ptr[N - 1] + c.offset(st[N - 1]), last >= 0 ? st[N - 1][last] : 0, run);
        i += run;
        if (i >= e) break;
        if (last >= 0) c.idx[last] = inner - 1;
        c.next();
      }
    });
  }

  // out[j] (+)= sum of in[i] over all i that map to j, where `in` has shape `shape` and out is
  // addressed through broadcast strides `so` (0 along summed dims). Serial over the input so the
  // summation order is fixed; fast paths cover the common bias-gradient layouts.
  template <class T>
  static void sum_to(const Shape& shape, const T* in, const Strides& so, T* out, int64_t out_n,
                     bool accumulate) {
    if (!accumulate)
      for (int64_t j = 0; j < out_n; ++j) out[j] = T(0);
    const int64_t n = shape.numel();
    if (n == 0) return;
    // Fast path: out is a suffix of in (leading dims summed) -> column sums.
    int lead = 0;
    while (lead < shape.rank && so[lead] == 0) ++lead;
    bool suffix = true;
    for (int i = lead; i < shape.rank; ++i) suffix = suffix && so[i] != 0;
    if (suffix) {
      const int64_t rows = shape.prod(0, lead), cols = shape.prod(lead, shape.rank);
      parallel_for(cols, 4096, [&](int64_t c0, int64_t c1) {
        for (int64_t r = 0; r < rows; ++r) {
          const T* row = in + r * cols;
          for (int64_t c = c0; c < c1; ++c) out[c] += row[c];
        }
      });
      return;
    }
    // Fast path: trailing dims summed -> row sums.
    int keep = 0;
    while (keep < shape.rank && so[keep] != 0) ++keep;
    bool prefix = true;
    for (int i = keep; i < shape.rank; ++i) prefix = prefix && so[i] == 0;
    if (prefix) {
      const int64_t rows = shape.prod(0, keep), cols = shape.prod(keep, shape.rank);
      parallel_for(rows, 1 + kGrain / (cols + 1), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const T* row = in + r * cols;
          T acc = T(0);
          for (int64_t c = 0; c < cols; ++c) acc += row[c];
          out[r] += acc;
        }
      });
      return;
    }
    NdCounter c(shape);
    for (int64_t i = 0; i < n; ++i) {
      out[c.offset(so)] += in[i];
      c.next();
    }
  }
};

}  // namespace mimic::cpu
