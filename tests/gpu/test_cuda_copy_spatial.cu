// Kernels<Cuda>'s copy and spatial families against Kernels<Cpu>: scatter_strided, gather and its
// backward, max pooling with saved indices, adaptive average pooling and crops, kernel by kernel
// (every accumulate flag, odd sizes, batch 1, stride != kernel, repeated indices, ties, NaN,
// all-padding windows) and through the ops on a tape. The GPU tests skip without a device; the
// CudaIndexMath tests run the shared per-element math (backend/index/) on the host, element by
// element, against the CPU kernels, so they check the kernels' arithmetic on any machine.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "mimic/backend/index/copy.hpp"
#include "mimic/backend/index/spatial.hpp"
#include "mimic/cuda/kernels.cuh"
#include "mimic/mimic.hpp"
#include "support/compare.hpp"

namespace mimic {
namespace {

#define MIMIC_REQUIRE_GPU() \
  if (!cuda::cuda_available()) GTEST_SKIP() << "no CUDA device: GPU test skipped"

using KC = Kernels<Cpu>;
using KG = Kernels<Cuda>;

std::vector<float> random_floats(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = philox_uniform<float>(seed, i) * 2 - 1;
  return v;
}
// Small integers: many exact ties inside pooling windows.
std::vector<float> tied_floats(int64_t n, uint64_t seed, int levels) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = float(int(philox_uniform<float>(seed, i) * levels));
  return v;
}
std::vector<int64_t> random_indices(int64_t n, int64_t bound, uint64_t seed) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t k = int64_t(philox_uniform<float>(seed, i) * float(bound));
    v[i] = k < bound ? k : bound - 1;
  }
  return v;
}

template <class T>
Tensor<T, Cuda> up(const std::vector<T>& v) {
  return Tensor<T, Cuda>::from_vector(Shape{int64_t(v.size())}, v);
}

// Equal element for element, NaN equal to NaN (max pooling's values are exact copies).
void expect_same_floats(const std::vector<float>& got, const std::vector<float>& want,
                        const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << what << " element " << i;
    } else {
      EXPECT_EQ(got[i], want[i]) << what << " element " << i;
    }
  }
}
void expect_close(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  EXPECT_LT(testing::relative_error(got, want), 1e-5) << what;
  bool any_nan = false;
  for (float v : got) any_nan |= std::isnan(v);
  EXPECT_FALSE(any_nan) << what;
}

Conv2dGeometry geometry(int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                        int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  const int64_t ho = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
  const int64_t wo = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
  return {n, c, h, w, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw};
}
// Odd sizes, batch 1, stride below / equal to / above the kernel, dilation, rectangular windows,
// and one geometry (the last) whose first window rows and columns lie wholly in the padding.
std::vector<Conv2dGeometry> pool_geometries() {
  return {
      geometry(1, 3, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1), geometry(2, 1, 5, 5, 2, 2, 1, 1, 0, 0, 1, 1),
      geometry(1, 2, 9, 7, 3, 3, 3, 3, 1, 1, 1, 1), geometry(3, 2, 11, 8, 3, 2, 2, 3, 1, 1, 2, 1),
      geometry(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1), geometry(2, 3, 13, 6, 4, 3, 1, 2, 2, 1, 1, 1),
      geometry(1, 2, 5, 4, 2, 2, 3, 3, 2, 2, 1, 1)};
}

struct CropCase {
  int64_t n, c, h, w, ch, cw, crops;
};
std::vector<CropCase> crop_cases() {
  return {
      {3, 2, 9, 7, 5, 4, 2}, {1, 1, 6, 5, 4, 3, 3}, {2, 3, 8, 8, 8, 8, 1}, {1, 2, 7, 9, 1, 1, 4}};
}
std::vector<int64_t> crop_offsets(const CropCase& k, uint64_t seed) {
  std::vector<int64_t> off(static_cast<size_t>(2 * k.n * k.crops));
  const auto tops = random_indices(k.n * k.crops, k.h - k.ch + 1, seed);
  const auto lefts = random_indices(k.n * k.crops, k.w - k.cw + 1, seed + 1);
  for (int64_t o = 0; o < k.n * k.crops; ++o) {
    off[2 * o] = tops[o];
    off[2 * o + 1] = lefts[o];
  }
  return off;
}

