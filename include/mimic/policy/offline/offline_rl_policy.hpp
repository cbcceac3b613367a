#pragma once
// What robomimic's offline RL algorithms share on top of several networks: the ensemble of Q
// critics ("critic.<i>", optimizer group "critic", targets "critic_target.<i>"), their targets'
// min / max, the TD regression BCQ and TD3-BC run, robomimic's critic logs, and rollouts of a
// stochastic actor.
#include <string>
#include <vector>

#include "mimic/loss/losses.hpp"
#include "mimic/policy/core/multi_network_policy.hpp"
#include "mimic/policy/offline/critic_settings.hpp"
#include "mimic/policy/offline/mlp_network.hpp"
#include "mimic/policy/offline/stochastic_actor.hpp"
#include "mimic/policy/offline/transitions.hpp"

namespace mimic::policy {

template <class T = float, class D = Cpu>
class OfflineRlPolicy : public MultiNetworkPolicy<T, D> {
  using Base = MultiNetworkPolicy<T, D>;

 public:
  using MultiNetworkPolicy<T, D>::MultiNetworkPolicy;

 protected:
  void add_critics(const CriticSettings& s) {
    const typename ValueNetwork<T, D>::Bounds bounds{s.bounds.enabled, s.bounds.low, s.bounds.high};
    for (int64_t i = 0; i < s.ensemble_n; ++i) {
      const std::string name = "critic." + std::to_string(i);
      Network<T, D>& net = this->add_network(name, "critic", true);
      critics_.push_back(&net);
      critic_.emplace_back(net.store(), name, this->meta_.obs_dim(), this->meta_.action_dim,
                           s.layer_dims, bounds);
    }
  }
  // Q_i(s, a) with critic i's weights, its frozen weights, or its target's.
  enum class Weights { kTrained, kFrozen, kTarget };
  Var<T, D> q(size_t i, Weights w, Var<T, D> s, Var<T, D> a) const {
    const Network<T, D>& net = *critics_[i];
    if (w == Weights::kTrained) return critic_[i](net.store(), s, a);
    return critic_[i](w == Weights::kFrozen ? net.frozen() : net.target(), s, a);
  }
  // min_i Q_i(s, a); with a blend weight w < 1, w * min_i + (1 - w) * max_i (robomimic's
  // ensemble.weight for BCQ and TD3-BC targets).
  Var<T, D> ensemble_value(Weights w, Var<T, D> s, Var<T, D> a, double blend = 1.0) const {
    Var<T, D> lo = q(0, w, s, a), hi = lo;
    for (size_t i = 1; i < critics_.size(); ++i) {
      Var<T, D> v = q(i, w, s, a);
      if (blend < 1) hi = ops::maximum(hi, v);
      lo = ops::minimum(lo, v);
    }
    if (blend >= 1) return lo;
    return ops::mul_scalar(lo, blend) + ops::mul_scalar(hi, 1.0 - blend);
  }
  // r + (1 - done) * gamma^n * value, robomimic's order of operations.
  static Var<T, D> bellman(Tape<T, D>& tape, const Transitions& tr, Var<T, D> value) {
    Var<T, D> not_done = ops::rsub_scalar(1.0, upload(tape, tr.dones));
    return upload(tape, tr.rewards) + ops::mul_scalar(not_done, tr.discount) * value;
  }

  // BCQ's and TD3-BC's critic step: every member regresses on the same targets (MSE or Huber),
  // stepping when `step`; logs Critic/Q_Targets, Done_Mask_Percentage, CriticN_Loss and
  // CriticN_Grad_Norms as robomimic does. Returns the sum of the losses.
  double regress_critics(const Transitions& tr, const Tensor<T, D>& q_targets, bool use_huber,
                         bool step, Scalars& out) {
    const std::vector<float> qt = download(q_targets).to_vector(), d = tr.dones.to_vector();
    double q_sum = 0, mask_sum = 0;
    for (size_t i = 0; i < qt.size(); ++i) q_sum += qt[i], mask_sum += 1.0 - d[i];
    out["Critic/Q_Targets"] = q_sum / double(qt.size());
    out["Critic/Done_Mask_Percentage"] = 100.0 * mask_sum / double(d.size());
    double total = 0;
    for (size_t i = 0; i < critics_.size(); ++i) {
      typename Base::NoGrad no_grad;
      Tape<T, D>& tape = this->begin_loss(*critics_[i], step, no_grad);
      Var<T, D> v = q(i, Weights::kTrained, upload(tape, tr.obs), upload(tape, tr.actions));
      Var<T, D> target = tape.constant(q_targets);
      Var<T, D> loss = use_huber ? loss::smooth_l1(v, target) : loss::mse(v, target);
      const std::string k = "Critic/Critic" + std::to_string(i + 1);
      out[k + "_Loss"] = this->scalar(loss);
      total += out[k + "_Loss"];
      if (step) out[k + "_Grad_Norms"] = this->finish_update(*critics_[i], loss);
    }
    return total;
  }
  void soft_update_critics(double tau) {
    for (Network<T, D>* c : critics_) c->soft_update(tau);
  }
  // robomimic's Optimizer/<group><index>0_lr: one entry per critic, then the named networks.
  void log_rates(Scalars& out, const std::vector<std::pair<std::string, Network<T, D>*>>& others) {
    for (size_t i = 0; i < critics_.size(); ++i)
      out["Optimizer/critic" + std::to_string(i) + "0_lr"] =
          critics_[i]->optimizer().learning_rate();
    for (const auto& [key, net] : others)
      if (net) out["Optimizer/" + key + "0_lr"] = net->optimizer().learning_rate();
  }

  // Rollout actions [B, 1, A] of a stochastic actor from normalized rows [B, 1, obs_dim].
  Tensor<float> act_stochastic(const StochasticActor<T, D>& actor, const Network<T, D>& net,
                               const Tensor<float>& features) {
    const auto on_queue = this->on_device_queue();
    typename Base::NoGrad no_grad;
    Tape<T, D>& tape = this->begin_no_grad(no_grad);
    const int64_t b = features.dim(0);
    Tensor<float> a = actor.act(net.store(), upload(tape, this->last_step(features)), this->rng_);
    unnormalize_rows(this->norm_.action, a.data(), b, a.dim(1));
    return a.reshape({b, 1, this->meta_.action_dim});
  }

  std::vector<Network<T, D>*> critics_;
  std::vector<ValueNetwork<T, D>> critic_;
};

}  // namespace mimic::policy
