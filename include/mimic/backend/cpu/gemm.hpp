#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>

#include "mimic/backend/cpu/memory.hpp"
#include "mimic/backend/cpu/parallel.hpp"

namespace mimic::cpu {

// Row-major GEMM on Eigen: C = alpha * op(A) op(B) + beta * C, op(X) = X or X^T.
// A is M x K (or K x M when trans_a), B is K x N (or N x K when trans_b); leading dimensions are
// row strides. beta == 0 overwrites C without reading it (C may hold garbage).
struct Gemm {
  template <class T>
  using RowMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
                            0, Eigen::OuterStride<>>;
  template <class T>
  using RowMapMut = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                               Eigen::OuterStride<>>;

  template <class T>
  static void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                   int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    RowMapMut<T> C(c, m, n, Eigen::OuterStride<>(ldc));
    if (k == 0) {
      if (beta == T(0))
        C.setZero();
      else
        C *= beta;
      return;
    }
    // Matrix-vector products read every weight once for 2 FLOPs each, so they are bound by
    // memory bandwidth, which one core cannot saturate; Eigen runs them on one thread. Split the
    // output across threads instead (e.g. an LSTM step at batch 1: 1600 x 400 floats = 2.6 MB per
    // gate GEMV). Each output element is still computed by a single thread.
    const int64_t vector_len = m == 1 ? n : (n == 1 ? m : 0);
    if (vector_len >= 64 && vector_len * k >= (int64_t(1) << 16) && max_threads() > 1 &&
        !in_parallel()) {
      split_vector_product(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
    // Few output columns (a convolution's positions at batch 1): rows of C split over threads,
    // each a register-blocked loop over k; Eigen would thread it with packing buffers it
    // allocates on every call, which a control loop must not do.
    if (!trans_b && n <= kThinColumns && m >= 64 && m * k >= (int64_t(1) << 16)) {
      thin_product(trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
    // Eigen zeroes C on the calling thread before its threaded product accumulates into it;
    // zeroing a large contiguous C on all threads first and accumulating saves half that pass
    // (e.g. 5 MB of Winograd products per ResNet18 layer1 convolution).
    if (beta == T(0) && ldc == n && m * n >= (int64_t(1) << 18) && max_threads() > 1 &&
        !in_parallel()) {
      Memory::zero_bytes(c, size_t(m * n) * sizeof(T));
      beta = T(1);
    }
    RowMap<T> A(a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
    RowMap<T> B(b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
    auto run = [&](const auto& opa, const auto& opb) {
      if (beta == T(0)) {
        if (alpha == T(1))
          C.noalias() = opa * opb;
        else
          C.noalias() = alpha * (opa * opb);
      } else {
        if (beta != T(1)) C *= beta;
        if (alpha == T(1))
          C.noalias() += opa * opb;
        else
          C.noalias() += alpha * (opa * opb);
      }
    };
    if (!trans_a && !trans_b) run(A, B);
    if (!trans_a && trans_b) run(A, B.transpose());
    if (trans_a && !trans_b) run(A.transpose(), B);
    if (trans_a && trans_b) run(A.transpose(), B.transpose());
  }

  static constexpr int64_t kThinColumns = 16;

  // C = alpha op(A) B + beta C with n <= kThinColumns, rows of C split over threads. Without
  // transposition, blocks of 4 rows keep 4 x 2 rows of n accumulators in registers while k runs
  // (even and odd k apart, which halves the rounding chain); with op(A) = A^T, blocks of 16 rows
  // are one vector per column. A is streamed once and B (k x n: 5120 x 16 floats = 320 KB in the
  // Push-T UNet) stays in L2, so a batch-1 UNet step is bound by reading its 263 MB of weights.
  // Measured against Eigen's threaded product on 2 cores: 1024x16x5120 0.61 vs 0.66 ms,
  // A^T 2048x8x1024 0.26 vs 0.57 ms.
  template <class T>
  static void thin_product(bool trans_a, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                           int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
    switch (n) {
#define MIMIC_THIN_CASE(N)                                                         \
  case N:                                                                          \
    return trans_a ? thin_rows<N, true>(m, k, alpha, a, lda, b, ldb, beta, c, ldc) \
                   : thin_rows<N, false>(m, k, alpha, a, lda, b, ldb, beta, c, ldc);
      MIMIC_THIN_CASE(1)
      MIMIC_THIN_CASE(2)
      MIMIC_THIN_CASE(3)
      MIMIC_THIN_CASE(4)
      MIMIC_THIN_CASE(5)
      MIMIC_THIN_CASE(6)
      MIMIC_THIN_CASE(7)
      MIMIC_THIN_CASE(8)
      MIMIC_THIN_CASE(9)
      MIMIC_THIN_CASE(10)
      MIMIC_THIN_CASE(11)
      MIMIC_THIN_CASE(12)
      MIMIC_THIN_CASE(13)
      MIMIC_THIN_CASE(14)
      MIMIC_THIN_CASE(15)
      MIMIC_THIN_CASE(16)
#undef MIMIC_THIN_CASE
    }
  }
  template <int N, bool TransA, class T>
  static void thin_rows(int64_t m, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                        int64_t ldb, T beta, T* c, int64_t ldc) {
    constexpr int64_t R = TransA ? 16 : 4;
    const int64_t blocks = (m + R - 1) / R;
    const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / (R * k));
    parallel_for(blocks, grain, [&](int64_t b0, int64_t b1) {
      for (int64_t blk = b0; blk < b1; ++blk) {
        const int64_t r = blk * R;
        if (r + R > m) {
          for (int64_t rr = r; rr < m; ++rr)
            thin_row<N, TransA>(rr, k, alpha, a, lda, b, ldb, beta, c, ldc);
        } else if constexpr (TransA) {
          thin_block_transposed<N>(r, k, alpha, a, lda, b, ldb, beta, c, ldc);
        } else {
          thin_block4<N>(r, k, alpha, a, lda, b, ldb, beta, c, ldc);
        }
      }
    });
  }
  template <int N, class T>
  static void thin_store(const Eigen::Array<T, N, 1>& acc, T alpha, T beta, T* cr) {
    Eigen::Map<Eigen::Array<T, N, 1>> out(cr);
    if (beta == T(0))
      out = alpha * acc;
    else
      out = alpha * acc + beta * out;
  }
  template <int N, class T>
  static void thin_block4(int64_t r, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                          int64_t ldb, T beta, T* c, int64_t ldc) {
    using V = Eigen::Array<T, N, 1>;
    V e0 = V::Zero(), e1 = V::Zero(), e2 = V::Zero(), e3 = V::Zero();
    V o0 = V::Zero(), o1 = V::Zero(), o2 = V::Zero(), o3 = V::Zero();
    const T *a0 = a + r * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    int64_t i = 0;
    for (; i + 1 < k; i += 2) {
      const V be = Eigen::Map<const V>(b + i * ldb), bo = Eigen::Map<const V>(b + (i + 1) * ldb);
      e0 += a0[i] * be;
      e1 += a1[i] * be;
      e2 += a2[i] * be;
      e3 += a3[i] * be;
      o0 += a0[i + 1] * bo;
      o1 += a1[i + 1] * bo;
      o2 += a2[i + 1] * bo;
      o3 += a3[i + 1] * bo;
    }
    if (i < k) {
      const V be = Eigen::Map<const V>(b + i * ldb);
      e0 += a0[i] * be;
      e1 += a1[i] * be;
      e2 += a2[i] * be;
      e3 += a3[i] * be;
    }
    thin_store<N>(V(e0 + o0), alpha, beta, c + r * ldc);
    thin_store<N>(V(e1 + o1), alpha, beta, c + (r + 1) * ldc);
    thin_store<N>(V(e2 + o2), alpha, beta, c + (r + 2) * ldc);
    thin_store<N>(V(e3 + o3), alpha, beta, c + (r + 3) * ldc);
  }
  // Rows r..r+15 of C = A^T B, A stored [k, m]: one 16-row vector of A per k, one accumulator
  // per column of C.
  template <int N, class T>
  static void thin_block_transposed(int64_t r, int64_t k, T alpha, const T* a, int64_t lda,
                                    const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
    using V = Eigen::Array<T, 16, 1>;
    V acc[N];
    for (int j = 0; j < N; ++j) acc[j].setZero();
    for (int64_t i = 0; i < k; ++i) {
      const V av = Eigen::Map<const V>(a + i * lda + r);
      const T* bi = b + i * ldb;
      for (int j = 0; j < N; ++j) acc[j] += av * bi[j];
    }
    for (int64_t rr = 0; rr < 16; ++rr) {
      T* cr = c + (r + rr) * ldc;
      for (int j = 0; j < N; ++j)
        cr[j] = beta == T(0) ? alpha * acc[j][rr] : alpha * acc[j][rr] + beta * cr[j];
    }
  }
  // One row of C (the rows left over after the blocks).
  template <int N, bool TransA, class T>
  static void thin_row(int64_t r, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                       int64_t ldb, T beta, T* c, int64_t ldc) {
    using V = Eigen::Array<T, N, 1>;
    V acc = V::Zero();
    for (int64_t i = 0; i < k; ++i)
      acc += (TransA ? a[i * lda + r] : a[r * lda + i]) * Eigen::Map<const V>(b + i * ldb);
    thin_store<N>(acc, alpha, beta, c + r * ldc);
  }

  // A GEMM with m == 1 or n == 1 as one serial GEMM per thread over a slice of the long output
  // dimension. Slices start on 16-element boundaries so each thread's stores stay aligned.
  template <class T>
  static void split_vector_product(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                   T alpha, const T* a, int64_t lda, const T* b, int64_t ldb,
                                   T beta, T* c, int64_t ldc) {
    const bool row_vector = m == 1;  // else n == 1: a column of m outputs
    const int64_t len = row_vector ? n : m, blocks = (len + 15) / 16;
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      const int64_t i0 = b0 * 16, i1 = std::min(len, b1 * 16);
      if (row_vector) {
        // Columns i0..i1 of op(B): rows of B when transposed, columns otherwise.
        const T* bs = trans_b ? b + i0 * ldb : b + i0;
        gemm(trans_a, trans_b, 1, i1 - i0, k, alpha, a, lda, bs, ldb, beta, c + i0, ldc);
      } else {
        const T* as = trans_a ? a + i0 : a + i0 * lda;
        gemm(trans_a, trans_b, i1 - i0, 1, k, alpha, as, lda, b, ldb, beta, c + i0 * ldc, ldc);
      }
    });
  }

  // `batch` independent GEMMs with fixed element strides between consecutive matrices.
  // Small problems are spread over threads batch-wise (Eigen runs serially inside an OpenMP
  // parallel region); large ones let Eigen thread each GEMM.
  template <class T>
  static void gemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                   T alpha, const T* a, int64_t lda, int64_t stride_a, const T* b,
                                   int64_t ldb, int64_t stride_b, T beta, T* c, int64_t ldc,
                                   int64_t stride_c, int64_t batch) {
    const int64_t flops = 2 * m * n * k;
    if (batch > 1 && (flops < (int64_t(1) << 22) ||
                      (batch % max_threads() == 0 && flops < (int64_t(1) << 28)))) {
      parallel_for(batch, std::max<int64_t>(1, (int64_t(1) << 18) / std::max<int64_t>(flops, 1)),
                   [&](int64_t b0, int64_t b1) {
                     for (int64_t i = b0; i < b1; ++i)
                       gemm(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda,
                            b + i * stride_b, ldb, beta, c + i * stride_c, ldc);
                   });
      return;
    }
    for (int64_t i = 0; i < batch; ++i)
      gemm(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta,
           c + i * stride_c, ldc);
  }
};

}  // namespace mimic::cpu
