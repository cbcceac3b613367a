#pragma once
// Exponential moving average of a model's parameters (Diffusion Policy's EMAModel):
//   step' = max(0, step - update_after_step - 1);
//   decay = 0 if step' <= 0 else clamp(1 - (1 + step'/inv_gamma)^-power, min_decay, max_decay);
//   ema = decay * ema + (1 - decay) * p;  frozen parameters are copied, not averaged.
#include <algorithm>
#include <cmath>

#include "mimic/optim/param_ranges.hpp"

namespace mimic::optim {

struct EmaOptions {
  int64_t update_after_step = 0;
  double inv_gamma = 1.0;
  double power = 0.75;
  double min_decay = 0.0;
  double max_decay = 0.9999;
};

template <class T, class D = Cpu>
class Ema {
 public:
  Ema(const nn::ParamStore<T, D>& store, const EmaOptions& opt) : store_(store), opt_(opt) {
    if (!(opt.inv_gamma > 0) || !(opt.max_decay >= opt.min_decay))
      throw ValueError("Ema: inv_gamma must be > 0 and max_decay >= min_decay");
    averaged_ = store.values().clone();
  }
  double decay_at(int64_t optimization_step) const {
    const double step =
        std::max<double>(0.0, double(optimization_step - opt_.update_after_step - 1));
    if (step <= 0) return 0.0;
    const double value = 1 - std::pow(1 + step / opt_.inv_gamma, -opt_.power);
    return std::clamp(value, opt_.min_decay, opt_.max_decay);
  }
  // Folds the store's current values into the average and advances the step counter.
  void update() {
    const double decay = decay_at(step_);
    T* ema = averaged_.data();
    const T* p = store_.values().data();
    for (const auto& e : store_.entries()) {
      const int64_t n = e.shape.numel();
      if (e.trainable)
        Kernels<D>::ema_update(n, ema + e.offset, p + e.offset, decay);
      else
        Kernels<D>::copy_bytes(ema + e.offset, p + e.offset, size_t(n) * sizeof(T));
    }
    last_decay_ = decay;
    ++step_;
  }
  // The averaged weights, laid out like the store (use with copy_to to run the model on them).
  const Tensor<T, D>& averaged() const { return averaged_; }
  void copy_to(const nn::ParamStore<T, D>& target) const { target.values().copy_from(averaged_); }
  int64_t steps() const { return step_; }
  void set_steps(int64_t s) { step_ = s; }
  double last_decay() const { return last_decay_; }

 private:
  const nn::ParamStore<T, D>& store_;
  EmaOptions opt_;
  Tensor<T, D> averaged_;
  int64_t step_ = 0;
  double last_decay_ = 0;
};

}  // namespace mimic::optim
