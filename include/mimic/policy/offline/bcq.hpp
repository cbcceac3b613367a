#pragma once
// BCQ (Fujimoto et al. 2019) as robomimic 0.3.0 trains it: an action sampler fitted to the
// dataset's actions (a conditional VAE, or a GMM: robomimic's BCQ_GMM), an ensemble of Q
// critics regressed on n-step targets that take the best of num_action_samples sampled (and
// optionally perturbed) next actions under the target critics (min/max blended), and an optional
// perturbation actor that maximizes critic 0. Rollouts act with the sampled action the critic
// values most. Step order: sampler, critics, actor, then the soft target updates.
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mimic/loss/losses.hpp"
#include "mimic/nn/vae.hpp"
#include "mimic/policy/core/vae_config.hpp"
#include "mimic/policy/offline/defaults.hpp"
#include "mimic/policy/offline/mlp_network.hpp"
#include "mimic/policy/offline/offline_rl_policy.hpp"
#include "mimic/policy/offline/return_settings.hpp"
#include "mimic/policy/offline/stochastic_actor.hpp"
#include "mimic/policy/offline/td3_bc.hpp"
#include "mimic/policy/offline/transitions.hpp"

namespace mimic::policy {

struct BcqSettings : ReturnSettings {
  NetworkOptimSettings critic_optim, sampler_optim, actor_optim;
  CriticSettings critic;
  int64_t num_action_samples = 10, num_action_samples_rollout = 100;
  bool gmm_sampler = false;
  std::vector<int64_t> sampler_layer_dims{1024, 1024};  // the GMM sampler's MLP
  StochasticActorSettings gmm;
  nn::VaeSettings vae;
  int64_t freeze_encoder_epoch = -1;
  bool actor = false;
  double perturbation_scale = 0.05;
  std::vector<int64_t> actor_layer_dims{300, 400};

  static BcqSettings from_config(const nlohmann::json& given) {
    using config::require;
    using config::typed;
    const nlohmann::json config = with_defaults(bcq_defaults(), given);
    const auto& a = config.at("algo");
    BcqSettings s;
    const auto& o = a.at("optim_params");
    s.critic_optim = NetworkOptimSettings::from_json(o.at("critic"), "algo.optim_params.critic");
    s.sampler_optim =
        NetworkOptimSettings::from_json(o.at("action_sampler"), "algo.optim_params.action_sampler");
    s.actor_optim = NetworkOptimSettings::from_json(o.at("actor"), "algo.optim_params.actor");
    static_cast<ReturnSettings&>(s) = ReturnSettings::from_json(a, "algo", true, true);
    const auto& c = a.at("critic");
    s.critic = CriticSettings::from_json(c, "algo.critic");
    s.critic_optim.optim.max_grad_norm = s.critic.max_gradient_norm;
    s.num_action_samples =
        config::bounded(c.at("num_action_samples"), "algo.critic.num_action_samples", 1, 4096);
    s.num_action_samples_rollout = config::bounded(
        c.at("num_action_samples_rollout"), "algo.critic.num_action_samples_rollout", 1, 65536);
    require(!typed<bool>(c.at("distributional"), "enabled", "algo.critic.distributional"),
            "algo.critic.distributional.enabled",
            "is not supported yet (robomimic's BCQ_Distributional)",
            c["distributional"]["enabled"]);
    const auto& as = a.at("action_sampler");
    const std::string p = "algo.action_sampler";
    s.gmm_sampler = typed<bool>(as.at("gmm"), "enabled", p + ".gmm");
    const bool vae = typed<bool>(as.at("vae"), "enabled", p + ".vae");
    require(s.gmm_sampler || vae, p + ".vae.enabled",
            "must be true unless action_sampler.gmm.enabled is", as["vae"]["enabled"]);
    s.sampler_layer_dims =
        config::bounded_list(as, "actor_layer_dims", p, 1, config::kMaxConfigSize, 1);
    if (s.gmm_sampler) {
      const auto& g = as.at("gmm");
      s.gmm.gmm = true;
      s.gmm.num_modes = config::bounded(g.at("num_modes"), p + ".gmm.num_modes", 1, 1024);
      s.gmm.min_std = typed<double>(g, "min_std", p + ".gmm");
      s.gmm.std_activation = typed<std::string>(g, "std_activation", p + ".gmm");
      require(s.gmm.std_activation == "softplus", p + ".gmm.std_activation", "must be \"softplus\"",
              g["std_activation"]);
      s.gmm.low_noise_eval = typed<bool>(g, "low_noise_eval", p + ".gmm");
    }
    s.vae = vae_settings_from_json(as.at("vae"), p + ".vae");
    s.freeze_encoder_epoch = typed<int64_t>(as, "freeze_encoder_epoch", p);
    const auto& actor = a.at("actor");
    s.actor = typed<bool>(actor, "enabled", "algo.actor");
    s.perturbation_scale = typed<double>(actor, "perturbation_scale", "algo.actor");
    s.actor_layer_dims =
        config::bounded_list(actor, "layer_dims", "algo.actor", 1, config::kMaxConfigSize, 1);
    return s;
  }
};

// robomimic's PerturbationActorNetwork: a + scale * tanh(MLP(s, a)), clamped to [-1, 1].
template <class T, class D = Cpu>
class PerturbationActor {
 public:
  PerturbationActor() = default;
  PerturbationActor(nn::ParamStore<T, D>& store, const std::string& prefix, int64_t obs_dim,
                    int64_t action_dim, const std::vector<int64_t>& layer_dims, double scale)
      : net_(store, prefix, obs_dim + action_dim, layer_dims, action_dim), scale_(scale) {}
  Var<T, D> operator()(const nn::ParamStore<T, D>& store, Var<T, D> obs, Var<T, D> a) const {
    return ops::clamp(a + ops::mul_scalar(ops::tanh(net_(store, {obs, a})), scale_), -1.0, 1.0);
  }

