#pragma once
// A trained policy as the environment runner sees it: batched calls over the active rollouts,
// observation history turned into normalized features, per-rollout recurrent state for BC-RNN
// (reset every rnn.horizon steps, as robomimic), and action chunks for Diffusion Policy and IBC.
#include <map>
#include <vector>

#include "mimic/env/runner.hpp"
#include "mimic/policy/factory.hpp"

namespace mimic::policy {

// Whether rollouts must render camera observations for this policy.
inline bool needs_images(const ShapeMeta& meta) { return !meta.rgb_keys.empty(); }

template <class T = float, class D = Cpu>
class PolicyRollout : public env::RolloutPolicy {
 public:
  explicit PolicyRollout(Policy<T, D>& policy) : policy_(policy) {}

  int n_obs_steps() const override { return int(policy_.n_obs_steps()); }

  void reset(int env_id) override {
    carries_.erase(env_id);
    steps_[env_id] = 0;
  }

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
    Tensor<float> actions;  // [B, chunk, A]
    if (auto* bc = dynamic_cast<Bc<T, D>*>(&policy_)) {
      actions = bc->act(last_step(feats)).reshape({b, 1, meta.action_dim});
    } else if (auto* rnn = dynamic_cast<BcRnn<T, D>*>(&policy_)) {
      actions = rnn_step(*rnn, env_ids, last_step(feats)).reshape({b, 1, meta.action_dim});
    } else if (auto* dp = dynamic_cast<DiffusionPolicy<T, D>*>(&policy_)) {
      actions = dp->predict(feats);
    } else if (auto* ibc = dynamic_cast<Ibc<T, D>*>(&policy_)) {
      actions = ibc->predict(feats);
    } else {
      throw UnsupportedError("PolicyRollout: unknown policy type '" + policy_.algo_name() + "'");
    }
    std::vector<std::vector<std::vector<float>>> out(static_cast<size_t>(b));
    const int64_t chunk = actions.dim(1), a = actions.dim(2);
    for (int64_t i = 0; i < b; ++i)
      for (int64_t c = 0; c < chunk; ++c)
        out[size_t(i)].emplace_back(actions.data() + (i * chunk + c) * a,
                                    actions.data() + (i * chunk + c + 1) * a);
    for (int id : env_ids) steps_[id] += chunk;
    return out;
  }

 private:
  static Tensor<float> last_step(const Tensor<float>& feats) {
    const int64_t b = feats.dim(0), to = feats.dim(1), dim = feats.dim(2);
    auto x = Tensor<float>::empty({b, dim});
    for (int64_t i = 0; i < b; ++i)
      std::copy_n(feats.data() + (i * to + to - 1) * dim, dim, x.data() + i * dim);
    return x;
  }

  // Gathers each rollout's carried state (zeros at the start and every rnn.horizon steps), runs
  // one batched step and scatters the new state back.
  Tensor<float> rnn_step(BcRnn<T, D>& rnn, const std::vector<int>& env_ids,
                         const Tensor<float>& x) {
    const auto& s = rnn.settings();
    const int64_t b = int64_t(env_ids.size()), h = s.hidden_dim, layers = s.num_layers;
    const bool lstm = s.rnn_type == "LSTM";
    RnnCarry carry;
    for (int64_t l = 0; l < layers; ++l) {
      carry.h.push_back(Tensor<float>::zeros({b, h}));
      if (lstm) carry.c.push_back(Tensor<float>::zeros({b, h}));
    }
    for (int64_t i = 0; i < b; ++i) {
      const int id = env_ids[size_t(i)];
      auto it = carries_.find(id);
      if (it == carries_.end() || steps_[id] % s.horizon == 0) continue;
      for (int64_t l = 0; l < layers; ++l) {
        std::copy_n(it->second.h[size_t(l)].data(), h, carry.h[size_t(l)].data() + i * h);
        if (lstm) std::copy_n(it->second.c[size_t(l)].data(), h, carry.c[size_t(l)].data() + i * h);
      }
    }
    Tensor<float> a = rnn.act_step(x, carry);
    for (int64_t i = 0; i < b; ++i) {
      RnnCarry& mine = carries_[env_ids[size_t(i)]];
      mine.h.resize(size_t(layers));
      mine.c.resize(lstm ? size_t(layers) : 0);
      for (int64_t l = 0; l < layers; ++l) {
        mine.h[size_t(l)] = Tensor<float>::from_vector(
            {h}, std::vector<float>(carry.h[size_t(l)].data() + i * h,
                                    carry.h[size_t(l)].data() + (i + 1) * h));
        if (lstm)
          mine.c[size_t(l)] = Tensor<float>::from_vector(
              {h}, std::vector<float>(carry.c[size_t(l)].data() + i * h,
                                      carry.c[size_t(l)].data() + (i + 1) * h));
      }
    }
    return a;
  }

  Policy<T, D>& policy_;
  std::map<int, RnnCarry> carries_;
  std::map<int, int64_t> steps_;
};

}  // namespace mimic::policy
