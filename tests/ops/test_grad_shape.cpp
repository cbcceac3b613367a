// Gradient checks and values: softmax family, shape ops, gather, dropout.
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;
using testing::TapeD;
using testing::TensorD;
using testing::VarD;
using Vars = std::vector<VarD>;

TEST(GradCheck, Softmax) {
  for (int axis : {-1, 0, 1})
    expect_gradients_match("softmax",
                           [&](TapeD&, const Vars& v) { return ops::softmax(v[0], axis); },
                           {random_tensor({3, 5, 2}, 1, -2, 2)});
  expect_gradients_match("softmax_1", [](TapeD&, const Vars& v) { return ops::softmax(v[0]); },
                         {random_tensor({4, 1}, 2)});
}
TEST(GradCheck, LogSoftmax) {
  for (int axis : {-1, 1})
    expect_gradients_match("log_softmax",
                           [&](TapeD&, const Vars& v) { return ops::log_softmax(v[0], axis); },
                           {random_tensor({2, 7, 3}, 3, -2, 2)});
}
TEST(GradCheck, Logsumexp) {
  expect_gradients_match("logsumexp", [](TapeD&, const Vars& v) { return ops::logsumexp(v[0], 1); },
                         {random_tensor({2, 5, 3}, 4, -2, 2)});
  expect_gradients_match("logsumexp_keep",
                         [](TapeD&, const Vars& v) { return ops::logsumexp(v[0], -1, true); },
                         {random_tensor({1, 9}, 5, -2, 2)});
}
TEST(GradCheck, Concat) {
  expect_gradients_match(
      "concat",
      [](TapeD&, const Vars& v) {
        return ops::concat({v[0], v[1], v[2]}, 1);
      },
      {random_tensor({2, 1, 3}, 1), random_tensor({2, 4, 3}, 2), random_tensor({2, 2, 3}, 3)});
  expect_gradients_match("concat_last",
                         [](TapeD&, const Vars& v) {
                           return ops::concat(Vars{v[0], v[1]}, -1);
                         },
                         {random_tensor({3, 2}, 1), random_tensor({3, 5}, 2)});
  // The same input twice: gradients add up.
  expect_gradients_match("concat_twice",
                         [](TapeD&, const Vars& v) {
                           return ops::concat({v[0], v[0]}, 0);
                         },
                         {random_tensor({2, 3}, 4)});
}
TEST(GradCheck, Split) {
  expect_gradients_match("split",
                         [](TapeD&, const Vars& v) {
                           auto parts = ops::split(v[0], {1, 3, 1}, 1);
                           return parts[0] * 2.0 + ops::sum(parts[1], {1}, true) -
                                  parts[2] * parts[0];
                         },
                         {random_tensor({2, 5, 3}, 6)});
  expect_gradients_match("chunk",
                         [](TapeD&, const Vars& v) {
                           auto parts = ops::chunk(v[0], 2, -1);
                           return parts[0] * parts[1];
                         },
                         {random_tensor({3, 4}, 7)});
}
TEST(GradCheck, Slice) {
  expect_gradients_match("slice", [](TapeD&, const Vars& v) { return ops::slice(v[0], 1, 1, -1); },
                         {random_tensor({2, 5, 3}, 8)});
  expect_gradients_match("slice_first",
                         [](TapeD&, const Vars& v) { return ops::slice(v[0], 0, 2, 3); },
                         {random_tensor({3, 1}, 9)});
}
TEST(GradCheck, Stack) {
  expect_gradients_match("stack",
                         [](TapeD&, const Vars& v) {
                           return ops::stack({v[0], v[1]}, 1);
                         },
                         {random_tensor({2, 3}, 1), random_tensor({2, 3}, 2)});
  expect_gradients_match("stack_last",
                         [](TapeD&, const Vars& v) {
                           return ops::stack(Vars{v[0], v[1], v[0]}, -1);
                         },
                         {random_tensor({1, 3}, 1), random_tensor({1, 3}, 2)});
}
TEST(GradCheck, Reshape) {
  expect_gradients_match("reshape",
                         [](TapeD&, const Vars& v) {
                           return ops::reshape(v[0], {3, -1}) * v[1];
                         },
                         {random_tensor({2, 3, 2}, 1), random_tensor({3, 4}, 2)});
}
TEST(GradCheck, Permute) {
  expect_gradients_match("permute",
                         [](TapeD&, const Vars& v) {
                           return ops::permute(v[0], {2, 0, 1});
                         },
                         {random_tensor({2, 3, 5}, 1)});
  expect_gradients_match("transpose",
                         [](TapeD&, const Vars& v) { return ops::transpose(v[0], 0, -1); },
                         {random_tensor({4, 1, 3}, 2)});
}
TEST(GradCheck, Gather) {
  auto index = Tensor<int64_t>::from_list({2, 4}, {0, 2, 2, 1, 1, 1, 0, 2});  // repeats accumulate
  expect_gradients_match("gather",
                         [&](TapeD&, const Vars& v) { return ops::gather(v[0], 1, index); },
                         {random_tensor({2, 3}, 1)});
  auto index0 = Tensor<int64_t>::from_list({1, 3}, {1, 0, 1});
  expect_gradients_match("gather_axis0",
                         [&](TapeD&, const Vars& v) { return ops::gather(v[0], 0, index0); },
                         {random_tensor({2, 3}, 2)});
}
TEST(GradCheck, Dropout) {
  expect_gradients_match("dropout",
                         [](TapeD&, const Vars& v) {
                           PhiloxStream rng{42, 0};
                           return ops::dropout(v[0], 0.3, rng, true);
                         },
                         {random_tensor({4, 7}, 1)});
}

