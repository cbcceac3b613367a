#pragma once
// Normalization statistics. All are affine per dimension and invertible:
//   robomimic (obs, actions):  y = (x - offset) / scale
//   Diffusion Policy limits:   y = x * scale + offset
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::data {

// Running per-dimension count, mean and sum of squared deviations, merged across demos with
// Chan et al.'s parallel formula (as robomimic's _aggregate_traj_stats).
struct MomentStats {
  int64_t n = 0;
  std::vector<double> mean, m2;

  static MomentStats from_rows(const float* x, int64_t rows, int64_t dims) {
    MomentStats s;
    s.n = rows;
    s.mean.assign(size_t(dims), 0.0);
    s.m2.assign(size_t(dims), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t d = 0; d < dims; ++d) s.mean[d] += x[r * dims + d];
    for (auto& m : s.mean) m /= double(std::max<int64_t>(rows, 1));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t d = 0; d < dims; ++d) {
        const double e = x[r * dims + d] - s.mean[d];
        s.m2[d] += e * e;
      }
    return s;
  }
  void merge(const MomentStats& b) {
    if (b.n == 0) return;
    if (n == 0) {
      *this = b;
      return;
    }
    if (b.mean.size() != mean.size()) throw ValueError("MomentStats: merging different widths");
    const double na = double(n), nb = double(b.n), total = na + nb;
    for (size_t d = 0; d < mean.size(); ++d) {
      const double delta = b.mean[d] - mean[d];
      m2[d] += b.m2[d] + delta * delta * na * nb / total;
      mean[d] = (na * mean[d] + nb * b.mean[d]) / total;
    }
    n += b.n;
  }
};

// offset and scale per dim: normalized = (x - offset) / scale.
struct AffineStats {
  std::vector<double> offset, scale;
  double normalize(double x, size_t d) const { return (x - offset[d]) / scale[d]; }
  double unnormalize(double y, size_t d) const { return y * scale[d] + offset[d]; }
};

// robomimic's observation normalization: offset = mean, scale = std + 1e-3.
inline AffineStats obs_normalization(const MomentStats& s) {
  AffineStats a{s.mean, s.m2};
  for (size_t d = 0; d < s.m2.size(); ++d) a.scale[d] = std::sqrt(s.m2[d] / double(s.n)) + 1e-3;
  return a;
}

enum class ActionNormalization { kNone, kMinMax, kGaussian };
inline ActionNormalization action_normalization_from_name(const std::string& name) {
  if (name == "none" || name.empty()) return ActionNormalization::kNone;
  if (name == "min_max") return ActionNormalization::kMinMax;
  if (name == "gaussian") return ActionNormalization::kGaussian;
  throw ValueError("unknown action normalization '" + name +
                   "' (expected none, min_max or gaussian)");
}

// Actions [rows, dims]: none = identity; min_max maps [min, max] to [-0.999999, 0.999999]
// (a constant dim maps to 0); gaussian uses mean and std (std < 1e-6 -> 1).
inline AffineStats action_normalization(ActionNormalization kind, const float* x, int64_t rows,
                                        int64_t dims) {
  AffineStats a{std::vector<double>(size_t(dims), 0.0), std::vector<double>(size_t(dims), 1.0)};
  if (kind == ActionNormalization::kNone) return a;
  if (kind == ActionNormalization::kGaussian) {
    const MomentStats s = MomentStats::from_rows(x, rows, dims);
    for (int64_t d = 0; d < dims; ++d) {
      const double std = std::sqrt(s.m2[d] / double(std::max<int64_t>(rows, 1)));
      a.offset[d] = s.mean[d];
      a.scale[d] = std < 1e-6 ? 1.0 : std;
    }
    return a;
  }
  const double lo = -0.999999, hi = 0.999999;
  for (int64_t d = 0; d < dims; ++d) {
    double mn = INFINITY, mx = -INFINITY;
    for (int64_t r = 0; r < rows; ++r)
      mn = std::min(mn, double(x[r * dims + d])), mx = std::max(mx, double(x[r * dims + d]));
    if (mx - mn < 1e-6) {
      a.offset[d] = mn;
      a.scale[d] = 1.0;
    } else {
      a.scale[d] = (mx - mn) / (hi - lo);
      a.offset[d] = mn - lo * a.scale[d];
    }
  }
  return a;
}

// Diffusion Policy's LinearNormalizer in "limits" mode: y = x * scale + offset maps [min, max] to
// [-1, 1]; a dim whose range is below range_eps gets scale 1 and offset -min (so it maps to 0).
struct LimitsNormalizer {
  std::vector<double> scale, offset;

  static LimitsNormalizer fit(const float* x, int64_t rows, int64_t dims, double range_eps = 1e-4) {
    LimitsNormalizer n;
    for (int64_t d = 0; d < dims; ++d) {
      double mn = INFINITY, mx = -INFINITY;
      for (int64_t r = 0; r < rows; ++r)
        mn = std::min(mn, double(x[r * dims + d])), mx = std::max(mx, double(x[r * dims + d]));
      const bool ignore = mx - mn < range_eps;
      const double range = ignore ? 2.0 : mx - mn;
      const double s = 2.0 / range;
      n.scale.push_back(s);
      n.offset.push_back(ignore ? -mn : -1.0 - s * mn);
    }
    return n;
  }
  // Images: [0, 1] -> [-1, 1].
  static LimitsNormalizer image(int64_t dims = 1) {
    return LimitsNormalizer{std::vector<double>(size_t(dims), 2.0),
                            std::vector<double>(size_t(dims), -1.0)};
  }
  double normalize(double x, size_t d) const { return x * scale[d] + offset[d]; }
  double unnormalize(double y, size_t d) const { return (y - offset[d]) / scale[d]; }
};

}  // namespace mimic::data
