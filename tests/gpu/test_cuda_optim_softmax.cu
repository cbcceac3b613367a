// Kernels<Cuda>'s optim and softmax families against Kernels<Cpu>, on odd sizes, batch / outer 1,
// and every row-group shape of the softmax kernels (cuda/mimic/cuda/softmax.cuh). Skips without a
// GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mimic/cuda/kernels.cuh"
#include "mimic/mimic.hpp"
#include "support/compare.hpp"

namespace mimic {
namespace {

#define MIMIC_REQUIRE_GPU() \
  if (!cuda::cuda_available()) GTEST_SKIP() << "no CUDA device: GPU test skipped"

using CK = Kernels<Cpu>;
using GK = Kernels<Cuda>;

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> random_values(int64_t n, uint64_t seed, float lo = -1, float hi = 1) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * philox_uniform<float>(seed, i);
  return v;
}

template <class T>
Tensor<T, Cuda> to_device(const std::vector<T>& v) {
  return Tensor<T, Cuda>::from_vector(Shape{int64_t(v.size())}, v);
}

// gpu matches cpu: the same non-finite values in the same places (NaN where NaN, inf of the same
// sign), and relative error (support/compare.hpp) under tol over the finite ones.
void expect_close(const std::vector<float>& gpu, const std::vector<float>& cpu, double tol,
                  const std::string& what) {
  ASSERT_EQ(gpu.size(), cpu.size()) << what;
  std::vector<float> g, c;
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (std::isfinite(cpu[i])) {
      g.push_back(gpu[i]);
      c.push_back(cpu[i]);
    } else if (std::isnan(cpu[i])) {
      EXPECT_TRUE(std::isnan(gpu[i])) << what << " element " << i << ": " << gpu[i];
    } else {
      EXPECT_EQ(gpu[i], cpu[i]) << what << " element " << i;
    }
  }
  EXPECT_LT(testing::relative_error(g, c), tol) << what;
}

// ---- optim -------------------------------------------------------------------------------------

// The shared per-element math (backend/index/optim.hpp, softmax.hpp) that the CUDA kernels run,
// checked on the host against the CPU backend: runs without a GPU too.
TEST(CudaSharedIndexMath, HostRunMatchesCpuBackend) {
  const int64_t n = 1001;
  const auto g = random_values(n, 81);
  auto p = random_values(n, 82), m = random_values(n, 83, -0.1f, 0.1f),
       v = random_values(n, 84, 0.0f, 0.01f);
  auto p2 = p, m2 = m, v2 = v;
  for (bool decoupled : {false, true}) {
    const AdamHyper h{0.01, 0.9, 0.999, 1e-8, 0.05, 0.1, 1 / std::sqrt(1 - 0.999), decoupled};
    CK::adam_step(n, p.data(), g.data(), m.data(), v.data(), h);
    const auto c = index::AdamCoeffs<float>::from(h);
    for (int64_t i = 0; i < n; ++i) index::adam_update(p2[i], g[i], m2[i], v2[i], c);
  }
  EXPECT_LT(testing::relative_error(p2, p), 1e-6);
  EXPECT_LT(testing::relative_error(m2, m), 1e-6);
  EXPECT_LT(testing::relative_error(v2, v), 1e-6);

  auto q = random_values(n, 85), buf = random_values(n, 86);
  auto q2 = q, buf2 = buf;
  for (int t = 1; t <= 2; ++t) {
    CK::sgd_step(n, q.data(), g.data(), buf.data(), 0.1, 0.9, 0.01, t == 1);
    for (int64_t i = 0; i < n; ++i)
      index::sgd_update(q2[i], g[i], buf2[i], 0.1f, 0.9f, 0.01f, true, t == 1);
  }
  EXPECT_LT(testing::relative_error(q2, q), 1e-6);
  EXPECT_LT(testing::relative_error(buf2, buf), 1e-6);

  // Row layout: base / step / row_of agree with each other and with [outer, n, inner] order.
  const index::SoftmaxRows L{3, 5, 7};
  EXPECT_EQ(L.rows(), 21);
  std::vector<int> seen(static_cast<size_t>(3 * 5 * 7), 0);
  for (int64_t r = 0; r < L.rows(); ++r)
    for (int64_t k = 0; k < L.n; ++k) {
      const int64_t i = L.base(r) + k * L.step();
      ASSERT_LT(i, 3 * 5 * 7);
      EXPECT_EQ(L.row_of(i), r);
      EXPECT_EQ(i, (r / 7) * 35 + k * 7 + r % 7);
      ++seen[i];
    }
  for (int c : seen) EXPECT_EQ(c, 1);  // every element in exactly one row
}

