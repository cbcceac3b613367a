#pragma once
#include <Eigen/Core>
#include <cstdint>

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

  // `batch` independent GEMMs with fixed element strides between consecutive matrices.
  // Small problems are spread over threads batch-wise (Eigen runs serially inside an OpenMP
  // parallel region); large ones let Eigen thread each GEMM.
  template <class T>
  static void gemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                   T alpha, const T* a, int64_t lda, int64_t stride_a, const T* b,
                                   int64_t ldb, int64_t stride_b, T beta, T* c, int64_t ldc,
                                   int64_t stride_c, int64_t batch) {
    const int64_t flops = 2 * m * n * k;
    if (batch > 1 && flops < (int64_t(1) << 22)) {
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