// ---------------------------------------------------------------------------------------------
// Host checks of the shared index math (no GPU needed): each per-element function, run over the
// whole tensor, reproduces the CPU kernel bit for bit.

TEST(CudaIndexMath, CoveringRangesMatchBruteForce) {
  for (int64_t size = 1; size <= 9; ++size)
    for (int64_t k = 1; k <= 4; ++k)
      for (int64_t s = 1; s <= 4; ++s)
        for (int64_t d = 1; d <= 2; ++d)
          for (int64_t pad = 0; pad <= 2; ++pad) {
            const int64_t out = (size + 2 * pad - d * (k - 1) - 1) / s + 1;
            if (out < 1) continue;
            for (int64_t pos = 0; pos < size; ++pos) {
              int64_t lo, hi;
              index::covering_outputs(pos, pad, s, d, k, out, lo, hi);
              for (int64_t o = 0; o < out; ++o) {
                bool uses = false;
                for (int64_t i = 0; i < k; ++i) uses |= o * s - pad + i * d == pos;
                if (uses)
                  EXPECT_TRUE(o >= lo && o < hi) << size << " " << k << " " << s << " " << pos;
              }
            }
          }
  for (int64_t in = 1; in <= 12; ++in)
    for (int64_t out = 1; out <= 12; ++out)
      for (int64_t a = 0; a < in; ++a) {
        int64_t lo, hi;
        index::adaptive_bins_covering(a, in, out, lo, hi);
        for (int64_t i = 0; i < out; ++i) {
          const bool inside =
              index::adaptive_bin_start(i, in, out) <= a && a < index::adaptive_bin_end(i, in, out);
          EXPECT_EQ(inside, i >= lo && i < hi) << in << " " << out << " " << a << " " << i;
        }
      }
}

TEST(CudaIndexMath, MaxPoolMatchesCpuBitForBit) {
  for (const Conv2dGeometry& g : pool_geometries()) {
    auto x = tied_floats(g.n * g.c * g.h * g.w, 11, 3);
    x[x.size() / 2] = NAN;
    const int64_t ny = g.n * g.c * g.ho * g.wo, nx = g.n * g.c * g.h * g.w;
    std::vector<float> y(ny), y2(ny);
    std::vector<int32_t> am(ny), am2(ny);
    KC::max_pool2d_forward(g, x.data(), y.data(), am.data());
    for (int64_t e = 0; e < ny; ++e) {
      const int64_t p = e / (g.ho * g.wo), o = e % (g.ho * g.wo);
      am2[e] =
          int32_t(index::max_pool_window(g, x.data() + p * g.h * g.w, o / g.wo, o % g.wo, y2[e]));
    }
    EXPECT_EQ(am2, am);
    expect_same_floats(y2, y, "max pool forward (host index math)");
    const auto dy = random_floats(ny, 12);
    for (bool acc : {false, true}) {
      std::vector<float> dx = random_floats(nx, 13), dx2 = dx;
      KC::max_pool2d_backward_indexed(g, am.data(), dy.data(), dx.data(), acc);
      for (int64_t e = 0; e < nx; ++e) {
        const int64_t p = e / (g.h * g.w), pix = e % (g.h * g.w);
        dx2[e] = index::max_pool_backward_pixel(g, am.data() + p * g.ho * g.wo,
                                                dy.data() + p * g.ho * g.wo, pix / g.w, pix % g.w,
                                                acc ? dx2[e] : 0.f);
      }
      EXPECT_EQ(dx2, dx) << "max pool backward, accumulate " << acc;
    }
  }
}

