#pragma once
// CQL (Kumar et al. 2020) as robomimic 0.3.0 trains it: a SAC actor (tanh-Gaussian, trained on
// entropy_weight * log pi - min_i Q_i, or on behaviour cloning for its first bc_start_steps),
// with the entropy weight tuned towards a target entropy; Q critics regressed on n-step targets
// at the updated actor's next action (a deterministic backup, or the max over sampled actions),
// plus the conservative term cql_weight * (min_q_weight * (E logsumexp over random, current- and
// next-policy actions - E Q(s, a)) - target_q_gap), whose weight is a Lagrange multiplier when
// target_q_gap >= 0. Order: actor and entropy weight, then the CQL weight, then each critic and
// its target.
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mimic/loss/losses.hpp"
#include "mimic/ops/softmax.hpp"
#include "mimic/policy/offline/critic_settings.hpp"
#include "mimic/policy/offline/defaults.hpp"
#include "mimic/policy/offline/mlp_network.hpp"
#include "mimic/policy/offline/offline_rl_policy.hpp"
#include "mimic/policy/offline/return_settings.hpp"
#include "mimic/policy/offline/stochastic_actor.hpp"
#include "mimic/policy/offline/transitions.hpp"

namespace mimic::policy {

struct CqlSettings : ReturnSettings {
  NetworkOptimSettings critic_optim, actor_optim;
  StochasticActorSettings actor;
  std::vector<int64_t> actor_layer_dims{300, 400};
  int64_t bc_start_steps = 0;
  std::optional<double> target_entropy;  // null: no entropy tuning (weight 1)
  CriticSettings critic;
  bool deterministic_backup = true;
  int64_t num_action_samples = 1, num_random_actions = 10;
  double cql_weight = 1.0, min_q_weight = 1.0;
  std::optional<double> target_q_gap;  // >= 0: the CQL weight is tuned (a Lagrange multiplier)

  static CqlSettings from_config(const nlohmann::json& given, int64_t action_dim) {
    using config::require;
    using config::typed;
    const nlohmann::json config = with_defaults(cql_defaults(), given);
    const auto& a = config.at("algo");
    CqlSettings s;
    const auto& o = a.at("optim_params");
    s.critic_optim = NetworkOptimSettings::from_json(o.at("critic"), "algo.optim_params.critic");
    s.actor_optim = NetworkOptimSettings::from_json(o.at("actor"), "algo.optim_params.actor");
    static_cast<ReturnSettings&>(s) = ReturnSettings::from_json(a, "algo", true, false);
    const auto& actor = a.at("actor");
    require(actor.at("net").at("type") == "gaussian", "algo.actor.net.type",
            "must be \"gaussian\" (robomimic's CQL has no other actor)", actor["net"]["type"]);
    s.actor = StochasticActorSettings::from_json(actor.at("net"), "algo.actor.net");
    // Without the tanh wrapper robomimic's log-likelihoods have shape [B] where its values have
    // [B, 1], and every loss broadcasts to [B, B]: not reproduced.
    require(s.actor.use_tanh, "algo.actor.net.common.use_tanh",
            "must be true for CQL (robomimic's untanh'd path broadcasts [B] against [B, 1])",
            actor["net"]["common"]["use_tanh"]);
    s.actor_layer_dims =
        config::bounded_list(actor, "layer_dims", "algo.actor", 1, config::kMaxConfigSize, 1);
    s.actor_optim.optim.max_grad_norm = max_gradient_norm_setting(actor, "algo.actor");
    s.bc_start_steps = typed<int64_t>(actor, "bc_start_steps", "algo.actor");
    const auto& te = actor.at("target_entropy");
    if (te.is_string()) {
      require(te == "default", "algo.actor.target_entropy", "must be a number, \"default\" or null",
              te);
      s.target_entropy = -double(action_dim);
    } else if (!te.is_null()) {
      s.target_entropy = typed<double>(te, "algo.actor.target_entropy");
    }
    const auto& c = a.at("critic");
    nlohmann::json ensemble = c;
    ensemble["ensemble"]["weight"] = 1.0;  // CQL takes the ensemble's min
    s.critic = CriticSettings::from_json(ensemble, "algo.critic");
    s.critic_optim.optim.max_grad_norm = s.critic.max_gradient_norm;
    s.deterministic_backup = typed<bool>(c, "deterministic_backup", "algo.critic");
    s.num_action_samples =
        config::bounded(c.at("num_action_samples"), "algo.critic.num_action_samples", 1, 4096);
    s.num_random_actions =
        config::bounded(c.at("num_random_actions"), "algo.critic.num_random_actions", 1, 4096);
    s.cql_weight = typed<double>(c, "cql_weight", "algo.critic");
    s.min_q_weight = typed<double>(c, "min_q_weight", "algo.critic");
    if (!c.at("target_q_gap").is_null()) {
      const double gap = typed<double>(c, "target_q_gap", "algo.critic");
      if (gap >= 0) s.target_q_gap = gap;
    }
    if (!s.target_q_gap)
      require(s.cql_weight > 0, "algo.critic.cql_weight",
              "must be > 0 (robomimic takes its log) when target_q_gap is null or negative",
              c["cql_weight"]);
    return s;
  }
};

template <class T = float, class D = Cpu>
class Cql : public OfflineRlPolicy<T, D> {
  using Base = OfflineRlPolicy<T, D>;
  using Weights = typename Base::Weights;

