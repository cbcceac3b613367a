#pragma once
// Noise schedules of the diffusion training process (diffusers' names and defaults).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::diffusion {

enum class BetaSchedule { kLinear, kScaledLinear, kSquaredCosCapV2 };

inline BetaSchedule beta_schedule_from_name(const std::string& name) {
  if (name == "linear") return BetaSchedule::kLinear;
  if (name == "scaled_linear") return BetaSchedule::kScaledLinear;
  if (name == "squaredcos_cap_v2") return BetaSchedule::kSquaredCosCapV2;
  throw ValueError("unknown beta_schedule '" + name +
                   "' (expected linear, scaled_linear or squaredcos_cap_v2)");
}

// betas[i] for i in [0, n).
inline std::vector<double> make_betas(BetaSchedule kind, int64_t n, double beta_start = 1e-4,
                                      double beta_end = 0.02) {
  if (n < 1) throw ValueError("make_betas: num_train_timesteps must be >= 1");
  std::vector<double> b(static_cast<size_t>(n));
  auto lerp = [&](double a, double z, int64_t i) {
    return n == 1 ? a : a + (z - a) * double(i) / double(n - 1);
  };
  for (int64_t i = 0; i < n; ++i) {
    switch (kind) {
      case BetaSchedule::kLinear:
        b[i] = lerp(beta_start, beta_end, i);
        break;
      case BetaSchedule::kScaledLinear: {
        const double s = lerp(std::sqrt(beta_start), std::sqrt(beta_end), i);
        b[i] = s * s;
        break;
      }
      case BetaSchedule::kSquaredCosCapV2: {
        // abar(s) = cos^2(((s + 0.008) / 1.008) pi / 2); beta_i = min(1 - abar((i+1)/n) /
        // abar(i/n), 0.999)
        auto abar = [](double s) {
          const double c = std::cos((s + 0.008) / 1.008 * M_PI / 2);
          return c * c;
        };
        b[i] = std::min(1 - abar(double(i + 1) / n) / abar(double(i) / n), 0.999);
        break;
      }
    }
  }
  return b;
}

// Cumulative products of alphas = 1 - betas.
// diffusers' float32 tables: betas rounded to float, alphas = float(1 - beta), and torch's
// cumprod of those (accumulated in double, each product rounded to float). `betas` is rounded in
// place. Equal to diffusers' alphas_cumprod for squaredcos_cap_v2 (its betas are doubles rounded
// to float); for linear schedules torch's float32 linspace may differ from the rounded doubles by
// one unit in the last place of a beta.
inline std::vector<double> diffusers_alphas_cumprod(std::vector<double>& betas) {
  std::vector<double> out(betas.size());
  double acc = 1;
  for (size_t i = 0; i < betas.size(); ++i) {
    const float beta = static_cast<float>(betas[i]);
    betas[i] = beta;
    acc *= static_cast<double>(1.0f - beta);
    out[i] = static_cast<float>(acc);
  }
  return out;
}

inline std::vector<double> alphas_cumprod(const std::vector<double>& betas) {
  std::vector<double> out(betas.size());
  double acc = 1;
  for (size_t i = 0; i < betas.size(); ++i) out[i] = acc *= (1 - betas[i]);
  return out;
}

}  // namespace mimic::diffusion
