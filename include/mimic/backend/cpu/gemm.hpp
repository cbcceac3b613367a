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
