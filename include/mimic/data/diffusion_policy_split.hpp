#pragma once
// Diffusion Policy's train/validation split of a dataset's episodes, episode for episode: a
// seeded validation mask (`val_ratio` of the episodes, at least 1, leaving at least 1), then the
// remaining training episodes downsampled to `max_train_episodes`, each draw from a fresh
// `np.random.default_rng(seed)` (core/numpy_generator.hpp). Validation is every episode not
// trained on, as Diffusion Policy's get_validation_dataset takes it. Push-T's config:
// val_ratio 0.02, max_train_episodes 90, seed 42.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/numpy_generator.hpp"

namespace mimic::data {

struct DiffusionPolicySplitSettings {
  double val_ratio = 0.02;
  int64_t max_train_episodes = 90;  // < 0: no downsampling (Diffusion Policy's null)
  uint64_t seed = 42;
};

// true for the episodes Diffusion Policy trains on.
inline std::vector<bool> diffusion_policy_train_mask(int64_t episodes,
                                                     const DiffusionPolicySplitSettings& s = {}) {
  if (episodes < 1)
    throw ValueError("Diffusion Policy's split: expected at least 1 episode, got " +
                     std::to_string(episodes));
  if (!(s.val_ratio >= 0 && s.val_ratio <= 1)) {
    char got[32];
    std::snprintf(got, sizeof(got), "%g", s.val_ratio);
    throw ValueError(std::string("Diffusion Policy's split: val_ratio must be in [0, 1], got ") +
                     got);
  }
  std::vector<bool> train(size_t(episodes), true);
  if (s.val_ratio > 0) {
    // Python's round() rounds halves to even, as nearbyint does in the default rounding mode.
    const int64_t wanted = std::max<int64_t>(1, int64_t(std::nearbyint(episodes * s.val_ratio)));
    const int64_t n_val = std::min(wanted, episodes - 1);
    NumpyGenerator rng(s.seed);
    for (int64_t i : rng.choice_without_replacement(episodes, n_val)) train[size_t(i)] = false;
  }
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < episodes; ++i)
    if (train[size_t(i)]) kept.push_back(i);
  if (s.max_train_episodes >= 0 && int64_t(kept.size()) > s.max_train_episodes) {
    NumpyGenerator rng(s.seed);
    const std::vector<int64_t> picks =
        rng.choice_without_replacement(int64_t(kept.size()), s.max_train_episodes);
    train.assign(size_t(episodes), false);
    for (int64_t p : picks) train[size_t(kept[size_t(p)])] = true;
  }
  return train;
}

}  // namespace mimic::data