TEST(CudaOptim, AdamAndAdamWMatchCpu) {
  MIMIC_REQUIRE_GPU();
  for (int64_t n : {int64_t(1), int64_t(7), int64_t(257), int64_t(100003)}) {
    for (bool decoupled : {false, true}) {
      const std::string what = "n " + std::to_string(n) + (decoupled ? " adamw" : " adam");
      auto p = random_values(n, 1), g = random_values(n, 2), m = random_values(n, 3, -0.1f, 0.1f),
           v = random_values(n, 4, 0.0f, 0.01f);
      const auto p0 = p;
      auto gp = to_device(p), gg = to_device(g), gm = to_device(m), gv = to_device(v);
      const double lr = 0.01, b1 = 0.9, b2 = 0.999;
      for (int t = 1; t <= 3; ++t) {
        const AdamHyper h{lr,
                          b1,
                          b2,
                          1e-8,
                          0.05,
                          lr / (1 - std::pow(b1, t)),
                          1 / std::sqrt(1 - std::pow(b2, t)),
                          decoupled};
        CK::adam_step(n, p.data(), g.data(), m.data(), v.data(), h);
        GK::adam_step(n, gp.data(), gg.data(), gm.data(), gv.data(), h);
      }
      // The comparison can see a step: the CPU moved p by far more than the tolerance.
      ASSERT_GT(testing::relative_error(p0, p), 1e-3) << what;
      expect_close(gp.to_vector(), p, 1e-5, what + " p");
      expect_close(gm.to_vector(), m, 1e-5, what + " m");
      expect_close(gv.to_vector(), v, 1e-5, what + " v");
      EXPECT_EQ(gg.to_vector(), g) << what << ": the gradient is read-only";
    }
  }
}

TEST(CudaOptim, SgdMatchesCpuWithAndWithoutMomentum) {
  MIMIC_REQUIRE_GPU();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t n : {int64_t(1), int64_t(33), int64_t(65537)}) {
    for (double momentum : {0.0, 0.9}) {
      const std::string what = "n " + std::to_string(n) + " momentum " + std::to_string(momentum);
      auto p = random_values(n, 11), g = random_values(n, 12);
      // NaN buffers: the first step (and momentum 0) must never read them.
      std::vector<float> buf(static_cast<size_t>(n), nan);
      const auto p0 = p;
      auto gp = to_device(p), gg = to_device(g), gb = to_device(buf);
      for (int t = 1; t <= 3; ++t) {
        CK::sgd_step(n, p.data(), g.data(), buf.data(), 0.1, momentum, 0.01, t == 1);
        GK::sgd_step(n, gp.data(), gg.data(), gb.data(), 0.1, momentum, 0.01, t == 1);
      }
      ASSERT_GT(testing::relative_error(p0, p), 1e-2) << what;
      expect_close(gp.to_vector(), p, 1e-5, what + " p");
      const auto gbuf = gb.to_vector();
      if (momentum > 0) {
        for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(std::isfinite(gbuf[i])) << what << " " << i;
        expect_close(gbuf, buf, 1e-5, what + " buf");
      } else {
        for (int64_t i = 0; i < n; ++i)
          ASSERT_TRUE(std::isnan(gbuf[i])) << what << ": buf written without momentum, " << i;
      }
    }
  }
}

TEST(CudaOptim, EmaAndScaleMatchCpu) {
  MIMIC_REQUIRE_GPU();
  for (int64_t n : {int64_t(1), int64_t(1023), int64_t(70001)}) {
    const std::string what = "n " + std::to_string(n);
    auto ema = random_values(n, 21), p = random_values(n, 22);
    auto ge = to_device(ema), gp = to_device(p);
    for (int t = 0; t < 2; ++t) {
      CK::ema_update(n, ema.data(), p.data(), 0.995);
      GK::ema_update(n, ge.data(), gp.data(), 0.995);
    }
    expect_close(ge.to_vector(), ema, 1e-5, what + " ema");

    auto x = random_values(n, 23);
    auto gx = to_device(x);
    CK::scale(n, x.data(), -0.37);
    GK::scale(n, gx.data(), -0.37);
    EXPECT_EQ(gx.to_vector(), x) << what << " scale: one float multiply, bit-identical";
  }
}

