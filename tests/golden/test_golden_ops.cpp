// Forward values and gradients against PyTorch (tests/reference/make_fixtures.py). The objective
// is sum(weights * y); relative error = max|a - b| / max|b|: under 1e-5 in float, 1e-10 in double.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

#include "mimic/mimic.hpp"
#include "mimic/ops/attention.hpp"
#include "support/compare.hpp"
#include "support/h5_fixture.hpp"

namespace mimic {
namespace {

const std::string kFixture = std::string(MIMIC_TEST_DATA_DIR) + "/golden_ops.h5";

template <class T>
using OpFn = std::function<Var<T>(const std::map<std::string, Var<T>>&, const testing::H5Fixture&,
                                  const std::string&)>;

// Runs `fn` on every case of `op` in the fixture and compares y and every input's gradient.
template <class T>
void check_op(const std::string& op, const std::vector<std::string>& inputs, const OpFn<T>& fn) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-10;
  const std::string dtype = std::is_same_v<T, float> ? "float32" : "float64";
  testing::H5Fixture f(kFixture);
  int cases = 0;
  for (int i = 0;; ++i) {
    const std::string base = "/" + dtype + "/" + op + "/case" + std::to_string(i);
    if (!f.exists(base)) break;
    ++cases;
    Tape<T> tape;
    std::map<std::string, Var<T>> vars;
    for (const std::string& name : inputs) {
      Shape s;
      std::vector<T> v = f.read<T>(base + "/" + name, &s);
      vars[name] = tape.leaf(Tensor<T>::from_vector(s, v));
    }
    Var<T> y = fn(vars, f, base);
    Shape ws;
    std::vector<T> w = f.read<T>(base + "/weights", &ws);
    ASSERT_EQ(y.shape(), ws) << base;
    tape.backward(ops::sum(y * tape.constant(Tensor<T>::from_vector(ws, w))));
    EXPECT_LE(testing::relative_error(y.value().to_vector(), f.read<T>(base + "/y")), tol)
        << base << " y";
    for (const std::string& name : inputs)
      EXPECT_LE(
          testing::relative_error(vars[name].grad().to_vector(), f.read<T>(base + "/d" + name)),
          tol)
          << base << " d" << name;
  }
  EXPECT_GT(cases, 0) << "no cases of " << op << " in " << kFixture;
}

template <class T>
void conv1d_cases() {
  check_op<T>("conv1d", {"x", "w", "b"}, [](const auto& v, const auto& f, const std::string& b) {
    return ops::conv1d(v.at("x"), v.at("w"), v.at("b"), f.attr_int(b, "stride"),
                       f.attr_int(b, "padding"), f.attr_int(b, "dilation"));
  });
}
TEST(Golden, Conv1d) {
  conv1d_cases<float>();
  conv1d_cases<double>();
}

template <class T>
void conv_transpose1d_cases() {
  check_op<T>(
      "conv_transpose1d", {"x", "w", "b"}, [](const auto& v, const auto& f, const std::string& b) {
        return ops::conv_transpose1d(v.at("x"), v.at("w"), v.at("b"), f.attr_int(b, "stride"),
                                     f.attr_int(b, "padding"), f.attr_int(b, "output_padding"),
                                     f.attr_int(b, "dilation"));
      });
}
TEST(Golden, ConvTranspose1d) {
  conv_transpose1d_cases<float>();
  conv_transpose1d_cases<double>();
}

template <class T>
void group_norm_cases() {
  check_op<T>(
      "group_norm", {"x", "gamma", "beta"}, [](const auto& v, const auto& f, const std::string& b) {
        return ops::group_norm(v.at("x"), f.attr_int(b, "groups"), v.at("gamma"), v.at("beta"));
      });
}
TEST(Golden, GroupNorm) {
  group_norm_cases<float>();
  group_norm_cases<double>();
}

template <class T>
void layer_norm_cases() {
  check_op<T>(
      "layer_norm", {"x", "gamma", "beta"}, [](const auto& v, const auto& f, const std::string& b) {
        return ops::layer_norm(v.at("x"), static_cast<int>(f.attr_int(b, "normalized_dims")),
                               v.at("gamma"), v.at("beta"));
      });
}
TEST(Golden, LayerNorm) {
  layer_norm_cases<float>();
  layer_norm_cases<double>();
}

template <class T>
void unary_cases(const std::string& op, Var<T> (*fn)(Var<T>)) {
  check_op<T>(op, {"x"},
              [fn](const auto& v, const auto&, const std::string&) { return fn(v.at("x")); });
}
template <class T>
Var<T> mish_fn(Var<T> x) {
  return ops::mish(x);
}
template <class T>
Var<T> gelu_fn(Var<T> x) {
  return ops::gelu(x);
}
TEST(Golden, Mish) {
  unary_cases<float>("mish", &mish_fn<float>);
  unary_cases<double>("mish", &mish_fn<double>);
}
TEST(Golden, Gelu) {
  unary_cases<float>("gelu", &gelu_fn<float>);
  unary_cases<double>("gelu", &gelu_fn<double>);
}

template <class T>
void softmax_cases(bool log) {
  check_op<T>(log ? "log_softmax" : "softmax", {"x"},
              [log](const auto& v, const auto& f, const std::string& b) {
                const int axis = static_cast<int>(f.attr_int(b, "axis"));
                return log ? ops::log_softmax(v.at("x"), axis) : ops::softmax(v.at("x"), axis);
              });
}
TEST(Golden, Softmax) {
  softmax_cases<float>(false);
  softmax_cases<double>(false);
}
TEST(Golden, LogSoftmax) {
  softmax_cases<float>(true);
  softmax_cases<double>(true);
}

template <class T>
void bmm_cases() {
  check_op<T>("bmm", {"a", "b"}, [](const auto& v, const auto&, const std::string&) {
    return ops::bmm(v.at("a"), v.at("b"));
  });
}
TEST(Golden, Bmm) {
  bmm_cases<float>();
  bmm_cases<double>();
}

template <class T>
void attention_cases() {
  check_op<T>("attention", {"q", "k", "v"}, [](const auto& v, const auto& f, const std::string& b) {
    ops::AttentionOptions<T, Cpu> o;
    o.causal = f.attr_int(b, "causal") != 0;
    o.causal_shift = f.attr_int(b, "shift");
    if (f.attr_int(b, "has_padding")) {
      Shape s;
      const std::vector<T> pad = f.template read<T>(b + "/key_padding", &s);
      o.key_padding = Tensor<T>::from_vector(s, pad);
    }
    return ops::attention(v.at("q"), v.at("k"), v.at("v"), o);
  });
}
TEST(Golden, Attention) {
  attention_cases<float>();
  attention_cases<double>();
}

TEST(Golden, MissingFixtureIsAClearError) {
  try {
    testing::H5Fixture f(std::string(MIMIC_TEST_DATA_DIR) + "/no_such_file.h5");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_file.h5"), std::string::npos);
  }
}

}  // namespace
}  // namespace mimic
