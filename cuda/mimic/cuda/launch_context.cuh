#pragma once
// What the thread's kernels, copies and cuBLAS calls are queued on. The kernel functions keep the
// backend contract's signatures (shared with the CPU), so the stream travels beside them, as
// CUDA's own current device does: a per-thread pointer that only a ContextScope sets, for its
// lifetime, and restores when it ends. With no scope, work goes to the legacy default stream and
// the thread's cuBLAS handle (cublas_handle in gemm.cuh), as before streams existed.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <vector>

namespace mimic::cuda {

class PinnedStaging;

struct LaunchContext {
  cudaStream_t stream = cudaStreamLegacy;
  cublasHandle_t blas = nullptr;      // bound to `stream`, with its own workspace
  PinnedStaging* staging = nullptr;   // host-to-device copies go through it when set
  std::vector<void*> deferred_frees;  // released while the stream was being captured
};

// The calling thread's current context slot (null: the legacy default stream).
inline LaunchContext*& current_context_slot() {
  thread_local LaunchContext* current = nullptr;
  return current;
}
inline const LaunchContext* current_context() { return current_context_slot(); }
inline cudaStream_t current_stream() {
  const LaunchContext* c = current_context_slot();
  return c ? c->stream : cudaStreamLegacy;
}
// True while the current stream is being captured into a CUDA graph (the legacy stream never is).
// Never throws: a failed query counts as capturing, so callers take the cautious path.
inline bool current_stream_capturing() {
  const LaunchContext* c = current_context_slot();
  if (!c) return false;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(c->stream, &status) != cudaSuccess) return true;
  return status != cudaStreamCaptureStatusNone;
}

// Makes `context` current for the calling thread until destroyed; scopes nest.
class ContextScope {
 public:
  explicit ContextScope(LaunchContext* context) : previous_(current_context_slot()) {
    current_context_slot() = context;
  }
  ~ContextScope() {
    if (active_) current_context_slot() = previous_;
  }
  ContextScope(ContextScope&& other) noexcept : previous_(other.previous_), active_(other.active_) {
    other.active_ = false;
  }
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;
  ContextScope& operator=(ContextScope&&) = delete;

 private:
  LaunchContext* previous_;
  bool active_ = true;
};

}  // namespace mimic::cuda