 private:
  MlpNetwork<T, D> net_;
  double scale_ = 0.05;
};

template <class T = float, class D = Cpu>
class Bcq : public OfflineRlPolicy<T, D> {
  using Base = OfflineRlPolicy<T, D>;
  using Weights = typename Base::Weights;

 public:
  Bcq(const ShapeMeta& meta, const Normalization& norm, const BcqSettings& s, uint64_t seed,
      int64_t schedule_units)
      : OfflineRlPolicy<T, D>("bcq", meta, norm, seed), s_(s) {
    const int64_t obs = meta.obs_dim(), act = meta.action_dim;
    this->add_critics(s.critic);
    sampler_net_ = &this->add_network("action_sampler", "action_sampler", false);
    if (s.gmm_sampler)
      gmm_ = StochasticActor<T, D>(sampler_net_->store(), "action_sampler", obs, act,
                                   s.sampler_layer_dims, s.gmm);
    else
      vae_ = nn::ConditionalVae<T, D>(sampler_net_->store(), "action_sampler", act, obs, s.vae);
    std::map<std::string, NetworkOptimSettings> optim{{"critic", s.critic_optim},
                                                      {"action_sampler", s.sampler_optim}};
    if (s.actor) {
      actor_net_ = &this->add_network("actor", "actor", true);
      actor_ = PerturbationActor<T, D>(actor_net_->store(), "actor", obs, act, s.actor_layer_dims,
                                       s.perturbation_scale);
      optim["actor"] = s.actor_optim;
    }
    this->finish_networks(optim, schedule_units);
  }

  // Normalized observation rows [B, 1, obs_dim] -> for each row, of num_action_samples_rollout
  // sampled (and perturbed) actions the one critic 0 values most: [B, 1, A].
  Tensor<float> act_rollout(const Tensor<float>& features, const std::vector<int>&) override {
    const auto on_queue = this->on_device_queue();
    const int64_t b = features.dim(0), a_dim = this->meta_.action_dim;
    Tensor<float> out = best_sampled(this->last_step(features)).action.reshape({b, 1, a_dim});
    unnormalize_rows(this->norm_.action, out.data(), b, a_dim);
    return out;
  }
  // robomimic's get_state_value: for normalized observation rows [B, obs_dim], critic 0's value
  // of the best of num_action_samples_rollout sampled actions [B] (IRIS scores subgoals with it).
  Tensor<float> state_value(const Tensor<float>& rows) {
    const auto on_queue = this->on_device_queue();
    return best_sampled(rows).value;
  }

 protected:
  void train_step(const data::Batch& batch, bool update, Scalars& out) override {
    const Transitions tr = n_step_transitions(this->meta_, this->norm_, batch, s_.n_step,
                                              s_.discount, s_.infinite_horizon);
    const int64_t epoch = this->epoch();
    double loss_total = 0;

    {  // The action sampler fits the dataset's actions.
      const bool step = update && sampler_net_->trains_in(epoch);
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(*sampler_net_, step, no_grad);
      Var<T, D> s = upload(tape, tr.obs), a = upload(tape, tr.actions);
      Var<T, D> loss;
      if (s_.gmm_sampler) {
        loss = ops::neg(ops::mean(gmm_.log_prob(sampler_net_->store(), s, a)));
      } else {
        const double temperature = s_.vae.temperature(epoch);
        const bool freeze = s_.freeze_encoder_epoch != -1 && epoch >= s_.freeze_encoder_epoch;
        const nn::VaeLoss<T, D> l =
            vae_.loss(sampler_net_->store(), a, s, this->rng_, temperature, freeze);
        loss = l.total;
        out["Action_Sampler/Reconsruction_Loss"] =
            this->scalar(l.reconstruction);  // robomimic's key
        out["Action_Sampler/KL_Loss"] = this->scalar(l.kl);
        if (s_.vae.use_categorical)
          out["Action_Sampler/Gumbel_Temperature"] = temperature;
        else
          out["Action_Sampler/Encoder_Variance"] =
              this->scalar(ops::mean(ops::exp(tape.constant(l.encoder_logvar.value()))));
      }
      out["Action_Sampler/Loss"] = this->scalar(loss);
      loss_total += out["Action_Sampler/Loss"];
      if (step) out["Action_Sampler/Grad_Norms"] = this->finish_update(*sampler_net_, loss);
    }

    const bool critic_steps = update && this->critics_[0]->trains_in(epoch);
    loss_total += this->regress_critics(tr, td_targets(tr), s_.critic.use_huber, critic_steps, out);

    bool actor_steps = false;
    if (s_.actor) {  // perturbations that raise critic 0's value of sampled actions
      actor_steps = update && actor_net_->trains_in(epoch);
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(*actor_net_, actor_steps, no_grad);
      Var<T, D> s = upload(tape, tr.obs);
      Var<T, D> sampled = tape.constant(sample_from_sampler(tape, s).value());
      Var<T, D> q = this->q(0, Weights::kFrozen, s, actor_(actor_net_->store(), s, sampled));
      Var<T, D> loss = ops::neg(ops::mean(q));
      out["Actor/Loss"] = this->scalar(loss);
      loss_total += out["Actor/Loss"];
      if (actor_steps) out["Actor/Grad_Norms"] = this->finish_update(*actor_net_, loss);
    }
    if (critic_steps) this->soft_update_critics(s_.target_tau);
    if (actor_steps) actor_net_->soft_update(s_.target_tau);
    out["Loss"] = loss_total;
    this->log_rates(out, {{"action_sampler", sampler_net_}, {"actor", actor_net_}});
  }