 public:
  Cql(const ShapeMeta& meta, const Normalization& norm, const CqlSettings& s, uint64_t seed,
      int64_t schedule_units)
      : OfflineRlPolicy<T, D>("cql", meta, norm, seed), s_(s) {
    actor_net_ = &this->add_network("actor", "actor", false);
    actor_ = StochasticActor<T, D>(actor_net_->store(), "actor", meta.obs_dim(), meta.action_dim,
                                   s.actor_layer_dims, s.actor);
    this->add_critics(s.critic);
    std::map<std::string, NetworkOptimSettings> optim{{"critic", s.critic_optim},
                                                      {"actor", s.actor_optim}};
    // robomimic's plain Adam for each tuned weight: the actor's (entropy) or the critics' (CQL)
    // initial rate, no decay, no schedule.
    auto scalar_weight = [&](const std::string& name, const NetworkOptimSettings& like) {
      Network<T, D>& net = this->add_network(name, name, false);
      weight_param_.push_back(net.store().declare(name + ".param", Shape{1}, nn::Init::zeros()));
      NetworkOptimSettings o;
      o.optim.lr = like.optim.lr;
      optim[name] = o;
      return &net;
    };
    if (s.target_entropy) entropy_net_ = scalar_weight("log_entropy_weight", s.actor_optim);
    if (s.target_q_gap) cql_net_ = scalar_weight("log_cql_weight", s.critic_optim);
    this->finish_networks(optim, schedule_units);
  }

  // Normalized observation rows [B, 1, obs_dim] -> actions [B, 1, A] (the tanh of the mean under
  // low_noise_eval, else a sample).
  Tensor<float> act_rollout(const Tensor<float>& features, const std::vector<int>&) override {
    return this->act_stochastic(actor_, *actor_net_, features);
  }

