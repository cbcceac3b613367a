#pragma once
// CUDA and cuBLAS status checks that throw mimic::Error naming the failed call.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "mimic/core/error.hpp"

namespace mimic::cuda {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw Error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
}
inline void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuBLAS error in ") + what + ": status " + std::to_string(int(status)));
}
// After a kernel launch: configuration errors surface here, not at the next sync.
inline void check_launch(const char* what) { check(cudaGetLastError(), what); }

// True when a CUDA device can be used. Never throws (no driver, no device -> false).
inline bool cuda_available() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

}  // namespace mimic::cuda

#define MIMIC_CUDA_CHECK(call) ::mimic::cuda::check((call), #call)
