#pragma once
// robomimic's stochastic actors for offline RL (IQL's actor.net): GaussianActorNetwork (a
// diagonal Gaussian: tanh-squashed, clamped mean; scale by scaled softplus or exp, clamped to
// [0.007, 7.5]; or a fixed std; optionally a tanh-wrapped distribution) and GMMActorNetwork (the
// mixture head BC-GMM uses). Parameters `<prefix>.mlp.<2i>` and `<prefix>.decoder.{mean,scale,
// logits}`.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/config/schema.hpp"
#include "mimic/diffusion/scheduler.hpp"
#include "mimic/nn/gmm_head.hpp"
#include "mimic/nn/linear.hpp"
#include "mimic/nn/mlp.hpp"
#include "mimic/policy/core/policy.hpp"

namespace mimic::policy {

// robomimic's algo.actor.net: type, common, gaussian and gmm blocks.
struct StochasticActorSettings {
  bool gmm = false;
  std::string std_activation = "softplus";  // "softplus" | "exp"
  bool low_noise_eval = true, use_tanh = false;
  // gaussian
  double init_last_fc_weight = 0.001;  // 0: PyTorch's default initialization (robomimic: null)
  double init_std = 0.3;
  bool fixed_std = false;
  // gmm
  int64_t num_modes = 5;
  double min_std = 1e-4;

  static StochasticActorSettings from_json(const nlohmann::json& net, const std::string& at) {
    using config::typed;
    StochasticActorSettings s;
    const std::string type = typed<std::string>(net, "type", at);
    config::require(type == "gaussian" || type == "gmm", at + ".type",
                    "must be \"gaussian\" or \"gmm\"", net["type"]);
    s.gmm = type == "gmm";
    const auto& c = net.at("common");
    s.std_activation = typed<std::string>(c, "std_activation", at + ".common");
    config::require(s.std_activation == "softplus" || (!s.gmm && s.std_activation == "exp"),
                    at + ".common.std_activation",
                    s.gmm ? "must be \"softplus\" for the gmm actor" : "must be softplus or exp",
                    c["std_activation"]);
    s.low_noise_eval = typed<bool>(c, "low_noise_eval", at + ".common");
    s.use_tanh = typed<bool>(c, "use_tanh", at + ".common");
    config::require(!(s.gmm && s.use_tanh), at + ".common.use_tanh",
                    "is not supported with the gmm actor yet", c["use_tanh"]);
    const auto& g = net.at("gaussian");
    if (!g.at("init_last_fc_weight").is_null()) {
      s.init_last_fc_weight = typed<double>(g, "init_last_fc_weight", at + ".gaussian");
      config::require(s.init_last_fc_weight > 0, at + ".gaussian.init_last_fc_weight",
                      "must be > 0 or null", g["init_last_fc_weight"]);
    } else {
      s.init_last_fc_weight = 0;
    }
    s.init_std = typed<double>(g, "init_std", at + ".gaussian");
    config::require(s.init_std > 0, at + ".gaussian.init_std", "must be > 0", g["init_std"]);
    s.fixed_std = typed<bool>(g, "fixed_std", at + ".gaussian");
    if (net.contains("gmm")) {  // CQL's actor section has none
      const auto& m = net.at("gmm");
      s.num_modes = config::bounded(m.at("num_modes"), at + ".gmm.num_modes", 1, 1024);
      s.min_std = typed<double>(m, "min_std", at + ".gmm");
    }
    return s;
  }
};

template <class T, class D = Cpu>
class StochasticActor {
 public:
  StochasticActor() = default;
  StochasticActor(nn::ParamStore<T, D>& store, const std::string& prefix, int64_t obs_dim,
                  int64_t action_dim, const std::vector<int64_t>& layer_dims,
                  const StochasticActorSettings& s)
      : s_(s), action_dim_(action_dim) {
    if (layer_dims.empty())
      throw ValueError("'" + prefix + "': robomimic's networks need at least one hidden layer");
    std::vector<int64_t> widths{obs_dim};
    widths.insert(widths.end(), layer_dims.begin(), layer_dims.end());
    mlp_ = nn::Mlp<T, D>(store, nn::join(prefix, "mlp"), widths, nn::Activation::kRelu, true);
    const std::string dec = nn::join(prefix, "decoder");
    if (s.gmm) {
      gmm_ = nn::GmmHead<T, D>(store, dec, widths.back(), action_dim, s.num_modes, s.min_std, true);
      return;
    }
    auto head = [&](const char* name) {
      if (s.init_last_fc_weight > 0) {
        const nn::Init u = nn::Init::uniform(s.init_last_fc_weight);
        return nn::Linear<T, D>(store, nn::join(dec, name), widths.back(), action_dim, u, u);
      }
      return nn::Linear<T, D>(store, nn::join(dec, name), widths.back(), action_dim);
    };
    mean_ = head("mean");
    scale_ = head("scale");  // declared even with a fixed std, as robomimic does
  }

