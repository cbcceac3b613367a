// Gradient checks and values of the image ops: conv2d, max_pool2d, adaptive_avg_pool2d,
// batch_norm, crop2d.
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;
using testing::TapeD;
using testing::TensorD;
using testing::VarD;
using Vars = std::vector<VarD>;

// Direct definition of a grouped, strided, padded, dilated 2-D convolution.
TensorD naive_conv2d(const TensorD& x, const TensorD& w, const TensorD* b,
                     const ops::Conv2dOptions& o) {
  const int64_t n = x.shape()[0], cin = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
  const int64_t cout = w.shape()[0], cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  const int64_t ho = (h + 2 * o.pad_h - o.dil_h * (kh - 1) - 1) / o.stride_h + 1;
  const int64_t wo = (wd + 2 * o.pad_w - o.dil_w * (kw - 1) - 1) / o.stride_w + 1;
  TensorD y = TensorD::zeros(Shape{n, cout, ho, wo});
  const int64_t coutg = cout / o.groups;
  for (int64_t s = 0; s < n; ++s)
    for (int64_t co = 0; co < cout; ++co)
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j) {
          double acc = b ? (*b)[co] : 0.0;
          const int64_t g = co / coutg;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t a = 0; a < kh; ++a)
              for (int64_t q = 0; q < kw; ++q) {
                const int64_t r = i * o.stride_h - o.pad_h + a * o.dil_h;
                const int64_t c = j * o.stride_w - o.pad_w + q * o.dil_w;
                if (r < 0 || r >= h || c < 0 || c >= wd) continue;
                acc += x[((s * cin + g * cg + ci) * h + r) * wd + c] *
                       w[((co * cg + ci) * kh + a) * kw + q];
              }
          y[((s * cout + co) * ho + i) * wo + j] = acc;
        }
  return y;
}

struct Conv2dCase {
  Shape x, w;
  ops::Conv2dOptions o;
  bool bias;
};

const Conv2dCase kConv2dCases[] = {
    {{2, 3, 5, 6}, {4, 3, 3, 3}, {1, 1, 1, 1, 1, 1, 1}, true},
    {{1, 1, 4, 4}, {1, 1, 1, 1}, {1, 1, 0, 0, 1, 1, 1}, true},
    {{2, 4, 7, 7}, {6, 2, 3, 3}, {2, 2, 1, 1, 1, 1, 2}, false},  // groups
    {{1, 2, 9, 8}, {3, 2, 3, 2}, {1, 2, 2, 0, 2, 1, 1}, true},   // dilation, rectangular
    {{3, 3, 9, 9}, {2, 3, 7, 7}, {2, 2, 3, 3, 1, 1, 1}, false},  // ResNet stem shape
    {{1, 4, 5, 3}, {4, 1, 3, 3}, {1, 1, 1, 1, 1, 1, 4}, true},   // depthwise
    {{2, 3, 6, 6}, {5, 3, 1, 1}, {2, 2, 0, 0, 1, 1, 1}, false},  // strided 1x1 (downsample)
};

TEST(Conv2d, MatchesDirectDefinition) {
  for (const Conv2dCase& c : kConv2dCases) {
    const TensorD x = random_tensor(c.x, 1), w = random_tensor(c.w, 2);
    const TensorD b = random_tensor({c.w[0]}, 3);
    TapeD tape;
    VarD y =
        ops::conv2d(tape.constant(x), tape.constant(w), c.bias ? tape.constant(b) : VarD{}, c.o);
    const TensorD want = naive_conv2d(x, w, c.bias ? &b : nullptr, c.o);
    ASSERT_EQ(y.shape(), want.shape()) << c.x.str();
    for (int64_t i = 0; i < want.numel(); ++i)
      ASSERT_NEAR(y.value()[i], want[i], 1e-12) << c.x.str() << " " << c.w.str() << " at " << i;
  }
}

