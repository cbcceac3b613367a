#pragma once
// The last k observations of an episode, oldest first; at reset the first observation fills every
// slot (robomimic's frame stacking and Diffusion Policy's observation history both pad this way).
#include <deque>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/env/env.hpp"

namespace mimic::env {

class FrameStack {
 public:
  explicit FrameStack(int k) : k_(k) {
    if (k < 1) throw ValueError("FrameStack: k must be >= 1, got " + std::to_string(k));
  }
  void reset(const Observation& first) { frames_.assign(size_t(k_), first); }
  void push(const Observation& o) {
    if (frames_.empty()) return reset(o);
    frames_.push_back(o);
    frames_.pop_front();
  }
  int size() const { return k_; }
  const Observation& latest() const { return frames_.back(); }
  std::vector<Observation> frames() const { return {frames_.begin(), frames_.end()}; }
  // Each low-dim key's k frames concatenated (k * dim values), as a frame-stacked observation.
  Observation stacked() const {
    Observation s;
    for (const Observation& f : frames_)
      for (const auto& [key, v] : f.low_dim)
        s.low_dim[key].insert(s.low_dim[key].end(), v.begin(), v.end());
    return s;
  }

 private:
  int k_;
  std::deque<Observation> frames_;
};

}  // namespace mimic::env
