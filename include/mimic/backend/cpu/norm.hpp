#pragma once
// Normalization kernels. Statistics are accumulated in double (two passes: mean, then squared
// deviations) so float inputs with a large mean keep their precision. Each pass streams the
// group once: ~3 reads + 1 write per element forward, bound by memory bandwidth.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "mimic/backend/cpu/parallel.hpp"

namespace mimic::cpu {

// Sums of f(i) (and g(i)) over [0, len) in 8 double lanes combined in a fixed order. A single
// running double sum is one dependency chain at ~4 cycles per add; 8 independent lanes let the
// loop vectorize and run at load speed.
template <class F, class G>
inline void lane_sums(int64_t len, F&& f, G&& g, double& sum_f, double& sum_g) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= len; i += 8)
    for (int k = 0; k < 8; ++k) {
      a[k] += f(i + k);
      b[k] += g(i + k);
    }
  for (int k = 0; i < len; ++i, ++k) {
    a[k] += f(i);
    b[k] += g(i);
  }
  sum_f += ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
  sum_g += ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]));
}
template <class F>
inline double lane_sum(int64_t len, F&& f) {
  double sum = 0, unused = 0;
  lane_sums(
      len, f, [](int64_t) { return 0.0; }, sum, unused);
  return sum;
}

struct Norm {
  // x viewed as [N, C, S]; groups of C/G channels. gamma/beta per channel (nullable).
  // Writes y and the per-(n, g) mean and 1/sqrt(var + eps) (biased variance, as PyTorch).
  template <class T>
  static void group_norm_forward(int64_t n, int64_t c, int64_t s, int64_t groups, const T* x,
                                 const T* gamma, const T* beta, double eps, T* y, T* mean,
                                 T* rstd) {
    const int64_t cg = c / groups, m = cg * s;
    parallel_for(n * groups, 1 + 16384 / (m + 1), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* xr = x + r * m;
        const double mu = lane_sum(m, [&](int64_t i) { return double(xr[i]); }) / m;
        const double sq = lane_sum(m, [&](int64_t i) { return (xr[i] - mu) * (xr[i] - mu); });
        const double rs = 1.0 / std::sqrt(sq / m + eps);
        mean[r] = T(mu);
        rstd[r] = T(rs);
        const int64_t g = r % groups;
        T* yr = y + r * m;
        for (int64_t j = 0; j < cg; ++j) {
          const int64_t ch = g * cg + j;
          const T scale = T(rs) * (gamma ? gamma[ch] : T(1));
          const T shift = (beta ? beta[ch] : T(0)) - T(mu) * scale;
          for (int64_t i = 0; i < s; ++i) yr[j * s + i] = xr[j * s + i] * scale + shift;
        }
      }
    });
  }

  // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma;
  // dgamma[c] = sum dy * xhat, dbeta[c] = sum dy. Null output pointers are skipped.
  template <class T>
  static void group_norm_backward(int64_t n, int64_t c, int64_t s, int64_t groups, const T* x,
                                  const T* gamma, const T* mean, const T* rstd, const T* dy, T* dx,
                                  bool dx_acc, T* dgamma, bool dgamma_acc, T* dbeta,
                                  bool dbeta_acc) {
    const int64_t cg = c / groups, m = cg * s;
    if (dx) {
      parallel_for(n * groups, 1 + 16384 / (m + 1), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t g = r % groups;
          const T* xr = x + r * m;
          const T* dyr = dy + r * m;
          const double mu = mean[r], rs = rstd[r];
          double sum_dxh = 0, sum_dxh_xh = 0;
          for (int64_t j = 0; j < cg; ++j) {
            const double gm = gamma ? double(gamma[g * cg + j]) : 1.0;
            const T* xj = xr + j * s;
            const T* dyj = dyr + j * s;
            double sd = 0, sdx = 0;
            lane_sums(
                s, [&](int64_t i) { return double(dyj[i]); },
                [&](int64_t i) { return dyj[i] * (xj[i] - mu); }, sd, sdx);
            sum_dxh += gm * sd;
            sum_dxh_xh += gm * rs * sdx;
          }
          const double a = sum_dxh / m, b = sum_dxh_xh / m;
          T* dxr = dx + r * m;
          for (int64_t j = 0; j < cg; ++j) {
            const double gm = gamma ? double(gamma[g * cg + j]) : 1.0;
            for (int64_t i = 0; i < s; ++i) {
              const double xh = (xr[j * s + i] - mu) * rs;
              const T v = T(rs * (dyr[j * s + i] * gm - a - xh * b));
              dxr[j * s + i] = dx_acc ? dxr[j * s + i] + v : v;
            }
          }
        }
      });
    }
    if (dgamma || dbeta) {
      // Threads own channels; each channel sums over n in order, so the result is deterministic.
      parallel_for(c, 16, [&](int64_t c0, int64_t c1) {
        for (int64_t ch = c0; ch < c1; ++ch) {
          const int64_t g = ch / cg;
          double sg = 0, sb = 0;
          for (int64_t b = 0; b < n; ++b) {
            const T* xr = x + (b * c + ch) * s;
            const T* dyr = dy + (b * c + ch) * s;
            const double mu = mean[b * groups + g], rs = rstd[b * groups + g];
            double sdx = 0;
            lane_sums(
                s, [&](int64_t i) { return double(dyr[i]); },
                [&](int64_t i) { return dyr[i] * (xr[i] - mu); }, sb, sdx);
            sg += rs * sdx;
          }
          if (dgamma) dgamma[ch] = dgamma_acc ? dgamma[ch] + T(sg) : T(sg);
          if (dbeta) dbeta[ch] = dbeta_acc ? dbeta[ch] + T(sb) : T(sb);
        }
      });
    }
  }

  // x viewed as [R, M], normalized per row; gamma/beta per element of M (nullable).
  template <class T>
  static void layer_norm_forward(int64_t rows, int64_t m, const T* x, const T* gamma, const T* beta,
                                 double eps, T* y, T* mean, T* rstd) {
    parallel_for(rows, 1 + 16384 / (m + 1), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* xr = x + r * m;
        const double mu = lane_sum(m, [&](int64_t i) { return double(xr[i]); }) / m;
        const double sq = lane_sum(m, [&](int64_t i) { return (xr[i] - mu) * (xr[i] - mu); });
        const double rs = 1.0 / std::sqrt(sq / m + eps);
        mean[r] = T(mu);
        rstd[r] = T(rs);
        T* yr = y + r * m;
        for (int64_t i = 0; i < m; ++i) {
          const T xh = T((xr[i] - mu) * rs);
          yr[i] = xh * (gamma ? gamma[i] : T(1)) + (beta ? beta[i] : T(0));
        }
      }
    });
  }

  template <class T>
  static void layer_norm_backward(int64_t rows, int64_t m, const T* x, const T* gamma,
                                  const T* mean, const T* rstd, const T* dy, T* dx, bool dx_acc,
                                  T* dgamma, bool dgamma_acc, T* dbeta, bool dbeta_acc) {
    if (dx) {
      parallel_for(rows, 1 + 16384 / (m + 1), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const T* xr = x + r * m;
          const T* dyr = dy + r * m;
          const double mu = mean[r], rs = rstd[r];
          double sum_dxh = 0, sum_dxh_xh = 0;
          auto dxh = [&](int64_t i) { return dyr[i] * (gamma ? double(gamma[i]) : 1.0); };
          lane_sums(
              m, dxh, [&](int64_t i) { return dxh(i) * (xr[i] - mu) * rs; }, sum_dxh, sum_dxh_xh);
          const double a = sum_dxh / m, b = sum_dxh_xh / m;
          T* dxr = dx + r * m;
          for (int64_t i = 0; i < m; ++i) {
            const double xh = (xr[i] - mu) * rs;
            const T v = T(rs * (dyr[i] * (gamma ? double(gamma[i]) : 1.0) - a - xh * b));
            dxr[i] = dx_acc ? dxr[i] + v : v;
          }
        }
      });
    }
    if (dgamma || dbeta) {
      // Column sums over rows, a strip of kStrip columns at a time with the rows outermost, so
      // each row's strip is read contiguously (vectorized) rather than a column at a stride of
      // m; every column still adds its rows in order 0, 1, ... (the same sums as column by column).
      constexpr int64_t kStrip = 64;
      parallel_for(m, 256, [&](int64_t i0, int64_t i1) {
        for (int64_t c0 = i0; c0 < i1; c0 += kStrip) {
          const int64_t width = std::min(kStrip, i1 - c0);
          double sg[kStrip] = {}, sb[kStrip] = {};
          for (int64_t r = 0; r < rows; ++r) {
            const double mu = mean[r], rs = rstd[r];
            const T* dyr = dy + r * m + c0;
            const T* xr = x + r * m + c0;
            for (int64_t j = 0; j < width; ++j) {
              const double dyv = dyr[j];
              sg[j] += dyv * (xr[j] - mu) * rs;
              sb[j] += dyv;
            }
          }
          for (int64_t j = 0; j < width; ++j) {
            const int64_t i = c0 + j;
            if (dgamma) dgamma[i] = dgamma_acc ? dgamma[i] + T(sg[j]) : T(sg[j]);
            if (dbeta) dbeta[i] = dbeta_acc ? dbeta[i] + T(sb[j]) : T(sb[j]);
          }
        }
      });
    }
  }
  // Batch norm over x viewed as [N, C, S]: statistics per channel across N and S. Threads own
  // channels. mean and var (biased) are accumulated in double, two passes.
  template <class T>
  static void batch_norm_stats(int64_t n, int64_t c, int64_t s, const T* x, T* mean, T* var) {
    parallel_for(c, 1 + 16384 / (n * s + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        double sum = 0;
        for (int64_t i = 0; i < n; ++i) {
          const T* xr = x + (i * c + ch) * s;
          sum += lane_sum(s, [&](int64_t j) { return double(xr[j]); });
        }
        const double mu = sum / double(n * s);
        double sq = 0;
        for (int64_t i = 0; i < n; ++i) {
          const T* xr = x + (i * c + ch) * s;
          sq += lane_sum(s, [&](int64_t j) { return (xr[j] - mu) * (xr[j] - mu); });
        }
        mean[ch] = T(mu);
        var[ch] = T(sq / double(n * s));
      }
    });
  }

  // running = (1 - momentum) running + momentum batch, with the unbiased variance as PyTorch
  // keeps it; rstd[c] = 1 / sqrt(var + eps) of the (biased) batch variance.
  template <class T>
  static void batch_norm_update(int64_t c, int64_t count, double momentum, double eps,
                                const T* mean, T* var_to_rstd, T* running_mean, T* running_var) {
    const double unbias = count > 1 ? double(count) / double(count - 1) : 1.0;
    for (int64_t ch = 0; ch < c; ++ch) {
      const double v = var_to_rstd[ch];
      if (running_mean)
        running_mean[ch] = T((1 - momentum) * running_mean[ch] + momentum * mean[ch]);
      if (running_var)
        running_var[ch] = T((1 - momentum) * running_var[ch] + momentum * v * unbias);
      var_to_rstd[ch] = T(1.0 / std::sqrt(v + eps));
    }
  }

  // rstd[c] = 1 / sqrt(running_var[c] + eps) for evaluation.
  template <class T>
  static void batch_norm_eval_rstd(int64_t c, double eps, const T* running_var, T* rstd) {
    for (int64_t ch = 0; ch < c; ++ch) rstd[ch] = T(1.0 / std::sqrt(double(running_var[ch]) + eps));
  }

  // y = (x - mean[c]) * rstd[c] * gamma[c] + beta[c]; gamma, beta nullable.
  template <class T>
  static void batch_norm_apply(int64_t n, int64_t c, int64_t s, const T* x, const T* mean,
                               const T* rstd, const T* gamma, const T* beta, T* y) {
    parallel_for(n * c, 1 + 16384 / (s + 1), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t ch = r % c;
        const T scale = rstd[ch] * (gamma ? gamma[ch] : T(1));
        const T shift = (beta ? beta[ch] : T(0)) - mean[ch] * scale;
        const T* xr = x + r * s;
        T* yr = y + r * s;
        for (int64_t j = 0; j < s; ++j) yr[j] = xr[j] * scale + shift;
      }
    });
  }

  // With batch statistics (training):
  //   dx = gamma rstd / M (M dy - sum dy - xhat sum(dy xhat)), M = N*S;
  // with fixed statistics (evaluation): dx = gamma rstd dy. In both dgamma = sum dy xhat and
  // dbeta = sum dy. Null output pointers are skipped.
  template <class T>
  static void batch_norm_backward(int64_t n, int64_t c, int64_t s, bool batch_stats, const T* x,
                                  const T* gamma, const T* mean, const T* rstd, const T* dy, T* dx,
                                  bool dx_acc, T* dgamma, bool dgamma_acc, T* dbeta,
                                  bool dbeta_acc) {
    parallel_for(c, 1 + 16384 / (n * s + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const double mu = mean[ch], rs = rstd[ch];
        double sum_dy = 0, sum_dy_dx = 0;
        for (int64_t i = 0; i < n; ++i) {
          const T* xr = x + (i * c + ch) * s;
          const T* dyr = dy + (i * c + ch) * s;
          lane_sums(
              s, [&](int64_t j) { return double(dyr[j]); },
              [&](int64_t j) { return dyr[j] * (xr[j] - mu); }, sum_dy, sum_dy_dx);
        }
        const double sum_dy_xh = sum_dy_dx * rs;
        if (dgamma) dgamma[ch] = T((dgamma_acc ? double(dgamma[ch]) : 0.0) + sum_dy_xh);
        if (dbeta) dbeta[ch] = T((dbeta_acc ? double(dbeta[ch]) : 0.0) + sum_dy);
        if (!dx) continue;
        // dx = k (dy - mean(dy) - xhat mean(dy xhat)), xhat = (x - mu) rstd, in T: the sums
        // already carry the precision; per element it is one fused multiply-add chain.
        const double m = double(n * s), k = (gamma ? double(gamma[ch]) : 1.0) * rs;
        const T scale = T(k), mean_dy = batch_stats ? T(sum_dy / m) : T(0);
        const T slope = batch_stats ? T(rs * sum_dy_xh / m) : T(0), mu_t = T(mu);
        for (int64_t i = 0; i < n; ++i) {
          const T* xr = x + (i * c + ch) * s;
          const T* dyr = dy + (i * c + ch) * s;
          T* dxr = dx + (i * c + ch) * s;
          if (dx_acc)
            for (int64_t j = 0; j < s; ++j)
              dxr[j] += scale * (dyr[j] - mean_dy - (xr[j] - mu_t) * slope);
          else
            for (int64_t j = 0; j < s; ++j)
              dxr[j] = scale * (dyr[j] - mean_dy - (xr[j] - mu_t) * slope);
        }
      }
    });
  }
};

}  // namespace mimic::cpu
