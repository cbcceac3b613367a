#pragma once
// GL (robomimic's subgoal prediction, the planner of HBC and IRIS): from the observation of step
// t, the low-dim subgoal keys of step t + subgoal_horizon (the next observation of step
// t + subgoal_horizon - 1). A conditional VAE over the subgoal (GL_VAE, one decoder head per
// subgoal key, no squashing), or a deterministic MLP with one head per key and the sum of the
// per-key mean squared errors. GL alone predicts subgoals and does not act (robomimic's GL has no
// rollouts); HBC and IRIS use predict_subgoals and sample_subgoals.
//
// The policy sees the whole observation row of its caller and reads its own keys from it
// (KeySubset): observation.modalities.obs for the input, observation.modalities.subgoal for what
// it predicts, in the normalized space of those keys.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/config/schema.hpp"
#include "mimic/loss/losses.hpp"
#include "mimic/nn/linear.hpp"
#include "mimic/nn/mlp.hpp"
#include "mimic/nn/vae.hpp"
#include "mimic/policy/core/key_subset.hpp"
#include "mimic/policy/core/multi_network_policy.hpp"
#include "mimic/policy/core/vae_config.hpp"
#include "mimic/policy/hierarchical/defaults.hpp"

namespace mimic::policy {

// The low-dim keys of observation.modalities.<group> at `path`; other modalities must be empty
// (these algorithms take low-dim observations only here).
inline std::vector<std::string> low_dim_group(const nlohmann::json& observation,
                                              const std::string& group, const std::string& path) {
  const std::string at = path + ".modalities." + group;
  const nlohmann::json& mods = observation.at("modalities");
  if (!mods.contains(group)) return {};
  const nlohmann::json& g = mods.at(group);
  for (const char* m : {"rgb", "depth", "scan"})
    if (g.contains(m) && !g.at(m).is_null() && !g.at(m).empty())
      throw UnsupportedError("config: '" + at + "." + m + "' must be empty: " +
                             "robomimic's hierarchical algorithms take low-dim " + group +
                             " keys only here, got " + g.at(m).dump());
  if (!g.contains("low_dim") || g.at("low_dim").is_null()) return {};
  return config::typed<std::vector<std::string>>(g.at("low_dim"), at + ".low_dim");
}

// For each batch row i, the next observation of step steps[i] of every key of `shapes`, raw
// ([B, ...] per key). The batch's windows must hold `window` steps (`why`: the setting that
// asks for them, for the error).
inline std::map<std::string, Tensor<float>> next_obs_at(
    const data::Batch& batch, const std::map<std::string, std::vector<int64_t>>& shapes,
    const std::vector<int64_t>& steps, int64_t window, const std::string& why) {
  std::map<std::string, Tensor<float>> out;
  const int64_t b = int64_t(steps.size());
  for (const auto& [key, shape] : shapes) {
    auto it = batch.next_obs.find(key);
    if (it == batch.next_obs.end())
      throw ValueError("batch has no next observation '" + key +
                       "' (subgoals come from next observations)");
    const Tensor<float>& t = it->second;
    const int64_t w = shape_numel(shape);
    if (t.rank() < 2 || t.dim(0) != b || t.dim(1) < window || t.numel() != b * t.dim(1) * w)
      throw ShapeError("next observation '" + key + "' has shape " + t.shape().str() +
                       ", expected [" + std::to_string(b) + ", >=" + std::to_string(window) + " (" +
                       why + "), " + std::to_string(w) + "]");
    auto g = Tensor<float>::empty({b, w});
    for (int64_t i = 0; i < b; ++i)
      std::copy_n(t.data() + (i * t.dim(1) + steps[size_t(i)]) * w, w, g.data() + i * w);
    out[key] = g;
  }
  return out;
}

struct GoalLearningSettings {
  NetworkOptimSettings optim;  // optim_params.goal_network
  int64_t subgoal_horizon = 10;
  bool vae_enabled = true;
  nn::VaeSettings vae;
  std::vector<int64_t> planner_layer_dims{300, 400};  // ae.planner_layer_dims (no VAE)
  std::vector<std::string> obs_keys, subgoal_keys;