 private:
  struct BestSample {
    Tensor<float> action, value;  // normalized [B, A] and [B]
  };
  // Of num_action_samples_rollout actions sampled (and perturbed) for each row of s [B, obs_dim],
  // the one critic 0 values most, with that value (robomimic's _get_best_value).
  BestSample best_sampled(const Tensor<float>& s) {
    typename Base::NoGrad no_grad;
    Tape<T, D>& tape = this->begin_no_grad(no_grad);
    const int64_t b = s.dim(0), n = s_.num_action_samples_rollout, a_dim = this->meta_.action_dim;
    Var<T, D> tiled = upload(tape, repeat_rows(s, n));
    Var<T, D> a = sample_actions(tape, tiled, false);
    const Tensor<float> q = download(this->q(0, Weights::kTrained, tiled, a).value());
    const Tensor<float> actions = download(a.value());
    BestSample out{Tensor<float>::empty({b, a_dim}), Tensor<float>::empty({b})};
    for (int64_t i = 0; i < b; ++i) {
      int64_t best = 0;  // torch.argmax: the first of equal maxima
      for (int64_t j = 1; j < n; ++j)
        if (q[i * n + j] > q[i * n + best]) best = j;
      std::copy_n(actions.data() + (i * n + best) * a_dim, a_dim, out.action.data() + i * a_dim);
      out.value[i] = q[i * n + best];
    }
    return out;
  }
  // The action sampler's draw for each row (the VAE decodes a prior sample; the GMM samples with
  // low-noise scales when low_noise_eval, as robomimic's sampler in eval mode does).
  Var<T, D> sample_from_sampler(Tape<T, D>& tape, Var<T, D> s) {
    if (!s_.gmm_sampler) return vae_.sample(sampler_net_->store(), s, this->rng_);
    return upload(tape, gmm_.act(sampler_net_->store(), s, this->rng_));
  }
  // Sampled actions, perturbed by the actor (its target when `target`) when there is one.
  Var<T, D> sample_actions(Tape<T, D>& tape, Var<T, D> s, bool target) {
    Var<T, D> a = sample_from_sampler(tape, s);
    if (!s_.actor) return a;
    return target ? actor_(actor_net_->target(), s, a) : actor_(actor_net_->store(), s, a);
  }
  // r + (1 - done) * gamma^n * max_j V'(s', a_j), V' = w * min_i Q'_i + (1 - w) * max_i Q'_i.
  Tensor<T, D> td_targets(const Transitions& tr) {
    typename Base::NoGrad no_grad;
    Tape<T, D>& tape = this->begin_no_grad(no_grad);
    const int64_t n = s_.num_action_samples, b = tr.next_obs.dim(0);
    Var<T, D> next = upload(tape, repeat_rows(tr.next_obs, n));
    Var<T, D> a = sample_actions(tape, next, true);
    Var<T, D> blended = ops::reshape(
        this->ensemble_value(Weights::kTarget, next, a, s_.critic.ensemble_weight), Shape{b, n});
    Var<T, D> best = ops::slice(blended, 1, 0, 1);
    for (int64_t j = 1; j < n; ++j) best = ops::maximum(best, ops::slice(blended, 1, j, j + 1));
    return this->keep(this->bellman(tape, tr, best));
  }

  BcqSettings s_;
  Network<T, D>* sampler_net_ = nullptr;
  nn::ConditionalVae<T, D> vae_;
  StochasticActor<T, D> gmm_;
  Network<T, D>* actor_net_ = nullptr;
  PerturbationActor<T, D> actor_;
};

}  // namespace mimic::policy
