// LSTM and GRU against torch.nn.LSTM / GRU (tests/reference/make_rnn_fixture.py): outputs, final
// states and gradients for the parameters, the input and the initial state.
#include <gtest/gtest.h>

#include <cmath>

#include "mimic/mimic.hpp"
#include "support/compare.hpp"
#include "support/h5_fixture.hpp"

namespace mimic {
namespace {

template <class T>
void check_rnn(const std::string& name, double tol) {
  testing::H5Fixture f(std::string(MIMIC_TEST_DATA_DIR) + "/golden_rnn.h5");
  const bool lstm = name == "lstm";
  nn::ParamStore<T> store;
  auto rnn = lstm ? nn::make_lstm(store, "", 5, 6, 2) : nn::make_gru(store, "", 5, 6, 2);
  store.allocate();
  for (const auto& e : store.entries()) {
    Shape s;
    auto v = f.read<T>("/" + name + "/params/" + e.name, &s);
    ASSERT_EQ(s, e.shape) << e.name;
    store.value(store.find(e.name)).copy_from(Tensor<T>::from_vector(s, v));
  }
  auto load = [&](const std::string& key) {
    Shape s;
    auto v = f.read<T>("/" + name + "/" + key, &s);
    return Tensor<T>::from_vector(s, v);
  };
  Tape<T> tape;
  auto x = tape.leaf(load("x"));
  auto h0 = tape.leaf(load("h0"));
  auto c0 = lstm ? tape.leaf(load("c0")) : Var<T>{};
  nn::RnnState<T, Cpu> state;
  for (int l = 0; l < 2; ++l) {
    state.h.push_back(ops::reshape(ops::slice(h0, 0, l, l + 1), Shape{3, 6}));
    if (lstm) state.c.push_back(ops::reshape(ops::slice(c0, 0, l, l + 1), Shape{3, 6}));
  }
  auto out = rnn(store, x, state);
  auto hn = ops::stack(out.state.h, 0);
  auto loss = ops::sum(out.output * tape.constant(load("weights"))) + ops::sum(hn);
  Var<T> cn;
  if (lstm) {
    cn = ops::stack(out.state.c, 0);
    loss = loss + ops::sum(cn);
  }
  tape.backward(loss);
  const std::string p = "/" + name + "/";
  EXPECT_LE(testing::relative_error(out.output.value().to_vector(), f.read<double>(p + "y")), tol)
      << name << " y";
  EXPECT_LE(testing::relative_error(hn.value().to_vector(), f.read<double>(p + "hn")), tol)
      << name << " h_n";
  if (lstm) {
    EXPECT_LE(testing::relative_error(cn.value().to_vector(), f.read<double>(p + "cn")), tol)
        << name << " c_n";
  }
  EXPECT_LE(testing::relative_error(x.grad().to_vector(), f.read<double>(p + "dx")), tol)
      << name << " dx";
  EXPECT_LE(testing::relative_error(h0.grad().to_vector(), f.read<double>(p + "dh0")), tol)
      << name << " dh0";
  if (lstm) {
    EXPECT_LE(testing::relative_error(c0.grad().to_vector(), f.read<double>(p + "dc0")), tol)
        << name << " dc0";
  }
  for (const auto& e : store.entries())
    EXPECT_LE(testing::relative_error(store.grad(store.find(e.name)).to_vector(),
                                      f.read<double>(p + "grads/" + e.name)),
              tol)
        << name << " " << e.name;
}

TEST(Golden, Lstm) {
  check_rnn<float>("lstm", 1e-5);
  check_rnn<double>("lstm", 1e-10);
}
TEST(Golden, Gru) {
  check_rnn<float>("gru", 1e-5);
  check_rnn<double>("gru", 1e-10);
}

}  // namespace
}  // namespace mimic
