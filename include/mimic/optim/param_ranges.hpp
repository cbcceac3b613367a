#pragma once
// Contiguous runs of trainable parameters in a ParamStore's flat buffer (adjacent trainable
// parameters merge into one run), so optimizer passes skip frozen parameters.
#include <utility>
#include <vector>

#include "mimic/nn/parameters.hpp"

namespace mimic::optim {

template <class T, class D>
std::vector<std::pair<int64_t, int64_t>> trainable_ranges(const nn::ParamStore<T, D>& store) {
  std::vector<std::pair<int64_t, int64_t>> runs;  // [begin, end) in elements
  bool previous_trainable = false;                // entries are laid out in declaration order
  for (const auto& e : store.entries()) {
    const bool merge = previous_trainable;
    previous_trainable = e.trainable;
    if (!e.trainable) continue;
    const int64_t b = e.offset, end = e.offset + e.shape.numel();
    if (merge && !runs.empty())
      runs.back().second = end;  // only zero padding lies between: safe to include
    else
      runs.emplace_back(b, end);
  }
  return runs;
}

}  // namespace mimic::optim
