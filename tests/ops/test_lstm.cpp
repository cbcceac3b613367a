// The fused LSTM sequence op against the same cell written with elementwise ops, finite
// differences, and its shape checks; contiguous slices as views.
#include "support/compare.hpp"
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::random_tensor;

template <class T>
Tensor<T> cast(const Tensor<double>& t) {
  std::vector<T> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(static_cast<T>(t[i]));
  return Tensor<T>::from_vector(t.shape(), v);
}

// The LSTM recurrence spelled out with generic ops (PyTorch's equations, gate order i, f, g, o).
template <class T>
ops::LstmResult<T, Cpu> composed_lstm(Var<T> x, Var<T> w_ih, Var<T> w_hh, Var<T> b_ih, Var<T> b_hh,
                                      Var<T> h, Var<T> c) {
  const int64_t b = x.dim(0), steps = x.dim(1), hid = w_hh.dim(1);
  Tape<T>& tape = *x.tape;
  if (!h.defined()) {
    h = tape.constant(Tensor<T>::zeros({b, hid}));
    c = tape.constant(Tensor<T>::zeros({b, hid}));
  }
  std::vector<Var<T>> outs;
  for (int64_t t = 0; t < steps; ++t) {
    auto xt = ops::reshape(ops::slice(x, 1, t, t + 1), Shape{b, x.dim(2)});
    auto g = ops::linear(xt, w_ih, b_ih) + ops::linear(h, w_hh, b_hh);
    auto i = ops::sigmoid(ops::slice(g, 1, 0, hid));
    auto f = ops::sigmoid(ops::slice(g, 1, hid, 2 * hid));
    auto gg = ops::tanh(ops::slice(g, 1, 2 * hid, 3 * hid));
    auto o = ops::sigmoid(ops::slice(g, 1, 3 * hid, 4 * hid));
    c = f * c + i * gg;
    h = o * ops::tanh(c);
    outs.push_back(ops::reshape(h, Shape{b, 1, hid}));
  }
  return {ops::concat(outs, 1), h, c};
}

template <class T>
void expect_fused_matches_composed(bool with_state, double tol) {
  // H = 37: rows that are not a multiple of the SIMD width.
  const int64_t B = 5, S = 7, I = 11, H = 37;
  const std::vector<Tensor<double>> data = {random_tensor({B, S, I}, 1),
                                            random_tensor({4 * H, I}, 2, -0.4, 0.4),
                                            random_tensor({4 * H, H}, 3, -0.4, 0.4),
                                            random_tensor({4 * H}, 4),
                                            random_tensor({4 * H}, 5),
                                            random_tensor({B, H}, 6),
                                            random_tensor({B, H}, 7, -2, 2)};
  const auto w_out = cast<T>(random_tensor({B, S, H}, 8)), w_h = cast<T>(random_tensor({B, H}, 9)),
             w_c = cast<T>(random_tensor({B, H}, 10));
  std::vector<std::vector<double>> values[2], grads[2];
  for (int fused = 0; fused < 2; ++fused) {
    Tape<T> tape;
    std::vector<Var<T>> v;
    for (const auto& d : data) v.push_back(tape.leaf(cast<T>(d)));
    Var<T> h0 = with_state ? v[5] : Var<T>{}, c0 = with_state ? v[6] : Var<T>{};
    auto r = fused ? ops::lstm(v[0], v[1], v[2], v[3], v[4], h0, c0)
                   : composed_lstm(v[0], v[1], v[2], v[3], v[4], h0, c0);
    auto loss = ops::sum(r.output * tape.constant(w_out)) + ops::sum(r.h * tape.constant(w_h)) +
                ops::sum(r.c * tape.constant(w_c));
    tape.backward(loss);
    for (auto out : {r.output, r.h, r.c}) {
      auto x = out.value().to_vector();
      values[fused].emplace_back(x.begin(), x.end());
    }
    for (size_t i = 0; i < (with_state ? 7u : 5u); ++i) {
      auto g = v[i].grad().to_vector();
      grads[fused].emplace_back(g.begin(), g.end());
    }
  }
  const char* value_names[] = {"output", "h", "c"};
  for (int k = 0; k < 3; ++k)
    EXPECT_LE(testing::relative_error(values[1][k], values[0][k]), tol) << value_names[k];
  const char* grad_names[] = {"x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0"};
  for (size_t k = 0; k < grads[0].size(); ++k)
    EXPECT_LE(testing::relative_error(grads[1][k], grads[0][k]), tol) << "d" << grad_names[k];
}

