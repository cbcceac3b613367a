#pragma once
// Which time steps each training sample reads, under robomimic's SequenceDataset rules and under
// Diffusion Policy's SequenceSampler rules. A sample is a window of T steps of one demo; steps
// outside the demo repeat the edge frame and are marked 0 in the pad mask.
#include <algorithm>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::data {

struct SampleSteps {
  int64_t demo = 0;               // index into the demo list
  std::vector<int64_t> steps;     // T source steps in the demo (edge-clamped)
  std::vector<uint8_t> pad_mask;  // 1 where the step is real
  int64_t goal_step = -1;         // goal_mode "last": next_obs row used as the goal
};

// robomimic: T = frame_stack - 1 + seq_length steps starting frame_stack - 1 before the index.
struct RobomimicSequence {
  int64_t seq_length = 1, frame_stack = 1;
  bool pad_seq_length = true, pad_frame_stack = true;

  int64_t window() const { return frame_stack - 1 + seq_length; }

  // Samples of a demo of `length` steps; throws naming the demo when it has none.
  int64_t samples_in(int64_t length, const std::string& demo) const {
    if (seq_length < 1 || frame_stack < 1)
      throw ValueError("sequence: seq_length and frame_stack must be >= 1");
    int64_t n = length;
    if (!pad_frame_stack) n -= frame_stack - 1;
    if (!pad_seq_length) n -= seq_length - 1;
    if (length < 1 || n < 1)
      throw ValueError("sequence: demo '" + demo + "' with " + std::to_string(length) +
                       " steps yields no sample for seq_length " + std::to_string(seq_length) +
                       ", frame_stack " + std::to_string(frame_stack) + " without padding");
    return n;
  }

  // The k-th sample (0-based) of a demo of `length` steps.
  SampleSteps sample(int64_t length, int64_t k, bool goal_last = false) const {
    SampleSteps s;
    const int64_t stack = frame_stack - 1;
    const int64_t index = k + (pad_frame_stack ? 0 : stack);
    const int64_t begin = std::max<int64_t>(0, index - stack);
    const int64_t end = std::min<int64_t>(length, index + seq_length);
    const int64_t begin_pad = std::max<int64_t>(0, stack - index);
    const int64_t end_pad = std::max<int64_t>(0, index + seq_length - length);
    for (int64_t i = 0; i < begin_pad; ++i) s.steps.push_back(begin), s.pad_mask.push_back(0);
    for (int64_t i = begin; i < end; ++i) s.steps.push_back(i), s.pad_mask.push_back(1);
    for (int64_t i = 0; i < end_pad; ++i) s.steps.push_back(end - 1), s.pad_mask.push_back(0);
    if (goal_last) s.goal_step = length - (pad_seq_length ? 0 : seq_length - 1) - 1;
    return s;
  }
};

// Diffusion Policy: windows of `horizon` steps starting from -pad_before to
// length - horizon + pad_after; step j of a window starting at i reads clamp(i + j, 0, length - 1).
struct DiffusionSequence {
  int64_t horizon = 16, pad_before = 1, pad_after = 7;

  int64_t samples_in(int64_t length) const {
    return std::max<int64_t>(0, length - horizon + pad_after + pad_before + 1);
  }
  SampleSteps sample(int64_t length, int64_t k) const {
    SampleSteps s;
    const int64_t start = k - pad_before;
    for (int64_t j = 0; j < horizon; ++j) {
      const int64_t t = start + j;
      s.steps.push_back(std::clamp<int64_t>(t, 0, length - 1));
      s.pad_mask.push_back(t >= 0 && t < length ? 1 : 0);
    }
    return s;
  }
};

// Flat index -> (demo, sample in demo) over a list of demo lengths.
class SampleIndex {
 public:
  template <class CountFn>
  SampleIndex(const std::vector<int64_t>& lengths, CountFn count) {
    starts_.push_back(0);
    for (size_t d = 0; d < lengths.size(); ++d)
      starts_.push_back(starts_.back() + count(d, lengths[d]));
  }
  int64_t size() const { return starts_.back(); }
  // (demo, k) of flat sample i.
  std::pair<int64_t, int64_t> locate(int64_t i) const {
    if (i < 0 || i >= size())
      throw ValueError("sample " + std::to_string(i) + " is outside [0, " + std::to_string(size()) +
                       ")");
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), i);
    const int64_t d = static_cast<int64_t>(it - starts_.begin()) - 1;
    return {d, i - starts_[d]};
  }

 private:
  std::vector<int64_t> starts_;
};

}  // namespace mimic::data
