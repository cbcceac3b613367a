#pragma once
// robomimic's process_batch_for_training for its offline RL algorithms: the first step of each
// window as (s, a), the observation n steps on as s', the discounted sum of the first n rewards,
// and done when any of those n steps is done. With infinite_horizon, done rows' rewards are
// scaled by 1 / (1 - gamma^n) (robomimic scales by the n-step discount it just set).
#include <cmath>

#include "mimic/data/batch.hpp"
#include "mimic/policy/core/any_policy.hpp"

namespace mimic::policy {

struct Transitions {
  Tensor<float> obs, next_obs, actions;  // [B, obs_dim], [B, obs_dim], [B, A]
  Tensor<float> rewards, dones;          // [B, 1]
  double discount = 1;                   // gamma^n, for the bootstrapped value
};

// Rows [B, T] or [B, T, 1] of a scalar dataset key.
inline const Tensor<float>& scalar_steps(const data::Batch& batch, const std::string& key,
                                         int64_t need) {
  auto it = batch.data.find(key);
  if (it == batch.data.end())
    throw ValueError("batch has no '" + key +
                     "': offline RL needs rewards and dones in the dataset (train.dataset_keys)");
  const Tensor<float>& t = it->second;
  if (!(t.rank() == 2 || (t.rank() == 3 && t.dim(2) == 1)) || t.dim(1) < need)
    throw ShapeError("'" + key + "' has shape " + t.shape().str() +
                     ", expected [B, >=" + std::to_string(need) + ", 1]");
  return t;
}

inline Transitions n_step_transitions(const ShapeMeta& meta, const Normalization& norm,
                                      const data::Batch& batch, int64_t n_step, double gamma,
                                      bool infinite_horizon) {
  if (n_step < 1) throw ValueError("n_step must be >= 1, got " + std::to_string(n_step));
  if (batch.next_obs.empty())
    throw ValueError("batch has no next_obs: offline RL needs train.hdf5_load_next_obs");
  Transitions t;
  t.obs = gather_features(meta, norm.obs, batch.obs, 0, 1);
  const int64_t b = t.obs.dim(0), dim = t.obs.dim(2);
  t.obs = t.obs.reshape({b, dim});
  t.next_obs = gather_features(meta, norm.obs, batch.next_obs, n_step - 1, 1).reshape({b, dim});
  const Tensor<float> a = gather_actions(norm.action, batch.data.at("actions"), 0, 1);
  t.actions = a.reshape({b, a.dim(2)});
  const Tensor<float>& r = scalar_steps(batch, "rewards", n_step);
  const Tensor<float>& d = scalar_steps(batch, "dones", n_step);
  if (r.dim(0) != b || d.dim(0) != b)
    throw ShapeError("rewards or dones have a batch of " + std::to_string(r.dim(0)) + " / " +
                     std::to_string(d.dim(0)) + ", observations " + std::to_string(b));
  t.rewards = Tensor<float>::empty({b, 1});
  t.dones = Tensor<float>::empty({b, 1});
  t.discount = std::pow(gamma, double(n_step));
  // robomimic: (rewards[:, :n] * gamma^arange(n)).sum(1), the powers in float32.
  const float scale_done = float(1.0 / (1.0 - t.discount));
  for (int64_t i = 0; i < b; ++i) {
    float sum = 0, any_done = 0;
    for (int64_t k = 0; k < n_step; ++k) {
      sum += r[i * r.dim(1) + k] * std::pow(float(gamma), float(k));
      any_done += d[i * d.dim(1) + k];
    }
    const bool done = any_done > 0;
    t.rewards[i] = infinite_horizon && done ? sum * scale_done : sum;
    t.dones[i] = done ? 1.0f : 0.0f;
  }
  return t;
}

}  // namespace mimic::policy
