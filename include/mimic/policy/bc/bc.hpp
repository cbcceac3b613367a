#pragma once
// Behaviour cloning (robomimic's BC): the observation features of one step through an MLP with
// ReLU after every hidden layer, then an action head (Linear + tanh, Gaussian or GMM).
#include <nlohmann/json.hpp>
#include <vector>

#include "mimic/config/schema.hpp"
#include "mimic/nn/mlp.hpp"
#include "mimic/policy/bc/defaults.hpp"
#include "mimic/policy/core/action_head.hpp"

namespace mimic::policy {

struct BcSettings {
  std::vector<int64_t> layer_dims{1024, 1024};
  ActionHeadSettings head;
  OptimizerSettings optim;
  EncoderSettings encoder;  // for rgb observations

  // From a full robomimic config (algo and train sections).
  static BcSettings from_config(const nlohmann::json& given) {
    const nlohmann::json config = with_defaults(bc_defaults(), given);
    BcSettings s;
    const auto& algo = config.at("algo");
    s.layer_dims =  // the config's widths replace the defaults
        config::bounded_list(algo, "actor_layer_dims", "algo", 1, config::kMaxConfigSize, 0);
    s.head = ActionHeadSettings::from_json(algo);
    s.optim = OptimizerSettings::from_config(config);
    s.encoder = EncoderSettings::from_config(config, nn::NormKind::kBatch, false);
    return s;
  }
};

template <class T = float, class D = Cpu>
class Bc : public Policy<T, D> {
 public:
  Bc(const ShapeMeta& meta, const Normalization& norm, const BcSettings& s, uint64_t seed,
     int64_t schedule_units)
      : Policy<T, D>("bc", meta, norm, seed, s.encoder), settings_(s) {
    std::vector<int64_t> widths{this->feature_dim()};
    widths.insert(widths.end(), s.layer_dims.begin(), s.layer_dims.end());
    if (widths.size() > 1)
      mlp_ = nn::Mlp<T, D>(this->store_, "actor.mlp", widths, nn::Activation::kRelu, true);
    head_ = ActionHead<T, D>(this->store_, "actor", widths.back(), meta.action_dim, s.head);
    this->finish_setup(s.optim, schedule_units);
  }

  // Observation rows [B, obs_dim] (low-dim part normalized) -> actions [B, A] in the dataset's
  // action space.
  Tensor<float> act(const Tensor<float>& features, const nn::ParamStore<T, D>* weights = nullptr) {
    const auto on_queue = this->on_device_queue();
    const nn::ParamStore<T, D>& store = weights ? *weights : this->store_;
    this->tape_.reset();
    auto guard = this->tape_.no_grad();
    Var<T, D> x = this->encode(store, upload(this->tape_, features), false);
    Tensor<float> a = head_.act(store, trunk(store, x), this->rng_);
    unnormalize_rows(this->norm_.action, a.data(), a.dim(0), a.dim(1));
    return a;
  }
  Tensor<float> act_rollout(const Tensor<float>& features, const std::vector<int>&) override {
    return act(this->last_step(features)).reshape({features.dim(0), 1, this->meta_.action_dim});
  }

 protected:
  Var<T, D> compute_loss(const data::Batch& batch, Tape<T, D>& tape, bool training,
                         Scalars& scalars) override {
    const ShapeMeta& m = this->meta_;
    Tensor<float> obs = gather_features(m, this->norm_.obs, batch.obs, 0, 1);
    Tensor<float> act = gather_actions(this->norm_.action, batch.data.at("actions"), 0, 1);
    const int64_t b = obs.dim(0);
    Var<T, D> x = this->encode(this->store_, upload(tape, obs.reshape({b, m.obs_dim()})), training);
    Var<T, D> y = upload(tape, act.reshape({b, m.action_dim}));
    return head_.loss(this->store_, trunk(this->store_, x), y, scalars);
  }

 private:
  Var<T, D> trunk(const nn::ParamStore<T, D>& store, Var<T, D> x) const {
    return mlp_.layers.empty() ? x : mlp_(store, x);
  }
  BcSettings settings_;
  nn::Mlp<T, D> mlp_;
  ActionHead<T, D> head_;
};

}  // namespace mimic::policy