TEST(CudaOptim, SumSquaresMatchesCpuAndIsDeterministic) {
  MIMIC_REQUIRE_GPU();
  EXPECT_EQ(GK::sum_squares<float>(0, nullptr), 0.0);
  // Sizes around one block (256), the 1024-block grid (262144) and past it (grid-stride loop).
  for (int64_t n : {int64_t(1), int64_t(255), int64_t(256), int64_t(257), int64_t(65537),
                    int64_t(262145), int64_t(1000003)}) {
    const std::string what = "n " + std::to_string(n);
    const auto x = random_values(n, 31, -3, 3);
    const auto gx = to_device(x);
    const double cpu = CK::sum_squares(n, x.data());
    const double gpu = GK::sum_squares(n, gx.data());
    ASSERT_GT(cpu, 0) << what;
    EXPECT_LE(std::abs(gpu - cpu), 1e-12 * cpu) << what << ": gpu " << gpu << " cpu " << cpu;
    EXPECT_EQ(GK::sum_squares(n, gx.data()), gpu) << what << ": same inputs, same bits";
    // Exact in double: 0.5^2 = 0.25, and n * 0.25 needs far fewer than 53 bits.
    const auto half = to_device(std::vector<float>(static_cast<size_t>(n), 0.5f));
    EXPECT_EQ(GK::sum_squares(n, half.data()), 0.25 * double(n)) << what;
  }
  // Doubles reduce too.
  std::vector<double> xd(4099);
  for (size_t i = 0; i < xd.size(); ++i) xd[i] = 1e-3 * double(i) - 2;
  const auto gxd = to_device(xd);
  const double cpu = CK::sum_squares(int64_t(xd.size()), xd.data());
  EXPECT_LE(std::abs(GK::sum_squares(int64_t(xd.size()), gxd.data()) - cpu), 1e-12 * cpu);
}

// ---- softmax -----------------------------------------------------------------------------------

struct Layout {
  int64_t outer, n, inner;
  int64_t numel() const { return outer * n * inner; }
  int64_t rows() const { return outer * inner; }
  int64_t at(int64_t row, int64_t k) const {
    return (row / inner) * n * inner + row % inner + k * inner;
  }
  std::string name() const {
    return "[" + std::to_string(outer) + ", " + std::to_string(n) + ", " + std::to_string(inner) +
           "]";
  }
};

// Every row-group size of softmax.cuh: inner >= 32 (a thread per row), inner < 32 with n <= 1024
// (a warp per row) and n > 1024 (a block per row); outer 1, n 1, strided rows (inner > 1), and
// enough rows for the grid-stride loop over rows to turn (530001 rows * 32 > 65535 * 256).
const std::vector<Layout> kLayouts = {{1, 1, 1},    {1, 7, 1},     {3, 33, 1}, {5, 1000, 1},
                                      {2, 1025, 1}, {1, 3001, 1},  {3, 17, 5}, {2, 1500, 3},
                                      {2, 9, 40},   {1, 5, 33},    {4, 1, 7},  {1, 2049, 32},
                                      {7, 31, 1},   {530001, 2, 1}};

TEST(CudaSoftmax, ForwardMatchesCpu) {
  MIMIC_REQUIRE_GPU();
  for (const Layout& L : kLayouts) {
    auto x = random_values(L.numel(), 41, -8, 8);
    if (L.n >= 3) x[L.at(0, 1)] = -kInf;  // a -inf entry: its probability is exactly 0
    const auto gx = to_device(x);
    for (bool log : {false, true}) {
      const std::string what = L.name() + (log ? " log_softmax" : " softmax");
      std::vector<float> y(x.size());
      CK::softmax_forward(L.outer, L.n, L.inner, x.data(), y.data(), log);
      auto gy = Tensor<float, Cuda>::full(Shape{L.numel()}, 123.0f);
      GK::softmax_forward(L.outer, L.n, L.inner, gx.data(), gy.data(), log);
      const auto got = gy.to_vector();
      expect_close(got, y, 1e-5, what);
      if (!log && L.rows() <= 1000) {  // each row of probabilities sums to 1
        for (int64_t r = 0; r < L.rows(); ++r) {
          double s = 0;
          for (int64_t k = 0; k < L.n; ++k) s += got[L.at(r, k)];
          ASSERT_NEAR(s, 1.0, 1e-5) << what << " row " << r;
        }
      }
      if (L.n >= 3) EXPECT_EQ(got[L.at(0, 1)], log ? -kInf : 0.0f) << what;
    }
  }
}