  // log pi(a | s) per row [B] (actions [B, A] in [-1, 1]).
  Var<T, D> log_prob(const nn::ParamStore<T, D>& store, Var<T, D> obs, Var<T, D> actions) const {
    Var<T, D> h = mlp_(store, obs);
    if (s_.gmm) return gmm_.log_prob(gmm_(store, h, false), actions);
    const auto [mean, scale] = gaussian(store, h);
    if (!s_.use_tanh) return normal_log_prob(mean, scale, actions);
    // robomimic's TanhWrappedDistribution: the pre-tanh value by atanh with clamped operands,
    // less log(1 - a^2 + eps) per dimension.
    constexpr double eps = 1e-6;
    Var<T, D> pre = ops::mul_scalar(ops::log(ops::clamp(ops::add_scalar(actions, 1.0), eps, 1e30) /
                                             ops::clamp(ops::rsub_scalar(1.0, actions), eps, 1e30)),
                                    0.5);
    Var<T, D> jacobian =
        ops::sum(ops::log(ops::add_scalar(ops::rsub_scalar(1.0, actions * actions), eps)), {-1});
    return normal_log_prob(mean, scale, pre) - jacobian;
  }

  // Reparameterized samples of the Gaussian actor (robomimic's dist.rsample) with their log
  // likelihoods: n samples per row, sample k of row b at row k * B + b of actions [n * B, A] and
  // log_prob [n * B] (n = 1: one per row). The noise, n * B * A normals, comes from `rng`.
  struct Sample {
    Var<T, D> actions, log_prob;
  };
  Sample rsample(const nn::ParamStore<T, D>& store, Var<T, D> obs, int64_t n,
                 PhiloxStream& rng) const {
    if (s_.gmm) throw UnsupportedError("rsample: the GMM actor has no reparameterized sample");
    Tape<T, D>& tape = *obs.tape;
    const auto [mean, scale] = gaussian(store, mlp_(store, obs));
    const int64_t b = mean.shape()[0], a = action_dim_;
    Tensor<T, D> eps = tape.alloc(Shape{n, b, a});
    Kernels<D>::generate(
        eps.numel(),
        diffusion::detail::NormalNoise<T>{rng.seed, rng.advance(uint64_t(eps.numel()))},
        eps.data());
    // loc + eps * scale, broadcast over the n samples
    Var<T, D> m = ops::reshape(mean, Shape{1, b, a}), sd = ops::reshape(scale, Shape{1, b, a});
    Var<T, D> z = m + tape.constant(eps) * sd;
    Var<T, D> lp = normal_log_prob(m, sd, z);  // [n, b]
    Var<T, D> act = z;
    if (s_.use_tanh) {
      constexpr double eps_tanh = 1e-6;
      act = ops::tanh(z);
      lp = lp -
           ops::sum(ops::log(ops::add_scalar(ops::rsub_scalar(1.0, act * act), eps_tanh)), {-1});
    }
    return {ops::reshape(act, Shape{n * b, a}), ops::reshape(lp, Shape{n * b})};
  }

  // Actions [B, A] for rollouts on the host: the mean under low_noise_eval (robomimic's eval
  // mode), else a sample drawn from `rng`.
  Tensor<float> act(const nn::ParamStore<T, D>& store, Var<T, D> obs, PhiloxStream& rng) const {
    Var<T, D> h = mlp_(store, obs);
    if (s_.gmm) {
      const nn::GmmParams<T, D> p = gmm_(store, h, s_.low_noise_eval);
      return nn::sample_gmm(download(p.means.value()), download(p.scales.value()),
                            download(p.logits.value()), rng);
    }
    const auto [mean, scale] = gaussian(store, h);
    Tensor<float> a = download(mean.value());
    if (!s_.low_noise_eval) {
      const Tensor<float> sd = download(scale.value());
      for (int64_t i = 0; i < a.numel(); ++i)
        a[i] += sd[i] * float(philox_normal<double>(rng.seed, rng.advance(1)));
    }
    if (s_.use_tanh)
      for (int64_t i = 0; i < a.numel(); ++i) a[i] = std::tanh(a[i]);
    return a;
  }

 private:
  struct Gaussian {
    Var<T, D> mean, scale;
  };
  // GaussianActorNetwork.forward_train in training mode (the scale is activated and clamped).
  Gaussian gaussian(const nn::ParamStore<T, D>& store, Var<T, D> h) const {
    Var<T, D> mean = ops::clamp(mean_(store, h), -9.0, 9.0);
    if (!s_.use_tanh) mean = ops::tanh(mean);
    Var<T, D> scale;
    if (s_.fixed_std) {
      Tensor<T, D> c = h.tape->alloc(mean.shape());
      c.fill(T(s_.init_std));
      scale = h.tape->constant(c);
    } else if (s_.std_activation == "exp") {
      scale = ops::exp(scale_(store, h));
    } else {
      // softplus(x) * init_std / softplus(0), the factor in float as torch computes it.
      const float factor = float(s_.init_std) / std::log1p(std::exp(0.0f));
      scale = ops::mul_scalar(ops::softplus(scale_(store, h)), double(factor));
    }
    return {mean, ops::clamp(scale, 0.007, 7.5)};
  }
  // torch's Independent(Normal(mean, scale), 1).log_prob: summed over the last axis (mean and
  // scale broadcast against x).
  static Var<T, D> normal_log_prob(Var<T, D> mean, Var<T, D> scale, Var<T, D> x) {
    Var<T, D> d = x - mean;
    Var<T, D> lp = ops::neg(d * d) / ops::mul_scalar(scale * scale, 2.0) - ops::log(scale);
    return ops::sum(ops::add_scalar(lp, -std::log(std::sqrt(2 * M_PI))), {-1});
  }

  StochasticActorSettings s_;
  int64_t action_dim_ = 0;
  nn::Mlp<T, D> mlp_;
  nn::Linear<T, D> mean_, scale_;
  nn::GmmHead<T, D> gmm_;
};

}  // namespace mimic::policy
