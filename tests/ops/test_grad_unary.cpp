// Finite-difference gradient checks: elementwise math and activations.
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;
using testing::TapeD;
using testing::VarD;
using Vars = std::vector<VarD>;

// Inputs avoid [-0.05, 0.05] so kinks (relu, abs, clamp) are never straddled by eps.
testing::TensorD away_from_zero(const Shape& s, uint64_t seed, double scale = 3.0) {
  auto t = random_tensor(s, seed, -scale, scale);
  for (int64_t i = 0; i < t.numel(); ++i)
    if (std::abs(t[i]) < 0.05) t[i] = t[i] < 0 ? -0.3 : 0.3;
  return t;
}

template <class F>
void check_unary(const char* name, F f, bool positive = false) {
  for (const Shape& s : {Shape{7}, Shape{1}, Shape{2, 3, 5}}) {
    auto x = positive ? random_tensor(s, 11, 0.2, 3.0) : away_from_zero(s, 11);
    expect_gradients_match(name, [&](TapeD&, const Vars& v) { return f(v[0]); }, {x});
  }
}

TEST(GradCheck, Neg) {
  check_unary("neg", [](VarD x) { return -x; });
}
TEST(GradCheck, Exp) {
  check_unary("exp", [](VarD x) { return ops::exp(x); });
}
TEST(GradCheck, Log) {
  check_unary(
      "log", [](VarD x) { return ops::log(x); }, true);
}
TEST(GradCheck, Sqrt) {
  check_unary(
      "sqrt", [](VarD x) { return ops::sqrt(x); }, true);
}
TEST(GradCheck, Pow) {
  check_unary(
      "pow", [](VarD x) { return ops::pow(x, 2.5); }, true);
  check_unary("pow_int", [](VarD x) { return ops::pow(x, 3.0); });
}
TEST(GradCheck, Abs) {
  check_unary("abs", [](VarD x) { return ops::abs(x); });
}
TEST(GradCheck, Clamp) {
  check_unary("clamp", [](VarD x) { return ops::clamp(x, -1.0, 1.5); });
}
TEST(GradCheck, Relu) {
  check_unary("relu", [](VarD x) { return ops::relu(x); });
}
TEST(GradCheck, LeakyRelu) {
  check_unary("leaky_relu", [](VarD x) { return ops::leaky_relu(x, 0.1); });
}
TEST(GradCheck, Elu) {
  check_unary("elu", [](VarD x) { return ops::elu(x, 0.7); });
}
TEST(GradCheck, Gelu) {
  check_unary("gelu", [](VarD x) { return ops::gelu(x); });
  check_unary("gelu_tanh", [](VarD x) { return ops::gelu(x, true); });
}
TEST(GradCheck, Silu) {
  check_unary("silu", [](VarD x) { return ops::silu(x); });
}
TEST(GradCheck, Mish) {
  check_unary("mish", [](VarD x) { return ops::mish(x); });
}
TEST(GradCheck, Tanh) {
  check_unary("tanh", [](VarD x) { return ops::tanh(x); });
}
TEST(GradCheck, Sigmoid) {
  check_unary("sigmoid", [](VarD x) { return ops::sigmoid(x); });
}
TEST(GradCheck, Softplus) {
  check_unary("softplus", [](VarD x) { return ops::softplus(x); });
}

TEST(Forward, ActivationValues) {
  Tape<double> tape;
  auto x = tape.constant(Tensor<double>::from_list({3}, {-1.0, 0.0, 2.0}));
  auto v = [](VarD y) { return y.value().to_vector(); };
  EXPECT_EQ(v(ops::relu(x)), (std::vector<double>{0, 0, 2}));
  EXPECT_NEAR(v(ops::sigmoid(x))[0], 0.2689414213699951, 1e-15);
  EXPECT_NEAR(v(ops::gelu(x))[2], 1.9544997361036416, 1e-15);
  EXPECT_NEAR(v(ops::mish(x))[0], -0.30340146137410895, 1e-15);
  EXPECT_NEAR(v(ops::softplus(x))[1], std::log(2.0), 1e-15);
  EXPECT_EQ(v(ops::clamp(x, -0.5, 1.0)), (std::vector<double>{-0.5, 0, 1}));
  EXPECT_THROW(ops::clamp(x, 1.0, -1.0), ValueError);
}

}  // namespace
}  // namespace mimic

