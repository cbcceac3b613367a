#pragma once
// Strided copies: the data movement behind slice, concat, permute and gather.
#include <cstdint>

#include "mimic/backend/cpu/parallel.hpp"
#include "mimic/core/broadcast.hpp"

namespace mimic::cpu {

struct Copy {
  static constexpr int64_t kGrain = 32768;

  // dst[offset(idx; dst_strides)] (+)= src[i] for every idx of `shape`, src contiguous. The
  // destination positions must be distinct (an injective layout such as a slice or a permutation).
  template <class T>
  static void scatter_strided(const Shape& shape, T* dst, const Strides& dst_strides, const T* src,
                              bool accumulate) {
    const int64_t n = shape.numel();
    if (n == 0) return;
    const int last = shape.rank - 1;
    const int64_t inner = last >= 0 ? shape.dims[last] : 1;
    const int64_t step = last >= 0 ? dst_strides[last] : 0;
    parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
      NdCounter c(shape);
      c.seek(s);
      int64_t i = s;
      while (i < e) {
        const int64_t pos = last >= 0 ? c.idx[last] : 0;
        int64_t run = inner - pos;
        if (run > e - i) run = e - i;
        T* d = dst + c.offset(dst_strides);
        if (accumulate)
          for (int64_t r = 0; r < run; ++r) d[r * step] += src[i + r];
        else
          for (int64_t r = 0; r < run; ++r) d[r * step] = src[i + r];
        i += run;
        if (i >= e) break;
        if (last >= 0) c.idx[last] = inner - 1;
        c.next();
      }
    });
  }

  // out[idx] = x[idx with idx[axis] replaced by index[idx]] (torch.gather); x read through
  // contiguous strides of x_shape, out and index share `shape`.
  template <class T>
  static void gather(const Shape& shape, int axis, const T* x, const Strides& xs,
                     const int64_t* index, T* out) {
    const int64_t n = shape.numel();
    parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
      NdCounter c(shape);
      c.seek(s);
      for (int64_t i = s; i < e; ++i) {
        int64_t off = 0;
        for (int d = 0; d < shape.rank; ++d) off += (d == axis ? index[i] : c.idx[d]) * xs[d];
        out[i] = x[off];
        c.next();
      }
    });
  }
  // gx[...index...] += g: serial, because several outputs may gather the same element.
  template <class T>
  static void gather_backward(const Shape& shape, int axis, T* gx, const Strides& xs,
                              const int64_t* index, const T* g) {
    NdCounter c(shape);
    const int64_t n = shape.numel();
    for (int64_t i = 0; i < n; ++i) {
      int64_t off = 0;
      for (int d = 0; d < shape.rank; ++d) off += (d == axis ? index[i] : c.idx[d]) * xs[d];
      gx[off] += g[i];
      c.next();
    }
  }
};

}  // namespace mimic::cpu
