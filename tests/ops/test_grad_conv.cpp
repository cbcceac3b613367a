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
