// Fits y = 2x + 1 with a one-parameter-pair linear model through the installed headers.
#include <cmath>
#include <cstdio>
#include <mimic/mimic.hpp>

int main() {
  using namespace mimic;
  nn::ParamStore<float> store;
  auto w = store.declare("weight", {1, 1});
  auto b = store.declare("bias", {1});
  store.allocate();
  auto x = Tensor<float>::from_list({4, 1}, {-1, 0, 1, 2});
  auto y = Tensor<float>::from_list({4, 1}, {-1, 1, 3, 5});
  Tape<float> tape;
  float loss_value = 0;
  for (int step = 0; step < 500; ++step) {
    tape.reset();
    store.zero_grad();
    auto pred = ops::linear(tape.constant(x), store.on(tape, w), store.on(tape, b));
    auto diff = pred - tape.constant(y);
    auto loss = ops::mean(diff * diff);
    tape.backward(loss);
    loss_value = loss.value()[0];
    const auto& v = store.values();
    const auto& g = store.grads();
    for (int64_t i = 0; i < v.numel(); ++i) v[i] -= 0.1f * g[i];
  }
  const float wv = store.value(w)[0], bv = store.value(b)[0];
  std::printf("consumer: w = %.4f, b = %.4f, loss = %.2e\n", wv, bv, loss_value);
  return (std::abs(wv - 2) < 1e-3 && std::abs(bv - 1) < 1e-3) ? 0 : 1;
}
