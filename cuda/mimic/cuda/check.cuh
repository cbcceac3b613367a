#pragma once
// CUDA and cuBLAS status checks that throw mimic::Error naming the failed call.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "mimic/core/error.hpp"
#include "mimic/cuda/launch_context.cuh"

namespace mimic::cuda {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw Error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
}
inline void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuBLAS error in ") + what + ": status " + std::to_string(int(status)));
}
// After a kernel launch: configuration errors surface here, not at the next sync. Built with
// MIMIC_CUDA_SYNC_LAUNCHES (CMake option of that name), it also waits for the kernel, so an
// error inside it is reported at its own launch (not while a graph is captured: nothing runs).
inline void check_launch(const char* what) {
  check(cudaGetLastError(), what);
#if MIMIC_CUDA_SYNC_LAUNCHES
  if (!current_stream_capturing()) check(cudaStreamSynchronize(current_stream()), what);
#endif
}

// Why no CUDA device can be used here, or empty when one can. Never throws.
inline std::string cuda_unavailable_reason() {
  int n = 0;
  const cudaError_t status = cudaGetDeviceCount(&n);
  if (status != cudaSuccess)
    return std::string("no CUDA device can be used (cudaGetDeviceCount: ") +
           cudaGetErrorString(status) + ")";
  if (n == 0) return "no CUDA device on this machine";
  return {};
}
// True when a CUDA device can be used. Never throws (no driver, no device -> false).
inline bool cuda_available() { return cuda_unavailable_reason().empty(); }

}  // namespace mimic::cuda

#define MIMIC_CUDA_CHECK(call) ::mimic::cuda::check((call), #call)