  // From a GL algo section at `algo_path` and its observation section at `obs_path` (both merged
  // over GL's defaults); errors name the key.
  static GoalLearningSettings from_sections(const nlohmann::json& algo_given,
                                            const nlohmann::json& obs_given,
                                            const std::string& algo_path,
                                            const std::string& obs_path) {
    const nlohmann::json a = config::merged_over(gl_algo_section(), algo_given);
    const nlohmann::json o = config::merged_over(gl_observation_section(), obs_given);
    GoalLearningSettings s;
    s.optim = NetworkOptimSettings::from_json(a.at("optim_params").at("goal_network"),
                                              algo_path + ".optim_params.goal_network");
    s.subgoal_horizon = config::bounded(a.at("subgoal_horizon"), algo_path + ".subgoal_horizon", 1,
                                        config::kMaxConfigSize);
    s.vae_enabled = config::typed<bool>(a.at("vae"), "enabled", algo_path + ".vae");
    s.vae = vae_settings_from_json(a.at("vae"), algo_path + ".vae");
    s.planner_layer_dims = config::bounded_list(a.at("ae"), "planner_layer_dims", algo_path + ".ae",
                                                1, config::kMaxConfigSize, 1);
    s.obs_keys = low_dim_group(o, "obs", obs_path);
    s.subgoal_keys = low_dim_group(o, "subgoal", obs_path);
    if (s.obs_keys.empty())
      throw ValueError("config: '" + obs_path + ".modalities.obs.low_dim' lists no keys");
    if (s.subgoal_keys.empty())
      throw ValueError("config: '" + obs_path +
                       ".modalities.subgoal.low_dim' lists no keys: GL predicts subgoal keys");
    if (!low_dim_group(o, "goal", obs_path).empty())
      throw UnsupportedError("config: '" + obs_path +
                             ".modalities.goal.low_dim': goal-conditioned planners are not "
                             "supported yet (leave it empty)");
    return s;
  }
  static GoalLearningSettings from_config(const nlohmann::json& given) {
    const nlohmann::json c = config::merged_over(gl_defaults(), given);
    return from_sections(c.at("algo"), c.at("observation"), "algo", "observation");
  }
};

template <class T = float, class D = Cpu>
class GoalLearning : public MultiNetworkPolicy<T, D> {
  using Base = MultiNetworkPolicy<T, D>;

 public:
  // meta and norm: the caller's whole observation row and its statistics.
  GoalLearning(const ShapeMeta& meta, const Normalization& norm, const GoalLearningSettings& s,
               uint64_t seed, int64_t schedule_units)
      : Base("gl", meta, norm, seed), s_(s), part_(meta, norm, s.obs_keys, s.subgoal_keys) {
    net_ = &this->add_network("goal_network", "goal_network", false);
    const int64_t obs = part_.meta.obs_dim();
    if (s.vae_enabled) {
      std::vector<nn::VaeOutput> outputs;
      for (const auto& [key, shape] : part_.meta.goal_shapes)
        outputs.push_back({key, shape_numel(shape), false});
      vae_ = nn::ConditionalVae<T, D>(net_->store(), "goal_network", outputs, obs, s.vae);
    } else {
      std::vector<int64_t> widths{obs};
      widths.insert(widths.end(), s.planner_layer_dims.begin(), s.planner_layer_dims.end());
      mlp_ = nn::Mlp<T, D>(net_->store(), "goal_network.mlp", widths, nn::Activation::kRelu, true);
      for (const auto& [key, shape] : part_.meta.goal_shapes)
        heads_.push_back(nn::Linear<T, D>(net_->store(), "goal_network.decoder." + key,
                                          widths.back(), shape_numel(shape)));
    }
    this->finish_networks({{"goal_network", s.optim}}, schedule_units);
  }
  const GoalLearningSettings& settings() const { return s_; }
  // The subgoal keys and their widths, as predicted rows lay them out (sorted).
  const ShapeMeta& part_meta() const { return part_.meta; }
  const KeySubset& part() const { return part_; }

  Tensor<float> act_rollout(const Tensor<float>&, const std::vector<int>&) override {
    throw UnsupportedError(
        "gl predicts subgoals and does not act (robomimic's GL has no rollouts): train hbc or "
        "iris to act on its subgoals");
  }