TEST(GradCheck, Conv2d) {
  for (const Conv2dCase& c : kConv2dCases) {
    std::vector<TensorD> in = {random_tensor(c.x, 1), random_tensor(c.w, 2)};
    if (c.bias) in.push_back(random_tensor({c.w[0]}, 3));
    expect_gradients_match(
        "conv2d " + c.x.str() + " " + c.w.str(),
        [&](TapeD&, const Vars& v) { return ops::conv2d(v[0], v[1], c.bias ? v[2] : VarD{}, c.o); },
        in);
  }
}

TEST(Conv2d, RejectsBadShapes) {
  TapeD tape;
  VarD x = tape.constant(random_tensor({1, 4, 5, 5}, 1));
  EXPECT_THROW(ops::conv2d(x, tape.constant(random_tensor({2, 3, 3, 3}, 2))), ShapeError);
  EXPECT_THROW(ops::conv2d(x, tape.constant(random_tensor({3, 2, 3, 3}, 2)), VarD{}, 1, 0, 1, 2),
               ValueError);  // 3 output channels in 2 groups
  EXPECT_THROW(ops::conv2d(x, tape.constant(random_tensor({2, 4, 7, 7}, 2))), ShapeError);
  EXPECT_THROW(ops::conv2d(x, tape.constant(random_tensor({2, 4, 3, 3}, 2)), VarD{}, 0),
               ValueError);
}

// Stride-1 3x3 convolutions that Winograd F(2x2, 3x3) computes: odd and even sides, every
// padding it supports, outputs smaller than a tile.
struct WinogradCase {
  Shape x;
  int64_t cout, pad;
  bool bias;
};
const WinogradCase kWinogradCases[] = {
    {{2, 3, 5, 6}, 4, 1, true},  {{1, 4, 4, 4}, 3, 0, false}, {{2, 2, 3, 5}, 2, 2, true},
    {{2, 16, 9, 7}, 8, 1, true}, {{1, 2, 1, 1}, 2, 1, false},
};

ops::Conv2dOptions winograd_options(int64_t pad, ops::Conv2dAlgorithm algorithm) {
  ops::Conv2dOptions o = ops::Conv2dOptions::square(1, pad);
  o.algorithm = algorithm;
  return o;
}

const ops::Conv2dAlgorithm kWinogradTiles[] = {ops::Conv2dAlgorithm::winograd_2x2,
                                               ops::Conv2dAlgorithm::winograd_4x4};

TEST(Conv2d, WinogradMatchesDefinitionAndIm2colGradients) {
  using ops::Conv2dAlgorithm;
  for (const Conv2dAlgorithm tile : kWinogradTiles)
    for (const WinogradCase& c : kWinogradCases) {
      const Shape ws{c.cout, c.x[1], 3, 3};
      const TensorD x = random_tensor(c.x, 1), w = random_tensor(ws, 2);
      const TensorD b = random_tensor({c.cout}, 3);
      const TensorD want = naive_conv2d(x, w, c.bias ? &b : nullptr,
                                        winograd_options(c.pad, Conv2dAlgorithm::im2col));
      const std::string label = c.x.str() + (tile == Conv2dAlgorithm::winograd_4x4 ? " F4" : " F2");
      std::vector<TensorD> grads[2];
      for (int alg = 0; alg < 2; ++alg) {
        const auto o = winograd_options(c.pad, alg == 0 ? tile : Conv2dAlgorithm::im2col);
        TapeD tape;
        VarD xv = tape.leaf(x), wv = tape.leaf(w), bv = c.bias ? tape.leaf(b) : VarD{};
        VarD y = ops::conv2d(xv, wv, bv, o);
        ASSERT_EQ(y.shape(), want.shape()) << label;
        for (int64_t i = 0; i < want.numel(); ++i)
          ASSERT_NEAR(y.value()[i], want[i], 1e-12) << label << " algorithm " << alg;
        tape.backward(ops::sum(ops::mul(y, tape.constant(random_tensor(want.shape(), 4)))));
        grads[alg] = {xv.grad().clone(), wv.grad().clone()};
        if (c.bias) grads[alg].push_back(bv.grad().clone());
      }
      for (size_t k = 0; k < grads[0].size(); ++k)
        for (int64_t i = 0; i < grads[0][k].numel(); ++i)
          ASSERT_NEAR(grads[0][k][i], grads[1][k][i], 1e-12)
              << label << " gradient of input " << k << " at " << i;
    }
}