TEST(Lstm, FusedOpMatchesComposedCells) {
  for (bool state : {false, true}) {
    SCOPED_TRACE(state ? "with initial state" : "zero initial state");
    expect_fused_matches_composed<double>(state, 1e-12);
    // Float: the fused pass uses vectorized rational sigmoid/tanh instead of libm's.
    expect_fused_matches_composed<float>(state, 2e-5);
  }
}

TEST(GradCheck, FusedLstmEveryInput) {
  const int64_t B = 2, S = 3, I = 3, H = 4;
  testing::expect_gradients_match(
      "lstm",
      [&](testing::TapeD&, const std::vector<testing::VarD>& v) {
        auto r = ops::lstm(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        return ops::concat({ops::reshape(r.output, Shape{B, S * H}), r.h, r.c}, 1);
      },
      {random_tensor({B, S, I}, 1), random_tensor({4 * H, I}, 2), random_tensor({4 * H, H}, 3),
       random_tensor({4 * H}, 4), random_tensor({4 * H}, 5), random_tensor({B, H}, 6),
       random_tensor({B, H}, 7)});
  // Without biases or state, and a single step.
  testing::expect_gradients_match(
      "lstm_one_step",
      [&](testing::TapeD&, const std::vector<testing::VarD>& v) {
        return ops::lstm(v[0], v[1], v[2]).c;
      },
      {random_tensor({B, 1, I}, 8), random_tensor({4 * H, I}, 9), random_tensor({4 * H, H}, 10)});
}

TEST(Lstm, RejectsMismatchedShapes) {
  Tape<float> tape;
  auto z = [&](Shape s) { return tape.constant(Tensor<float>::zeros(s)); };
  EXPECT_THROW(ops::lstm(z({2, 3, 5}), z({16, 4}), z({16, 4})), ShapeError);  // input width
  EXPECT_THROW(ops::lstm(z({2, 3, 4}), z({16, 4}), z({16, 5})), ShapeError);  // not [4H, H]
  EXPECT_THROW(ops::lstm(z({2, 0, 4}), z({16, 4}), z({16, 4})), ShapeError);  // no steps
  EXPECT_THROW(ops::lstm(z({2, 3, 4}), z({16, 4}), z({16, 4}), z({16}), z({12})), ShapeError);
  EXPECT_THROW(ops::lstm(z({2, 3, 4}), z({16, 4}), z({16, 4}), z({16}), Var<float>{}), ValueError);
  EXPECT_THROW(
      ops::lstm(z({2, 3, 4}), z({16, 4}), z({16, 4}), z({16}), z({16}), z({3, 4}), z({3, 4})),
      ShapeError);  // state batch
}

TEST(Slice, ContiguousRangeIsAViewWithTheSameGradient) {
  Tape<double> tape;
  auto x = tape.leaf(random_tensor({4, 3, 2}, 1));
  auto rows = ops::slice(x, 0, 1, 3);
  EXPECT_EQ(rows.value().data(), x.value().data() + 6);  // no copy
  auto cols = ops::slice(x, 1, 1, 2);                    // strided: a copy
  EXPECT_NE(cols.value().data(), x.value().data() + 2);
  EXPECT_EQ(cols.value()[0], x.value()[2]);
  testing::expect_gradients_match(
      "slice_rows",
      [&](testing::TapeD&, const std::vector<testing::VarD>& v) {
        return ops::slice(ops::reshape(v[0], Shape{1, 24}), 1, 5, 17) * 2.0;
      },
      {random_tensor({4, 3, 2}, 2)});
}

}  // namespace
}  // namespace mimic