 protected:
  void train_step(const data::Batch& batch, bool update, Scalars& out) override {
    const Transitions tr =
        n_step_transitions(this->meta_, this->norm_, batch, s_.n_step, s_.discount, false);
    const int64_t epoch = this->epoch(), b = tr.obs.dim(0), a_dim = this->meta_.action_dim;
    double loss_total = 0;

    // --- actor, then the entropy weight (both from the weights before this step) ------------
    const float entropy_weight = std::exp(weight_value(entropy_net_));
    Tensor<T, D> log_prob;
    {
      const bool step = update && actor_net_->trains_in(epoch);
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(*actor_net_, step, no_grad);
      Var<T, D> s = upload(tape, tr.obs);
      const auto sample = actor_.rsample(actor_net_->store(), s, 1, this->rng_);
      Var<T, D> lp = ops::reshape(sample.log_prob, Shape{b, 1});
      log_prob = this->keep(lp);
      Var<T, D> q = this->ensemble_value(Weights::kFrozen, s, sample.actions);
      Var<T, D> baseline =
          steps_ < s_.bc_start_steps
              ? ops::reshape(actor_.log_prob(actor_net_->store(), s, upload(tape, tr.actions)),
                             Shape{b, 1})
              : q;
      Var<T, D> loss = ops::mean(ops::mul_scalar(lp, double(entropy_weight)) - baseline);
      out["Actor/Loss"] = this->scalar(loss);
      loss_total += out["Actor/Loss"];
      if (update) ++steps_;
      if (step) out["Actor/Grad_Norms"] = this->finish_update(*actor_net_, loss);
    }
    out["Entropy_Weight"] = entropy_weight;
    out["Entropy_Weight_Loss"] = 0.0;
    if (entropy_net_) {  // -(log alpha * (log pi + target entropy)).mean()
      const bool step = update;
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(*entropy_net_, step, no_grad);
      Var<T, D> log_alpha = entropy_net_->store().on(tape, weight_param_[0]);
      Var<T, D> loss = ops::neg(
          ops::mean(log_alpha * ops::add_scalar(tape.constant(log_prob), *s_.target_entropy)));
      out["Entropy_Weight_Loss"] = this->scalar(loss);
      if (step) out["Entropy_Grad_Norms"] = this->finish_update(*entropy_net_, loss);
    }

    // --- critics --------------------------------------------------------------------------
    const bool critic_steps = update && this->critics_[0]->trains_in(epoch);
    const Tensor<T, D> q_target = td_targets(tr);
    out["Critic/Done_Mask_Percentage"] = [&] {
      double mask = 0;
      for (float d : tr.dones.to_vector()) mask += 1.0 - d;
      return 100.0 * mask / double(b);
    }();
    // Actions the conservative term scores: uniform in [-1, 1], and the updated actor's samples
    // at s and at s' (log-likelihoods as constants), num_random_actions of each per row.
    const int64_t n = s_.num_random_actions;
    Tensor<T, D> random_actions, curr_actions, next_actions, curr_lp, next_lp;
    {
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_no_grad(no_grad);
      std::vector<T> u(size_t(n * b * a_dim));
      const uint64_t base = this->rng_.advance(u.size());
      for (size_t i = 0; i < u.size(); ++i)
        u[i] = T(2.0 * philox_uniform<double>(this->rng_.seed, base + i) - 1.0);
      random_actions = Tensor<T, D>::empty(Shape{n * b, a_dim});  // [n, b, a] in memory
      Kernels<D>::from_host(random_actions.data(), u.data(), u.size() * sizeof(T));
      const auto curr = actor_.rsample(actor_net_->store(), upload(tape, tr.obs), n, this->rng_);
      const auto next =
          actor_.rsample(actor_net_->store(), upload(tape, tr.next_obs), n, this->rng_);
      curr_actions = this->keep(curr.actions);
      next_actions = this->keep(next.actions);
      curr_lp = this->keep(curr.log_prob);
      next_lp = this->keep(next.log_prob);
    }
    const float cql_weight = std::clamp(
        std::exp(cql_net_ ? weight_value(cql_net_) : std::log(float(s_.cql_weight))), 0.0f, 1e6f);
    const double gap = s_.target_q_gap.value_or(0.0);
    std::vector<double> conservative;  // each critic's min_q_weight * (...) - gap, before its step
    for (size_t i = 0; i < this->critics_.size(); ++i) {
      Network<T, D>& net = *this->critics_[i];
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(net, critic_steps, no_grad);
      Var<T, D> s = upload(tape, tr.obs);
      Var<T, D> q_pred = this->q(i, Weights::kTrained, s, upload(tape, tr.actions));
      // Q at the sampled actions as [B, n]: samples k * B + b reordered to row b, column k.
      Var<T, D> tiled = upload(tape, repeat_rows(tr.obs, n));
      auto q_at = [&](const Tensor<T, D>& actions, const Tensor<T, D>* lp) {
        Var<T, D> acts = ops::reshape(
            ops::transpose(ops::reshape(tape.constant(actions), Shape{n, b, a_dim}), 0, 1),
            Shape{b * n, a_dim});
        Var<T, D> q = ops::reshape(this->q(i, Weights::kTrained, tiled, acts), Shape{b, n});
        if (!lp) return ops::add_scalar(q, -random_log_prob());
        return q - ops::transpose(ops::reshape(tape.constant(*lp), Shape{n, b}), 0, 1);
      };
      Var<T, D> q_cat = ops::concat({q_at(random_actions, nullptr), q_at(next_actions, &next_lp),
                                     q_at(curr_actions, &curr_lp)},
                                    1);
      Var<T, D> target = tape.constant(q_target);
      Var<T, D> td =
          s_.critic.use_huber ? loss::smooth_l1(q_pred, target) : loss::mse(q_pred, target);
      Var<T, D> inner = ops::add_scalar(
          ops::mul_scalar(ops::mean(ops::logsumexp(q_cat, 1)) - ops::mean(q_pred), s_.min_q_weight),
          -gap);
      conservative.push_back(this->scalar(inner));
      Var<T, D> loss = td + ops::mul_scalar(inner, double(cql_weight));
      const std::string k = "Critic/Critic" + std::to_string(i + 1);
      out[k + "_Loss"] = this->scalar(loss);
      loss_total += out[k + "_Loss"];
      if (critic_steps) {
        out[k + "_Grad_Norms"] = this->finish_update(net, loss);
        net.soft_update(s_.target_tau);
      }
    }
    if (cql_net_ && update) {  // -mean_i(clamp(exp(log w)) * inner_i), a step on log w
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(*cql_net_, true, no_grad);
      Var<T, D> w =
          ops::clamp(ops::exp(cql_net_->store().on(tape, weight_param_.back())), 0.0, 1e6);
      std::vector<float> inner(conservative.begin(), conservative.end());
      Var<T, D> loss = ops::neg(
          ops::mean(w * upload(tape, Tensor<float>::from_vector({int64_t(inner.size())}, inner))));
      out["Critic/CQL_Weight"] = cql_weight;
      out["Critic/CQL_Weight_Loss"] = this->scalar(loss);
      out["Critic/CQL_Grad_Norms"] = this->finish_update(*cql_net_, loss);
    }

    out["Loss"] = loss_total;
    this->log_rates(out, {{"actor", actor_net_}, {"entropy", entropy_net_}, {"cql", cql_net_}});
  }

