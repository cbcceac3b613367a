#pragma once
// Learning-rate schedules as pure functions of the step (batch or epoch, as the caller counts).
#include <cmath>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::optim {

struct LrSchedule {
  enum Kind { kConstant, kMultiStep, kLinear, kCosine } kind = kConstant;
  double base_lr = 1e-3;
  std::vector<int64_t> milestones;  // multistep: rate *= decay_factor at each milestone reached
  double decay_factor = 0.1;
  int64_t warmup_steps = 0;  // cosine: linear warm-up from 0
  int64_t total_steps = 1;   // linear / cosine: length of the schedule
  double end_factor = 0.0;   // linear: factor reached at total_steps
  double num_cycles = 0.5;   // cosine: half a cosine wave by default

  double at(int64_t step) const {
    switch (kind) {
      case kConstant:
        return base_lr;
      case kMultiStep: {
        double lr = base_lr;
        for (int64_t m : milestones)
          if (step >= m) lr *= decay_factor;
        return lr;
      }
      case kLinear: {
        const double frac =
            total_steps > 0 ? std::min(1.0, double(step) / double(total_steps)) : 1.0;
        return base_lr * (1.0 + (end_factor - 1.0) * frac);
      }
      case kCosine: {
        if (step < warmup_steps)
          return base_lr * double(step) / double(std::max<int64_t>(1, warmup_steps));
        const double progress =
            double(step - warmup_steps) / double(std::max<int64_t>(1, total_steps - warmup_steps));
        return base_lr * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * num_cycles * 2.0 * progress)));
      }
    }
    return base_lr;
  }

  static Kind kind_from_name(const std::string& name) {
    if (name == "constant" || name.empty()) return kConstant;
    if (name == "multistep") return kMultiStep;
    if (name == "linear") return kLinear;
    if (name == "cosine") return kCosine;
    throw ValueError("unknown learning-rate schedule '" + name +
                     "' (expected constant, multistep, linear or cosine)");
  }
};

}  // namespace mimic::optim
