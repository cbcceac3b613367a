// Losses: values against hand-computed numbers and gradient checks in double.
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;
using testing::TapeD;
using testing::VarD;
using Vars = std::vector<VarD>;

TEST(Loss, Values) {
  Tape<double> tape;
  auto a = tape.constant(Tensor<double>::from_list({2, 3}, {1, 0, 0, 0, 2, 0}));
  auto b = tape.constant(Tensor<double>::from_list({2, 3}, {0, 0, 0, 0, 0.5, 0}));
  EXPECT_NEAR(loss::mse(a, b).value()[0], (1 + 2.25) / 6, 1e-15);
  // SmoothL1 beta 1: |1| -> 0.5, |1.5| -> 1.0
  EXPECT_NEAR(loss::smooth_l1(a, b).value()[0], (0.5 + 1.0) / 6, 1e-15);
  // cos(a0, b0) undefined-ish (b0 = 0) -> 0 by the eps guard; cos(a1, b1) = 1
  EXPECT_NEAR(loss::cosine(a, b).value()[0], (1.0 + 0.0) / 2, 1e-12);
  auto mask = tape.constant(Tensor<double>::from_list({2, 1}, {1, 0}));
  EXPECT_NEAR(loss::masked_mse(a, b, mask).value()[0], 1.0 / 3, 1e-12);
  loss::ActionLossWeights w{1.0, 0.5, 0.25};
  EXPECT_NEAR(loss::action_loss(a, b, w).value()[0], (3.25 / 6) + 0.5 * (1.5 / 6) + 0.25 * 0.5,
              1e-12);
  auto e = tape.constant(Tensor<double>::from_list({1, 3}, {0, 1, 2}));
  auto label = Tensor<int64_t>::from_list({1, 1}, {0});
  const double z = 1 + std::exp(-1.0) + std::exp(-2.0);
  EXPECT_NEAR(loss::info_nce(e, label).value()[0], std::log(z), 1e-14);
  EXPECT_THROW(loss::mse(a, e), ShapeError);
}

TEST(Loss, GmmLogProbSingleComponentIsGaussian) {
  Tape<double> tape;
  auto mu = tape.constant(Tensor<double>::from_list({1, 1, 2}, {0.5, -1}));
  auto sd = tape.constant(Tensor<double>::from_list({1, 1, 2}, {2, 0.5}));
  auto logits = tape.constant(Tensor<double>::from_list({1, 1}, {3}));
  auto act = tape.constant(Tensor<double>::from_list({1, 2}, {1, 0}));
  const double expected = -0.5 * (0.0625 + 4) - std::log(2.0) - std::log(0.5) - std::log(2 * M_PI);
  EXPECT_NEAR(loss::gmm_log_prob(mu, sd, logits, act).value()[0], expected, 1e-12);
}

TEST(GradCheck, SmoothL1) {
  expect_gradients_match("smooth_l1",
                         [](TapeD&, const Vars& v) { return loss::smooth_l1(v[0], v[1], 0.7); },
                         {random_tensor({3, 5}, 1, -2, 2), random_tensor({3, 5}, 2)});
}
TEST(GradCheck, CosineLoss) {
  expect_gradients_match("cosine", [](TapeD&, const Vars& v) { return loss::cosine(v[0], v[1]); },
                         {random_tensor({4, 3}, 1), random_tensor({4, 3}, 2)});
}
TEST(GradCheck, ActionLoss) {
  expect_gradients_match("action_loss",
                         [](TapeD&, const Vars& v) {
                           return loss::action_loss(v[0], v[1], {1.0, 0.3, 0.2});
                         },
                         {random_tensor({4, 7}, 1), random_tensor({4, 7}, 2)});
}
TEST(GradCheck, MaskedMse) {
  expect_gradients_match(
      "masked_mse",
      [](TapeD& t, const Vars& v) {
        return loss::masked_mse(
            v[0], v[1], t.constant(Tensor<double>::from_list({2, 3, 1}, {1, 1, 0, 0, 1, 1})));
      },
      {random_tensor({2, 3, 2}, 1), random_tensor({2, 3, 2}, 2)});
}
TEST(GradCheck, InfoNce) {
  auto labels = Tensor<int64_t>::from_list({3, 1}, {0, 4, 2});
  expect_gradients_match("info_nce",
                         [&](TapeD&, const Vars& v) { return loss::info_nce(v[0], labels); },
                         {random_tensor({3, 5}, 1, -2, 2)});
}
TEST(GradCheck, GmmNll) {
  expect_gradients_match(
      "gmm_nll",
      [](TapeD&, const Vars& v) {
        return loss::gmm_nll(ops::tanh(v[0]), ops::softplus(v[1]) + 1e-4, v[2], v[3]);
      },
      {random_tensor({2, 3, 4}, 1), random_tensor({2, 3, 4}, 2), random_tensor({2, 3}, 3),
       random_tensor({2, 4}, 4)});
}

}  // namespace
}  // namespace mimic