// The data gradient alone (a constant kernel, so the forward pass keeps only U) and added onto a
// gradient that another consumer of x already wrote, against im2col.
TEST(Conv2d, WinogradDataGradientAloneAndAccumulated) {
  for (const ops::Conv2dAlgorithm tile : kWinogradTiles)
    for (const WinogradCase& c : kWinogradCases) {
      const TensorD x = random_tensor(c.x, 1), w = random_tensor({c.cout, c.x[1], 3, 3}, 2);
      const TensorD w2 = random_tensor({c.cout, c.x[1], 3, 3}, 5);
      TensorD dx[2];
      for (int alg = 0; alg < 2; ++alg) {
        const auto o = winograd_options(c.pad, alg == 0 ? tile : ops::Conv2dAlgorithm::im2col);
        TapeD tape;
        VarD xv = tape.leaf(x);
        VarD y1 = ops::conv2d(xv, tape.constant(w), VarD{}, o);
        VarD y2 = ops::conv2d(xv, tape.constant(w2), VarD{}, o);
        const TensorD r1 = random_tensor(y1.shape(), 6), r2 = random_tensor(y2.shape(), 7);
        tape.backward(ops::add(ops::sum(ops::mul(y1, tape.constant(r1))),
                               ops::sum(ops::mul(y2, tape.constant(r2)))));
        dx[alg] = xv.grad().clone();
      }
      for (int64_t i = 0; i < dx[0].numel(); ++i)
        ASSERT_NEAR(dx[0][i], dx[1][i], 1e-12) << c.x.str() << " at " << i;
    }
}

TEST(GradCheck, Conv2dWinograd) {
  for (const ops::Conv2dAlgorithm tile : kWinogradTiles)
    for (const WinogradCase& c : kWinogradCases) {
      std::vector<TensorD> in = {random_tensor(c.x, 1), random_tensor({c.cout, c.x[1], 3, 3}, 2)};
      if (c.bias) in.push_back(random_tensor({c.cout}, 3));
      const auto o = winograd_options(c.pad, tile);
      expect_gradients_match(
          "conv2d winograd " + c.x.str(),
          [&](TapeD&, const Vars& v) { return ops::conv2d(v[0], v[1], c.bias ? v[2] : VarD{}, o); },
          in);
    }
}

