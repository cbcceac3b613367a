#pragma once
// DDPM and DDIM samplers (diffusers semantics) over Tensor<T, D>. The per-element updates are
// MIMIC_HD functors with scalar coefficients, so the same code runs on both devices.
#include <cmath>
#include <string>
#include <vector>

#include "mimic/backend/kernels.hpp"
#include "mimic/core/philox.hpp"
#include "mimic/core/tensor.hpp"
#include "mimic/diffusion/beta_schedule.hpp"

namespace mimic::diffusion {

enum class Prediction { kEpsilon, kSample };
inline Prediction prediction_from_name(const std::string& name) {
  if (name == "epsilon") return Prediction::kEpsilon;
  if (name == "sample") return Prediction::kSample;
  throw ValueError("unknown prediction_type '" + name + "' (expected epsilon or sample)");
}

enum class SamplerKind { kDdpm, kDdim };

struct SchedulerConfig {
  int64_t num_train_timesteps = 100;
  double beta_start = 1e-4, beta_end = 0.02;
  BetaSchedule beta_schedule = BetaSchedule::kSquaredCosCapV2;
  bool clip_sample = true;
  Prediction prediction_type = Prediction::kEpsilon;
  bool set_alpha_to_one = true;  // DDIM: alpha_cumprod before step 0 is 1
  int64_t steps_offset = 0;      // DDIM
  // diffusers' tables: betas and alphas_cumprod rounded to float32, as the originals (Diffusion
  // Policy, robomimic) sample with them. Near t = 0, 1 - alphas_cumprod is about 1e-4, so the
  // rounding moves it by up to 1e-3 relative and a 100-step DDPM chunk by about 1e-4.
  bool float32_tables = false;
};

namespace detail {

// One denoising update: x0_hat from the model output, optional clip, then
// prev = c0 * x0_hat + c1 * sample + c2 * eps_hat + sigma * noise.
struct StepUpdate {
  double sqrt_a, sqrt_1ma;  // of alpha_cumprod at t
  double c0, c1, c2, sigma;
  bool clip, predict_epsilon;
  template <class T>
  MIMIC_HD T operator()(T out, T x, T noise) const {
    T x0 = predict_epsilon ? (x - T(sqrt_1ma) * out) / T(sqrt_a) : out;
    if (clip) x0 = x0 < T(-1) ? T(-1) : (x0 > T(1) ? T(1) : x0);
    // eps_hat: the model output itself for epsilon prediction (as diffusers' DDIM), else derived.
    const T eps = predict_epsilon ? out : (x - T(sqrt_a) * x0) / T(sqrt_1ma);
    return T(c0) * x0 + T(c1) * x + T(c2) * eps + T(sigma) * noise;
  }
};
template <class T>
struct NormalNoise {
  uint64_t seed, offset;
  MIMIC_HD T operator()(int64_t i) const { return philox_normal<T>(seed, offset + uint64_t(i)); }
};
// a * x + b * z (add_noise).
struct Mix {
  double a, b;
  template <class T>
  MIMIC_HD T operator()(T x, T z) const {
    return T(a) * x + T(b) * z;
  }
};

}  // namespace detail

template <class T, class D = Cpu>
class Scheduler {
 public:
  Scheduler(SamplerKind kind, const SchedulerConfig& cfg) : kind_(kind), cfg_(cfg) {
    betas_ = make_betas(cfg.beta_schedule, cfg.num_train_timesteps, cfg.beta_start, cfg.beta_end);
    alphas_cumprod_ =
        cfg.float32_tables ? diffusers_alphas_cumprod(betas_) : diffusion::alphas_cumprod(betas_);
    set_timesteps(cfg.num_train_timesteps);
  }

  // Inference steps: (arange(n) * (N / n)) reversed (+ steps_offset for DDIM).
  void set_timesteps(int64_t n) {
    const int64_t big_n = cfg_.num_train_timesteps;
    if (n < 1 || n > big_n)
      throw ValueError("set_timesteps: " + std::to_string(n) + " steps is outside [1, " +
                       std::to_string(big_n) + "]");
    num_inference_steps_ = n;
    const int64_t ratio = big_n / n;
    timesteps_.clear();
    for (int64_t i = n - 1; i >= 0; --i)
      timesteps_.push_back(i * ratio + (kind_ == SamplerKind::kDdim ? cfg_.steps_offset : 0));
  }

