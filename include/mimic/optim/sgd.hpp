#pragma once
// SGD with optional momentum and L2 weight decay (torch.optim.SGD, dampening 0, not Nesterov).
#include "mimic/optim/param_ranges.hpp"

namespace mimic::optim {

template <class T, class D = Cpu>
class Sgd {
 public:
  Sgd(const nn::ParamStore<T, D>& store, double lr, double momentum = 0.0,
      double weight_decay = 0.0)
      : store_(store), lr_(lr), momentum_(momentum), weight_decay_(weight_decay) {
    if (!(lr >= 0) || !(momentum >= 0) || !(weight_decay >= 0))
      throw ValueError("Sgd: lr, momentum and weight_decay must be >= 0");
    if (momentum > 0) buffer_ = Tensor<T, D>::zeros(store.values().shape());
    ranges_ = trainable_ranges(store);
  }
  void step() { step(lr_); }
  void step(double lr) {
    T* p = store_.values().data();
    const T* g = store_.grads().data();
    for (const auto& [b, e] : ranges_)
      Kernels<D>::sgd_step(e - b, p + b, g + b, buffer_.defined() ? buffer_.data() + b : nullptr,
                           lr, momentum_, weight_decay_, first_);
    first_ = false;
  }

 private:
  const nn::ParamStore<T, D>& store_;
  double lr_, momentum_, weight_decay_;
  Tensor<T, D> buffer_;
  std::vector<std::pair<int64_t, int64_t>> ranges_;
  bool first_ = true;
};

}  // namespace mimic::optim
