#pragma once
// TD3-BC (Fujimoto & Gu 2021) as robomimic 0.3.0 trains it: an ensemble of Q critics regressed
// on n-step TD targets from target networks (target policy smoothing: clipped Gaussian noise on
// the target actor's action; the target value blends the ensemble's min and max), and every
// update_freq critic steps an actor step on -alpha / mean|Q| * Q + MSE to the demonstrated
// action, followed by soft updates of every target.
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mimic/diffusion/scheduler.hpp"
#include "mimic/loss/losses.hpp"
#include "mimic/policy/offline/critic_settings.hpp"
#include "mimic/policy/offline/defaults.hpp"
#include "mimic/policy/offline/mlp_network.hpp"
#include "mimic/policy/offline/offline_rl_policy.hpp"
#include "mimic/policy/offline/return_settings.hpp"
#include "mimic/policy/offline/transitions.hpp"

namespace mimic::policy {

struct Td3BcSettings : ReturnSettings {
  NetworkOptimSettings critic_optim, actor_optim;
  double alpha = 2.5;
  CriticSettings critic;
  int64_t update_freq = 2;
  double noise_std = 0.2, noise_clip = 0.5;
  std::vector<int64_t> actor_layer_dims{256, 256};

  static Td3BcSettings from_config(const nlohmann::json& given) {
    using config::require;
    using config::typed;
    const nlohmann::json config = with_defaults(td3_bc_defaults(), given);
    const auto& a = config.at("algo");
    Td3BcSettings s;
    s.critic_optim = NetworkOptimSettings::from_json(a.at("optim_params").at("critic"),
                                                     "algo.optim_params.critic");
    s.actor_optim = NetworkOptimSettings::from_json(a.at("optim_params").at("actor"),
                                                    "algo.optim_params.actor");
    s.alpha = typed<double>(a, "alpha", "algo");
    static_cast<ReturnSettings&>(s) = ReturnSettings::from_json(a, "algo", true, true);
    s.critic = CriticSettings::from_json(a.at("critic"), "algo.critic");
    s.critic_optim.optim.max_grad_norm = s.critic.max_gradient_norm;
    const auto& actor = a.at("actor");
    s.update_freq = config::bounded(actor.at("update_freq"), "algo.actor.update_freq", 1, 1 << 20);
    s.noise_std = typed<double>(actor, "noise_std", "algo.actor");
    s.noise_clip = typed<double>(actor, "noise_clip", "algo.actor");
    require(s.noise_std >= 0, "algo.actor.noise_std", "must be >= 0", actor["noise_std"]);
    require(s.noise_clip >= 0, "algo.actor.noise_clip", "must be >= 0", actor["noise_clip"]);
    s.actor_layer_dims =
        config::bounded_list(actor, "layer_dims", "algo.actor", 1, config::kMaxConfigSize, 1);
    return s;
  }
};

template <class T = float, class D = Cpu>
class Td3Bc : public OfflineRlPolicy<T, D> {
  using Base = OfflineRlPolicy<T, D>;
  using Weights = typename Base::Weights;

 public:
  Td3Bc(const ShapeMeta& meta, const Normalization& norm, const Td3BcSettings& s, uint64_t seed,
        int64_t schedule_units)
      : OfflineRlPolicy<T, D>("td3_bc", meta, norm, seed), s_(s) {
    this->add_critics(s.critic);
    actor_net_ = &this->add_network("actor", "actor", true);
    actor_ = DeterministicActor<T, D>(actor_net_->store(), "actor", meta.obs_dim(), meta.action_dim,
                                      s.actor_layer_dims);
    this->finish_networks({{"critic", s.critic_optim}, {"actor", s.actor_optim}}, schedule_units);
  }