// In float, on ResNet18 layer shapes at 84x84 (21x21 and 11x11 maps), both tile sizes stay within
// float rounding of im2col. Errors are relative to the largest value of each result.
TEST(Conv2d, WinogradFloatAccuracyOnResNetShapes) {
  using TapeF = Tape<float, Cpu>;
  auto to_float = [](const TensorD& t) {
    Tensor<float> f = Tensor<float>::empty(t.shape());
    for (int64_t i = 0; i < t.numel(); ++i) f[i] = float(t[i]);
    return f;
  };
  const struct {
    Shape x;
    ops::Conv2dAlgorithm tile;
    double tolerance;
  } cases[] = {{{4, 64, 21, 21}, ops::Conv2dAlgorithm::winograd_2x2, 2e-6},
               {{4, 64, 21, 21}, ops::Conv2dAlgorithm::winograd_4x4, 1e-5},
               {{4, 128, 11, 11}, ops::Conv2dAlgorithm::winograd_4x4, 1e-5}};
  for (const auto& c : cases) {
    const int64_t ch = c.x[1];
    const double bound = 1.0 / std::sqrt(double(ch * 9));  // Kaiming-uniform scale
    const Tensor<float> x = to_float(random_tensor(c.x, 1));
    const Tensor<float> w = to_float(random_tensor({ch, ch, 3, 3}, 2, -bound, bound));
    const Tensor<float> dy = to_float(random_tensor(c.x, 3));
    std::vector<Tensor<float>> out[2];
    for (int alg = 0; alg < 2; ++alg) {
      const auto o = winograd_options(1, alg == 0 ? c.tile : ops::Conv2dAlgorithm::im2col);
      TapeF tape;
      Var<float> xv = tape.leaf(x), wv = tape.leaf(w);
      Var<float> y = ops::conv2d(xv, wv, Var<float>{}, o);
      tape.backward(ops::sum(ops::mul(y, tape.constant(dy))));
      out[alg] = {y.value().clone(), xv.grad().clone(), wv.grad().clone()};
    }
    const char* names[] = {"output", "input gradient", "weight gradient"};
    for (int k = 0; k < 3; ++k) {
      double max_ref = 0, max_err = 0;
      for (int64_t i = 0; i < out[1][k].numel(); ++i) {
        max_ref = std::max(max_ref, double(std::fabs(out[1][k][i])));
        max_err = std::max(max_err, double(std::fabs(out[0][k][i] - out[1][k][i])));
      }
      EXPECT_LT(max_err, c.tolerance * max_ref)
          << c.x.str() << " " << names[k] << ": error " << max_err << " of " << max_ref;
    }
  }
}

TEST(Conv2d, WinogradRejectsKernelsItCannotCompute) {
  TapeD tape;
  VarD x = tape.constant(random_tensor({1, 2, 6, 6}, 1));
  ops::Conv2dOptions o = ops::Conv2dOptions::square(2, 1);
  o.algorithm = ops::Conv2dAlgorithm::winograd;
  EXPECT_THROW(ops::conv2d(x, tape.constant(random_tensor({2, 2, 3, 3}, 2)), VarD{}, o),
               ValueError);
  o = ops::Conv2dOptions::square(1, 1);
  o.algorithm = ops::Conv2dAlgorithm::winograd;
  EXPECT_THROW(ops::conv2d(x, tape.constant(random_tensor({2, 2, 5, 5}, 2)), VarD{}, o),
               ValueError);
}

TEST(MaxPool2d, ValuesAndGradients) {
  // A 4x4 plane, 3x3 window, stride 2, padding 1 (the ResNet stem pool): output 2x2.
  TensorD x = TensorD::empty(Shape{1, 1, 4, 4});
  for (int64_t i = 0; i < 16; ++i) x[i] = double((i * 7) % 16);  // a permutation of 0..15
  TapeD tape;
  VarD y = ops::max_pool2d(tape.constant(x), 3, 2, 1);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  // Windows: rows/cols {0,1}, {0..2}: maxima by hand.
  auto at = [&](int r, int c) { return x[r * 4 + c]; };
  auto window_max = [&](int r0, int r1, int c0, int c1) {
    double m = -1;
    for (int r = r0; r <= r1; ++r)
      for (int c = c0; c <= c1; ++c) m = std::max(m, at(r, c));
    return m;
  };
  EXPECT_EQ(y.value()[0], window_max(0, 1, 0, 1));
  EXPECT_EQ(y.value()[1], window_max(0, 1, 1, 3));
  EXPECT_EQ(y.value()[2], window_max(1, 3, 0, 1));
  EXPECT_EQ(y.value()[3], window_max(1, 3, 1, 3));
  const struct {
    Shape x;
    int64_t k, s, p;
  } cases[] = {{{2, 3, 7, 6}, 3, 2, 1}, {{1, 2, 4, 4}, 2, 2, 0}, {{1, 1, 5, 5}, 3, 1, 1}};
  for (const auto& c : cases)
    expect_gradients_match(
        "max_pool2d", [&](TapeD&, const Vars& v) { return ops::max_pool2d(v[0], c.k, c.s, c.p); },
        {random_tensor(c.x, 4)});
}

