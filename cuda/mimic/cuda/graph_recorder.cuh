#pragma once
// CUDA graphs of repeated device work (issue: the GPU backend, item 3), by key, on one stream.
// A body is run eagerly on the first call with its key, so the tape's arena, the cuBLAS handle
// and every buffer reach their steady state; the second call captures it into a graph (kernel
// arguments, pointers and all), instantiates it and launches it; later calls only launch it.
// One launch replaces hundreds of kernel launches (a 10-step DDIM chunk of the UNet is ~600).
//
// Capture runs in thread-local mode, so any call that cannot be recorded fails instead of being
// recorded wrongly: an allocation (Memory::allocate refuses while capturing), a copy from or to
// the host (the same), a synchronization. The first such failure ends recording for this
// recorder: the body runs eagerly from then on and recording_fallback() says why, once, for the
// caller to report. A body must queue the same work on every call with its key.
#include <cuda_runtime.h>

#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "mimic/cuda/check.cuh"
#include "mimic/cuda/launch_context.cuh"
#include "mimic/cuda/memory.cuh"

namespace mimic::cuda {

class GraphRecorder {
 public:
  GraphRecorder() = default;
  ~GraphRecorder() { forget(); }
  GraphRecorder(const GraphRecorder&) = delete;
  GraphRecorder& operator=(const GraphRecorder&) = delete;

  // Runs or replays `body` on `context`'s stream (context must be current).
  template <class F>
  void run(LaunchContext& context, int64_t key, F&& body) {
    if (!enabled_ || !fallback_.empty()) return body();
    Entry& e = entries_[key];
    if (!e.exec) {
      if (e.calls++ == 0) return body();  // the warm-up run
      if (!capture(context, e, body)) return body();
    }
    check(cudaGraphLaunch(e.exec, context.stream), "cudaGraphLaunch");
    ++launches_;
  }
  void forget() {
    for (auto& entry : entries_)
      if (entry.second.exec) cudaGraphExecDestroy(entry.second.exec);  // never throws
    entries_.clear();
  }
  void set_enabled(bool on) { enabled_ = on; }
  const std::string& fallback() const { return fallback_; }
  int64_t launches() const { return launches_; }

 private:
  struct Entry {
    cudaGraphExec_t exec = nullptr;
    int64_t calls = 0;
  };

  template <class F>
  bool capture(LaunchContext& context, Entry& e, F& body) {
    std::string failure;
    check(cudaStreamBeginCapture(context.stream, cudaStreamCaptureModeThreadLocal),
          "cudaStreamBeginCapture");
    try {
      body();
    } catch (const std::exception& ex) {
      failure = ex.what();
    }
    cudaGraph_t graph = nullptr;
    const cudaError_t ended = cudaStreamEndCapture(context.stream, &graph);
    if (failure.empty() && ended != cudaSuccess)
      failure = std::string("cudaStreamEndCapture: ") + cudaGetErrorString(ended);
    if (failure.empty()) {
      const cudaError_t made = cudaGraphInstantiate(&e.exec, graph, 0);
      if (made != cudaSuccess) {
        failure = std::string("cudaGraphInstantiate: ") + cudaGetErrorString(made);
        e.exec = nullptr;
      }
    }
    if (graph) cudaGraphDestroy(graph);
    free_deferred(context);
    if (failure.empty()) return true;
    (void)cudaGetLastError();  // the failed capture's error is reported here, not at a later call
    fallback_ = "CUDA graph capture failed, running eagerly: " + failure;
    return false;
  }
  // Frees what was released while capturing (a free cannot be recorded), now, on the stream.
  static void free_deferred(LaunchContext& context) {
    std::vector<void*> pending;
    pending.swap(context.deferred_frees);
    for (void* p : pending) Memory::deallocate(p);
  }

  std::map<int64_t, Entry> entries_;
  std::string fallback_;
  bool enabled_ = true;
  int64_t launches_ = 0;
};

}  // namespace mimic::cuda
