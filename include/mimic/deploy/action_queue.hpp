#pragma once
// Actions waiting to be executed. A chunk policy (Diffusion Policy, IBC with an action horizon)
// returns several actions per call; a control loop executes one per tick and asks for the next
// chunk when the queue runs dry. Storage is sized once, so pushing and popping never allocate.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::deploy {

class ActionQueue {
 public:
  ActionQueue() = default;
  ActionQueue(int64_t capacity, int64_t action_dim)
      : data_(size_t(std::max<int64_t>(capacity, 0) * std::max<int64_t>(action_dim, 0))),
        capacity_(capacity),
        dim_(action_dim) {
    if (capacity < 1 || action_dim < 1)
      throw ValueError("ActionQueue: capacity " + std::to_string(capacity) + " and action_dim " +
                       std::to_string(action_dim) + " must both be at least 1");
  }
  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t capacity() const { return capacity_; }
  int64_t action_dim() const { return dim_; }
  void clear() { head_ = size_ = 0; }

  // Appends `count` actions of action_dim values each, oldest first.
  void push(const float* rows, int64_t count) {
    if (count < 0 || size_ + count > capacity_)
      throw ValueError("ActionQueue: pushing " + std::to_string(count) + " actions onto " +
                       std::to_string(size_) + " queued exceeds the capacity " +
                       std::to_string(capacity_));
    for (int64_t r = 0; r < count; ++r) {
      const int64_t slot = (head_ + size_ + r) % capacity_;
      std::copy_n(rows + r * dim_, dim_, data_.data() + slot * dim_);
    }
    size_ += count;
  }
  // Moves the oldest action into `out` (action_dim values); false when the queue is empty.
  bool pop(float* out) {
    if (size_ == 0) return false;
    std::copy_n(data_.data() + head_ * dim_, dim_, out);
    head_ = (head_ + 1) % capacity_;
    --size_;
    return true;
  }

 private:
  std::vector<float> data_;
  int64_t capacity_ = 0, dim_ = 0, head_ = 0, size_ = 0;
};

}  // namespace mimic::deploy