// Against a direct definition on random planes with repeated values (ties go to the first
// maximum) and a NaN (it propagates through every window that holds it).
TEST(MaxPool2d, MatchesDirectDefinitionWithTiesAndNaN) {
  const struct {
    Shape x;
    int64_t k, s, p;
  } cases[] = {{{2, 3, 21, 21}, 3, 2, 1},
               {{1, 2, 8, 5}, 2, 2, 0},
               {{1, 1, 6, 7}, 3, 1, 1},
               {{1, 1, 5, 5}, 4, 3, 2}};
  for (const auto& c : cases) {
    TensorD x = random_tensor(c.x, 5);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = std::round(x[i] * 3);  // many ties
    x[x.numel() / 2] = std::nan("");
    TapeD tape;
    VarD y = ops::max_pool2d(tape.constant(x), c.k, c.s, c.p);
    const int64_t h = c.x[2], w = c.x[3], ho = y.dim(2), wo = y.dim(3);
    for (int64_t plane = 0; plane < c.x[0] * c.x[1]; ++plane)
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j) {
          double want = -INFINITY;
          for (int64_t a = 0; a < c.k; ++a)
            for (int64_t b = 0; b < c.k; ++b) {
              const int64_t r = i * c.s - c.p + a, q = j * c.s - c.p + b;
              if (r < 0 || r >= h || q < 0 || q >= w) continue;
              const double v = x[(plane * h + r) * w + q];
              if (std::isnan(v) || std::isnan(want))
                want = NAN;
              else
                want = std::max(want, v);
            }
          const double got = y.value()[(plane * ho + i) * wo + j];
          if (std::isnan(want))
            ASSERT_TRUE(std::isnan(got))
                << c.x.str() << " plane " << plane << " (" << i << ", " << j << ")";
          else
            ASSERT_EQ(got, want) << c.x.str() << " plane " << plane << " (" << i << ", " << j
                                 << ")";
        }
  }
}

TEST(AdaptiveAvgPool2d, ValuesAndGradients) {
  TensorD x = random_tensor({2, 3, 5, 7}, 5);
  TapeD tape;
  VarD y = ops::adaptive_avg_pool2d(tape.constant(x), 3, 2);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 3, 2}));
  // Output (1, 1) of plane 0 covers rows [1, 4) and columns [3, 7).
  double sum = 0;
  for (int r = 1; r < 4; ++r)
    for (int c = 3; c < 7; ++c) sum += x[r * 7 + c];
  EXPECT_NEAR(y.value()[3], sum / 12, 1e-14);
  VarD g = ops::adaptive_avg_pool2d(tape.constant(x), 1, 1);  // global average
  double plane = 0;
  for (int i = 0; i < 35; ++i) plane += x[35 + i];
  EXPECT_NEAR(g.value()[1], plane / 35, 1e-14);
  expect_gradients_match(
      "adaptive_avg_pool2d",
      [&](TapeD&, const Vars& v) { return ops::adaptive_avg_pool2d(v[0], 3, 2); }, {x});
}

