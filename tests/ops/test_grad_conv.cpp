// Gradient checks and values: conv1d, conv_transpose1d, group_norm, layer_norm.
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;
using testing::TapeD;
using testing::VarD;
using Vars = std::vector<VarD>;

struct ConvCase {
  int64_t n, cin, cout, l, k, stride, padding, dilation, output_padding;
  bool bias;
};

TEST(GradCheck, Conv1d) {
  const ConvCase cases[] = {
      {2, 3, 4, 7, 3, 1, 1, 1, 0, true},  {1, 1, 1, 5, 1, 1, 0, 1, 0, true},
      {2, 5, 3, 9, 5, 2, 2, 1, 0, false}, {1, 2, 3, 8, 3, 1, 2, 2, 0, true},
      {3, 4, 1, 4, 5, 1, 2, 1, 0, true},  {1, 3, 2, 6, 2, 3, 0, 1, 0, true},
  };
  for (const ConvCase& c : cases) {
    std::vector<testing::TensorD> in = {random_tensor({c.n, c.cin, c.l}, 1),
                                        random_tensor({c.cout, c.cin, c.k}, 2)};
    if (c.bias) in.push_back(random_tensor({c.cout}, 3));
    expect_gradients_match(
        "conv1d",
        [&](TapeD&, const Vars& v) {
          return ops::conv1d(v[0], v[1], c.bias ? v[2] : VarD{}, c.stride, c.padding, c.dilation);
        },
        in);
  }
}

TEST(GradCheck, ConvTranspose1d) {
  const ConvCase cases[] = {
      {2, 3, 4, 5, 4, 2, 1, 1, 0, true},  {1, 1, 1, 3, 1, 1, 0, 1, 0, true},
      {2, 5, 3, 4, 3, 2, 1, 1, 1, false}, {1, 2, 3, 6, 3, 1, 2, 2, 0, true},
      {3, 4, 1, 1, 5, 1, 0, 1, 0, true},  {1, 3, 2, 4, 2, 3, 0, 2, 1, true},
  };
  for (const ConvCase& c : cases) {
    std::vector<testing::TensorD> in = {random_tensor({c.n, c.cin, c.l}, 1),
                                        random_tensor({c.cin, c.cout, c.k}, 2)};
    if (c.bias) in.push_back(random_tensor({c.cout}, 3));
    expect_gradients_match(
        "conv_transpose1d",
        [&](TapeD&, const Vars& v) {
          return ops::conv_transpose1d(v[0], v[1], c.bias ? v[2] : VarD{}, c.stride, c.padding,
                                       c.output_padding, c.dilation);
        },
        in);
  }
}

TEST(GradCheck, GroupNorm) {
  struct Case {
    Shape x;
    int64_t groups;
    bool affine;
  };
  const Case cases[] = {{{2, 6, 5}, 3, true}, {{1, 4, 3}, 1, true}, {{3, 5, 2}, 5, false},
                        {{2, 4}, 2, true},    {{1, 8, 1}, 4, true}, {{2, 2, 3, 2}, 2, true}};
  for (const Case& c : cases) {
    std::vector<testing::TensorD> in = {random_tensor(c.x, 1, -2, 2)};
    if (c.affine) {
      in.push_back(random_tensor({c.x[1]}, 2, 0.5, 1.5));
      in.push_back(random_tensor({c.x[1]}, 3));
    }
    expect_gradients_match(
        "group_norm",
        [&](TapeD&, const Vars& v) {
          return c.affine ? ops::group_norm(v[0], c.groups, v[1], v[2])
                          : ops::group_norm(v[0], c.groups);
        },
        in);
  }
}

TEST(GradCheck, LayerNorm) {
  expect_gradients_match(
      "layer_norm", [](TapeD&, const Vars& v) { return ops::layer_norm(v[0], 1, v[1], v[2]); },
      {random_tensor({3, 7}, 1, -2, 2), random_tensor({7}, 2), random_tensor({7}, 3)});
  expect_gradients_match(
      "layer_norm_2d", [](TapeD&, const Vars& v) { return ops::layer_norm(v[0], 2, v[1], v[2]); },
      {random_tensor({2, 3, 4}, 4, -2, 2), random_tensor({3, 4}, 5), random_tensor({3, 4}, 6)});
  expect_gradients_match("layer_norm_plain",
                         [](TapeD&, const Vars& v) { return ops::layer_norm(v[0], 1); },
                         {random_tensor({1, 5}, 7, -2, 2)});
}

TEST(Forward, Conv1dHandComputed) {
  Tape<double> tape;
  // One channel, kernel [1, 2, 3], padding 1: y[i] = x[i-1] + 2 x[i] + 3 x[i+1].
  auto x = tape.constant(Tensor<double>::from_list({1, 1, 4}, {1, 2, 3, 4}));
  auto w = tape.constant(Tensor<double>::from_list({1, 1, 3}, {1, 2, 3}));
  auto b = tape.constant(Tensor<double>::from_list({1}, {0.5}));
  EXPECT_EQ(ops::conv1d(x, w, b, 1, 1).value().to_vector(),
            (std::vector<double>{8.5, 14.5, 20.5, 11.5}));
  EXPECT_EQ(ops::conv1d(x, w, VarD{}, 2, 1).value().to_vector(), (std::vector<double>{8, 20}));
  // Transposed, stride 2, kernel [1, 2]: each input spreads to two outputs.
  auto wt = tape.constant(Tensor<double>::from_list({1, 1, 2}, {1, 2}));
  EXPECT_EQ(ops::conv_transpose1d(x, wt, VarD{}, 2).value().to_vector(),
            (std::vector<double>{1, 2, 2, 4, 3, 6, 4, 8}));
  EXPECT_EQ(ops::conv_transpose1d(x, wt, VarD{}, 2, 1, 1).value().shape(), (Shape{1, 1, 7}));
}

