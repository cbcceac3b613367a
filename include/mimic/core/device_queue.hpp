#pragma once
// Where a policy's device work is queued. Declared here so that core and the policies depend on
// nothing above them; each backend specializes it next to its memory (DeviceQueue<Cpu> in
// backend/cpu/queue.hpp, DeviceQueue<Cuda> in cuda/mimic/cuda/queue.cuh). A specialization is a
// movable-by-pointer object a policy owns, with:
//   Scope enter()      makes the queue current for the calling thread until the Scope dies
//                      (scopes nest; leaving one restores the previous queue)
//   template <class F> void run_recorded(int64_t key, F&& body)
//                      runs body(), or replays what an earlier call with the same key recorded
//                      when the device can record work (a CUDA graph); body must then queue the
//                      same device work on every call with that key and touch no host data that
//                      later calls read
//   void forget_recorded()              drops every recording (buffers they use changed)
//   std::string recording_fallback() const   why recording is off, empty when it is not
//   void set_recording(bool on)              recording on (the default) or off
// The CPU's queue runs everything at once, in order, and records nothing.
namespace mimic {
template <class Device>
class DeviceQueue;
}  // namespace mimic