  // x_{t-1} from the model output at step t. `noise` (same shape as sample) is used by DDPM for
  // t > 0; pass an undefined tensor to draw it from `rng` instead.
  void step(const Tensor<T, D>& model_output, int64_t t, const Tensor<T, D>& sample,
            const Tensor<T, D>& out, const Tensor<T, D>& noise, PhiloxStream* rng = nullptr) const {
    if (model_output.shape() != sample.shape() || out.shape() != sample.shape())
      throw ShapeError("scheduler step: model output " + model_output.shape().str() + ", sample " +
                       sample.shape().str() + " and output " + out.shape().str() + " must match");
    if (t < 0 || t >= cfg_.num_train_timesteps)
      throw ValueError("scheduler step: timestep " + std::to_string(t) + " is out of range");
    const int64_t prev_t = t - cfg_.num_train_timesteps / num_inference_steps_;
    const double a_t = alphas_cumprod_[t];
    const double a_prev =
        prev_t >= 0
            ? alphas_cumprod_[prev_t]
            : (kind_ == SamplerKind::kDdim && !cfg_.set_alpha_to_one ? alphas_cumprod_[0] : 1.0);
    detail::StepUpdate u{std::sqrt(a_t),
                         std::sqrt(1 - a_t),
                         0,
                         0,
                         0,
                         0,
                         cfg_.clip_sample,
                         cfg_.prediction_type == Prediction::kEpsilon};
    if (cfg_.float32_tables) {
      diffusers_float32_coefficients(a_t, a_prev, t, u);
    } else if (kind_ == SamplerKind::kDdpm) {
      const double alpha_t = a_t / a_prev, beta_t = 1 - alpha_t;
      u.c0 = std::sqrt(a_prev) * beta_t / (1 - a_t);
      u.c1 = std::sqrt(alpha_t) * (1 - a_prev) / (1 - a_t);
      const double var = std::max((1 - a_prev) / (1 - a_t) * beta_t, 1e-20);  // fixed_small
      u.sigma = t > 0 ? std::sqrt(var) : 0.0;
    } else {  // DDIM, eta = 0
      u.c0 = std::sqrt(a_prev);
      u.c2 = std::sqrt(1 - a_prev);
    }
    const int64_t n = sample.numel();
    if (step_draws_noise(t) && !noise.defined()) {
      if (!rng) throw ValueError("DDPM step: needs noise or a random stream for t > 0");
      // Draw into `out` first, then update in place (each element reads only its own noise).
      Kernels<D>::generate(n, detail::NormalNoise<T>{rng->seed, rng->advance(uint64_t(n))},
                           out.data());
      Kernels<D>::map(n, u, out.data(), model_output.data(), sample.data(), out.data());
      return;
    }
    const T* z = noise.defined() ? noise.data() : sample.data();  // ignored when sigma == 0
    Kernels<D>::map(n, u, out.data(), model_output.data(), sample.data(), z);
  }

  // x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, with one timestep per batch row (dim 0).
  void add_noise(const Tensor<T, D>& x0, const Tensor<T, D>& noise, const std::vector<int64_t>& t,
                 const Tensor<T, D>& out) const {
    if (x0.shape() != noise.shape() || out.shape() != x0.shape() || x0.rank() < 1 ||
        static_cast<int64_t>(t.size()) != x0.dim(0))
      throw ShapeError("add_noise: x0 " + x0.shape().str() + ", noise " + noise.shape().str() +
                       " and " + std::to_string(t.size()) + " timesteps do not match");
    const int64_t row = x0.numel() / std::max<int64_t>(1, x0.dim(0));
    for (size_t b = 0; b < t.size(); ++b) {
      if (t[b] < 0 || t[b] >= cfg_.num_train_timesteps)
        throw ValueError("add_noise: timestep " + std::to_string(t[b]) + " is out of range");
      const double a = alphas_cumprod_[t[b]];
      Kernels<D>::map(row, detail::Mix{std::sqrt(a), std::sqrt(1 - a)}, out.data() + b * row,
                      x0.data() + b * row, noise.data() + b * row);
    }
  }

  const std::vector<double>& betas() const { return betas_; }
  const std::vector<double>& alphas_cumprod() const { return alphas_cumprod_; }
  const std::vector<int64_t>& timesteps() const { return timesteps_; }
  // Whether the step at t adds noise (DDPM with t > 0; its sigma is then > 0). A sampling loop
  // over timesteps() draws x_T and then one sample-sized block for each such step, in order, so
  // the whole loop's draws can be made up front: chunk_noise_blocks() blocks from one offset.
  bool step_draws_noise(int64_t t) const { return kind_ == SamplerKind::kDdpm && t > 0; }
  int64_t chunk_noise_blocks() const {
    int64_t blocks = 1;
    for (int64_t t : timesteps_) blocks += step_draws_noise(t);
    return blocks;
  }
  const SchedulerConfig& config() const { return cfg_; }

 private:
  // The step's coefficients as diffusers computes them: 0-d float32 tensors, in its order of
  // operations. The order matters: beta_t = 1 - a_t / a_prev cancels (a_t / a_prev is about
  // 1 - 1e-4 early on), so float rounding of the quotient moves beta_t by up to 1e-3 relative.
  void diffusers_float32_coefficients(double a_t_d, double a_prev_d, int64_t t,
                                      detail::StepUpdate& u) const {
    const float a_t = float(a_t_d), a_prev = float(a_prev_d);
    const float beta_prod_t = 1.0f - a_t;
    u.sqrt_a = std::sqrt(a_t);
    u.sqrt_1ma = std::sqrt(beta_prod_t);
    if (kind_ == SamplerKind::kDdpm) {
      const float beta_prod_prev = 1.0f - a_prev;
      const float alpha_t = a_t / a_prev, beta_t = 1.0f - alpha_t;
      u.c0 = (std::sqrt(a_prev) * beta_t) / beta_prod_t;
      u.c1 = std::sqrt(alpha_t) * beta_prod_prev / beta_prod_t;
      const float var = std::max((1.0f - a_prev) / (1.0f - a_t) * (1.0f - a_t / a_prev), 1e-20f);
      u.sigma = t > 0 ? double(std::sqrt(var)) : 0.0;  // fixed_small
    } else {                                           // DDIM, eta = 0
      u.c0 = std::sqrt(a_prev);
      u.c2 = std::sqrt(1.0f - a_prev);
    }
  }
  SamplerKind kind_;
  SchedulerConfig cfg_;
  std::vector<double> betas_, alphas_cumprod_;
  std::vector<int64_t> timesteps_;
  int64_t num_inference_steps_ = 0;
};

}  // namespace mimic::diffusion
