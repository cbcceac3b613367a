#pragma once
// Negative log-likelihood of a mixture of diagonal Gaussians (robomimic's GMM action head):
//   log p(a) = logsumexp_k [ log_softmax(logits)_k + sum_d log N(a_d; mu_kd, s_kd) ].
#include <cmath>

#include "mimic/loss/losses.hpp"

namespace mimic::loss {

// means, scales [B, K, A]; logits [B, K]; actions [B, A]. Returns the per-sample log-likelihood
// [B].
template <class T, class D>
Var<T, D> gmm_log_prob(Var<T, D> means, Var<T, D> scales, Var<T, D> logits, Var<T, D> actions) {
  const Shape ms = means.shape();
  if (ms.rank != 3 || scales.shape() != ms || logits.rank() != 2 || logits.dim(0) != ms[0] ||
      logits.dim(1) != ms[1] || actions.rank() != 2 || actions.dim(0) != ms[0] ||
      actions.dim(1) != ms[2])
    throw ShapeError("gmm_log_prob: means " + ms.str() + ", scales " + scales.shape().str() +
                     ", logits " + logits.shape().str() + ", actions " + actions.shape().str() +
                     " are not [B, K, A], [B, K, A], [B, K], [B, A]");
  Var<T, D> a = ops::reshape(actions, Shape{ms[0], 1, ms[2]});
  Var<T, D> z = (a - means) / scales;
  Var<T, D> log_n = ops::sum(ops::mul_scalar(z * z, -0.5) - ops::log(scales), {2}) -
                    0.5 * std::log(2 * M_PI) * double(ms[2]);
  return ops::logsumexp(ops::log_softmax(logits, 1) + log_n, 1);
}

// -mean over the batch of gmm_log_prob.
template <class T, class D>
Var<T, D> gmm_nll(Var<T, D> means, Var<T, D> scales, Var<T, D> logits, Var<T, D> actions) {
  return -ops::mean(gmm_log_prob(means, scales, logits, actions));
}

}  // namespace mimic::loss