TEST(CudaIndexMath, AdaptiveAvgAndCropMatchCpuBitForBit) {
  const int64_t sizes[][4] = {{7, 9, 3, 4}, {5, 5, 1, 1}, {4, 6, 7, 5}, {1, 1, 2, 3}, {6, 6, 6, 6}};
  const int64_t planes = 5;
  for (const auto& s : sizes) {
    const int64_t h = s[0], w = s[1], ho = s[2], wo = s[3];
    const auto x = random_floats(planes * h * w, 21);
    std::vector<float> y(planes * ho * wo), y2(y.size());
    KC::adaptive_avg_pool2d_forward(planes, h, w, ho, wo, x.data(), y.data());
    for (int64_t e = 0; e < int64_t(y.size()); ++e)
      y2[e] = index::adaptive_avg_output(x.data() + e / (ho * wo) * h * w, h, w, ho, wo,
                                         e % (ho * wo) / wo, e % wo);
    EXPECT_EQ(y2, y);
    const auto dy = random_floats(planes * ho * wo, 22);
    for (bool acc : {false, true}) {
      std::vector<float> dx = random_floats(planes * h * w, 23), dx2 = dx;
      KC::adaptive_avg_pool2d_backward(planes, h, w, ho, wo, dy.data(), dx.data(), acc);
      for (int64_t e = 0; e < int64_t(dx.size()); ++e)
        dx2[e] = index::adaptive_avg_backward_pixel(dy.data() + e / (h * w) * ho * wo, h, w, ho, wo,
                                                    e % (h * w) / w, e % w, acc ? dx2[e] : 0.f);
      EXPECT_EQ(dx2, dx) << "adaptive backward, accumulate " << acc;
    }
  }
  for (const CropCase& k : crop_cases()) {
    const auto off = crop_offsets(k, 31);
    const auto x = random_floats(k.n * k.c * k.h * k.w, 32);
    std::vector<float> y(k.n * k.crops * k.c * k.ch * k.cw), y2(y.size());
    KC::crop2d_forward(k.n, k.c, k.h, k.w, k.ch, k.cw, k.crops, off.data(), x.data(), y.data());
    for (int64_t e = 0; e < int64_t(y.size()); ++e)
      y2[e] = x[index::crop2d_source(k.c, k.h, k.w, k.ch, k.cw, k.crops, off.data(), e)];
    EXPECT_EQ(y2, y);
    const auto dy = random_floats(int64_t(y.size()), 33);
    for (bool acc : {false, true}) {
      std::vector<float> dx = random_floats(int64_t(x.size()), 34), dx2 = dx;
      KC::crop2d_backward(k.n, k.c, k.h, k.w, k.ch, k.cw, k.crops, off.data(), dy.data(), dx.data(),
                          acc);
      for (int64_t e = 0; e < int64_t(dx.size()); ++e)
        dx2[e] = index::crop2d_backward_pixel(k.c, k.h, k.w, k.ch, k.cw, k.crops, off.data(),
                                              dy.data(), e, acc ? dx2[e] : 0.f);
      EXPECT_EQ(dx2, dx) << "crop backward, accumulate " << acc;
    }
  }
}

struct GatherCase {
  Shape x, index;
  int axis;
};
std::vector<GatherCase> gather_cases() {
  return {{{4, 7, 5}, {3, 6, 5}, 1},  {{4, 7, 5}, {9, 7, 2}, 0},
          {{4, 7, 5}, {4, 7, 11}, 2}, {{9}, {20}, 0},
          {{1, 3}, {1, 1}, 1},        {{2, 1, 3, 5}, {2, 1, 3, 4}, 3}};
}