TEST(Forward, SoftmaxValuesAndStability) {
  Tape<double> tape;
  auto x = tape.constant(Tensor<double>::from_list({2, 3}, {1, 2, 3, 1000, 1000, -INFINITY}));
  auto y = ops::softmax(x).value();
  const double e = std::exp(1.0), z = 1 + e + e * e;
  EXPECT_NEAR(y.at(0, 0), 1 / z, 1e-15);
  EXPECT_NEAR(y.at(0, 2), e * e / z, 1e-15);
  EXPECT_NEAR(y.at(1, 0), 0.5, 1e-15);
  EXPECT_EQ(y.at(1, 2), 0.0);
  auto ls = ops::log_softmax(x).value();
  EXPECT_NEAR(ls.at(0, 0), -std::log(z), 1e-14);
  auto lse = ops::logsumexp(x, 1).value();
  EXPECT_NEAR(lse[0], std::log(z) + 1, 1e-14);
  EXPECT_NEAR(lse[1], 1000 + std::log(2.0), 1e-12);
  auto col = ops::softmax(x, 0).value();
  EXPECT_NEAR(col.at(0, 0) + col.at(1, 0), 1.0, 1e-15);
}

TEST(Forward, ShapeOpsValues) {
  Tape<float> tape;
  auto x = tape.constant(Tensor<float>::from_list({2, 3}, {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(ops::transpose(x, 0, 1).value().to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(ops::slice(x, 1, 1, 3).value().to_vector(), (std::vector<float>{1, 2, 4, 5}));
  EXPECT_EQ(ops::concat({x, x}, 0).value().shape(), (Shape{4, 3}));
  EXPECT_EQ(ops::concat({x, x}, 1).value().to_vector(),
            (std::vector<float>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}));
  auto st = ops::stack({x, x}, 2).value();
  EXPECT_EQ(st.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(st.at(1, 2, 1), 5.f);
  auto r = ops::reshape(x, {3, 2});
  EXPECT_EQ(r.value().data(), x.value().data());  // a view, no copy
  auto idx = Tensor<int64_t>::from_list({2, 2}, {2, 0, 1, 1});
  EXPECT_EQ(ops::gather(x, 1, idx).value().to_vector(), (std::vector<float>{2, 0, 4, 4}));
}

TEST(Forward, DropoutIsDeterministicAndScaled) {
  Tape<float> tape;
  auto x = tape.constant(Tensor<float>::full({10000}, 1.f));
  PhiloxStream a{7, 0}, b{7, 0};
  auto ya = ops::dropout(x, 0.25, a, true).value();
  auto yb = ops::dropout(x, 0.25, b, true).value();
  EXPECT_EQ(ya.to_vector(), yb.to_vector());
  int64_t zeros = 0;
  for (int64_t i = 0; i < ya.numel(); ++i) {
    ASSERT_TRUE(ya[i] == 0.f || std::abs(ya[i] - 1.f / 0.75f) < 1e-6f);
    zeros += ya[i] == 0.f;
  }
  EXPECT_NEAR(zeros / 10000.0, 0.25, 0.02);
  EXPECT_EQ(a.offset, 10000u);  // the stream advanced: the next call draws a new mask
  auto yc = ops::dropout(x, 0.25, a, true).value();
  EXPECT_NE(ya.to_vector(), yc.to_vector());
  EXPECT_EQ(ops::dropout(x, 0.25, a, false).id, x.id);  // eval: identity
  EXPECT_THROW(ops::dropout(x, 1.0, a, true), ValueError);
}

TEST(Errors, ShapeOps) {
  Tape<float> tape;
  auto x = tape.constant(Tensor<float>::zeros({2, 3}));
  auto y = tape.constant(Tensor<float>::zeros({3, 3}));
  EXPECT_THROW(ops::concat({x, y}, 1), ShapeError);
  EXPECT_THROW(ops::stack({x, y}, 0), ShapeError);
  EXPECT_THROW(ops::slice(x, 1, 2, 5), ShapeError);
  EXPECT_THROW(ops::split(x, {1, 1}, 1), ShapeError);
  EXPECT_THROW(ops::chunk(x, 2, 1), ShapeError);
  EXPECT_THROW(ops::permute(x, {0, 0}), ShapeError);
  EXPECT_THROW(ops::reshape(x, {4, 2}), ShapeError);
  EXPECT_THROW(ops::softmax(x, 2), ShapeError);
  EXPECT_THROW(ops::gather(x, 1, Tensor<int64_t>::from_list({2, 1}, {0, 3})), ValueError);
  EXPECT_THROW(ops::gather(x, 1, Tensor<int64_t>::from_list({2}, {0, 1})), ShapeError);
}

}  // namespace
}  // namespace mimic