TEST(BatchNorm, TrainingNormalizesAndMovesRunningStatistics) {
  const TensorD x = random_tensor({4, 3, 2, 5}, 6, -3, 5);
  TensorD rm = TensorD::zeros(Shape{3}), rv = TensorD::zeros(Shape{3});
  for (int c = 0; c < 3; ++c) rv[c] = 1.0;
  TapeD tape;
  VarD y = ops::batch_norm(tape.constant(x), VarD{}, VarD{}, rm, rv, true, 0.1, 1e-5);
  for (int c = 0; c < 3; ++c) {
    double mean = 0, sq = 0, ymean = 0, ysq = 0;
    for (int n = 0; n < 4; ++n)
      for (int s = 0; s < 10; ++s) {
        mean += x[(n * 3 + c) * 10 + s] / 40;
        ymean += y.value()[(n * 3 + c) * 10 + s] / 40;
      }
    for (int n = 0; n < 4; ++n)
      for (int s = 0; s < 10; ++s) {
        sq += std::pow(x[(n * 3 + c) * 10 + s] - mean, 2);
        ysq += std::pow(y.value()[(n * 3 + c) * 10 + s] - ymean, 2) / 40;
      }
    EXPECT_NEAR(ymean, 0.0, 1e-12);
    EXPECT_NEAR(ysq, (sq / 40) / (sq / 40 + 1e-5), 1e-9);
    EXPECT_NEAR(rm[c], 0.1 * mean, 1e-12);
    EXPECT_NEAR(rv[c], 0.9 + 0.1 * sq / 39, 1e-12);  // unbiased
  }
  // Evaluation uses the running statistics.
  VarD e = ops::batch_norm(tape.constant(x), VarD{}, VarD{}, rm, rv, false, 0.1, 1e-5);
  EXPECT_NEAR(e.value()[7], (x[7] - rm[0]) / std::sqrt(rv[0] + 1e-5), 1e-12);
  EXPECT_THROW(
      ops::batch_norm(tape.constant(random_tensor({1, 3}, 1)), VarD{}, VarD{}, rm, rv, true),
      ShapeError);
}

TEST(GradCheck, BatchNorm) {
  for (bool training : {true, false}) {
    TensorD rm = random_tensor({3}, 7), rv = random_tensor({3}, 8, 0.5, 2.0);
    std::vector<TensorD> in = {random_tensor({3, 3, 2, 2}, 9, -2, 2),
                               random_tensor({3}, 10, 0.5, 1.5), random_tensor({3}, 11)};
    expect_gradients_match(
        std::string("batch_norm ") + (training ? "train" : "eval"),
        [&](TapeD&, const Vars& v) {
          return ops::batch_norm(v[0], v[1], v[2], rm, rv, training, 0.1, 1e-5);
        },
        in);
  }
  expect_gradients_match("batch_norm without affine or running statistics",
                         [&](TapeD&, const Vars& v) {
                           return ops::batch_norm(v[0], VarD{}, VarD{}, TensorD{}, TensorD{},
                                                  false);
                         },
                         {random_tensor({2, 4, 3}, 12, -2, 2)});
}

TEST(Crop2d, ValuesAndGradients) {
  const TensorD x = random_tensor({2, 3, 6, 5}, 13);
  const std::vector<int64_t> offsets = {0, 0, 2, 1, 1, 2, 2, 2};  // 2 crops of 4x3 per image
  TapeD tape;
  VarD y = ops::crop2d(tape.constant(x), 4, 3, 2, offsets);
  ASSERT_EQ(y.shape(), (Shape{4, 3, 4, 3}));
  // Output 3 is image 1's second crop at (2, 2): element (c=1, r=3, col=2).
  EXPECT_EQ(y.value()[((3 * 3 + 1) * 4 + 3) * 3 + 2], x[((1 * 3 + 1) * 6 + 5) * 5 + 4]);
  expect_gradients_match(
      "crop2d", [&](TapeD&, const Vars& v) { return ops::crop2d(v[0], 4, 3, 2, offsets); }, {x});
  EXPECT_THROW(ops::crop2d(tape.constant(x), 4, 3, 2, {0, 0, 3, 0, 0, 0, 0, 0}), ValueError);
  EXPECT_THROW(ops::crop2d(tape.constant(x), 7, 3, 1, {0, 0, 0, 0}), ShapeError);
}

}  // namespace
}  // namespace mimic