TEST(CudaIndexMath, GatherMatchesCpuBitForBit) {
  for (const GatherCase& k : gather_cases()) {
    const auto x = random_floats(k.x.numel(), 41);
    const auto idx = random_indices(k.index.numel(), k.x[k.axis], 42);
    const Strides xs = contiguous_strides(k.x);
    std::vector<float> y(k.index.numel()), y2(y.size());
    KC::gather(k.index, k.axis, x.data(), xs, idx.data(), y.data());
    for (int64_t i = 0; i < int64_t(y.size()); ++i)
      y2[i] = x[index::gather_source(k.index, k.axis, xs, idx.data(), i)];
    EXPECT_EQ(y2, y);
    const auto g = random_floats(k.index.numel(), 43);
    std::vector<float> gx = random_floats(k.x.numel(), 44), gx2 = gx;
    KC::gather_backward(k.index, k.axis, gx.data(), xs, idx.data(), g.data());
    const index::GatherFibers f = index::gather_fibers(k.index, k.axis, xs);
    for (int64_t fiber = f.outer.numel() - 1; fiber >= 0; --fiber)  // any fiber order works
      index::gather_backward_fiber(f, gx2.data(), idx.data(), g.data(), fiber);
    EXPECT_EQ(gx2, gx);
  }
}

// ---------------------------------------------------------------------------------------------
// Kernels<Cuda> against Kernels<Cpu>.

TEST(CudaCopy, ScatterStrided) {
  MIMIC_REQUIRE_GPU();
  // A permutation of [3, 1, 5, 7] (destination [7, 3, 5, 1] read through permuted strides) and a
  // slice [2:5) of axis 1 of [3, 9, 7] (destination offset and strides of the whole tensor).
  struct Case {
    Shape shape;
    Strides st;
    int64_t dst_n, offset;
  };
  const Shape perm_dst{7, 3, 5, 1};
  const Strides pd = contiguous_strides(perm_dst);
  const Shape slice_dst{3, 9, 7};
  const Strides sd = contiguous_strides(slice_dst);
  const std::vector<Case> cases = {
      {{3, 1, 5, 7}, Strides{{pd[1], pd[3], pd[2], pd[0]}}, perm_dst.numel(), 0},
      {{3, 3, 7}, sd, slice_dst.numel(), 2 * sd[1]},
      {{1}, Strides{{1}}, 1, 0},
      {Shape{}, Strides{}, 1, 0}};
  for (const Case& k : cases)
    for (bool acc : {false, true}) {
      const auto src = random_floats(k.shape.numel(), 51);
      std::vector<float> dst = random_floats(k.dst_n, 52);
      auto gsrc = up(src);
      auto gdst = up(dst);
      KC::scatter_strided(k.shape, dst.data() + k.offset, k.st, src.data(), acc);
      KG::scatter_strided(k.shape, gdst.data() + k.offset, k.st, gsrc.data(), acc);
      expect_close(gdst.to_vector(), dst, "scatter_strided");
      EXPECT_EQ(gdst.to_vector(), dst) << "scatter_strided, accumulate " << acc;
    }
}

TEST(CudaCopy, GatherAndBackward) {
  MIMIC_REQUIRE_GPU();
  for (const GatherCase& k : gather_cases()) {
    const auto x = random_floats(k.x.numel(), 61);
    const auto idx = random_indices(k.index.numel(), k.x[k.axis], 62);
    const Strides xs = contiguous_strides(k.x);
    std::vector<float> y(k.index.numel());
    KC::gather(k.index, k.axis, x.data(), xs, idx.data(), y.data());
    auto gxv = up(x);
    auto gidx = up(idx);
    auto gy = Tensor<float, Cuda>::zeros(Shape{int64_t(y.size())});
    KG::gather(k.index, k.axis, gxv.data(), xs, gidx.data(), gy.data());
    expect_close(gy.to_vector(), y, "gather");
    EXPECT_EQ(gy.to_vector(), y) << "gather " << k.x.str() << " axis " << k.axis;

    const auto g = random_floats(k.index.numel(), 63);
    std::vector<float> gx = random_floats(k.x.numel(), 64);
    auto ggx = up(gx);
    auto gg = up(g);
    KC::gather_backward(k.index, k.axis, gx.data(), xs, idx.data(), g.data());
    KG::gather_backward(k.index, k.axis, ggx.data(), xs, gidx.data(), gg.data());
    expect_close(ggx.to_vector(), gx, "gather_backward");
  }
}

