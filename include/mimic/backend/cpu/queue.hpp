#pragma once
// The CPU's device queue (core/device_queue.hpp): work runs when it is called, in order, so
// entering the queue changes nothing and every recorded body simply runs.
#include <cstdint>
#include <string>

#include "mimic/core/device.hpp"
#include "mimic/core/device_queue.hpp"

namespace mimic {

template <>
class DeviceQueue<Cpu> {
 public:
  struct Scope {
    Scope() {}
    ~Scope() {}  // user-provided, so that holding one is not an unused variable
  };
  Scope enter() const { return {}; }
  template <class F>
  void run_recorded(int64_t, F&& body) {
    body();
  }
  void forget_recorded() {}
  std::string recording_fallback() const { return "the CPU runs each step as it is called"; }
  void set_recording(bool) {}
};

}  // namespace mimic