  // Normalized observation rows [B, 1, obs_dim] -> the actor's actions [B, 1, A].
  Tensor<float> act_rollout(const Tensor<float>& features, const std::vector<int>&) override {
    const auto on_queue = this->on_device_queue();
    typename Base::NoGrad no_grad;
    Tape<T, D>& tape = this->begin_no_grad(no_grad);
    const int64_t b = features.dim(0);
    Tensor<float> a =
        download(actor_(actor_net_->store(), upload(tape, this->last_step(features))).value());
    unnormalize_rows(this->norm_.action, a.data(), b, a.dim(1));
    return a.reshape({b, 1, this->meta_.action_dim});
  }

 protected:
  void train_step(const data::Batch& batch, bool update, Scalars& out) override {
    const Transitions tr = n_step_transitions(this->meta_, this->norm_, batch, s_.n_step,
                                              s_.discount, s_.infinite_horizon);
    const int64_t epoch = this->epoch();
    const bool critic_steps = update && this->critics_[0]->trains_in(epoch);
    double loss_total =
        this->regress_critics(tr, td_targets(tr), s_.critic.use_huber, critic_steps, out);

    // Actor, every update_freq critic steps (robomimic counts only steps that trained critics).
    if (critic_steps) ++actor_update_counter_;
    const bool actor_steps =
        update && actor_net_->trains_in(epoch) && actor_update_counter_ % s_.update_freq == 0;
    {
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(*actor_net_, actor_steps, no_grad);
      Var<T, D> s = upload(tape, tr.obs);
      Var<T, D> a = actor_(actor_net_->store(), s);
      Var<T, D> q = this->q(0, Weights::kFrozen, s, a);
      // lambda = alpha / mean|Q|, a constant of the step.
      Var<T, D> lambda = ops::rdiv_scalar(s_.alpha, ops::mean(ops::abs(tape.constant(q.value()))));
      Var<T, D> loss = ops::neg(lambda) * ops::mean(q) + loss::mse(a, upload(tape, tr.actions));
      out["Actor/Loss"] = this->scalar(loss);
      loss_total += out["Actor/Loss"];
      if (actor_steps) out["Actor/Grad_Norms"] = this->finish_update(*actor_net_, loss);
    }
    if (actor_steps) {  // targets move only on actor steps, as in the original TD3
      this->soft_update_critics(s_.target_tau);
      actor_net_->soft_update(s_.target_tau);
    }
    out["Loss"] = loss_total;
    this->log_rates(out, {{"actor", actor_net_}});
  }

  nlohmann::json algorithm_state() const override {
    return {{"actor_update_counter", actor_update_counter_}};
  }
  void load_algorithm_state(const nlohmann::json& j) override {
    actor_update_counter_ = j.value("actor_update_counter", int64_t(0));
  }

 private:
  // r + (1 - done) * gamma^n * V', V' = w * min_i Q'_i + (1 - w) * max_i Q'_i at the target
  // actor's smoothed next action: clamp(a' + clamp(N(0, std), -clip, clip), -1, 1).
  Tensor<T, D> td_targets(const Transitions& tr) {
    typename Base::NoGrad no_grad;
    Tape<T, D>& tape = this->begin_no_grad(no_grad);
    Var<T, D> next = upload(tape, tr.next_obs);
    Var<T, D> a = actor_(actor_net_->target(), next);
    Tensor<T, D> eps = tape.alloc(a.shape());
    Kernels<D>::generate(eps.numel(),
                         diffusion::detail::NormalNoise<T>{
                             this->rng_.seed, this->rng_.advance(uint64_t(eps.numel()))},
                         eps.data());
    Var<T, D> noise = ops::clamp(ops::mul_scalar(tape.constant(eps), s_.noise_std), -s_.noise_clip,
                                 s_.noise_clip);
    a = ops::clamp(a + noise, -1.0, 1.0);
    return this->keep(this->bellman(
        tape, tr, this->ensemble_value(Weights::kTarget, next, a, s_.critic.ensemble_weight)));
  }

  Td3BcSettings s_;
  Network<T, D>* actor_net_ = nullptr;
  DeterministicActor<T, D> actor_;
  int64_t actor_update_counter_ = 0;
};

}  // namespace mimic::policy