TEST(Forward, NormsHandComputed) {
  Tape<double> tape;
  auto x = tape.constant(Tensor<double>::from_list({1, 2, 2}, {1, 3, 10, 30}));
  auto y = ops::group_norm(x, 2, VarD{}, VarD{}, 0.0).value();
  EXPECT_NEAR(y[0], -1, 1e-12);
  EXPECT_NEAR(y[3], 1, 1e-12);
  auto ln = ops::layer_norm(x, 2, VarD{}, VarD{}, 0.0).value();
  double mu = 11, var = (100 + 64 + 1 + 361) / 4.0;
  EXPECT_NEAR(ln[3], (30 - mu) / std::sqrt(var), 1e-12);
}

TEST(Errors, ConvAndNorm) {
  Tape<float> tape;
  auto x = tape.constant(Tensor<float>::zeros({2, 3, 5}));
  auto w = tape.constant(Tensor<float>::zeros({4, 2, 3}));
  try {
    ops::conv1d(x, w);
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3, 5]"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[4, 2, 3]"), std::string::npos);
  }
  EXPECT_THROW(ops::conv1d(x, tape.constant(Tensor<float>::zeros({4, 3, 9}))), ShapeError);
  EXPECT_THROW(ops::conv1d(x, tape.constant(Tensor<float>::zeros({4, 3, 3})), {}, 0), ValueError);
  EXPECT_THROW(ops::conv_transpose1d(x, w), ShapeError);
  EXPECT_THROW(
      ops::conv_transpose1d(x, tape.constant(Tensor<float>::zeros({3, 2, 3})), {}, 1, 0, 1),
      ValueError);
  EXPECT_THROW(ops::group_norm(x, 2), ValueError);
  EXPECT_THROW(ops::group_norm(x, 3, tape.constant(Tensor<float>::zeros({2}))), ShapeError);
  EXPECT_THROW(ops::layer_norm(x, 4), ShapeError);
  EXPECT_THROW(ops::layer_norm(x, 1, tape.constant(Tensor<float>::zeros({3}))), ShapeError);
}

}  // namespace
}  // namespace mimic

namespace mimic {
namespace {

// im2col_1d against its definition and col2im_1d as its exact adjoint (with and without
// accumulation): strides, dilation, long rows, kernel 1 and padding wider than the input.
TEST(Conv1dColumns, MatchDefinitionAndAdjoint) {
  const Conv1dGeometry raw[] = {{3, 4, 16, 5, 0, 1, 2, 1},   {2, 3, 7, 3, 0, 1, 0, 2},
                                {2, 2, 5, 3, 0, 1, 6, 1},    {1, 2, 9, 4, 0, 2, 1, 1},
                                {1, 2, 1500, 3, 0, 1, 1, 1}, {2, 1, 4, 1, 0, 1, 0, 1}};
  for (Conv1dGeometry g : raw) {
    g.lo = (g.l + 2 * g.padding - g.dilation * (g.k - 1) - 1) / g.stride + 1;
    const int64_t rows = g.c * g.k, cols = g.n * g.lo;
    auto x = random_tensor({g.n, g.c, g.l}, 1), dcol = random_tensor({rows, cols}, 2);
    auto col = Tensor<double>::empty({rows, cols});
    Kernels<Cpu>::im2col_1d(g, x.data(), col.data());
    double dot_col = 0;
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t k = 0; k < g.k; ++k)
        for (int64_t n = 0; n < g.n; ++n)
          for (int64_t lo = 0; lo < g.lo; ++lo) {
            const int64_t pos = lo * g.stride - g.padding + k * g.dilation;
            const double want = pos >= 0 && pos < g.l ? x[(n * g.c + c) * g.l + pos] : 0.0;
            const int64_t at = (c * g.k + k) * cols + n * g.lo + lo;
            ASSERT_EQ(col[at], want) << "L " << g.l << " k " << k << " lo " << lo;
            dot_col += want * dcol[at];
          }
    auto dx = Tensor<double>::full({g.n, g.c, g.l}, 7.0);  // garbage the overwrite must clear
    Kernels<Cpu>::col2im_1d(g, dcol.data(), dx.data(), false);
    double dot_x = 0;
    for (int64_t i = 0; i < x.numel(); ++i) dot_x += x[i] * dx[i];
    EXPECT_NEAR(dot_x, dot_col, 1e-12 * (1 + std::abs(dot_col))) << "L " << g.l;
    auto acc = Tensor<double>::full({g.n, g.c, g.l}, 0.5);
    Kernels<Cpu>::col2im_1d(g, dcol.data(), acc.data(), true);
    for (int64_t i = 0; i < x.numel(); ++i) ASSERT_NEAR(acc[i], dx[i] + 0.5, 1e-12);
  }
}

}  // namespace
}  // namespace mimic
