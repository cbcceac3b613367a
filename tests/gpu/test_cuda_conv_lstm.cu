// Kernels<Cuda>'s conv family (im2col_1d, col2im_1d, conv2d_plan, conv2d_forward, conv2d_backward)
// and recurrent family (lstm_cell_forward, lstm_cell_backward) against Kernels<Cpu>, in float on
// odd sizes: batch 1, channel counts that are not multiples of 8, stride 2, padding, dilation,
// groups, both conv2d GEMM layouts (planes below and above kPerSampleGemmPlane), accumulate flags.
// GPU tests skip without a device. The *Host tests need no GPU: they check the shared per-element
// index math (backend/index/{conv,recurrent}.hpp) that the CUDA kernels run against the CPU
// backend's loops, and the host-only conv2d_plan.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "mimic/backend/index/conv.hpp"
#include "mimic/backend/index/recurrent.hpp"
#include "mimic/cuda/kernels.cuh"
#include "mimic/mimic.hpp"
#include "support/compare.hpp"

namespace mimic {
namespace {

#define MIMIC_REQUIRE_GPU() \
  if (!cuda::cuda_available()) GTEST_SKIP() << "no CUDA device: GPU test skipped"

using CpuK = Kernels<Cpu>;
using GpuK = Kernels<Cuda>;

static_assert(GpuK::supports(KernelOp::im2col_1d) && GpuK::supports(KernelOp::col2im_1d) &&
                  GpuK::supports(KernelOp::conv2d_plan) &&
                  GpuK::supports(KernelOp::conv2d_forward) &&
                  GpuK::supports(KernelOp::conv2d_backward) &&
                  GpuK::supports(KernelOp::lstm_cell_forward) &&
                  GpuK::supports(KernelOp::lstm_cell_backward),
              "Kernels<Cuda> should list the conv and recurrent ops");

std::vector<float> random_values(int64_t n, uint64_t seed, float scale = 1.f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = (philox_uniform<float>(seed, i) * 2 - 1) * scale;
  return v;
}

// Device copy of host values (an empty vector gives a valid, unused allocation).
Tensor<float, Cuda> device(const std::vector<float>& v) {
  return Tensor<float, Cuda>::from_vector(Shape{int64_t(v.size())}, v);
}

// conv2d scratch: host buffers for the CPU, device buffers (freed at scope end) for CUDA.
struct HostScratch {
  std::deque<std::vector<float>> blocks;
  float* operator()(int64_t n) {
    return blocks.emplace_back(static_cast<size_t>(n > 0 ? n : 1)).data();
  }
};
struct DeviceScratch {
  std::vector<void*> blocks;
  DeviceScratch() = default;
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  ~DeviceScratch() {
    for (void* p : blocks) GpuK::deallocate(p);
  }
  float* operator()(int64_t n) {
    blocks.push_back(GpuK::allocate(size_t(n > 0 ? n : 1) * sizeof(float)));
    return static_cast<float*>(blocks.back());
  }
};

Conv1dGeometry geom1(int64_t n, int64_t c, int64_t l, int64_t k, int64_t s, int64_t p, int64_t d) {
  return Conv1dGeometry{n, c, l, k, (l + 2 * p - d * (k - 1) - 1) / s + 1, s, p, d};
}
Conv2dGeometry geom2(int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh,
                     int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  return Conv2dGeometry{n,
                        c,
                        h,
                        w,
                        kh,
                        kw,
                        (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1,
                        (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1,
                        sh,
                        sw,
                        ph,
                        pw,
                        dh,
                        dw};
}
std::string str(const Conv1dGeometry& g) {
  return "n" + std::to_string(g.n) + " c" + std::to_string(g.c) + " l" + std::to_string(g.l) +
         " k" + std::to_string(g.k) + " s" + std::to_string(g.stride) + " p" +
         std::to_string(g.padding) + " d" + std::to_string(g.dilation);
}
std::string str(const Conv2dGeometry& g) {
  return "n" + std::to_string(g.n) + " c" + std::to_string(g.c) + " " + std::to_string(g.h) + "x" +
         std::to_string(g.w) + " k" + std::to_string(g.kh) + "x" + std::to_string(g.kw) + " s" +
         std::to_string(g.sh) + "x" + std::to_string(g.sw) + " p" + std::to_string(g.ph) + "x" +
         std::to_string(g.pw) + " d" + std::to_string(g.dh) + "x" + std::to_string(g.dw) + " -> " +
         std::to_string(g.ho) + "x" + std::to_string(g.wo);
}

const Conv1dGeometry kGeoms1[] = {
    geom1(1, 3, 7, 3, 1, 1, 1),   geom1(2, 5, 11, 4, 2, 2, 1), geom1(3, 7, 16, 3, 1, 3, 3),
    geom1(1, 1, 1, 1, 1, 0, 1),   geom1(2, 9, 20, 5, 3, 0, 2), geom1(4, 6, 9, 2, 2, 1, 1),
    geom1(1, 13, 33, 7, 2, 3, 1),
};

struct Conv2dCase {
  Conv2dGeometry g;
  int64_t cout, groups;
};
// Planes below 256 take the channel-major GEMM, the 18x17 and 20x19 ones (or batch 1) the
// per-sample one.
const Conv2dCase kConv2dCases[] = {
    {geom2(1, 3, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1), 5, 1},    // batch 1, 3x3 same
    {geom2(2, 6, 11, 10, 3, 2, 2, 2, 1, 0, 1, 1), 9, 3},  // stride 2, groups 3, uneven pad
    {geom2(3, 5, 9, 8, 3, 3, 1, 1, 2, 2, 2, 2), 7, 1},    // dilation 2
    {geom2(1, 4, 20, 19, 5, 5, 1, 1, 2, 2, 1, 1), 6, 2},  // batch 1, large plane, groups 2
    {geom2(2, 3, 18, 17, 3, 3, 1, 1, 1, 1, 1, 1), 5, 1},  // per-sample GEMM over a batch
    {geom2(2, 6, 17, 18, 3, 3, 1, 1, 1, 1, 1, 1), 4, 2},  // per-sample GEMM with groups
    {geom2(4, 7, 6, 5, 1, 1, 1, 1, 0, 0, 1, 1), 11, 1},   // 1x1
    {geom2(2, 8, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1), 8, 8},    // depthwise, stride 2
    {geom2(2, 3, 13, 12, 7, 7, 2, 2, 3, 3, 1, 1), 4, 1},  // stem-like 7x7 stride 2
    {geom2(3, 10, 5, 7, 2, 3, 2, 1, 0, 1, 2, 1), 13, 1},  // mixed strides and dilations
};

// ---------------------------------------------------------------- host: shared index math ---

TEST(CudaConvIndexHost, Im2colCol2im1dMatchCpu) {
  for (const Conv1dGeometry& g : kGeoms1) {
    const int64_t rows = g.c * g.k, cols = g.n * g.lo, xn = g.n * g.c * g.l;
    const auto x = random_values(xn, 1);
    std::vector<float> ref(static_cast<size_t>(rows * cols)), got(ref.size());
    CpuK::im2col_1d(g, x.data(), ref.data());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t q = 0; q < cols; ++q) {
        const int64_t s = index::im2col_1d_source(g, r, q);
        got[r * cols + q] = s >= 0 ? x[s] : 0.f;
      }
    EXPECT_EQ(got, ref) << "im2col_1d " << str(g);
    const auto col = random_values(rows * cols, 2);
    for (bool acc : {false, true}) {
      std::vector<float> xr = random_values(xn, 3), xg = xr;
      CpuK::col2im_1d(g, col.data(), xr.data(), acc);
      for (int64_t e = 0; e < xn; ++e)
        xg[e] = index::col2im_1d_gather(g, col.data(), e, acc ? xg[e] : 0.f);
      EXPECT_EQ(xg, xr) << "col2im_1d " << str(g) << " acc " << acc;  // same sums, same order
    }
  }
}

TEST(CudaConvIndexHost, Im2colCol2im2dMatchCpu) {
  for (const Conv2dCase& cs : kConv2dCases) {
    const Conv2dGeometry& g = cs.g;
    const int64_t rows = g.c * g.kh * g.kw, cols = g.n * g.ho * g.wo, xn = g.n * g.c * g.h * g.w;
    const auto x = random_values(xn, 4);
    std::vector<float> ref(static_cast<size_t>(rows * cols)), got(ref.size());
    cpu::Conv::im2col_2d(g, x.data(), ref.data());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t q = 0; q < cols; ++q) {
        const int64_t s = index::im2col_2d_source(g, r, q);
        got[r * cols + q] = s >= 0 ? x[s] : 0.f;
      }
    EXPECT_EQ(got, ref) << "im2col_2d " << str(g);
    const auto col = random_values(rows * cols, 5);
    for (bool acc : {false, true}) {
      std::vector<float> xr = random_values(xn, 6), xg = xr;
      cpu::Conv::col2im_2d(g, col.data(), xr.data(), acc);
      for (int64_t e = 0; e < xn; ++e)
        xg[e] = index::col2im_2d_gather(g, col.data(), e, acc ? xg[e] : 0.f);
      EXPECT_EQ(xg, xr) << "col2im_2d " << str(g) << " acc " << acc;
    }
  }
}

struct LstmCase {
  int64_t batch, hidden, ld_dh_out;
  bool has_c_prev, has_dh_rec;
};
const LstmCase kLstmCases[] = {
    {1, 7, 7, true, true},  {5, 33, 33, false, false}, {3, 130, 263, true, false},
    {2, 1, 4, false, true}, {17, 45, 90, true, true},
};

// Runs the LSTM cell forward and backward with the shared per-element functions on the host.
void host_lstm(const LstmCase& lc, std::vector<float>& gates, const std::vector<float>& c_prev,
               std::vector<float>& c, std::vector<float>& tc, std::vector<float>& h,
               const std::vector<float>& dh_out, const std::vector<float>& dh_rec,
               std::vector<float>& dc, std::vector<float>& dgates) {
  const float* cp = lc.has_c_prev ? c_prev.data() : nullptr;
  for (int64_t b = 0; b < lc.batch; ++b)
    for (int64_t j = 0; j < lc.hidden; ++j)
      index::lstm_forward_element(lc.hidden, b, j, gates.data(), cp, c.data(), tc.data(), h.data());
  for (int64_t b = 0; b < lc.batch; ++b)
    for (int64_t j = 0; j < lc.hidden; ++j)
      index::lstm_backward_element(lc.hidden, b, j, gates.data(), cp, tc.data(), dh_out.data(),
                                   lc.ld_dh_out, lc.has_dh_rec ? dh_rec.data() : nullptr, dc.data(),
                                   dgates.data());
}

TEST(CudaLstmIndexHost, ElementMathMatchesCpu) {
  for (const LstmCase& lc : kLstmCases) {
    const int64_t B = lc.batch, H = lc.hidden;
    const auto pre = random_values(B * 4 * H, 10, 4.f);  // into the saturating range
    const auto c_prev = random_values(B * H, 11, 2.f);
    const auto dh_out = random_values(B * lc.ld_dh_out, 12);
    const auto dh_rec = random_values(B * H, 13);
    const auto dc0 = random_values(B * H, 14);
    std::vector<float> g_ref = pre, c_ref(B * H), tc_ref(B * H), h_ref(B * H), dc_ref = dc0,
                       dg_ref(B * 4 * H);
    const float* cp = lc.has_c_prev ? c_prev.data() : nullptr;
    CpuK::lstm_cell_forward(B, H, g_ref.data(), cp, c_ref.data(), tc_ref.data(), h_ref.data());
    CpuK::lstm_cell_backward(B, H, g_ref.data(), cp, tc_ref.data(), dh_out.data(), lc.ld_dh_out,
                             lc.has_dh_rec ? dh_rec.data() : nullptr, dc_ref.data(), dg_ref.data());
    std::vector<float> g = pre, c(B * H), tc(B * H), h(B * H), dc = dc0, dg(B * 4 * H);
    host_lstm(lc, g, c_prev, c, tc, h, dh_out, dh_rec, dc, dg);
    const std::string name = "B" + std::to_string(B) + " H" + std::to_string(H);
    // The CPU's forward uses Eigen's vectorized sigmoid/tanh: equal to rounding, not bitwise.
    EXPECT_LT(testing::relative_error(g, g_ref), 1e-6) << name << " gates";
    EXPECT_LT(testing::relative_error(c, c_ref), 1e-6) << name << " c";
    EXPECT_LT(testing::relative_error(tc, tc_ref), 1e-6) << name << " tanh_c";
    EXPECT_LT(testing::relative_error(h, h_ref), 1e-6) << name << " h";
    EXPECT_LT(testing::relative_error(dc, dc_ref), 1e-6) << name << " dc";
    EXPECT_LT(testing::relative_error(dg, dg_ref), 1e-6) << name << " dgates";
  }
}

TEST(CudaConvPlanHost, AlwaysIm2colAndRejectsWinograd) {
  const Conv2dGeometry g = geom2(2, 5, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1);
  for (Conv2dAlgorithm a : {Conv2dAlgorithm::automatic, Conv2dAlgorithm::im2col}) {
    const Conv2dPlan p = GpuK::conv2d_plan(g, 7, 1, a);
    EXPECT_EQ(p.variant, 0);
    EXPECT_EQ(p.saved_numel, g.c * g.kh * g.kw * g.n * g.ho * g.wo);
    EXPECT_EQ(p.saved_numel, CpuK::conv2d_plan(g, 7, 1, Conv2dAlgorithm::im2col).saved_numel);
  }
  for (Conv2dAlgorithm a :
       {Conv2dAlgorithm::winograd, Conv2dAlgorithm::winograd_2x2, Conv2dAlgorithm::winograd_4x4})
    EXPECT_THROW(GpuK::conv2d_plan(g, 7, 1, a), UnsupportedError);
  // A CPU Winograd plan handed to the CUDA kernels is refused before any device work.
  const Conv2dPlan wino = CpuK::conv2d_plan(g, 7, 1, Conv2dAlgorithm::winograd_2x2);
  ASSERT_NE(wino.variant, 0);
  DeviceScratch unused;
  EXPECT_THROW(
      GpuK::conv2d_forward(g, 7, 1, wino, (const float*)nullptr, (const float*)nullptr,
                           (const float*)nullptr, (float*)nullptr, (float*)nullptr, unused),
      UnsupportedError);
}

// ------------------------------------------------------------------------- GPU: conv ---------

TEST(CudaConv, Im2col1dMatchesCpu) {
  MIMIC_REQUIRE_GPU();
  for (const Conv1dGeometry& g : kGeoms1) {
    const int64_t rows = g.c * g.k, cols = g.n * g.lo;
    const auto x = random_values(g.n * g.c * g.l, 20);
    std::vector<float> ref(static_cast<size_t>(rows * cols));
    CpuK::im2col_1d(g, x.data(), ref.data());
    auto xd = device(x);
    auto cd = device(std::vector<float>(ref.size(), 7.f));  // garbage on entry is overwritten
    GpuK::im2col_1d(g, xd.data(), cd.data());
    EXPECT_EQ(cd.to_vector(), ref) << str(g);  // a pure copy: exact
  }
}

TEST(CudaConv, Col2im1dMatchesCpu) {
  MIMIC_REQUIRE_GPU();
  for (const Conv1dGeometry& g : kGeoms1) {
    const int64_t rows = g.c * g.k, cols = g.n * g.lo, xn = g.n * g.c * g.l;
    const auto col = random_values(rows * cols, 21);
    for (bool acc : {false, true}) {
      auto xr = random_values(xn, 22);
      auto xd = device(xr);
      auto cd = device(col);
      CpuK::col2im_1d(g, col.data(), xr.data(), acc);
      GpuK::col2im_1d(g, cd.data(), xd.data(), acc);
      const auto got = xd.to_vector();
      EXPECT_LT(testing::relative_error(got, xr), 1e-6) << str(g) << " acc " << acc;
      // Same terms added in the same order: expected bit-identical.
      EXPECT_EQ(got, xr) << str(g) << " acc " << acc;
    }
  }
}

TEST(CudaConv, Im2colCol2im2dMatchCpu) {
  MIMIC_REQUIRE_GPU();
  for (const Conv2dCase& cs : kConv2dCases) {
    const Conv2dGeometry& g = cs.g;
    const int64_t rows = g.c * g.kh * g.kw, cols = g.n * g.ho * g.wo, xn = g.n * g.c * g.h * g.w;
    const auto x = random_values(xn, 23);
    std::vector<float> ref(static_cast<size_t>(rows * cols));
    cpu::Conv::im2col_2d(g, x.data(), ref.data());
    auto xd = device(x);
    auto cd = device(std::vector<float>(ref.size(), -3.f));
    GpuK::im2col_2d(g, xd.data(), cd.data());
    EXPECT_EQ(cd.to_vector(), ref) << "im2col_2d " << str(g);
    const auto col = random_values(rows * cols, 24);
    auto cold = device(col);
    for (bool acc : {false, true}) {
      auto xr = random_values(xn, 25);
      auto xg = device(xr);
      cpu::Conv::col2im_2d(g, col.data(), xr.data(), acc);
      GpuK::col2im_2d(g, cold.data(), xg.data(), acc);
      const auto got = xg.to_vector();
      EXPECT_LT(testing::relative_error(got, xr), 1e-6) << "col2im_2d " << str(g) << " " << acc;
      EXPECT_EQ(got, xr) << "col2im_2d " << str(g) << " acc " << acc;
    }
  }
}

TEST(CudaConv, Conv2dForwardMatchesCpuIm2col) {
  MIMIC_REQUIRE_GPU();
  for (const Conv2dCase& cs : kConv2dCases) {
    const Conv2dGeometry& g = cs.g;
    const int64_t cing = g.c / cs.groups;
    const int64_t xn = g.n * g.c * g.h * g.w, wn = cs.cout * cing * g.kh * g.kw;
    const int64_t yn = g.n * cs.cout * g.ho * g.wo;
    const auto x = random_values(xn, 30), w = random_values(wn, 31), b = random_values(cs.cout, 32);
    const Conv2dPlan cp = CpuK::conv2d_plan(g, cs.cout, cs.groups, Conv2dAlgorithm::im2col);
    const Conv2dPlan gp = GpuK::conv2d_plan(g, cs.cout, cs.groups, Conv2dAlgorithm::automatic);
    ASSERT_EQ(gp.saved_numel, cp.saved_numel) << str(g);
    for (bool with_bias : {false, true}) {
      std::vector<float> y_ref(static_cast<size_t>(yn)),
          col_ref(static_cast<size_t>(cp.saved_numel));
      HostScratch hs;
      CpuK::conv2d_forward(g, cs.cout, cs.groups, cp, x.data(), w.data(),
                           with_bias ? b.data() : nullptr, y_ref.data(), col_ref.data(), hs);
      auto xd = device(x), wd = device(w), bd = device(b);
      auto yd = device(std::vector<float>(size_t(yn), 5.f));  // overwritten, not added to
      auto cold = device(std::vector<float>(size_t(gp.saved_numel), 5.f));
      {
        DeviceScratch ds;
        GpuK::conv2d_forward(g, cs.cout, cs.groups, gp, xd.data(), wd.data(),
                             with_bias ? bd.data() : nullptr, yd.data(), cold.data(), ds);
        MIMIC_CUDA_CHECK(cudaDeviceSynchronize());
      }
      EXPECT_LT(testing::relative_error(yd.to_vector(), y_ref), 1e-5)
          << str(g) << " cout " << cs.cout << " groups " << cs.groups << " bias " << with_bias;
      EXPECT_EQ(cold.to_vector(), col_ref) << "saved col " << str(g);
    }
  }
}

TEST(CudaConv, Conv2dBackwardMatchesCpuIm2col) {
  MIMIC_REQUIRE_GPU();
  for (const Conv2dCase& cs : kConv2dCases) {
    const Conv2dGeometry& g = cs.g;
    const int64_t cing = g.c / cs.groups;
    const int64_t xn = g.n * g.c * g.h * g.w, wn = cs.cout * cing * g.kh * g.kw;
    const int64_t yn = g.n * cs.cout * g.ho * g.wo;
    const auto x = random_values(xn, 40), w = random_values(wn, 41), dy = random_values(yn, 42);
    const Conv2dPlan cp = CpuK::conv2d_plan(g, cs.cout, cs.groups, Conv2dAlgorithm::im2col);
    const Conv2dPlan gp = GpuK::conv2d_plan(g, cs.cout, cs.groups, Conv2dAlgorithm::im2col);
    // The saved col, as each backend's forward pass leaves it.
    std::vector<float> y_ref(static_cast<size_t>(yn)), col_ref(static_cast<size_t>(cp.saved_numel));
    {
      HostScratch hs;
      CpuK::conv2d_forward(g, cs.cout, cs.groups, cp, x.data(), w.data(), (const float*)nullptr,
                           y_ref.data(), col_ref.data(), hs);
    }
    auto xd = device(x), wd = device(w), dyd = device(dy);
    auto yd = device(y_ref);
    auto cold = device(std::vector<float>(size_t(gp.saved_numel)));
    {
      DeviceScratch ds;
      GpuK::conv2d_forward(g, cs.cout, cs.groups, gp, xd.data(), wd.data(), (const float*)nullptr,
                           yd.data(), cold.data(), ds);
    }
    // (saved col or recomputed) x (dx only, dw only, both) x (overwrite, accumulate).
    for (int use_saved = 0; use_saved < 2; ++use_saved)
      for (int want = 1; want < 4; ++want)
        for (bool acc : {false, true}) {
          const bool want_dx = want & 1, want_dw = want & 2;
          std::vector<float> dx_ref = random_values(xn, 43), dw_ref = random_values(wn, 44);
          auto dxd = device(dx_ref), dwd = device(dw_ref);
          {
            HostScratch hs;
            CpuK::conv2d_backward(g, cs.cout, cs.groups, cp, x.data(), w.data(), dy.data(),
                                  use_saved ? col_ref.data() : nullptr,
                                  want_dx ? dx_ref.data() : nullptr, acc,
                                  want_dw ? dw_ref.data() : nullptr, acc, hs);
          }
          {
            DeviceScratch ds;
            GpuK::conv2d_backward(g, cs.cout, cs.groups, gp, xd.data(), wd.data(), dyd.data(),
                                  use_saved ? cold.data() : nullptr, want_dx ? dxd.data() : nullptr,
                                  acc, want_dw ? dwd.data() : nullptr, acc, ds);
            MIMIC_CUDA_CHECK(cudaDeviceSynchronize());
          }
          const std::string label = str(g) + " cout " + std::to_string(cs.cout) + " groups " +
                                    std::to_string(cs.groups) + " saved " +
                                    std::to_string(use_saved) + " acc " + std::to_string(acc);
          // Unwanted gradients stay untouched (still the random prefill on both sides).
          EXPECT_LT(testing::relative_error(dxd.to_vector(), dx_ref), 1e-5) << label << " dx";
          EXPECT_LT(testing::relative_error(dwd.to_vector(), dw_ref), 1e-5) << label << " dw";
        }
  }
}

// conv2d backward must match the adjoint identity on the GPU alone too: <conv(x), dy> equals
// <x, dx> for a bias-free convolution (dx from dy), and <w, dw> (dw from dy), in double.
TEST(CudaConv, Conv2dAdjointIdentityDouble) {
  MIMIC_REQUIRE_GPU();
  const Conv2dCase cs{geom2(2, 6, 11, 10, 3, 2, 2, 2, 1, 0, 1, 1), 9, 3};
  const Conv2dGeometry& g = cs.g;
  const int64_t xn = g.n * g.c * g.h * g.w, wn = cs.cout * (g.c / cs.groups) * g.kh * g.kw;
  const int64_t yn = g.n * cs.cout * g.ho * g.wo;
  auto to_d = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
  const auto x = to_d(random_values(xn, 50)), w = to_d(random_values(wn, 51));
  const auto dy = to_d(random_values(yn, 52));
  auto xd = Tensor<double, Cuda>::from_vector(Shape{xn}, x);
  auto wd = Tensor<double, Cuda>::from_vector(Shape{wn}, w);
  auto dyd = Tensor<double, Cuda>::from_vector(Shape{yn}, dy);
  auto yd = Tensor<double, Cuda>::empty(Shape{yn});
  auto dxd = Tensor<double, Cuda>::empty(Shape{xn});
  auto dwd = Tensor<double, Cuda>::empty(Shape{wn});
  const Conv2dPlan p = GpuK::conv2d_plan(g, cs.cout, cs.groups, Conv2dAlgorithm::automatic);
  auto cold = Tensor<double, Cuda>::empty(Shape{p.saved_numel});
  std::vector<void*> blocks;
  auto scratch = [&blocks](int64_t n) {
    blocks.push_back(GpuK::allocate(size_t(n > 0 ? n : 1) * sizeof(double)));
    return static_cast<double*>(blocks.back());
  };
  GpuK::conv2d_forward(g, cs.cout, cs.groups, p, xd.data(), wd.data(), (const double*)nullptr,
                       yd.data(), cold.data(), scratch);
  GpuK::conv2d_backward(g, cs.cout, cs.groups, p, xd.data(), wd.data(), dyd.data(), cold.data(),
                        dxd.data(), false, dwd.data(), false, scratch);
  MIMIC_CUDA_CHECK(cudaDeviceSynchronize());
  for (void* b : blocks) GpuK::deallocate(b);
  const auto y = yd.to_vector(), dx = dxd.to_vector(), dw = dwd.to_vector();
  double ydy = 0, xdx = 0, wdw = 0;
  for (int64_t i = 0; i < yn; ++i) ydy += y[i] * dy[i];
  for (int64_t i = 0; i < xn; ++i) xdx += x[i] * dx[i];
  for (int64_t i = 0; i < wn; ++i) wdw += w[i] * dw[i];
  // Bilinear in (x, w): <y, dy> = <x, dL/dx> = <w, dL/dw>.
  EXPECT_NEAR(xdx, ydy, 1e-10 * (1 + std::abs(ydy)));
  EXPECT_NEAR(wdw, ydy, 1e-10 * (1 + std::abs(ydy)));
  EXPECT_GT(std::abs(ydy), 1e-3);  // not a vacuous zero
}

// ------------------------------------------------------------------------- GPU: LSTM ---------

TEST(CudaLstm, CellForwardBackwardMatchCpu) {
  MIMIC_REQUIRE_GPU();
  for (const LstmCase& lc : kLstmCases) {
    const int64_t B = lc.batch, H = lc.hidden;
    const auto pre = random_values(B * 4 * H, 60, 4.f);
    const auto c_prev = random_values(B * H, 61, 2.f);
    const auto dh_out = random_values(B * lc.ld_dh_out, 62);
    const auto dh_rec = random_values(B * H, 63);
    const auto dc0 = random_values(B * H, 64);
    const float* cp = lc.has_c_prev ? c_prev.data() : nullptr;
    std::vector<float> g_ref = pre, c_ref(B * H), tc_ref(B * H), h_ref(B * H), dc_ref = dc0,
                       dg_ref(B * 4 * H);
    CpuK::lstm_cell_forward(B, H, g_ref.data(), cp, c_ref.data(), tc_ref.data(), h_ref.data());
    CpuK::lstm_cell_backward(B, H, g_ref.data(), cp, tc_ref.data(), dh_out.data(), lc.ld_dh_out,
                             lc.has_dh_rec ? dh_rec.data() : nullptr, dc_ref.data(), dg_ref.data());

    auto gd = device(pre), cpd = device(c_prev), dhod = device(dh_out), dhrd = device(dh_rec);
    auto dcd = device(dc0);
    const std::vector<float> junk(size_t(B * H), 9.f);
    auto cd = device(junk), tcd = device(junk), hd = device(junk);
    auto dgd = device(std::vector<float>(size_t(B * 4 * H), 9.f));
    GpuK::lstm_cell_forward(B, H, gd.data(), lc.has_c_prev ? cpd.data() : nullptr, cd.data(),
                            tcd.data(), hd.data());
    GpuK::lstm_cell_backward(B, H, gd.data(), lc.has_c_prev ? cpd.data() : nullptr, tcd.data(),
                             dhod.data(), lc.ld_dh_out, lc.has_dh_rec ? dhrd.data() : nullptr,
                             dcd.data(), dgd.data());
    MIMIC_CUDA_CHECK(cudaDeviceSynchronize());
    const std::string name = "B" + std::to_string(B) + " H" + std::to_string(H) + " c_prev " +
                             std::to_string(lc.has_c_prev) + " dh_rec " +
                             std::to_string(lc.has_dh_rec);
    EXPECT_LT(testing::relative_error(gd.to_vector(), g_ref), 1e-5) << name << " gates";
    EXPECT_LT(testing::relative_error(cd.to_vector(), c_ref), 1e-5) << name << " c";
    EXPECT_LT(testing::relative_error(tcd.to_vector(), tc_ref), 1e-5) << name << " tanh_c";
    EXPECT_LT(testing::relative_error(hd.to_vector(), h_ref), 1e-5) << name << " h";
    EXPECT_LT(testing::relative_error(dcd.to_vector(), dc_ref), 1e-5) << name << " dc";
    EXPECT_LT(testing::relative_error(dgd.to_vector(), dg_ref), 1e-5) << name << " dgates";
  }
}

}  // namespace
}  // namespace mimic