TEST(CudaSpatial, MaxPool2d) {
  MIMIC_REQUIRE_GPU();
  for (const Conv2dGeometry& g : pool_geometries()) {
    const int64_t ny = g.n * g.c * g.ho * g.wo, nx = g.n * g.c * g.h * g.w;
    for (int variant = 0; variant < 3; ++variant) {
      // 0: random values, 1: many ties, 2: ties plus NaNs.
      auto x = variant == 0 ? random_floats(nx, 71) : tied_floats(nx, 72, 3);
      if (variant == 2)
        for (int64_t i = 0; i < nx; i += 7) x[i] = NAN;
      std::vector<float> y(ny);
      std::vector<int32_t> am(ny);
      KC::max_pool2d_forward(g, x.data(), y.data(), am.data());
      auto gx = up(x);
      auto gyv = Tensor<float, Cuda>::zeros(Shape{ny});
      auto gam = Tensor<int32_t, Cuda>::zeros(Shape{ny});
      KG::max_pool2d_forward(g, gx.data(), gyv.data(), gam.data());
      EXPECT_EQ(gam.to_vector(), am) << "argmax, variant " << variant;
      expect_same_floats(gyv.to_vector(), y, "max_pool2d_forward");
      // Without argmax: the same values.
      auto gy2 = Tensor<float, Cuda>::zeros(Shape{ny});
      KG::max_pool2d_forward(g, gx.data(), gy2.data(), static_cast<int32_t*>(nullptr));
      expect_same_floats(gy2.to_vector(), y, "max_pool2d_forward without argmax");

      const auto dy = random_floats(ny, 73);
      auto gdy = up(dy);
      for (bool acc : {false, true}) {
        std::vector<float> dx = random_floats(nx, 74);
        auto gdx = up(dx);
        KC::max_pool2d_backward_indexed(g, am.data(), dy.data(), dx.data(), acc);
        KG::max_pool2d_backward_indexed(g, gam.data(), gdy.data(), gdx.data(), acc);
        expect_close(gdx.to_vector(), dx, "max_pool2d_backward_indexed");
      }
    }
  }
}

TEST(CudaSpatial, MaxPool2dAllPaddingWindow) {
  MIMIC_REQUIRE_GPU();
  const Conv2dGeometry g = pool_geometries().back();
  const int64_t ny = g.n * g.c * g.ho * g.wo;
  auto gx = up(random_floats(g.n * g.c * g.h * g.w, 75));
  auto gy = Tensor<float, Cuda>::zeros(Shape{ny});
  auto gam = Tensor<int32_t, Cuda>::zeros(Shape{ny});
  KG::max_pool2d_forward(g, gx.data(), gy.data(), gam.data());
  const auto y = gy.to_vector();
  const auto am = gam.to_vector();
  // 5x4 planes, 2x2 windows at stride 3 with padding 2: output (0, 0) covers rows and columns
  // -2..-1, output (2, 2) columns 4..5 (all padding); output (1, 1) is inside the image.
  ASSERT_EQ(g.ho, 3);
  ASSERT_EQ(g.wo, 3);
  for (int64_t p = 0; p < g.n * g.c; ++p) {
    for (int64_t o : {0, 8}) {
      EXPECT_EQ(am[p * 9 + o], -1);
      EXPECT_TRUE(std::isinf(y[p * 9 + o]) && y[p * 9 + o] < 0);
    }
    EXPECT_GE(am[p * 9 + 4], 0);
    EXPECT_TRUE(std::isfinite(y[p * 9 + 4]));
  }
  // Backward skips the -1 entries: every pixel's gradient comes from windows inside the image.
  auto gdy = Tensor<float, Cuda>::full(Shape{ny}, 1.f);
  auto gdx = Tensor<float, Cuda>::zeros(Shape{g.n * g.c * g.h * g.w});
  KG::max_pool2d_backward_indexed(g, gam.data(), gdy.data(), gdx.data(), false);
  double total = 0;
  for (float v : gdx.to_vector()) total += v;
  int64_t inside = 0;
  for (int32_t a : am) inside += a >= 0;
  EXPECT_EQ(total, double(inside));
}

