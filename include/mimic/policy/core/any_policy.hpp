#pragma once
// A policy as the trainer, rollouts, checkpoints and the command line see it, whatever its scalar
// type and device: every argument and result is a host float tensor or plain data, so code that
// holds an AnyPolicy compiles without the device's backend (the trainer is built by the host
// compiler; a CUDA policy comes from a builder compiled by nvcc). Policy<T, D> implements it.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mimic/core/tensor.hpp"
#include "mimic/data/batch.hpp"
#include "mimic/nn/safetensors.hpp"
#include "mimic/policy/core/features.hpp"

namespace mimic::policy {

using Scalars = std::map<std::string, double>;

// Normalization applied to observation features, goals (ShapeMeta::goal_shapes) and actions
// (empty = identity).
struct Normalization {
  data::AffineStats obs, action, goal;
  nlohmann::json to_json() const {
    nlohmann::json j = nlohmann::json::object();
    if (!obs.offset.empty()) j["obs"] = stats_to_json(obs);
    if (!action.offset.empty()) j["action"] = stats_to_json(action);
    if (!goal.offset.empty()) j["goal"] = stats_to_json(goal);
    return j;
  }
  static Normalization from_json(const nlohmann::json& j) {
    Normalization n;
    if (j.contains("obs")) n.obs = stats_from_json(j["obs"]);
    if (j.contains("action")) n.action = stats_from_json(j["action"]);
    if (j.contains("goal")) n.goal = stats_from_json(j["goal"]);
    return n;
  }
};

class AnyPolicy {
 public:
  virtual ~AnyPolicy() = default;

  virtual const std::string& algo_name() const = 0;
  virtual const ShapeMeta& shape_meta() const = 0;
  virtual const Normalization& normalization() const = 0;
  virtual std::string_view device_name() const = 0;  // "cpu", "cuda"
  virtual int64_t parameter_count() const = 0;
  // State-dict names of the weights, in declaration order.
  virtual std::vector<std::string> weight_names() const = 0;
  // Observation steps a rollout must supply per call (Diffusion Policy and IBC: n_obs_steps).
  virtual int64_t n_obs_steps() const = 0;

  // One gradient step on a host batch; returns the loss terms, gradient norm and learning rate.
  virtual Scalars train_on_batch(const data::Batch& batch) = 0;
  // The same loss terms without gradients or updates.
  virtual Scalars validate_on_batch(const data::Batch& batch) = 0;
  virtual void end_epoch() = 0;

  // Normalized observation rows [B, n_obs_steps, obs_dim] of the rollouts `env_ids` -> actions
  // [B, chunk, A] in the dataset's action space (chunk 1 for single-step policies).
  virtual Tensor<float> act_rollout(const Tensor<float>& features,
                                    const std::vector<int>& env_ids) = 0;
  // act_rollout into `actions`, which is reshaped (and reallocated only when its size differs).
  // Policies that override it make no heap allocation once `actions` has the chunk's size and a
  // first call at this batch size has sized their buffers: the path a control loop takes.
  virtual void act_rollout_into(const Tensor<float>& features, const std::vector<int>& env_ids,
                                Tensor<float>& actions) {
    const Tensor<float> a = act_rollout(features, env_ids);
    if (actions.data() == nullptr || actions.numel() != a.numel())
      actions = Tensor<float>::empty(a.shape());
    actions = actions.reshape(a.shape());
    actions.copy_from(a);
  }
  // Rollout `env_id` starts a new episode (recurrent policies clear its state).
  virtual void reset_rollout(int env_id) = 0;

  // The checkpoint's tensors as F32 sources that stream from the policy's own buffers (so a
  // save needs no second copy of the state), and its JSON state.
  virtual std::map<std::string, nn::SafetensorsSource> state_sources() const = 0;
  virtual nlohmann::json state_json() const = 0;
  // Replaces the weights (by state-dict name; every one must be given), nothing else.
  virtual void load_weights(const std::map<std::string, Tensor<float>>& tensors) = 0;
  // Restores what state_sources/state_json saved (a missing tensor is an error naming it).
  virtual void load_state(const std::map<std::string, Tensor<float>>& tensors,
                          const nlohmann::json& j) = 0;
};

}  // namespace mimic::policy
