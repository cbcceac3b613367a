// Whole-model steps: Diffusion Policy's UNet (PushT config, 65.8M parameters), the BC-RNN LSTM
// and the BC MLP. The UNet forward costs ~0.59 GFLOP per sample at horizon 16.
#include <benchmark/benchmark.h>

#include "mimic/mimic.hpp"

namespace mimic {
namespace {

Tensor<float> uniform(const Shape& s, uint64_t seed) {
  auto t = Tensor<float>::empty(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = philox_uniform<float>(seed, i) * 2 - 1;
  return t;
}

nn::UnetConfig pusht_config() {
  nn::UnetConfig cfg;
  cfg.input_dim = 2;
  cfg.global_cond_dim = 40;
  return cfg;
}

// Forward, MSE against the noise, backward, AdamW, EMA: one Diffusion Policy training step.
void BM_UnetTrainStep(benchmark::State& state) {
  const int64_t batch = state.range(0), horizon = 16;
  nn::ParamStore<float> store;
  nn::ConditionalUnet1D<float> unet(store, pusht_config());
  store.allocate();
  store.initialize(0);
  auto opt = optim::make_adamw(store, 1e-4, 0.95, 0.999, 1e-6);
  optim::Ema<float> ema(store, {});
  auto x = uniform({batch, horizon, 2}, 1), noise = uniform({batch, horizon, 2}, 2);
  auto cond = uniform({batch, 40}, 3);
  auto t = Tensor<float>::empty({batch});
  for (int64_t i = 0; i < batch; ++i) t[i] = float(i % 100);
  Tape<float> tape(size_t(1) << 28);
  for (auto _ : state) {
    tape.reset();
    store.zero_grad();
    auto pred = unet(store, tape.constant(x), tape.constant(t), tape.constant(cond));
    auto loss = loss::mse(pred, tape.constant(noise));
    tape.backward(loss);
    opt.step();
    ema.update();
    benchmark::DoNotOptimize(loss.value().data());
  }
  state.counters["samples/s"] =
      benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_UnetTrainStep)
    ->Arg(256)
    ->Arg(64)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// One UNet call without gradients (a single denoising step).
void BM_UnetDenoise(benchmark::State& state) {
  const int64_t batch = state.range(0);
  nn::ParamStore<float> store;
  nn::ConditionalUnet1D<float> unet(store, pusht_config());
  store.allocate();
  store.initialize(0);
  auto x = uniform({batch, 16, 2}, 1), cond = uniform({batch, 40}, 3);
  auto t = Tensor<float>::full({batch}, 10.f);
  Tape<float> tape(size_t(1) << 26);
  for (auto _ : state) {
    tape.reset();
    auto guard = tape.no_grad();
    auto y = unet(store, tape.constant(x), tape.constant(t), tape.constant(cond));
    benchmark::DoNotOptimize(y.value().data());
  }
}
BENCHMARK(BM_UnetDenoise)->Arg(1)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

// BC-RNN: LSTM 2 x 400 over 10 steps, batch 100, input 19, linear head, MSE, Adam.
void BM_LstmTrainStep(benchmark::State& state) {
  nn::ParamStore<float> store;
  auto lstm = nn::make_lstm(store, "rnn", 19, 400, 2);
  nn::Linear<float> head(store, "head", 400, 7);
  store.allocate();
  store.initialize(0);
  optim::Adam<float> opt(store, {});
  auto x = uniform({100, 10, 19}, 1), y = uniform({100, 10, 7}, 2);
  Tape<float> tape(size_t(1) << 26);
  for (auto _ : state) {
    tape.reset();
    store.zero_grad();
    auto out = head(store, lstm(store, tape.constant(x)).output);
    auto l = loss::mse(out, tape.constant(y));
    tape.backward(l);
    opt.step();
    benchmark::DoNotOptimize(l.value().data());
  }
}
BENCHMARK(BM_LstmTrainStep)->Unit(benchmark::kMillisecond)->UseRealTime();

// BC: MLP 19 -> 1024 -> 1024 -> 7, batch 100, MSE, Adam.
void BM_MlpTrainStep(benchmark::State& state) {
  nn::ParamStore<float> store;
  nn::Mlp<float> mlp(store, "mlp", {19, 1024, 1024, 7});
  store.allocate();
  store.initialize(0);
  optim::Adam<float> opt(store, {});
  auto x = uniform({100, 19}, 1), y = uniform({100, 7}, 2);
  Tape<float> tape;
  for (auto _ : state) {
    tape.reset();
    store.zero_grad();
    auto l = loss::mse(mlp(store, tape.constant(x)), tape.constant(y));
    tape.backward(l);
    opt.step();
    benchmark::DoNotOptimize(l.value().data());
  }
}
BENCHMARK(BM_MlpTrainStep)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace mimic