TEST(CudaSpatial, AdaptiveAvgPool2d) {
  MIMIC_REQUIRE_GPU();
  const int64_t sizes[][5] = {{5, 7, 9, 3, 4}, {3, 5, 5, 1, 1}, {1, 4, 6, 7, 5},
                              {2, 1, 1, 2, 3}, {1, 6, 6, 6, 6}, {4, 11, 3, 2, 3}};
  for (const auto& s : sizes) {
    const int64_t planes = s[0], h = s[1], w = s[2], ho = s[3], wo = s[4];
    const auto x = random_floats(planes * h * w, 81);
    std::vector<float> y(planes * ho * wo);
    KC::adaptive_avg_pool2d_forward(planes, h, w, ho, wo, x.data(), y.data());
    auto gx = up(x);
    auto gy = Tensor<float, Cuda>::zeros(Shape{int64_t(y.size())});
    KG::adaptive_avg_pool2d_forward(planes, h, w, ho, wo, gx.data(), gy.data());
    expect_close(gy.to_vector(), y, "adaptive_avg_pool2d_forward");
    const auto dy = random_floats(int64_t(y.size()), 82);
    auto gdy = up(dy);
    for (bool acc : {false, true}) {
      std::vector<float> dx = random_floats(int64_t(x.size()), 83);
      auto gdx = up(dx);
      KC::adaptive_avg_pool2d_backward(planes, h, w, ho, wo, dy.data(), dx.data(), acc);
      KG::adaptive_avg_pool2d_backward(planes, h, w, ho, wo, gdy.data(), gdx.data(), acc);
      expect_close(gdx.to_vector(), dx, "adaptive_avg_pool2d_backward");
    }
  }
}