  nlohmann::json algorithm_state() const override { return {{"num_batch_steps", steps_}}; }
  void load_algorithm_state(const nlohmann::json& j) override {
    steps_ = j.value("num_batch_steps", int64_t(0));
  }

 private:
  // The single value of a tuned weight's log (0 when the network is absent).
  static float weight_value(const Network<T, D>* net) {
    if (!net) return 0.0f;
    return float(net->store().values().to_vector()[0]);
  }
  // log(0.5^A): the log-likelihood of a uniform action in [-1, 1]^A, as robomimic computes it.
  double random_log_prob() const { return std::log(std::pow(0.5, double(this->meta_.action_dim))); }
  // r + (1 - done) * gamma^n * min_i Q'_i(s', a'), a' the updated actor's sample (or the max over
  // num_action_samples samples), less the entropy term unless the backup is deterministic.
  Tensor<T, D> td_targets(const Transitions& tr) {
    typename Base::NoGrad no_grad;
    Tape<T, D>& tape = this->begin_no_grad(no_grad);
    const int64_t b = tr.next_obs.dim(0), a_dim = this->meta_.action_dim, m = s_.num_action_samples;
    Var<T, D> next = upload(tape, tr.next_obs);
    const auto sample = actor_.rsample(actor_net_->store(), next, 1, this->rng_);
    Var<T, D> target;
    if (m > 1) {
      const auto many = actor_.rsample(actor_net_->store(), next, m, this->rng_);
      Var<T, D> acts =
          ops::reshape(ops::transpose(ops::reshape(many.actions, Shape{m, b, a_dim}), 0, 1),
                       Shape{b * m, a_dim});
      Var<T, D> tiled = upload(tape, repeat_rows(tr.next_obs, m));
      for (size_t i = 0; i < this->critics_.size(); ++i) {
        Var<T, D> q = ops::reshape(this->q(i, Weights::kTarget, tiled, acts), Shape{b, m});
        Var<T, D> best = ops::slice(q, 1, 0, 1);
        for (int64_t j = 1; j < m; ++j) best = ops::maximum(best, ops::slice(q, 1, j, j + 1));
        target = i == 0 ? best : ops::minimum(target, best);
      }
    } else {
      target = this->ensemble_value(Weights::kTarget, next, sample.actions);
      if (!s_.deterministic_backup) {
        const double alpha = std::exp(weight_value(entropy_net_));
        target = target -
                 ops::mul_scalar(ops::reshape(sample.log_prob, Shape{b, 1}), double(float(alpha)));
      }
    }
    return this->keep(this->bellman(tape, tr, target));
  }

  CqlSettings s_;
  Network<T, D>* actor_net_ = nullptr;
  StochasticActor<T, D> actor_;
  Network<T, D>* entropy_net_ = nullptr;
  Network<T, D>* cql_net_ = nullptr;
  std::vector<nn::ParamId> weight_param_;  // entropy's, then the CQL weight's
  int64_t steps_ = 0;                      // robomimic's _num_batch_steps
};

}  // namespace mimic::policy
