#pragma once
// Row-major GEMM on cuBLAS (column-major): C = op(A) op(B) in row-major is C^T = op(B)^T op(A)^T
// in column-major, so the operands are swapped and no data is transposed.
#include <cublas_v2.h>

#include <cstdint>

#include "mimic/cuda/check.cuh"
#include "mimic/cuda/launch_context.cuh"

namespace mimic::cuda {

// One cuBLAS handle per thread and device, created on first use. A handle is an expensive
// resource (~ms to create) tied to a device; caching it is the documented cuBLAS practice. It
// holds no numerical state, so results do not depend on which call created it.
inline cublasHandle_t cublas_handle() {
  struct Cache {
    cublasHandle_t handles[16] = {};
    ~Cache() {
      for (cublasHandle_t h : handles)
        if (h) cublasDestroy(h);
    }
  };
  thread_local Cache cache;
  int device = 0;
  MIMIC_CUDA_CHECK(cudaGetDevice(&device));
  if (device < 0 || device >= 16) throw Error("cublas_handle: device index out of range");
  if (!cache.handles[device]) check(cublasCreate(&cache.handles[device]), "cublasCreate");
  return cache.handles[device];
}

// The current launch context's handle (bound to its stream), else the thread's own.
inline cublasHandle_t current_blas() {
  const LaunchContext* c = current_context();
  return c && c->blas ? c->blas : cublas_handle();
}

struct Gemm {
  static cublasStatus_t call(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                             const float* alpha, const float* a, int lda, const float* b, int ldb,
                             const float* beta, float* c, int ldc) {
    return cublasSgemm(current_blas(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  static cublasStatus_t call(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                             const double* alpha, const double* a, int lda, const double* b,
                             int ldb, const double* beta, double* c, int ldc) {
    return cublasDgemm(current_blas(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  static cublasStatus_t call_batched(cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                     int k, const float* alpha, const float* a, int lda, int64_t sa,
                                     const float* b, int ldb, int64_t sb, const float* beta,
                                     float* c, int ldc, int64_t sc, int batch) {
    return cublasSgemmStridedBatched(current_blas(), ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb,
                                     beta, c, ldc, sc, batch);
  }
  static cublasStatus_t call_batched(cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                     int k, const double* alpha, const double* a, int lda,
                                     int64_t sa, const double* b, int ldb, int64_t sb,
                                     const double* beta, double* c, int ldc, int64_t sc,
                                     int batch) {
    return cublasDgemmStridedBatched(current_blas(), ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb,
                                     beta, c, ldc, sc, batch);
  }

  template <class T>
  static void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                   int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    check(call(trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, int(n),
               int(m), int(k), &alpha, b, int(ldb), a, int(lda), &beta, c, int(ldc)),
          "gemm");
  }
  template <class T>
  static void gemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                   T alpha, const T* a, int64_t lda, int64_t stride_a, const T* b,
                                   int64_t ldb, int64_t stride_b, T beta, T* c, int64_t ldc,
                                   int64_t stride_c, int64_t batch) {
    if (m == 0 || n == 0 || batch == 0) return;
    check(call_batched(trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                       int(n), int(m), int(k), &alpha, b, int(ldb), stride_b, a, int(lda), stride_a,
                       &beta, c, int(ldc), stride_c, int(batch)),
          "gemm_strided_batched");
  }
};

}  // namespace mimic::cuda
