#pragma once
// Dropout as a layer (torch.nn.Dropout): zeroes each element with probability p in training and
// scales the survivors by 1 / (1 - p); the identity in evaluation. The mask comes from the
// caller's Philox stream, so a run is reproducible from its seed on every device.
#include "mimic/ops/dropout.hpp"

namespace mimic::nn {

struct Dropout {
  double p = 0.5;

  Dropout() = default;
  explicit Dropout(double probability) : p(probability) {
    if (!(p >= 0.0 && p < 1.0))
      throw ValueError("Dropout: probability " + std::to_string(p) + " is outside [0, 1)");
  }
  template <class T, class D>
  Var<T, D> operator()(Var<T, D> x, PhiloxStream& rng, bool training) const {
    return ops::dropout(x, p, rng, training);
  }
};

}  // namespace mimic::nn