TEST(CudaSoftmax, ForwardOfAnAllMinusInfRowIsNaNLikeTheCpu) {
  MIMIC_REQUIRE_GPU();
  const Layout L{3, 9, 1};
  auto x = random_values(L.numel(), 42);
  for (int64_t k = 0; k < L.n; ++k) x[L.at(1, k)] = -kInf;
  const auto gx = to_device(x);
  for (bool log : {false, true}) {
    std::vector<float> y(x.size());
    CK::softmax_forward(L.outer, L.n, L.inner, x.data(), y.data(), log);
    auto gy = Tensor<float, Cuda>::empty(Shape{L.numel()});
    GK::softmax_forward(L.outer, L.n, L.inner, gx.data(), gy.data(), log);
    expect_close(gy.to_vector(), y, 1e-5, log ? "log_softmax" : "softmax");
  }
}

TEST(CudaSoftmax, BackwardMatchesCpu) {
  MIMIC_REQUIRE_GPU();
  for (const Layout& L : kLayouts) {
    const auto x = random_values(L.numel(), 51, -4, 4);
    const auto gy = random_values(L.numel(), 52);
    const auto gx0 = random_values(L.numel(), 53);
    const auto dgy = to_device(gy);
    for (bool log : {false, true}) {
      std::vector<float> y(x.size());
      CK::softmax_forward(L.outer, L.n, L.inner, x.data(), y.data(), log);
      const auto dy = to_device(y);
      for (bool accumulate : {false, true}) {
        const std::string what =
            L.name() + (log ? " log_softmax" : " softmax") + (accumulate ? " accumulate" : "");
        auto gx = gx0;
        CK::softmax_backward(L.outer, L.n, L.inner, y.data(), gy.data(), gx.data(), log,
                             accumulate);
        auto dgx = to_device(gx0);
        GK::softmax_backward(L.outer, L.n, L.inner, dy.data(), dgy.data(), dgx.data(), log,
                             accumulate);
        expect_close(dgx.to_vector(), gx, 1e-5, what);
      }
    }
  }
}

TEST(CudaSoftmax, LogsumexpForwardMatchesCpu) {
  MIMIC_REQUIRE_GPU();
  for (const Layout& L : kLayouts) {
    const std::string what = L.name() + " logsumexp";
    auto x = random_values(L.numel(), 61, -8, 8);
    if (L.rows() >= 2)  // an all -inf row: logsumexp -inf, as on the CPU
      for (int64_t k = 0; k < L.n; ++k) x[L.at(1, k)] = -kInf;
    const auto gx = to_device(x);
    std::vector<float> y(static_cast<size_t>(L.rows()));
    CK::logsumexp_forward(L.outer, L.n, L.inner, x.data(), y.data());
    auto gy = Tensor<float, Cuda>::full(Shape{L.rows()}, 123.0f);
    GK::logsumexp_forward(L.outer, L.n, L.inner, gx.data(), gy.data());
    const auto got = gy.to_vector();
    expect_close(got, y, 1e-5, what);
    if (L.rows() >= 2) EXPECT_EQ(got[1], -kInf) << what;
  }
}

TEST(CudaSoftmax, LogsumexpBackwardMatchesCpu) {
  MIMIC_REQUIRE_GPU();
  for (const Layout& L : kLayouts) {
    const auto x = random_values(L.numel(), 71, -4, 4);
    std::vector<float> y(static_cast<size_t>(L.rows()));
    CK::logsumexp_forward(L.outer, L.n, L.inner, x.data(), y.data());
    const auto gy = random_values(L.rows(), 72);
    const auto gx0 = random_values(L.numel(), 73);
    const auto dx = to_device(x), dy = to_device(y), dgy = to_device(gy);
    for (bool accumulate : {false, true}) {
      const std::string what = L.name() + " logsumexp backward" + (accumulate ? " accumulate" : "");
      auto gx = gx0;
      CK::logsumexp_backward(L.outer, L.n, L.inner, x.data(), y.data(), gy.data(), gx.data(),
                             accumulate);
      auto dgx = to_device(gx0);
      GK::logsumexp_backward(L.outer, L.n, L.inner, dx.data(), dy.data(), dgy.data(), dgx.data(),
                             accumulate);
      expect_close(dgx.to_vector(), gx, 1e-5, what);
    }
  }
}

}  // namespace
}  // namespace mimic