namespace mimic {
namespace {

// The float paths of exp_fast and Mish (one vectorizable exponential) against double libm.
TEST(Forward, FloatExpAndMishMatchDoubleLibm) {
  double worst_exp = 0, worst_mish = 0, worst_dmish = 0;
  for (int i = -20000; i <= 20000; ++i) {
    const float x = static_cast<float>(i) * 0.005f;  // [-100, 100]
    const double xd = x;
    if (xd >= -87 && xd <= 88) {
      const double ref = std::exp(xd);
      worst_exp = std::max(worst_exp, std::abs(fn::exp_fast(x) - ref) / ref);
    }
    const double sp = xd > 20 ? xd : std::log1p(std::exp(xd));
    const double t = std::tanh(sp), sig = 1 / (1 + std::exp(-xd));
    const double mish = xd * t, dmish = t + xd * (1 - t * t) * sig;
    worst_mish =
        std::max(worst_mish, std::abs(fn::Mish{}.f(x) - mish) / std::max(std::abs(mish), 1e-20));
    worst_dmish = std::max(worst_dmish, std::abs(fn::Mish{}.df(x, 0.f) - dmish));
  }
  EXPECT_LE(worst_exp, 3e-7);
  EXPECT_LE(worst_mish, 1e-6);
  EXPECT_LE(worst_dmish, 1e-6);
  // Clamped, not inf or NaN, outside the float range; NaN propagates.
  EXPECT_TRUE(std::isfinite(fn::exp_fast(1000.f)));
  EXPECT_EQ(fn::exp_fast(-1000.f) >= 0.f, true);
  EXPECT_TRUE(std::isnan(fn::exp_fast(std::nanf(""))));
  EXPECT_TRUE(std::isnan(fn::Mish{}.f(std::nanf(""))));
  EXPECT_TRUE(std::isnan(fn::Mish{}.df(std::nanf(""), 0.f)));
  EXPECT_EQ(fn::Mish{}.f(1e30f), 1e30f);
}

// The float GELU (erfc form, no libm call) and its derivative against double libm: relative
// error of the value under 1e-6 wherever it is representable, absolute error of the derivative
// under 1e-6; NaN propagates and the tails saturate.
TEST(Forward, FloatGeluMatchesDoubleLibm) {
  double worst = 0, worst_d = 0;
  for (int i = -60000; i <= 60000; ++i) {
    const float x = static_cast<float>(i) * 2.5e-4f;  // [-15, 15]
    const double xd = x, cdf = 0.5 * std::erfc(-xd / std::sqrt(2.0));
    const double ref = xd * cdf;
    const double dref = cdf + xd * std::exp(-0.5 * xd * xd) / std::sqrt(2 * M_PI);
    if (std::abs(ref) > 1e-30)
      worst = std::max(worst, std::abs(fn::Gelu{}.f(x) - ref) / std::abs(ref));
    worst_d = std::max(worst_d, std::abs(fn::Gelu{}.df(x, 0.f) - dref));
  }
  EXPECT_LE(worst, 1e-6);
  EXPECT_LE(worst_d, 1e-6);
  EXPECT_TRUE(std::isnan(fn::Gelu{}.f(std::nanf(""))));
  EXPECT_TRUE(std::isnan(fn::Gelu{}.df(std::nanf(""), 0.f)));
  EXPECT_EQ(fn::Gelu{}.f(1e30f), 1e30f);
  EXPECT_EQ(fn::Gelu{}.f(-1e30f), 0.f);
  EXPECT_EQ(fn::Gelu{}.df(1e30f, 0.f), 1.f);
}

}  // namespace
}  // namespace mimic
