#pragma once
// BC-RNN (robomimic's BC with algo.rnn.enabled): per-step observation features through a
// multi-layer LSTM or GRU over seq_length steps, an optional per-step MLP, then the action head at
// every step. At rollout the recurrent state carries across control steps and is reset every
// rnn.horizon steps.
#include <nlohmann/json.hpp>
#include <vector>

#include "mimic/config/schema.hpp"
#include "mimic/nn/mlp.hpp"
#include "mimic/nn/rnn.hpp"
#include "mimic/policy/bc/bc.hpp"

namespace mimic::policy {

struct BcRnnSettings : BcSettings {
  std::string rnn_type = "LSTM";
  int64_t hidden_dim = 400, num_layers = 2, horizon = 10;

  static BcRnnSettings from_config(const nlohmann::json& given) {
    const nlohmann::json config = with_defaults(bc_defaults(), given);
    BcRnnSettings s;
    static_cast<BcSettings&>(s) = BcSettings::from_config(config);
    const auto& rnn = config.at("algo").at("rnn");
    s.rnn_type = config::typed<std::string>(rnn, "rnn_type", "algo.rnn");
    s.hidden_dim =
        config::bounded(rnn.at("hidden_dim"), "algo.rnn.hidden_dim", 1, config::kMaxConfigSize);
    s.num_layers = config::bounded(rnn.at("num_layers"), "algo.rnn.num_layers", 1, 1024);
    s.horizon = config::bounded(rnn.at("horizon"), "algo.rnn.horizon", 1, config::kMaxConfigSize);
    if (s.rnn_type != "LSTM" && s.rnn_type != "GRU")
      throw ValueError("algo.rnn.rnn_type: expected LSTM or GRU, got '" + s.rnn_type + "'");
    if (s.hidden_dim < 1 || s.num_layers < 1 || s.horizon < 1)
      throw ValueError("algo.rnn: hidden_dim, num_layers and horizon must be >= 1");
    const auto& kwargs = rnn.at("kwargs");
    if (kwargs.contains("bidirectional") &&
        config::typed<bool>(kwargs, "bidirectional", "algo.rnn.kwargs"))
      throw ValueError(
          "algo.rnn.kwargs.bidirectional: bidirectional RNN policies are not supported");
    return s;
  }
};

// Recurrent state of a batch of rollouts on the host: per layer [B, H] (c for the LSTM only).
struct RnnCarry {
  std::vector<Tensor<float>> h, c;
  bool empty() const { return h.empty(); }
};

template <class T = float, class D = Cpu>
class BcRnn : public Policy<T, D> {
 public:
  BcRnn(const ShapeMeta& meta, const Normalization& norm, const BcRnnSettings& s, uint64_t seed,
        int64_t schedule_units)
      : Policy<T, D>("bc_rnn", meta, norm, seed, s.encoder),
        settings_(s),
        rnn_(this->store_, "actor.rnn",
             s.rnn_type == "GRU" ? nn::Rnn<T, D>::Cell::kGru : nn::Rnn<T, D>::Cell::kLstm,
             this->feature_dim(), s.hidden_dim, s.num_layers) {
    std::vector<int64_t> widths{s.hidden_dim};
    widths.insert(widths.end(), s.layer_dims.begin(), s.layer_dims.end());
    if (widths.size() > 1)
      mlp_ = nn::Mlp<T, D>(this->store_, "actor.mlp", widths, nn::Activation::kRelu, true);
    head_ = ActionHead<T, D>(this->store_, "actor", widths.back(), meta.action_dim, s.head);
    this->finish_setup(s.optim, schedule_units);
  }
  const BcRnnSettings& settings() const { return settings_; }

  // One control step for B rollouts: observation rows [B, obs_dim] and their carried state (empty =
  // zeros, updated in place) -> actions [B, A].
  Tensor<float> act_step(const Tensor<float>& features, RnnCarry& carry,
                         const nn::ParamStore<T, D>* weights = nullptr) {
    const nn::ParamStore<T, D>& store = weights ? *weights : this->store_;
    Tape<T, D>& tape = this->tape_;
    tape.reset();
    auto guard = tape.no_grad();
    const int64_t b = features.dim(0);
    nn::RnnState<T, D> state;
    for (size_t l = 0; l < carry.h.size(); ++l) {
      state.h.push_back(upload(tape, carry.h[l]));
      if (!carry.c.empty()) state.c.push_back(upload(tape, carry.c[l]));
    }
    Var<T, D> x =
        this->encode(store, upload(tape, features.reshape({b, 1, this->meta_.obs_dim()})), false);
    nn::RnnOutput<T, D> out = rnn_(store, x, state);
    carry.h.clear();
    carry.c.clear();
    for (auto& h : out.state.h) carry.h.push_back(download(h.value()));
    for (auto& c : out.state.c) carry.c.push_back(download(c.value()));
    Var<T, D> f = ops::reshape(out.output, Shape{b, settings_.hidden_dim});
    Tensor<float> a = head_.act(store, trunk(store, f), this->rng_);
    unnormalize_rows(this->norm_.action, a.data(), a.dim(0), a.dim(1));
    return a;
  }

