#pragma once
// Durations of a repeated operation (a policy call, a control tick) and their quantiles. The
// storage is sized up front and quantiles sort a preallocated copy, so recording and reporting
// inside a control loop never allocate. When full, the oldest samples are overwritten.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::deploy {

class LatencyRecorder {
 public:
  explicit LatencyRecorder(int64_t capacity = 4096)
      : samples_(size_t(std::max<int64_t>(capacity, 1))),
        sorted_(size_t(std::max<int64_t>(capacity, 1))) {
    if (capacity < 1)
      throw ValueError("LatencyRecorder: capacity " + std::to_string(capacity) +
                       " must be at least 1");
  }
  void add(double seconds) {
    samples_[size_t(next_)] = seconds;
    next_ = (next_ + 1) % int64_t(samples_.size());
    count_ = std::min<int64_t>(count_ + 1, int64_t(samples_.size()));
  }
  // Samples held (at most the capacity).
  int64_t count() const { return count_; }
  void clear() { next_ = count_ = 0; }

  // The q-quantile (q in [0, 1]) of the held samples by nearest rank: the smallest sample with at
  // least q of the samples at or below it. NaN when empty.
  double quantile(double q) const {
    if (count_ == 0) return std::nan("");
    if (!(q >= 0.0 && q <= 1.0))
      throw ValueError("LatencyRecorder: quantile " + std::to_string(q) + " is outside [0, 1]");
    std::copy_n(samples_.begin(), count_, sorted_.begin());
    const int64_t rank = std::max<int64_t>(1, int64_t(std::ceil(q * double(count_))));
    std::nth_element(sorted_.begin(), sorted_.begin() + (rank - 1), sorted_.begin() + count_);
    return sorted_[size_t(rank - 1)];
  }
  double max() const {
    if (count_ == 0) return std::nan("");
    return *std::max_element(samples_.begin(), samples_.begin() + count_);
  }

 private:
  std::vector<double> samples_;
  mutable std::vector<double> sorted_;
  int64_t next_ = 0, count_ = 0;
};

}  // namespace mimic::deploy
