#pragma once
// Finite-difference gradient checks in double precision.
//
// The objective is L = sum(w * f(inputs)) with random weights w, so a transposed or permuted
// gradient shows up as an error (a plain sum would hide it). Each input element is perturbed by
// +-eps and the central difference (L(x+eps) - L(x-eps)) / 2 eps is compared with the analytic
// gradient from the tape.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "mimic/mimic.hpp"

namespace mimic::testing {

using TapeD = Tape<double, Cpu>;
using VarD = Var<double, Cpu>;
using TensorD = Tensor<double, Cpu>;

// A tensor of uniform values in [lo, hi), seeded.
inline TensorD random_tensor(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  TensorD t = TensorD::empty(shape);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = u(rng);
  return t;
}

struct GradCheckOptions {
  double eps = 1e-6;
  double atol = 1e-7;
  double rtol = 1e-5;
  std::vector<bool> differentiable;  // per input; empty = all inputs
};

using GradFn = std::function<VarD(TapeD&, const std::vector<VarD>&)>;

// Checks the gradient of every differentiable input; reports the worst element per input.
inline void expect_gradients_match(const std::string& name, const GradFn& f,
                                   const std::vector<TensorD>& inputs, GradCheckOptions opt = {}) {
  auto is_diff = [&](size_t i) { return opt.differentiable.empty() || opt.differentiable[i]; };
  TensorD weights;
  auto objective = [&](TapeD& tape, bool grads) -> double {
    std::vector<VarD> vars;
    for (size_t i = 0; i < inputs.size(); ++i)
      vars.push_back(grads && is_diff(i) ? tape.leaf(inputs[i]) : tape.constant(inputs[i]));
    VarD y = f(tape, vars);
    if (!weights.defined()) weights = random_tensor(y.shape(), 12345, 0.5, 1.5);
    VarD loss = ops::sum(ops::mul(y, tape.constant(weights)));
    if (grads) {
      tape.backward(loss);
      return 0.0;
    }
    return loss.value()[0];
  };
  // Analytic gradients.
  std::vector<TensorD> analytic(inputs.size());
  {
    TapeD tape;
    std::vector<VarD> vars;
    for (size_t i = 0; i < inputs.size(); ++i)
      vars.push_back(is_diff(i) ? tape.leaf(inputs[i]) : tape.constant(inputs[i]));
    VarD y = f(tape, vars);
    weights = random_tensor(y.shape(), 12345, 0.5, 1.5);
    VarD loss = ops::sum(ops::mul(y, tape.constant(weights)));
    tape.backward(loss);
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!is_diff(i)) continue;
      TensorD g = vars[i].grad();
      analytic[i] = g.defined() ? g.clone() : TensorD::zeros(inputs[i].shape());
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!is_diff(i)) continue;
    const TensorD& x = inputs[i];
    double worst = 0.0;
    int64_t worst_at = -1;
    double worst_num = 0, worst_ana = 0;
    for (int64_t k = 0; k < x.numel(); ++k) {
      const double saved = x[k];
      TapeD tape;
      x[k] = saved + opt.eps;
      const double up = objective(tape, false);
      tape.reset();
      x[k] = saved - opt.eps;
      const double down = objective(tape, false);
      x[k] = saved;
      const double numeric = (up - down) / (2 * opt.eps);
      const double ana = analytic[i][k];
      const double err = std::abs(numeric - ana) / (opt.atol + opt.rtol * std::abs(numeric));
      if (err > worst) {
        worst = err;
        worst_at = k;
        worst_num = numeric;
        worst_ana = ana;
      }
    }
    EXPECT_LE(worst, 1.0) << name << ": input " << i << " " << x.shape().str() << " element "
                          << worst_at << ": numeric " << worst_num << " vs analytic " << worst_ana;
  }
}

}  // namespace mimic::testing