TEST(CudaSpatial, Crop2d) {
  MIMIC_REQUIRE_GPU();
  for (const CropCase& k : crop_cases()) {
    const auto off = crop_offsets(k, 91);
    const auto x = random_floats(k.n * k.c * k.h * k.w, 92);
    std::vector<float> y(k.n * k.crops * k.c * k.ch * k.cw);
    KC::crop2d_forward(k.n, k.c, k.h, k.w, k.ch, k.cw, k.crops, off.data(), x.data(), y.data());
    auto goff = up(off);
    auto gx = up(x);
    auto gy = Tensor<float, Cuda>::zeros(Shape{int64_t(y.size())});
    KG::crop2d_forward(k.n, k.c, k.h, k.w, k.ch, k.cw, k.crops, goff.data(), gx.data(), gy.data());
    EXPECT_EQ(gy.to_vector(), y) << "crop2d_forward";
    const auto dy = random_floats(int64_t(y.size()), 93);
    auto gdy = up(dy);
    for (bool acc : {false, true}) {
      std::vector<float> dx = random_floats(int64_t(x.size()), 94);
      auto gdx = up(dx);
      KC::crop2d_backward(k.n, k.c, k.h, k.w, k.ch, k.cw, k.crops, off.data(), dy.data(), dx.data(),
                          acc);
      KG::crop2d_backward(k.n, k.c, k.h, k.w, k.ch, k.cw, k.crops, goff.data(), gdy.data(),
                          gdx.data(), acc);
      expect_close(gdx.to_vector(), dx, "crop2d_backward");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The ops that use these kernels, on a tape on each device: outputs and input gradients agree.

template <class D>
using Graph = std::function<Var<float, D>(const std::vector<Var<float, D>>&)>;

void expect_ops_agree(const char* name, const std::vector<Shape>& shapes, const Graph<Cpu>& cpu_fn,
                      const Graph<Cuda>& gpu_fn) {
  Tape<float, Cpu> ct;
  Tape<float, Cuda> gt;
  std::vector<Var<float, Cpu>> cv;
  std::vector<Var<float, Cuda>> gv;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto values = random_floats(shapes[i].numel(), 100 + i);
    cv.push_back(ct.leaf(Tensor<float, Cpu>::from_vector(shapes[i], values)));
    gv.push_back(gt.leaf(Tensor<float, Cuda>::from_vector(shapes[i], values)));
  }
  Var<float, Cpu> cy = cpu_fn(cv);
  Var<float, Cuda> gy = gpu_fn(gv);
  ASSERT_EQ(cy.shape(), gy.shape()) << name;
  expect_close(gy.value().to_vector(), cy.value().to_vector(), name);
  const auto w = random_floats(cy.numel(), 7);
  ct.backward(ops::sum(cy * ct.constant(Tensor<float, Cpu>::from_vector(cy.shape(), w))));
  gt.backward(ops::sum(gy * gt.constant(Tensor<float, Cuda>::from_vector(gy.shape(), w))));
  for (size_t i = 0; i < shapes.size(); ++i)
    expect_close(gv[i].grad().to_vector(), cv[i].grad().to_vector(), name);
}

#define BOTH(expr) [&](const auto& v) { return expr; }, [&](const auto& v) { return expr; }

TEST(CudaOps, ShapeOpsThroughScatter) {
  MIMIC_REQUIRE_GPU();
  expect_ops_agree("slice", {{3, 9, 5}}, BOTH(ops::slice(v[0], 1, 2, 7)));
  expect_ops_agree("concat", {{3, 2, 5}, {3, 4, 5}}, BOTH(ops::concat({v[0], v[1]}, 1)));
  expect_ops_agree("permute", {{3, 1, 5, 7}}, BOTH(ops::permute(v[0], {3, 0, 2, 1})));
}

TEST(CudaOps, GatherRepeatedIndices) {
  MIMIC_REQUIRE_GPU();
  const Shape is{3, 6, 5};
  const auto idx = random_indices(is.numel(), 7, 111);
  const auto ci = Tensor<int64_t, Cpu>::from_vector(is, idx);
  const auto gi = Tensor<int64_t, Cuda>::from_vector(is, idx);
  expect_ops_agree(
      "gather", {{4, 7, 5}}, [&](const auto& v) { return ops::gather(v[0], 1, ci); },
      [&](const auto& v) { return ops::gather(v[0], 1, gi); });
}

// An index outside the gathered axis is refused before any kernel reads with it, as on the CPU.
TEST(CudaOps, GatherRefusesOutOfRangeIndices) {
  MIMIC_REQUIRE_GPU();
  Tape<float, Cuda> tape;
  Var<float, Cuda> x = tape.leaf(Tensor<float, Cuda>::zeros({2, 3}));
  for (int64_t bad : {int64_t(3), int64_t(-1)}) {
    const auto idx = Tensor<int64_t, Cuda>::from_vector({2, 1}, {0, bad});
    EXPECT_THROW(ops::gather(x, 1, idx), ValueError) << bad;
  }
}

TEST(CudaOps, PoolingAndCrop) {
  MIMIC_REQUIRE_GPU();
  expect_ops_agree("max_pool2d 3/2/1", {{1, 3, 7, 9}}, BOTH(ops::max_pool2d(v[0], 3, 2, 1)));
  expect_ops_agree("max_pool2d 2/1", {{2, 2, 5, 6}}, BOTH(ops::max_pool2d(v[0], 2, 1)));
  expect_ops_agree("adaptive_avg_pool2d", {{1, 3, 7, 9}},
                   BOTH(ops::adaptive_avg_pool2d(v[0], 3, 4)));
  const std::vector<int64_t> off = {0, 1, 2, 0, 1, 1, 3, 2};  // 2 samples x 2 crops
  expect_ops_agree("crop2d", {{2, 3, 8, 7}}, BOTH(ops::crop2d(v[0], 5, 5, 2, off)));
}

}  // namespace
}  // namespace mimic