  // Normalized whole observation rows [B, obs_dim] -> one predicted subgoal each [B, goal_dim]
  // (normalized): the VAE decodes one prior sample, the MLP predicts.
  Tensor<float> predict_subgoals(const Tensor<float>& rows) { return sample_subgoals(rows, 1); }
  // n subgoals for each row: [B * n, goal_dim], row i's samples at i * n ... i * n + n - 1
  // (robomimic's sample_subgoals; the MLP's are n copies).
  Tensor<float> sample_subgoals(const Tensor<float>& rows, int64_t n) {
    const auto on_queue = this->on_device_queue();
    typename Base::NoGrad no_grad;
    Tape<T, D>& tape = this->begin_no_grad(no_grad);
    const int64_t b = rows.dim(0);
    const Tensor<float> own = part_.select(rows.reshape({b, 1, rows.dim(1)}));
    Var<T, D> c = upload(tape, repeat_rows(own.reshape({b, own.dim(2)}), n));
    Var<T, D> g = s_.vae_enabled ? vae_.sample(net_->store(), c, this->rng_)
                                 : deterministic(net_->store(), c);
    return download(g.value());
  }

 protected:
  void train_step(const data::Batch& batch, bool update, Scalars& out) override {
    const ShapeMeta& m = part_.meta;
    Tensor<float> obs = gather_features(m, part_.norm.obs, batch.obs, 0, 1);
    Tensor<float> target = subgoal_targets(batch);
    const int64_t b = obs.dim(0);
    typename Base::NoGrad no_grad;
    Tape<T, D>& tape = this->begin_loss(*net_, update, no_grad);
    Var<T, D> c = upload(tape, obs.reshape({b, m.obs_dim()}));
    Var<T, D> x = upload(tape, target);
    Var<T, D> loss;
    if (s_.vae_enabled) {
      const double temperature = s_.vae.temperature(this->epoch());
      const nn::VaeLoss<T, D> l = vae_.loss(net_->store(), x, c, this->rng_, temperature);
      loss = l.total;
      out["recons_loss"] = out["Reconstruction_Loss"] = this->scalar(l.reconstruction);
      out["kl_loss"] = out["KL_Loss"] = this->scalar(l.kl);
      if (s_.vae.use_categorical)
        out["Gumbel_Temperature"] = temperature;
      else
        out["Encoder_Variance"] =
            this->scalar(ops::mean(ops::exp(tape.constant(l.encoder_logvar.value()))));
    } else {  // the sum over subgoal keys of each key's mean squared error
      Var<T, D> pred = deterministic(net_->store(), c);
      int64_t col = 0;
      for (const auto& [key, shape] : m.goal_shapes) {
        const int64_t w = shape_numel(shape);
        Var<T, D> l = loss::mse(ops::slice(pred, 1, col, col + w), ops::slice(x, 1, col, col + w));
        out["goal_" + key + "_loss"] = this->scalar(l);
        loss = col == 0 ? l : loss + l;
        col += w;
      }
    }
    out["goal_loss"] = out["Loss"] = this->scalar(loss);
    if (update) out["Grad_Norms"] = this->finish_update(*net_, loss);
    out["Optimizer/goal_network0_lr"] = net_->optimizer().learning_rate();
  }

 public:
  // The subgoal each batch row is trained toward: next_obs of step subgoal_horizon - 1 (the
  // observation subgoal_horizon steps after step 0), raw ([B, ...] per subgoal key).
  std::map<std::string, Tensor<float>> raw_subgoals(const data::Batch& batch) const {
    const auto& shapes = part_.meta.goal_shapes;
    auto first = batch.next_obs.find(shapes.begin()->first);
    const int64_t b = first == batch.next_obs.end() ? 0 : first->second.dim(0);
    const int64_t h = s_.subgoal_horizon;
    return next_obs_at(batch, shapes, std::vector<int64_t>(size_t(b), h - 1), h, "subgoal_horizon");
  }

 private:
  // Normalized subgoal targets [B, goal_dim].
  Tensor<float> subgoal_targets(const data::Batch& batch) const {
    return gather_goals(part_.meta, part_.norm.goal, raw_subgoals(batch));
  }
  // The MLP's prediction for every key, side by side [B, goal_dim].
  Var<T, D> deterministic(const nn::ParamStore<T, D>& store, Var<T, D> c) const {
    Var<T, D> h = mlp_(store, c);
    std::vector<Var<T, D>> parts;
    for (const auto& head : heads_) parts.push_back(head(store, h));
    return parts.size() == 1 ? parts[0] : ops::concat(parts, 1);
  }

  GoalLearningSettings s_;
  KeySubset part_;
  Network<T, D>* net_ = nullptr;
  nn::ConditionalVae<T, D> vae_;
  nn::Mlp<T, D> mlp_;
  std::vector<nn::Linear<T, D>> heads_;
};

}  // namespace mimic::policy
