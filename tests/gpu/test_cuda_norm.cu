// Kernels<Cuda>'s norm family against Kernels<Cpu>: group, layer and batch norm, forward and
// backward, batch statistics and running-statistics updates. Odd sizes (channels not a multiple
// of 8, batch 1, rows longer than a block, a single channel per group), every affine and
// accumulate combination, float, relative error under 1e-5. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "mimic/cuda/kernels.cuh"
#include "mimic/mimic.hpp"
#include "support/compare.hpp"

namespace mimic {
namespace {

#define MIMIC_REQUIRE_GPU() \
  if (!cuda::cuda_available()) GTEST_SKIP() << "no CUDA device: GPU test skipped"

using KC = Kernels<Cpu>;
using KG = Kernels<Cuda>;
constexpr double kTol = 1e-5;

// Uniform in [lo, hi), from the shared Philox stream.
std::vector<float> random_values(int64_t n, uint64_t seed, float lo = -1, float hi = 1) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * philox_uniform<float>(seed, i);
  return v;
}

// A device copy of a host vector; keeps its memory while the test runs.
struct DeviceCopy {
  Tensor<float, Cuda> t;
  explicit DeviceCopy(const std::vector<float>& v)
      : t(Tensor<float, Cuda>::from_vector({int64_t(v.size())}, v)) {}
  float* p() const { return t.data(); }
  std::vector<float> host() const { return t.to_vector(); }
};

// Nullable pointers: `use` false passes nullptr, as the contract allows.
float* maybe(std::vector<float>& v, bool use) { return use ? v.data() : nullptr; }
float* maybe(const DeviceCopy& d, bool use) { return use ? d.p() : nullptr; }

void expect_close(const std::vector<float>& gpu, const std::vector<float>& cpu,
                  const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  for (size_t i = 0; i < gpu.size(); ++i) ASSERT_TRUE(std::isfinite(gpu[i])) << what << " @" << i;
  EXPECT_LT(testing::relative_error(gpu, cpu), kTol) << what;
}

std::string tag(const char* op, std::initializer_list<int64_t> sizes, int flags) {
  std::string s = op;
  for (int64_t v : sizes) s += " " + std::to_string(v);
  return s + " flags " + std::to_string(flags);
}

struct GroupCase {
  int64_t n, c, s, groups;
};
// m = c/groups * s: 7, 66, 1 (one channel per group, s = 1), 903 (longer than a block), 15.
const GroupCase kGroupCases[] = {
    {1, 6, 7, 3}, {3, 10, 33, 5}, {2, 7, 1, 7}, {2, 12, 301, 4}, {1, 5, 3, 1}};

TEST(CudaNorm, GroupNormForward) {
  MIMIC_REQUIRE_GPU();
  for (const GroupCase& k : kGroupCases)
    for (int flags = 0; flags < 4; ++flags) {
      const bool use_gamma = flags & 1, use_beta = flags & 2;
      const int64_t total = k.n * k.c * k.s, rows = k.n * k.groups;
      // A large mean (5) over a spread of 3: the two-pass double statistics must keep it.
      auto x = random_values(total, 1, 2, 8);
      auto gamma = random_values(k.c, 2, 0.5f, 1.5f), beta = random_values(k.c, 3);
      std::vector<float> y(total), mean(rows), rstd(rows);
      KC::group_norm_forward(k.n, k.c, k.s, k.groups, x.data(), maybe(gamma, use_gamma),
                             maybe(beta, use_beta), 1e-5, y.data(), mean.data(), rstd.data());
      DeviceCopy dx_(x), dg(gamma), db(beta), dy(y), dm(mean), dr(rstd);
      KG::group_norm_forward(k.n, k.c, k.s, k.groups, dx_.p(), maybe(dg, use_gamma),
                             maybe(db, use_beta), 1e-5, dy.p(), dm.p(), dr.p());
      const std::string t = tag("group_norm_forward", {k.n, k.c, k.s, k.groups}, flags);
      expect_close(dy.host(), y, t + " y");
      expect_close(dm.host(), mean, t + " mean");
      expect_close(dr.host(), rstd, t + " rstd");
      // Deterministic: a second run gives the same bits.
      DeviceCopy dy2(y), dm2(mean), dr2(rstd);
      KG::group_norm_forward(k.n, k.c, k.s, k.groups, dx_.p(), maybe(dg, use_gamma),
                             maybe(db, use_beta), 1e-5, dy2.p(), dm2.p(), dr2.p());
      EXPECT_EQ(dy2.host(), dy.host()) << t;
      EXPECT_EQ(dr2.host(), dr.host()) << t;
    }
}

TEST(CudaNorm, GroupNormBackward) {
  MIMIC_REQUIRE_GPU();
  for (const GroupCase& k : kGroupCases)
    for (int flags = 0; flags < 32; ++flags) {
      const bool use_gamma = flags & 1, acc = flags & 2, want_dx = !(flags & 4),
                 want_dgamma = !(flags & 8), want_dbeta = !(flags & 16);
      if (!want_dx && !want_dgamma && !want_dbeta) continue;
      const int64_t total = k.n * k.c * k.s, rows = k.n * k.groups;
      auto x = random_values(total, 11, -2, 3), g = random_values(total, 12);
      auto gamma = random_values(k.c, 13, 0.5f, 1.5f);
      std::vector<float> y(total), mean(rows), rstd(rows);
      KC::group_norm_forward(k.n, k.c, k.s, k.groups, x.data(), gamma.data(),
                             static_cast<const float*>(nullptr), 1e-5, y.data(), mean.data(),
                             rstd.data());
      auto dx = random_values(total, 14), dgamma = random_values(k.c, 15),
           dbeta = random_values(k.c, 16);
      DeviceCopy d_x(x), d_g(g), d_gamma(gamma), d_mean(mean), d_rstd(rstd), d_dx(dx),
          d_dgamma(dgamma), d_dbeta(dbeta);
      KC::group_norm_backward(k.n, k.c, k.s, k.groups, x.data(), maybe(gamma, use_gamma),
                              mean.data(), rstd.data(), g.data(), maybe(dx, want_dx), acc,
                              maybe(dgamma, want_dgamma), acc, maybe(dbeta, want_dbeta), acc);
      KG::group_norm_backward(k.n, k.c, k.s, k.groups, d_x.p(), maybe(d_gamma, use_gamma),
                              d_mean.p(), d_rstd.p(), d_g.p(), maybe(d_dx, want_dx), acc,
                              maybe(d_dgamma, want_dgamma), acc, maybe(d_dbeta, want_dbeta), acc);
      const std::string t = tag("group_norm_backward", {k.n, k.c, k.s, k.groups}, flags);
      // Outputs not asked for stay untouched (they still equal the initial values on both).
      expect_close(d_dx.host(), dx, t + " dx");
      expect_close(d_dgamma.host(), dgamma, t + " dgamma");
      expect_close(d_dbeta.host(), dbeta, t + " dbeta");
    }
}

struct LayerCase {
  int64_t rows, m;
};
// Batch 1; m longer than a block and not a multiple of 32; many rows over few columns (the
// column-sum kernel's row loop); one row element (variance 0).
const LayerCase kLayerCases[] = {{1, 37}, {5, 1000}, {300, 3}, {7, 64}, {33, 257}, {4, 1}};

TEST(CudaNorm, LayerNormForward) {
  MIMIC_REQUIRE_GPU();
  for (const LayerCase& k : kLayerCases)
    for (int flags = 0; flags < 4; ++flags) {
      const bool use_gamma = flags & 1, use_beta = flags & 2;
      const int64_t total = k.rows * k.m;
      auto x = random_values(total, 21, -4, 6);
      auto gamma = random_values(k.m, 22, 0.5f, 1.5f), beta = random_values(k.m, 23);
      std::vector<float> y(total), mean(k.rows), rstd(k.rows);
      KC::layer_norm_forward(k.rows, k.m, x.data(), maybe(gamma, use_gamma), maybe(beta, use_beta),
                             1e-5, y.data(), mean.data(), rstd.data());
      DeviceCopy d_x(x), d_gamma(gamma), d_beta(beta), d_y(y), d_mean(mean), d_rstd(rstd);
      KG::layer_norm_forward(k.rows, k.m, d_x.p(), maybe(d_gamma, use_gamma),
                             maybe(d_beta, use_beta), 1e-5, d_y.p(), d_mean.p(), d_rstd.p());
      const std::string t = tag("layer_norm_forward", {k.rows, k.m}, flags);
      expect_close(d_y.host(), y, t + " y");
      expect_close(d_mean.host(), mean, t + " mean");
      expect_close(d_rstd.host(), rstd, t + " rstd");
    }
}

TEST(CudaNorm, LayerNormBackward) {
  MIMIC_REQUIRE_GPU();
  for (const LayerCase& k : kLayerCases)
    for (int flags = 0; flags < 32; ++flags) {
      const bool use_gamma = flags & 1, acc = flags & 2, want_dx = !(flags & 4),
                 want_dgamma = !(flags & 8), want_dbeta = !(flags & 16);
      if (!want_dx && !want_dgamma && !want_dbeta) continue;
      const int64_t total = k.rows * k.m;
      auto x = random_values(total, 31, -2, 3), g = random_values(total, 32);
      auto gamma = random_values(k.m, 33, 0.5f, 1.5f);
      std::vector<float> y(total), mean(k.rows), rstd(k.rows);
      KC::layer_norm_forward(k.rows, k.m, x.data(), gamma.data(),
                             static_cast<const float*>(nullptr), 1e-5, y.data(), mean.data(),
                             rstd.data());
      auto dx = random_values(total, 34), dgamma = random_values(k.m, 35),
           dbeta = random_values(k.m, 36);
      DeviceCopy d_x(x), d_g(g), d_gamma(gamma), d_mean(mean), d_rstd(rstd), d_dx(dx),
          d_dgamma(dgamma), d_dbeta(dbeta);
      KC::layer_norm_backward(k.rows, k.m, x.data(), maybe(gamma, use_gamma), mean.data(),
                              rstd.data(), g.data(), maybe(dx, want_dx), acc,
                              maybe(dgamma, want_dgamma), acc, maybe(dbeta, want_dbeta), acc);
      KG::layer_norm_backward(k.rows, k.m, d_x.p(), maybe(d_gamma, use_gamma), d_mean.p(),
                              d_rstd.p(), d_g.p(), maybe(d_dx, want_dx), acc,
                              maybe(d_dgamma, want_dgamma), acc, maybe(d_dbeta, want_dbeta), acc);
      const std::string t = tag("layer_norm_backward", {k.rows, k.m}, flags);
      expect_close(d_dx.host(), dx, t + " dx");
      expect_close(d_dgamma.host(), dgamma, t + " dgamma");
      expect_close(d_dbeta.host(), dbeta, t + " dbeta");
    }
}

struct BatchCase {
  int64_t n, c, s;
};
// Batch 1; s = 1 (BatchNorm1d, strided channel reads); channels 13; n * s longer than a block.
const BatchCase kBatchCases[] = {{1, 5, 9}, {7, 3, 1}, {4, 13, 50}, {2, 9, 300}, {1, 1, 1}};

TEST(CudaNorm, BatchNormStats) {
  MIMIC_REQUIRE_GPU();
  for (const BatchCase& k : kBatchCases) {
    const int64_t total = k.n * k.c * k.s;
    auto x = random_values(total, 41, 3, 7);  // large mean over the spread
    std::vector<float> mean(k.c), var(k.c);
    KC::batch_norm_stats(k.n, k.c, k.s, x.data(), mean.data(), var.data());
    DeviceCopy d_x(x), d_mean(mean), d_var(var);
    KG::batch_norm_stats(k.n, k.c, k.s, d_x.p(), d_mean.p(), d_var.p());
    const std::string t = tag("batch_norm_stats", {k.n, k.c, k.s}, 0);
    expect_close(d_mean.host(), mean, t + " mean");
    // n * s == 1: variance exactly 0 on both.
    if (k.n * k.s == 1)
      for (float v : d_var.host()) EXPECT_EQ(v, 0.0f) << t;
    else
      expect_close(d_var.host(), var, t + " var");
    DeviceCopy d_var2(var);
    KG::batch_norm_stats(k.n, k.c, k.s, d_x.p(), d_mean.p(), d_var2.p());
    EXPECT_EQ(d_var2.host(), d_var.host()) << t << " deterministic";
  }
}

TEST(CudaNorm, BatchNormUpdate) {
  MIMIC_REQUIRE_GPU();
  const int64_t c = 13;
  for (int64_t count : {int64_t(1), int64_t(2), int64_t(50)})
    for (int flags = 0; flags < 4; ++flags) {
      const bool use_rm = flags & 1, use_rv = flags & 2;
      auto mean = random_values(c, 51), var = random_values(c, 52, 0, 2);
      auto rm = random_values(c, 53), rv = random_values(c, 54, 0.5f, 1.5f);
      DeviceCopy d_mean(mean), d_var(var), d_rm(rm), d_rv(rv);
      KC::batch_norm_update(c, count, 0.1, 1e-5, mean.data(), var.data(), maybe(rm, use_rm),
                            maybe(rv, use_rv));
      KG::batch_norm_update(c, count, 0.1, 1e-5, d_mean.p(), d_var.p(), maybe(d_rm, use_rm),
                            maybe(d_rv, use_rv));
      const std::string t = tag("batch_norm_update", {c, count}, flags);
      expect_close(d_var.host(), var, t + " rstd");
      expect_close(d_rm.host(), rm, t + " running_mean");
      expect_close(d_rv.host(), rv, t + " running_var");
    }
}

TEST(CudaNorm, BatchNormEvalRstd) {
  MIMIC_REQUIRE_GPU();
  for (int64_t c : {int64_t(1), int64_t(13), int64_t(1001)}) {
    auto rv = random_values(c, 61, 0, 3);
    std::vector<float> rstd(c);
    KC::batch_norm_eval_rstd(c, 1e-5, rv.data(), rstd.data());
    DeviceCopy d_rv(rv), d_rstd(rstd);
    KG::batch_norm_eval_rstd(c, 1e-5, d_rv.p(), d_rstd.p());
    expect_close(d_rstd.host(), rstd, tag("batch_norm_eval_rstd", {c}, 0));
  }
}

TEST(CudaNorm, BatchNormApply) {
  MIMIC_REQUIRE_GPU();
  for (const BatchCase& k : kBatchCases)
    for (int flags = 0; flags < 4; ++flags) {
      const bool use_gamma = flags & 1, use_beta = flags & 2;
      const int64_t total = k.n * k.c * k.s;
      auto x = random_values(total, 71, -3, 3);
      auto mean = random_values(k.c, 72), rstd = random_values(k.c, 73, 0.5f, 2);
      auto gamma = random_values(k.c, 74, 0.5f, 1.5f), beta = random_values(k.c, 75);
      std::vector<float> y(total);
      KC::batch_norm_apply(k.n, k.c, k.s, x.data(), mean.data(), rstd.data(),
                           maybe(gamma, use_gamma), maybe(beta, use_beta), y.data());
      DeviceCopy d_x(x), d_mean(mean), d_rstd(rstd), d_gamma(gamma), d_beta(beta), d_y(y);
      KG::batch_norm_apply(k.n, k.c, k.s, d_x.p(), d_mean.p(), d_rstd.p(),
                           maybe(d_gamma, use_gamma), maybe(d_beta, use_beta), d_y.p());
      expect_close(d_y.host(), y, tag("batch_norm_apply", {k.n, k.c, k.s}, flags));
    }
}

TEST(CudaNorm, BatchNormBackward) {
  MIMIC_REQUIRE_GPU();
  for (const BatchCase& k : kBatchCases)
    for (int flags = 0; flags < 64; ++flags) {
      const bool use_gamma = flags & 1, acc = flags & 2, want_dx = !(flags & 4),
                 want_dgamma = !(flags & 8), want_dbeta = !(flags & 16), batch_stats = flags & 32;
      if (!want_dx && !want_dgamma && !want_dbeta) continue;
      const int64_t total = k.n * k.c * k.s;
      auto x = random_values(total, 81, -2, 3), g = random_values(total, 82);
      auto gamma = random_values(k.c, 83, 0.5f, 1.5f);
      // Statistics: the batch's own in training; arbitrary running ones in evaluation.
      std::vector<float> mean(k.c), rstd(k.c);
      if (batch_stats) {
        KC::batch_norm_stats(k.n, k.c, k.s, x.data(), mean.data(), rstd.data());
        KC::batch_norm_update(k.c, k.n * k.s, 0.1, 1e-5, mean.data(), rstd.data(),
                              static_cast<float*>(nullptr), static_cast<float*>(nullptr));
      } else {
        mean = random_values(k.c, 84);
        rstd = random_values(k.c, 85, 0.5f, 2);
      }
      auto dx = random_values(total, 86), dgamma = random_values(k.c, 87),
           dbeta = random_values(k.c, 88);
      DeviceCopy d_x(x), d_g(g), d_gamma(gamma), d_mean(mean), d_rstd(rstd), d_dx(dx),
          d_dgamma(dgamma), d_dbeta(dbeta);
      KC::batch_norm_backward(k.n, k.c, k.s, batch_stats, x.data(), maybe(gamma, use_gamma),
                              mean.data(), rstd.data(), g.data(), maybe(dx, want_dx), acc,
                              maybe(dgamma, want_dgamma), acc, maybe(dbeta, want_dbeta), acc);
      KG::batch_norm_backward(k.n, k.c, k.s, batch_stats, d_x.p(), maybe(d_gamma, use_gamma),
                              d_mean.p(), d_rstd.p(), d_g.p(), maybe(d_dx, want_dx), acc,
                              maybe(d_dgamma, want_dgamma), acc, maybe(d_dbeta, want_dbeta), acc);
      const std::string t = tag("batch_norm_backward", {k.n, k.c, k.s}, flags);
      expect_close(d_dx.host(), dx, t + " dx");
      expect_close(d_dgamma.host(), dgamma, t + " dgamma");
      expect_close(d_dbeta.host(), dbeta, t + " dbeta");
    }
}

// The whole chain as a layer uses it in training, on the GPU alone: stats, update, apply, then
// y per channel has mean ~beta and (biased) variance ~gamma^2 (checks the semantics directly,
// not only agreement with the CPU).
TEST(CudaNorm, BatchNormTrainingChainNormalizes) {
  MIMIC_REQUIRE_GPU();
  const int64_t n = 3, c = 11, s = 37, total = n * c * s;
  auto x = random_values(total, 91, 10, 20);
  auto gamma = random_values(c, 92, 0.5f, 1.5f), beta = random_values(c, 93);
  std::vector<float> zeros(c, 0.0f), ones(c, 1.0f), y(total);
  DeviceCopy d_x(x), d_gamma(gamma), d_beta(beta), d_mean(zeros), d_var(zeros), d_rm(zeros),
      d_rv(ones), d_y(y);
  KG::batch_norm_stats(n, c, s, d_x.p(), d_mean.p(), d_var.p());
  KG::batch_norm_update(c, n * s, 0.1, 1e-5, d_mean.p(), d_var.p(), d_rm.p(), d_rv.p());
  KG::batch_norm_apply(n, c, s, d_x.p(), d_mean.p(), d_var.p(), d_gamma.p(), d_beta.p(), d_y.p());
  const auto out = d_y.host(), mean = d_mean.host(), rm = d_rm.host();
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t j = 0; j < s; ++j) sum += out[(b * c + ch) * s + j];
    const double mu = sum / double(n * s);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t j = 0; j < s; ++j) {
        const double d = out[(b * c + ch) * s + j] - mu;
        sq += d * d;
      }
    EXPECT_NEAR(mu, beta[ch], 1e-4) << ch;
    EXPECT_NEAR(sq / double(n * s), double(gamma[ch]) * gamma[ch], 1e-3) << ch;
    EXPECT_NEAR(rm[ch], 0.1 * mean[ch], 1e-5) << ch;  // running mean moved from 0
    EXPECT_GT(mean[ch], 10.0f) << ch;
    EXPECT_LT(mean[ch], 20.0f) << ch;
  }
}

}  // namespace
}  // namespace mimic
