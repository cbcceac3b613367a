#pragma once
// robomimic's GMM action head: from features, K modes of diagonal Gaussians over A action dims.
//   means = tanh(Linear) (optional tanh), scales = softplus(Linear) + min_std, logits = Linear.
// In low-noise eval mode every scale is fixed to 1e-4, so sampling returns (near) mode means.
#include <cmath>
#include <string>

#include "mimic/loss/gmm.hpp"
#include "mimic/nn/linear.hpp"

namespace mimic::nn {

template <class T, class D>
struct GmmParams {
  Var<T, D> means, scales, logits;  // [B, K, A], [B, K, A], [B, K]
};

template <class T, class D = Cpu>
struct GmmHead {
  Linear<T, D> mean, scale, logits;
  int64_t modes = 5, action_dim = 0;
  double min_std = 1e-4;
  bool use_tanh = true;

  GmmHead() = default;
  GmmHead(ParamStore<T, D>& store, const std::string& prefix, int64_t features, int64_t action_dim_,
          int64_t num_modes = 5, double min_std_ = 1e-4, bool tanh_means = true)
      : mean(store, join(prefix, "mean"), features, num_modes * action_dim_),
        scale(store, join(prefix, "scale"), features, num_modes * action_dim_),
        logits(store, join(prefix, "logits"), features, num_modes),
        modes(num_modes),
        action_dim(action_dim_),
        min_std(min_std_),
        use_tanh(tanh_means) {}

  // features [B, F] -> mixture parameters. low_noise_eval fixes the scales to 1e-4.
  GmmParams<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> features,
                             bool low_noise_eval = false) const {
    Tape<T, D>& tape = *features.tape;
    const int64_t b = features.dim(0);
    Var<T, D> m = ops::reshape(mean(store, features), Shape{b, modes, action_dim});
    if (use_tanh) m = ops::tanh(m);
    Var<T, D> s;
    if (low_noise_eval) {
      Tensor<T, D> fixed = tape.alloc(Shape{b, modes, action_dim});
      fixed.fill(T(1e-4));
      s = tape.constant(fixed);
    } else {
      s = ops::softplus(ops::reshape(scale(store, features), Shape{b, modes, action_dim})) +
          min_std;
    }
    return {m, s, logits(store, features)};
  }

  Var<T, D> log_prob(const GmmParams<T, D>& p, Var<T, D> actions) const {
    return loss::gmm_log_prob(p.means, p.scales, p.logits, actions);
  }
};

// Draws one action per batch row on the host: a mode from softmax(logits), then a Gaussian.
// Host tensors means [B, K, A], scales [B, K, A], logits [B, K]; a GPU policy downloads them
// first (B * K * (2A + 1) floats, a few kilobytes), so both devices draw the same stream.
template <class T>
Tensor<T, Cpu> sample_gmm(const Tensor<T, Cpu>& m, const Tensor<T, Cpu>& s,
                          const Tensor<T, Cpu>& lg, PhiloxStream& rng) {
  const int64_t b = m.dim(0), k = m.dim(1), a = m.dim(2);
  auto out = Tensor<T, Cpu>::empty({b, a});
  for (int64_t i = 0; i < b; ++i) {
    double mx = -INFINITY, total = 0;
    for (int64_t j = 0; j < k; ++j) mx = std::max(mx, double(lg.at(i, j)));
    for (int64_t j = 0; j < k; ++j) total += std::exp(double(lg.at(i, j)) - mx);
    double u = philox_uniform<double>(rng.seed, rng.advance(1)) * total;
    int64_t mode = k - 1;
    for (int64_t j = 0; j < k; ++j) {
      u -= std::exp(double(lg.at(i, j)) - mx);
      if (u < 0) {
        mode = j;
        break;
      }
    }
    const uint64_t base = rng.advance(uint64_t(a));
    for (int64_t d = 0; d < a; ++d)
      out.at(i, d) = m.at(i, mode, d) + s.at(i, mode, d) * philox_normal<T>(rng.seed, base + d);
  }
  return out;
}
template <class T>
Tensor<T, Cpu> sample_gmm(const GmmParams<T, Cpu>& p, PhiloxStream& rng) {
  return sample_gmm(p.means.value(), p.scales.value(), p.logits.value(), rng);
}

}  // namespace mimic::nn
