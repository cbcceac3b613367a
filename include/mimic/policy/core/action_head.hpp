#pragma once
// robomimic's actor output heads, shared by BC and BC-RNN: a deterministic Linear + tanh trained
// with the weighted action loss, or a Gaussian mixture (a single Gaussian is the one-mode case)
// trained by negative log-likelihood and sampled at rollout (low-noise scales in evaluation).
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/schema.hpp"
#include "mimic/loss/losses.hpp"
#include "mimic/nn/gmm_head.hpp"
#include "mimic/nn/linear.hpp"
#include "mimic/policy/core/policy.hpp"

namespace mimic::policy {

struct ActionHeadSettings {
  enum Kind { kDeterministic, kGaussian, kGmm } kind = kDeterministic;
  int64_t modes = 5;
  double min_std = 1e-4;
  bool low_noise_eval = true;
  loss::ActionLossWeights weights;

  // From robomimic's `algo` section: loss{l2_weight, l1_weight, cos_weight}, gmm{...},
  // gaussian{...}.
  static ActionHeadSettings from_json(const nlohmann::json& algo) {
    ActionHeadSettings s;
    const auto& l = algo.at("loss");
    s.weights = {config::typed<double>(l, "l2_weight", "algo.loss"),
                 config::typed<double>(l, "l1_weight", "algo.loss"),
                 config::typed<double>(l, "cos_weight", "algo.loss")};
    const auto& g = algo.at("gmm");
    const auto& n = algo.at("gaussian");
    const bool gmm = config::typed<bool>(g, "enabled", "algo.gmm"),
               gauss = config::typed<bool>(n, "enabled", "algo.gaussian");
    if (gmm && gauss) throw ValueError("algo: gmm.enabled and gaussian.enabled are exclusive");
    if (gmm) {
      s.kind = kGmm;
      s.modes = config::bounded(g.at("num_modes"), "algo.gmm.num_modes", 1, config::kMaxConfigSize);
      s.min_std = config::typed<double>(g, "min_std", "algo.gmm");
      s.low_noise_eval = config::typed<bool>(g, "low_noise_eval", "algo.gmm");
      const std::string act = config::typed<std::string>(g, "std_activation", "algo.gmm");
      if (act != "softplus")
        throw ValueError("algo.gmm.std_activation: only 'softplus' is supported, got '" + act +
                         "'");
    } else if (gauss) {
      s.kind = kGaussian;
      s.modes = 1;
      s.min_std = config::typed<double>(n, "min_std", "algo.gaussian");
      s.low_noise_eval = config::typed<bool>(n, "low_noise_eval", "algo.gaussian");
    }
    if (s.modes < 1) throw ValueError("algo.gmm.num_modes must be >= 1");
    return s;
  }
};

template <class T, class D = Cpu>
class ActionHead {
 public:
  ActionHead() = default;
  ActionHead(nn::ParamStore<T, D>& store, const std::string& prefix, int64_t features,
             int64_t action_dim, const ActionHeadSettings& s)
      : s_(s), action_dim_(action_dim) {
    if (s.kind == ActionHeadSettings::kDeterministic)
      linear_ = nn::Linear<T, D>(store, nn::join(prefix, "decoder"), features, action_dim);
    else
      gmm_ = nn::GmmHead<T, D>(store, prefix, features, action_dim, s.modes, s.min_std, true);
  }

  // features [N, F], target (normalized) [N, A] -> loss; adds the robomimic scalars.
  Var<T, D> loss(const nn::ParamStore<T, D>& store, Var<T, D> features, Var<T, D> target,
                 Scalars& scalars) const {
    if (s_.kind == ActionHeadSettings::kDeterministic) {
      Var<T, D> pred = ops::tanh(linear_(store, features));
      Var<T, D> l2 = loss::mse(pred, target), l1 = loss::smooth_l1(pred, target);
      const int64_t k = std::min<int64_t>(3, action_dim_);
      Var<T, D> cos = loss::cosine(ops::slice(pred, 1, 0, k), ops::slice(target, 1, 0, k));
      Var<T, D> total = ops::mul_scalar(l2, s_.weights.l2) + ops::mul_scalar(l1, s_.weights.l1) +
                        ops::mul_scalar(cos, s_.weights.cos);
      scalars["L2_Loss"] = scalar(l2);
      scalars["L1_Loss"] = scalar(l1);
      scalars["Cosine_Loss"] = scalar(cos);
      scalars["Loss"] = scalar(total);
      return total;
    }
    const nn::GmmParams<T, D> p = gmm_(store, features, false);
    Var<T, D> log_likelihood = ops::mean(gmm_.log_prob(p, target));
    Var<T, D> total = -log_likelihood;
    scalars["Log_Likelihood"] = scalar(log_likelihood);
    scalars["Loss"] = scalar(total);
    return total;
  }

  // features [N, F] -> normalized actions [N, A] on the host (mixtures are sampled).
  Tensor<float> act(const nn::ParamStore<T, D>& store, Var<T, D> features,
                    PhiloxStream& rng) const {
    if (s_.kind == ActionHeadSettings::kDeterministic)
      return download(ops::tanh(linear_(store, features)).value());
    const nn::GmmParams<T, D> p = gmm_(store, features, s_.low_noise_eval);
    if constexpr (is_cpu_v<D>) {
      const Tensor<T> a = nn::sample_gmm(p, rng);
      return download(a);
    } else {
      return nn::sample_gmm(download(p.means.value()), download(p.scales.value()),
                            download(p.logits.value()), rng);
    }
  }

 private:
  template <class V>
  static double scalar(V v) {
    return double(v.value().to_vector()[0]);
  }
  ActionHeadSettings s_;
  int64_t action_dim_ = 0;
  nn::Linear<T, D> linear_;
  nn::GmmHead<T, D> gmm_;
};

}  // namespace mimic::policy
