// A repeated training step makes no heap allocation after the first one (allocations counted by
// counting_allocator.cpp).
#include <gtest/gtest.h>

#include "counting_allocator.hpp"
#include "mimic/mimic.hpp"

namespace mimic {
namespace {

struct SmallMlp {
  nn::ParamStore<float> store;
  nn::ParamId w1, b1, w2, b2, w3, b3;
  SmallMlp() {
    w1 = store.declare("0.weight", {32, 8});
    b1 = store.declare("0.bias", {32});
    w2 = store.declare("2.weight", {32, 32});
    b2 = store.declare("2.bias", {32});
    w3 = store.declare("4.weight", {4, 32});
    b3 = store.declare("4.bias", {4});
    store.allocate();
    const Tensor<float>& v = store.values();
    for (int64_t i = 0; i < v.numel(); ++i) v[i] = 0.3f * philox_normal<float>(3, i);
  }
  Var<float> forward(Tape<float>& tape, Var<float> x) {
    auto h = ops::relu(ops::linear(x, store.on(tape, w1), store.on(tape, b1)));
    h = ops::relu(ops::linear(h, store.on(tape, w2), store.on(tape, b2)));
    return ops::linear(h, store.on(tape, w3), store.on(tape, b3));
  }
};

float train_step(SmallMlp& mlp, Tape<float>& tape, const Tensor<float>& x, const Tensor<float>& y) {
  tape.reset();
  mlp.store.zero_grad();
  auto pred = mlp.forward(tape, tape.constant(x));
  auto diff = pred - tape.constant(y);
  auto loss = ops::mean(diff * diff);
  tape.backward(loss);
  // Plain SGD over the flat buffers.
  const Tensor<float>& v = mlp.store.values();
  const Tensor<float>& g = mlp.store.grads();
  for (int64_t i = 0; i < v.numel(); ++i) v[i] -= 0.2f * g[i];
  return loss.value()[0];
}

TEST(ZeroAllocation, SecondTrainingStepAllocatesNothing) {
  SmallMlp mlp;
  Tape<float> tape;
  auto x = Tensor<float>::empty({16, 8});
  auto y = Tensor<float>::empty({16, 4});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = philox_uniform<float>(10, i) * 2 - 1;
  for (int64_t i = 0; i < y.numel(); ++i) y[i] = philox_uniform<float>(11, i) * 2 - 1;

  const float first = train_step(mlp, tape, x, y);  // step 1 sizes the arena and vectors
  alloc_count::start();
  const float second = train_step(mlp, tape, x, y);  // step 2 must reuse everything
  EXPECT_EQ(alloc_count::stop(), 0) << "heap allocations during step 2";
  float last = second;
  for (int i = 0; i < 300; ++i) last = train_step(mlp, tape, x, y);
  EXPECT_LT(second, first);  // the step really trains
  EXPECT_LT(last, 0.5f * first);
}

}  // namespace
}  // namespace mimic
