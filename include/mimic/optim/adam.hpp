#pragma once
// Adam and AdamW (PyTorch semantics, bias-corrected) over a model's flat parameter buffers.
#include <cmath>
#include <functional>
#include <string>

#include "mimic/optim/param_ranges.hpp"

namespace mimic::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;  // true: AdamW
};

template <class T, class D = Cpu>
class Adam {
 public:
  Adam(const nn::ParamStore<T, D>& store, const AdamOptions& opt) : store_(store), opt_(opt) {
    if (!(opt.lr >= 0) || !(opt.beta1 >= 0 && opt.beta1 < 1) ||
        !(opt.beta2 >= 0 && opt.beta2 < 1) || !(opt.eps >= 0) || !(opt.weight_decay >= 0))
      throw ValueError("Adam: invalid options (lr " + std::to_string(opt.lr) + ", betas " +
                       std::to_string(opt.beta1) + "/" + std::to_string(opt.beta2) + ", eps " +
                       std::to_string(opt.eps) + ", weight_decay " +
                       std::to_string(opt.weight_decay) + ")");
    m_ = Tensor<T, D>::zeros(store.values().shape());
    v_ = Tensor<T, D>::zeros(store.values().shape());
    for (const auto& [b, e] : trainable_ranges(store)) runs_.push_back({b, e, true});
  }
  // Weight decay only for the parameters `decays` names (torch's two parameter groups, one with
  // weight_decay 0, as Diffusion Policy's transformer builds them); the others get none.
  void set_weight_decay_filter(const std::function<bool(const std::string&)>& decays) {
    runs_.clear();
    for (const auto& entry : store_.entries()) {
      if (!entry.trainable) continue;
      const bool d = decays(entry.name);
      const int64_t b = entry.offset, e = entry.offset + entry.shape.numel();
      if (!runs_.empty() && runs_.back().decay == d && runs_.back().end == b)
        runs_.back().end = e;
      else
        runs_.push_back({b, e, d});
    }
  }
  // One update with the current gradients; `lr` overrides the base rate (for schedules).
  void step() { step(opt_.lr); }
  void step(double lr) {
    ++t_;
    AdamHyper h{lr,
                opt_.beta1,
                opt_.beta2,
                opt_.eps,
                opt_.weight_decay,
                lr / (1 - std::pow(opt_.beta1, double(t_))),
                1 / std::sqrt(1 - std::pow(opt_.beta2, double(t_))),
                opt_.decoupled_weight_decay};
    AdamHyper no_decay = h;
    no_decay.weight_decay = 0;
    T* p = store_.values().data();
    const T* g = store_.grads().data();
    for (const Run& r : runs_)
      Kernels<D>::adam_step(r.end - r.begin, p + r.begin, g + r.begin, m_.data() + r.begin,
                            v_.data() + r.begin, r.decay ? h : no_decay);
  }
  int64_t steps() const { return t_; }
  void set_steps(int64_t t) { t_ = t; }
  const AdamOptions& options() const { return opt_; }
  const Tensor<T, D>& exp_avg() const { return m_; }
  const Tensor<T, D>& exp_avg_sq() const { return v_; }

 private:
  const nn::ParamStore<T, D>& store_;
  AdamOptions opt_;
  Tensor<T, D> m_, v_;
  struct Run {
    int64_t begin, end;  // elements of the flat buffer
    bool decay;
  };
  std::vector<Run> runs_;
  int64_t t_ = 0;
};

// AdamW with Diffusion Policy's defaults spelled out by the caller.
template <class T, class D = Cpu>
Adam<T, D> make_adamw(const nn::ParamStore<T, D>& store, double lr, double beta1, double beta2,
                      double weight_decay, double eps = 1e-8) {
  return Adam<T, D>(store, AdamOptions{lr, beta1, beta2, eps, weight_decay, true});
}

}  // namespace mimic::optim