  // The whole window at once from zero state: rows [B, T, obs_dim] -> actions [B, T, A].
  Tensor<float> act_sequence(const Tensor<float>& features,
                             const nn::ParamStore<T, D>* weights = nullptr) {
    const nn::ParamStore<T, D>& store = weights ? *weights : this->store_;
    Tape<T, D>& tape = this->tape_;
    tape.reset();
    auto guard = tape.no_grad();
    const int64_t b = features.dim(0), steps = features.dim(1);
    nn::RnnOutput<T, D> out = rnn_(store, this->encode(store, upload(tape, features), false));
    Var<T, D> f = ops::reshape(out.output, Shape{b * steps, settings_.hidden_dim});
    Tensor<float> a = head_.act(store, trunk(store, f), this->rng_);
    unnormalize_rows(this->norm_.action, a.data(), a.dim(0), a.dim(1));
    return a.reshape({b, steps, this->meta_.action_dim});
  }

  // One step for each rollout with its carried state (zeros at the start and every rnn.horizon
  // steps, as robomimic resets it).
  Tensor<float> act_rollout(const Tensor<float>& features,
                            const std::vector<int>& env_ids) override {
    const int64_t b = features.dim(0);
    Tensor<float> a = rollout_step(env_ids, this->last_step(features));
    for (int id : env_ids) steps_[id] += 1;
    return a.reshape({b, 1, this->meta_.action_dim});
  }
  void reset_rollout(int env_id) override {
    const auto on_queue = this->on_device_queue();
    carries_.erase(env_id);
    steps_[env_id] = 0;
  }

 protected:
  Var<T, D> compute_loss(const data::Batch& batch, Tape<T, D>& tape, bool training,
                         Scalars& scalars) override {
    const ShapeMeta& m = this->meta_;
    const Tensor<float>& actions = batch.data.at("actions");
    const int64_t steps = actions.dim(1);
    Tensor<float> obs = gather_features(m, this->norm_.obs, batch.obs, 0, steps);
    Tensor<float> act = gather_actions(this->norm_.action, actions, 0, steps);
    const int64_t b = obs.dim(0);
    nn::RnnOutput<T, D> out =
        rnn_(this->store_, this->encode(this->store_, upload(tape, obs), training));
    Var<T, D> f = ops::reshape(out.output, Shape{b * steps, settings_.hidden_dim});
    Var<T, D> y = upload(tape, act.reshape({b * steps, m.action_dim}));
    return head_.loss(this->store_, trunk(this->store_, f), y, scalars);
  }

 private:
  Var<T, D> trunk(const nn::ParamStore<T, D>& store, Var<T, D> x) const {
    return mlp_.layers.empty() ? x : mlp_(store, x);
  }
  // Gathers each rollout's carried state, runs one batched step and scatters the new state back.
  Tensor<float> rollout_step(const std::vector<int>& env_ids, const Tensor<float>& x) {
    const auto on_queue = this->on_device_queue();
    const auto& s = settings_;
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
    Tensor<float> a = act_step(x, carry);
    auto row = [h](const Tensor<float>& t, int64_t i) {
      return Tensor<float>::from_vector(
          {h}, std::vector<float>(t.data() + i * h, t.data() + (i + 1) * h));
    };
    for (int64_t i = 0; i < b; ++i) {
      RnnCarry& mine = carries_[env_ids[size_t(i)]];
      mine.h.resize(size_t(layers));
      mine.c.resize(lstm ? size_t(layers) : 0);
      for (int64_t l = 0; l < layers; ++l) {
        mine.h[size_t(l)] = row(carry.h[size_t(l)], i);
        if (lstm) mine.c[size_t(l)] = row(carry.c[size_t(l)], i);
      }
    }
    return a;
  }

  BcRnnSettings settings_;
  std::map<int, RnnCarry> carries_;  // per rollout
  std::map<int, int64_t> steps_;     // control steps since each rollout's reset
  nn::Rnn<T, D> rnn_;
  nn::Mlp<T, D> mlp_;
  ActionHead<T, D> head_;
};

}  // namespace mimic::policy
