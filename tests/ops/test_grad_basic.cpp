// Finite-difference gradient checks: arithmetic, minimum/maximum, matmul, linear, reductions.
#include <cmath>

#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;
using testing::TapeD;
using testing::VarD;
using Vars = std::vector<VarD>;

struct BroadcastCase {
  Shape a, b;
};
const BroadcastCase kBroadcastCases[] = {
    {{3, 4}, {3, 4}}, {{3, 4}, {4}},    {{2, 1, 5}, {3, 1}},
    {{1}, {2, 3}},    {{1, 1}, {1, 1}}, {{5, 1, 3}, {1, 4, 1}},
};

template <class Op>
void check_binary(const char* name, Op op, double lo = -1, double hi = 1) {
  for (const auto& c : kBroadcastCases)
    expect_gradients_match(name, [&](TapeD&, const Vars& v) { return op(v[0], v[1]); },
                           {random_tensor(c.a, 1, lo, hi), random_tensor(c.b, 2, lo, hi)});
}

TEST(GradCheck, Add) {
  check_binary("add", [](VarD a, VarD b) { return a + b; });
}
TEST(GradCheck, Sub) {
  check_binary("sub", [](VarD a, VarD b) { return a - b; });
}
TEST(GradCheck, Mul) {
  check_binary("mul", [](VarD a, VarD b) { return a * b; });
}
TEST(GradCheck, Div) {
  check_binary(
      "div", [](VarD a, VarD b) { return a / b; }, 0.5, 2.0);
}

TEST(GradCheck, MinimumAndMaximum) {
  check_binary("minimum", [](VarD a, VarD b) { return ops::minimum(a, b); });
  check_binary("maximum", [](VarD a, VarD b) { return ops::maximum(a, b); });
}
// torch's rule: where both inputs are equal each gets half of the gradient; NaN propagates.
TEST(Forward, MinimumAndMaximumSplitTiesAndPropagateNan) {
  TapeD tape;
  const double nan = std::nan("");
  VarD a = tape.leaf(testing::TensorD::from_vector({4}, {1.0, 2.0, 3.0, nan}));
  VarD b = tape.leaf(testing::TensorD::from_vector({4}, {1.0, 5.0, -3.0, 0.0}));
  VarD lo = ops::minimum(a, b), hi = ops::maximum(a, b);
  const std::vector<double> l = lo.value().to_vector(), h = hi.value().to_vector();
  EXPECT_EQ(l[0], 1.0);
  EXPECT_EQ(l[1], 2.0);
  EXPECT_EQ(l[2], -3.0);
  EXPECT_TRUE(std::isnan(l[3]));
  EXPECT_EQ(h[1], 5.0);
  EXPECT_EQ(h[2], 3.0);
  EXPECT_TRUE(std::isnan(h[3]));
  tape.backward(ops::sum(ops::slice(lo, 0, 0, 3)));
  EXPECT_EQ(a.grad().to_vector()[0], 0.5);
  EXPECT_EQ(b.grad().to_vector()[0], 0.5);
  EXPECT_EQ(a.grad().to_vector()[1], 1.0);
  EXPECT_EQ(b.grad().to_vector()[1], 0.0);
  EXPECT_EQ(a.grad().to_vector()[2], 0.0);
  EXPECT_EQ(b.grad().to_vector()[2], 1.0);
}
TEST(GradCheck, ScalarOps) {
  auto x = random_tensor({3, 1, 2}, 3, 0.5, 2.0);
  auto f = [](VarD v) { return ((2.0 * v + 1.0) - 0.5) / 3.0 + (1.0 - v) + 2.0 / v - v * 0.25; };
  expect_gradients_match("scalar_ops", [&](TapeD&, const Vars& v) { return f(v[0]); }, {x});
}

TEST(GradCheck, Matmul) {
  expect_gradients_match("matmul_2d", [](TapeD&, const Vars& v) { return ops::matmul(v[0], v[1]); },
                         {random_tensor({3, 5}, 1), random_tensor({5, 1}, 2)});
  expect_gradients_match("matmul_1x1",
                         [](TapeD&, const Vars& v) { return ops::matmul(v[0], v[1]); },
                         {random_tensor({1, 1}, 1), random_tensor({1, 4}, 2)});
  expect_gradients_match("matmul_shared_b",
                         [](TapeD&, const Vars& v) { return ops::matmul(v[0], v[1]); },
                         {random_tensor({2, 3, 4}, 1), random_tensor({4, 5}, 2)});
}

TEST(GradCheck, BatchedMatmul) {
  expect_gradients_match("bmm", [](TapeD&, const Vars& v) { return ops::bmm(v[0], v[1]); },
                         {random_tensor({3, 2, 5}, 1), random_tensor({3, 5, 3}, 2)});
  expect_gradients_match("bmm_rank4", [](TapeD&, const Vars& v) { return ops::bmm(v[0], v[1]); },
                         {random_tensor({2, 1, 3, 1}, 1), random_tensor({2, 1, 1, 4}, 2)});
}

TEST(GradCheck, Linear) {
  expect_gradients_match(
      "linear", [](TapeD&, const Vars& v) { return ops::linear(v[0], v[1], v[2]); },
      {random_tensor({4, 3}, 1), random_tensor({5, 3}, 2), random_tensor({5}, 3)});
  expect_gradients_match("linear_rank3_nobias",
                         [](TapeD&, const Vars& v) { return ops::linear(v[0], v[1]); },
                         {random_tensor({2, 3, 1}, 1), random_tensor({7, 1}, 2)});
}

TEST(GradCheck, Sum) {
  auto x = random_tensor({2, 3, 4}, 4);
  expect_gradients_match("sum_all", [](TapeD&, const Vars& v) { return ops::sum(v[0]); }, {x});
  expect_gradients_match("sum_last", [](TapeD&, const Vars& v) { return ops::sum(v[0], {-1}); },
                         {x});
  expect_gradients_match("sum_first_keep",
                         [](TapeD&, const Vars& v) { return ops::sum(v[0], {0}, true); }, {x});
  expect_gradients_match("sum_middle", [](TapeD&, const Vars& v) { return ops::sum(v[0], {1}); },
                         {x});
  expect_gradients_match("sum_0_2",
                         [](TapeD&, const Vars& v) {
                           return ops::sum(v[0], {0, 2});
                         },
                         {x});
}

TEST(GradCheck, Mean) {
  auto x = random_tensor({3, 1, 5}, 5);
  expect_gradients_match("mean_all", [](TapeD&, const Vars& v) { return ops::mean(v[0]); }, {x});
  expect_gradients_match("mean_last_keep",
                         [](TapeD&, const Vars& v) { return ops::mean(v[0], {2}, true); }, {x});
  expect_gradients_match("mean_0_1",
                         [](TapeD&, const Vars& v) {
                           return ops::mean(v[0], {0, 1});
                         },
                         {x});
}

TEST(Forward, SumMatchesHandComputed) {
  Tape<double> tape;
  auto x = tape.constant(Tensor<double>::from_list({2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(ops::sum(x, {0}).value().to_vector(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(ops::sum(x, {1}).value().to_vector(), (std::vector<double>{6, 15}));
  EXPECT_EQ(ops::mean(x).value().to_vector(), (std::vector<double>{3.5}));
  auto y = ops::matmul(x, tape.constant(Tensor<double>::from_list({3, 1}, {1, 0, -1})));
  EXPECT_EQ(y.value().to_vector(), (std::vector<double>{-2, -2}));
}

}  // namespace
}  // namespace mimic
