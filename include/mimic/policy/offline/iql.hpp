#pragma once
// IQL (Kostrikov et al. 2021) as robomimic 0.3.0 trains it: Q critics regressed on
// r + gamma * (1 - done) * V(s'); V regressed by expectile (vf_quantile) on the min of the
// target critics at the dataset action; and the actor by advantage-weighted log-likelihood of the
// dataset action, weights exp((Q - V) / beta) (advantages optionally clipped, weights clipped to
// [-100, 100]). Every loss uses the weights from before the step; each critic's target follows
// it right after its update.
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mimic/loss/losses.hpp"
#include "mimic/policy/offline/critic_settings.hpp"
#include "mimic/policy/offline/defaults.hpp"
#include "mimic/policy/offline/mlp_network.hpp"
#include "mimic/policy/offline/offline_rl_policy.hpp"
#include "mimic/policy/offline/return_settings.hpp"
#include "mimic/policy/offline/stochastic_actor.hpp"
#include "mimic/policy/offline/transitions.hpp"

namespace mimic::policy {

struct IqlSettings : ReturnSettings {
  NetworkOptimSettings critic_optim, vf_optim, actor_optim;
  StochasticActorSettings actor;
  std::vector<int64_t> actor_layer_dims{300, 400};
  double actor_max_gradient_norm = 0;  // 0: none
  CriticSettings critic;               // its widths serve V as well
  std::optional<double> clip_adv_value;
  double beta = 1.0;
  bool use_final_clip = true;
  double vf_quantile = 0.9;

  static IqlSettings from_config(const nlohmann::json& given) {
    using config::require;
    using config::typed;
    const nlohmann::json config = with_defaults(iql_defaults(), given);
    const auto& a = config.at("algo");
    IqlSettings s;
    const auto& o = a.at("optim_params");
    s.critic_optim = NetworkOptimSettings::from_json(o.at("critic"), "algo.optim_params.critic");
    s.vf_optim = NetworkOptimSettings::from_json(o.at("vf"), "algo.optim_params.vf");
    s.actor_optim = NetworkOptimSettings::from_json(o.at("actor"), "algo.optim_params.actor");
    static_cast<ReturnSettings&>(s) = ReturnSettings::from_json(a, "algo", false, false);
    const auto& actor = a.at("actor");
    s.actor = StochasticActorSettings::from_json(actor.at("net"), "algo.actor.net");
    s.actor_layer_dims =
        config::bounded_list(actor, "layer_dims", "algo.actor", 1, config::kMaxConfigSize, 1);
    s.actor_max_gradient_norm = max_gradient_norm_setting(actor, "algo.actor");
    s.critic = CriticSettings::from_json(a.at("critic"), "algo.critic");
    // robomimic clips the critics and V by the critic's max_gradient_norm, the actor by its own.
    s.critic_optim.optim.max_grad_norm = s.critic.max_gradient_norm;
    s.vf_optim.optim.max_grad_norm = s.critic.max_gradient_norm;
    s.actor_optim.optim.max_grad_norm = s.actor_max_gradient_norm;
    const auto& adv = a.at("adv");
    if (!adv.at("clip_adv_value").is_null())
      s.clip_adv_value = typed<double>(adv, "clip_adv_value", "algo.adv");
    s.beta = typed<double>(adv, "beta", "algo.adv");
    require(s.beta > 0, "algo.adv.beta", "must be > 0", adv["beta"]);
    s.use_final_clip = typed<bool>(adv, "use_final_clip", "algo.adv");
    s.vf_quantile = typed<double>(a, "vf_quantile", "algo");
    require(s.vf_quantile > 0 && s.vf_quantile < 1, "algo.vf_quantile", "must be in (0, 1)",
            a["vf_quantile"]);
    return s;
  }
};

// IQL's expectile weight of a value error: torch's (1 - sign) * tau + sign * (1 - tau) with
// sign = (err > 0). (At namespace scope: CUDA kernels take no private nested types.)
struct ExpectileWeight {
  double tau;
  template <class U>
  MIMIC_HD U operator()(U err) const {
    const U sign = err > U(0) ? U(1) : U(0);
    return (U(1) - sign) * U(tau) + sign * (U(1) - U(tau));
  }
};

template <class T = float, class D = Cpu>
class Iql : public OfflineRlPolicy<T, D> {
  using Base = OfflineRlPolicy<T, D>;
  using Weights = typename Base::Weights;

 public:
  Iql(const ShapeMeta& meta, const Normalization& norm, const IqlSettings& s, uint64_t seed,
      int64_t schedule_units)
      : OfflineRlPolicy<T, D>("iql", meta, norm, seed), s_(s) {
    const int64_t obs = meta.obs_dim(), act = meta.action_dim;
    actor_net_ = &this->add_network("actor", "actor", false);
    actor_ =
        StochasticActor<T, D>(actor_net_->store(), "actor", obs, act, s.actor_layer_dims, s.actor);
    this->add_critics(s.critic);
    vf_net_ = &this->add_network("vf", "vf", false);
    vf_ = ValueNetwork<T, D>(vf_net_->store(), "vf", obs, 0, s.critic.layer_dims);
    this->finish_networks(
        {{"critic", s.critic_optim}, {"vf", s.vf_optim}, {"actor", s.actor_optim}}, schedule_units);
  }

