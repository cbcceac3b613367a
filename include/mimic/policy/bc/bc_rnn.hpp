#pragma once
// BC-RNN (robomimic's BC with algo.rnn.enabled): per-step observation features through a
// multi-layer LSTM or GRU over seq_length steps, an optional per-step MLP, then the action head at
// every step. At rollout the recurrent state carries across control steps and is reset every
// rnn.horizon steps. A goal-conditioned BC-RNN (ShapeMeta::goal_shapes, as HBC's and IRIS's actor)
// reads each step's features followed by the goal row, the same goal at every step.
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
             this->feature_dim() + meta.goal_dim(), s.hidden_dim, s.num_layers) {
    std::vector<int64_t> widths{s.hidden_dim};
    widths.insert(widths.end(), s.layer_dims.begin(), s.layer_dims.end());
    if (widths.size() > 1)
      mlp_ = nn::Mlp<T, D>(this->store_, "actor.mlp", widths, nn::Activation::kRelu, true);
    head_ = ActionHead<T, D>(this->store_, "actor", widths.back(), meta.action_dim, s.head);
    this->finish_setup(s.optim, schedule_units);
  }
  const BcRnnSettings& settings() const { return settings_; }

  // One control step for B rollouts: observation rows [B, obs_dim], their carried state (empty =
  // zeros, updated in place) and, when goal-conditioned, normalized goal rows [B, goal_dim] ->
  // actions [B, A].
  Tensor<float> act_step(const Tensor<float>& features, RnnCarry& carry,
                         const nn::ParamStore<T, D>* weights = nullptr,
                         const Tensor<float>* goals = nullptr) {
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
    nn::RnnOutput<T, D> out = rnn_(store, with_goal(tape, x, goals), state);
    carry.h.clear();
    carry.c.clear();
    for (auto& h : out.state.h) carry.h.push_back(download(h.value()));
    for (auto& c : out.state.c) carry.c.push_back(download(c.value()));
    Var<T, D> f = ops::reshape(out.output, Shape{b, settings_.hidden_dim});
    Tensor<float> a = head_.act(store, trunk(store, f), this->rng_);
    unnormalize_rows(this->norm_.action, a.data(), a.dim(0), a.dim(1));
    return a;
  }

  // The whole window at once from zero state: rows [B, T, obs_dim] (and goal rows [B, goal_dim])
  // -> actions [B, T, A].
  Tensor<float> act_sequence(const Tensor<float>& features,
                             const nn::ParamStore<T, D>* weights = nullptr,
                             const Tensor<float>* goals = nullptr) {
    const nn::ParamStore<T, D>& store = weights ? *weights : this->store_;
    Tape<T, D>& tape = this->tape_;
    tape.reset();
    auto guard = tape.no_grad();
    const int64_t b = features.dim(0), steps = features.dim(1);
    nn::RnnOutput<T, D> out =
        rnn_(store, with_goal(tape, this->encode(store, upload(tape, features), false), goals));
    Var<T, D> f = ops::reshape(out.output, Shape{b * steps, settings_.hidden_dim});
    Tensor<float> a = head_.act(store, trunk(store, f), this->rng_);
    unnormalize_rows(this->norm_.action, a.data(), a.dim(0), a.dim(1));
    return a.reshape({b, steps, this->meta_.action_dim});
  }

  // One step for each rollout with its carried state (zeros at the start and every rnn.horizon
  // steps, as robomimic resets it).
  Tensor<float> act_rollout(const Tensor<float>& features,
                            const std::vector<int>& env_ids) override {
    if (this->meta_.goal_dim() > 0)
      throw ValueError("this BC-RNN is goal-conditioned: act with act_rollout_with_goals");
    return act_rollout_with_goals(features, nullptr, env_ids);
  }
  // act_rollout for a goal-conditioned BC-RNN: normalized goal rows [B, goal_dim] per rollout.
  Tensor<float> act_rollout_with_goals(const Tensor<float>& features, const Tensor<float>* goals,
                                       const std::vector<int>& env_ids) {
    const int64_t b = features.dim(0);
    Tensor<float> a = rollout_step(env_ids, this->last_step(features), goals);
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
    Tensor<float> goals;
    if (m.goal_dim() > 0) goals = gather_goals(m, this->norm_.goal, batch.goal_obs);
    nn::RnnOutput<T, D> out =
        rnn_(this->store_, with_goal(tape, this->encode(this->store_, upload(tape, obs), training),
                                     m.goal_dim() > 0 ? &goals : nullptr));
    Var<T, D> f = ops::reshape(out.output, Shape{b * steps, settings_.hidden_dim});
    Var<T, D> y = upload(tape, act.reshape({b * steps, m.action_dim}));
    return head_.loss(this->store_, trunk(this->store_, f), y, scalars);
  }

 private:
  Var<T, D> trunk(const nn::ParamStore<T, D>& store, Var<T, D> x) const {
    return mlp_.layers.empty() ? x : mlp_(store, x);
  }
  // Step features [B, T, F] followed by the goal row [B, G] at every step: [B, T, F + G] (the
  // features alone when the policy has no goal).
  Var<T, D> with_goal(Tape<T, D>& tape, Var<T, D> x, const Tensor<float>* goals) const {
    const int64_t g = this->meta_.goal_dim();
    if (g == 0) return x;
    if (goals == nullptr) throw ValueError("this BC-RNN is goal-conditioned: give it goal rows");
    const int64_t b = x.shape()[0], steps = x.shape()[1];
    if (goals->rank() != 2 || goals->dim(0) != b || goals->dim(1) != g)
      throw ShapeError("goal rows have shape " + goals->shape().str() + ", expected [" +
                       std::to_string(b) + ", " + std::to_string(g) + "]");
    auto tiled = Tensor<float>::empty({b, steps, g});
    for (int64_t i = 0; i < b; ++i)
      for (int64_t t = 0; t < steps; ++t)
        std::copy_n(goals->data() + i * g, g, tiled.data() + (i * steps + t) * g);
    return ops::concat({x, upload(tape, tiled)}, 2);
  }
  // Gathers each rollout's carried state, runs one batched step and scatters the new state back.
  Tensor<float> rollout_step(const std::vector<int>& env_ids, const Tensor<float>& x,
                             const Tensor<float>* goals = nullptr) {
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
    Tensor<float> a = act_step(x, carry, nullptr, goals);
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
