#pragma once
// DeviceQueue<Cuda> (core/device_queue.hpp): one stream per policy. Each policy owns one, made on
// first use: a CUDA stream, a cuBLAS handle bound to it with its own workspace (so two policies'
// GEMMs never share scratch, and cuBLAS allocates nothing while a graph is captured), a pinned
// staging buffer for the policy's uploads, and the graphs recorded on it. enter() makes it the
// thread's launch context (launch_context.cuh) for the scope's lifetime.
//
// The stream is created blocking (cudaStreamDefault): the legacy default stream, where code
// outside any policy runs, waits for it, so a tensor handed out by a policy and read or freed
// outside its scope is ordered after the policy's work. Two policies' streams do not wait for
// each other. A policy is used by one host thread at a time, as a cuBLAS handle must be.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <string>

#include "mimic/core/device.hpp"
#include "mimic/core/device_queue.hpp"
#include "mimic/cuda/check.cuh"
#include "mimic/cuda/graph_recorder.cuh"
#include "mimic/cuda/launch_context.cuh"
#include "mimic/cuda/pinned_staging.cuh"

namespace mimic {

template <>
class DeviceQueue<Cuda> {
 public:
  // cuBLAS's recommended workspace for Hopper (32 MiB; 4 MiB suffices before it).
  static constexpr size_t kBlasWorkspaceBytes = size_t(32) << 20;

  DeviceQueue() = default;
  ~DeviceQueue() { release(); }
  DeviceQueue(const DeviceQueue&) = delete;
  DeviceQueue& operator=(const DeviceQueue&) = delete;

  cuda::ContextScope enter() {
    ensure_created();
    return cuda::ContextScope(&context_);
  }
  template <class F>
  void run_recorded(int64_t key, F&& body) {
    const cuda::ContextScope scope = enter();
    graphs_.run(context_, key, body);
  }
  void forget_recorded() { graphs_.forget(); }
  std::string recording_fallback() const { return graphs_.fallback(); }
  void set_recording(bool on) { graphs_.set_enabled(on); }
  // Graph launches so far (a test can tell a replay from an eager run).
  int64_t recorded_launches() const { return graphs_.launches(); }
  // The stream, once made (null before the first enter()).
  cudaStream_t stream() const { return created_ ? context_.stream : nullptr; }

 private:
  void ensure_created() {
    if (created_) return;
    cudaStream_t s = nullptr;
    MIMIC_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamDefault));
    context_.stream = s;
    created_ = true;  // from here release() undoes whatever was made
    cuda::check(cublasCreate(&context_.blas), "cublasCreate (policy stream)");
    cuda::check(cublasSetStream(context_.blas, s), "cublasSetStream");
    MIMIC_CUDA_CHECK(cudaMalloc(&workspace_, kBlasWorkspaceBytes));
    cuda::check(cublasSetWorkspace(context_.blas, workspace_, kBlasWorkspaceBytes),
                "cublasSetWorkspace");
    staging_ = std::make_unique<cuda::PinnedStaging>(s);
    context_.staging = staging_.get();
  }
  // Best effort, never throws (it may run after the runtime shut down).
  void release() {
    if (!created_) return;
    cudaStreamSynchronize(context_.stream);
    graphs_.forget();
    staging_.reset();
    if (context_.blas) cublasDestroy(context_.blas);
    if (workspace_) cudaFree(workspace_);
    cudaStreamDestroy(context_.stream);
    context_ = cuda::LaunchContext{};
    workspace_ = nullptr;
    created_ = false;
  }

  cuda::LaunchContext context_;
  std::unique_ptr<cuda::PinnedStaging> staging_;
  void* workspace_ = nullptr;
  cuda::GraphRecorder graphs_;
  bool created_ = false;
};

}  // namespace mimic
