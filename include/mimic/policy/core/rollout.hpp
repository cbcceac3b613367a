#pragma once
// A trained policy as the environment runner sees it: batched calls over the active rollouts,
// observation history turned into normalized features; the policy's act_rollout gives the
// actions (one step, or a chunk for Diffusion Policy and IBC) and keeps any recurrent state.
#include <map>
#include <vector>

#include "mimic/env/runner.hpp"
#include "mimic/policy/core/any_policy.hpp"

namespace mimic::policy {

// Whether rollouts must render camera observations for this policy.
inline bool needs_images(const ShapeMeta& meta) { return !meta.rgb_keys.empty(); }

class PolicyRollout : public env::RolloutPolicy {
 public:
  explicit PolicyRollout(AnyPolicy& policy) : policy_(policy) {}

  int n_obs_steps() const override { return int(policy_.n_obs_steps()); }

  void reset(int env_id) override { policy_.reset_rollout(env_id); }

  std::vector<std::vector<std::vector<float>>> act(
      const std::vector<int>& env_ids,
      const std::vector<std::vector<env::Observation>>& history) override {
    const ShapeMeta& meta = policy_.shape_meta();
    const int64_t b = int64_t(env_ids.size()), to = policy_.n_obs_steps(), dim = meta.obs_dim();
    if (int64_t(history.size()) != b)
      throw ShapeError("PolicyRollout: history does not match env ids");
    auto feats = Tensor<float>::empty({b, to, dim});
    for (int64_t i = 0; i < b; ++i) {
      const auto& h = history[size_t(i)];
      if (h.empty()) throw ValueError("PolicyRollout: empty observation history");
      for (int64_t t = 0; t < to; ++t) {
        // Fewer observations than needed (start of an episode): repeat the oldest.
        const int64_t src = std::max<int64_t>(0, int64_t(h.size()) - to + t);
        observation_features(meta, policy_.normalization().obs, h[size_t(src)],
                             feats.data() + (i * to + t) * dim);
      }
    }
    const Tensor<float> actions = policy_.act_rollout(feats, env_ids);  // [B, chunk, A]
    std::vector<std::vector<std::vector<float>>> out(static_cast<size_t>(b));
    const int64_t chunk = actions.dim(1), a = actions.dim(2);
    for (int64_t i = 0; i < b; ++i)
      for (int64_t c = 0; c < chunk; ++c)
        out[size_t(i)].emplace_back(actions.data() + (i * chunk + c) * a,
                                    actions.data() + (i * chunk + c + 1) * a);
    return out;
  }

 private:
  AnyPolicy& policy_;
};

}  // namespace mimic::policy