  // Normalized observation rows [B, 1, obs_dim] -> actions [B, 1, A] (the mean under
  // low_noise_eval, else a sample).
  Tensor<float> act_rollout(const Tensor<float>& features, const std::vector<int>&) override {
    return this->act_stochastic(actor_, *actor_net_, features);
  }

 protected:
  void train_step(const data::Batch& batch, bool update, Scalars& out) override {
    const Transitions tr =
        n_step_transitions(this->meta_, this->norm_, batch, 1, s_.discount, false);
    const int64_t epoch = this->epoch();
    double loss_total = 0;

    // Values from the weights before any update: the TD target, min_i Q'_i(s, a) and V(s).
    Tensor<T, D> q_target, q_min, v_pred;
    {
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_no_grad(no_grad);
      Var<T, D> s = upload(tape, tr.obs), a = upload(tape, tr.actions);
      Var<T, D> v_next = vf_(vf_net_->store(), upload(tape, tr.next_obs));
      q_target = this->keep(this->bellman(tape, tr, v_next));
      q_min = this->keep(this->ensemble_value(Weights::kTarget, s, a));
      v_pred = this->keep(vf_(vf_net_->store(), s));
    }

    for (size_t i = 0; i < this->critics_.size(); ++i) {
      Network<T, D>& net = *this->critics_[i];
      const bool step = update && net.trains_in(epoch);
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(net, step, no_grad);
      Var<T, D> q = this->q(i, Weights::kTrained, upload(tape, tr.obs), upload(tape, tr.actions));
      Var<T, D> target = tape.constant(q_target);
      Var<T, D> loss = s_.critic.use_huber ? loss::smooth_l1(q, target) : loss::mse(q, target);
      const std::string k = "critic/critic" + std::to_string(i + 1);
      if (i == 0) out[k + "_pred"] = this->scalar(ops::mean(q));
      if (i == 0) out[k + "_loss"] = this->scalar(loss);
      loss_total += this->scalar(loss);
      if (step) {
        this->finish_update(net, loss);
        net.soft_update(s_.target_tau);
      }
    }

    {  // V: expectile regression on min_i Q'_i.
      const bool step = update && vf_net_->trains_in(epoch);
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(*vf_net_, step, no_grad);
      Var<T, D> err = vf_(vf_net_->store(), upload(tape, tr.obs)) - tape.constant(q_min);
      // weight tau below the target, 1 - tau above it (robomimic's vf_sign form)
      const Tensor<T, D> w = tape.alloc(err.shape());
      Kernels<D>::map(w.numel(), ExpectileWeight{s_.vf_quantile}, w.data(), err.value().data());
      Var<T, D> loss = ops::mean(tape.constant(w) * (err * err));
      out["vf/v_loss"] = this->scalar(loss);
      loss_total += out["vf/v_loss"];
      if (step) this->finish_update(*vf_net_, loss);
    }

    {  // Actor: advantage-weighted log-likelihood.
      const bool step = update && actor_net_->trains_in(epoch);
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(*actor_net_, step, no_grad);
      Var<T, D> adv = tape.constant(q_min) - tape.constant(v_pred);
      Var<T, D> clipped = s_.clip_adv_value ? ops::clamp(adv, -HUGE_VAL, *s_.clip_adv_value) : adv;
      Var<T, D> weight = ops::exp(ops::mul_scalar(clipped, 1.0 / s_.beta));
      if (s_.use_final_clip) weight = ops::clamp(weight, -100.0, 100.0);
      weight = ops::reshape(weight, Shape{weight.numel()});
      Var<T, D> log_prob =
          actor_.log_prob(actor_net_->store(), upload(tape, tr.obs), upload(tape, tr.actions));
      Var<T, D> loss = ops::mean(ops::neg(log_prob) * tape.constant(weight.value()));
      out["actor/log_prob"] = this->scalar(ops::mean(log_prob));
      out["actor/loss"] = this->scalar(loss);
      loss_total += out["actor/loss"];
      statistics(out, "vf/q_pred", q_min);
      statistics(out, "vf/v_pred", v_pred);
      statistics(out, "adv/adv", adv.value());
      statistics(out, "adv/adv_weight", weight.value());
      if (step) this->finish_update(*actor_net_, loss);
    }
    // robomimic's IQL logs no total; mimic's trainer reports one: the sum of every loss.
    out["Loss"] = loss_total;
  }

 private:
  // max, min, mean and unbiased std, as robomimic's _log_data_attributes.
  static void statistics(Scalars& out, const std::string& key, const Tensor<T, D>& x) {
    const std::vector<T> v = x.to_vector();
    double lo = HUGE_VAL, hi = -HUGE_VAL, sum = 0;
    for (T e : v) lo = std::min(lo, double(e)), hi = std::max(hi, double(e)), sum += double(e);
    const double mean = sum / double(v.size());
    double sq = 0;
    for (T e : v) sq += (double(e) - mean) * (double(e) - mean);
    out[key + "/max"] = hi;
    out[key + "/min"] = lo;
    out[key + "/mean"] = mean;
    out[key + "/std"] = v.size() > 1 ? std::sqrt(sq / double(v.size() - 1)) : NAN;
  }

  IqlSettings s_;
  Network<T, D>* actor_net_ = nullptr;
  StochasticActor<T, D> actor_;
  Network<T, D>* vf_net_ = nullptr;
  ValueNetwork<T, D> vf_;
};

}  // namespace mimic::policy
