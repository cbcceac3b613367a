// GEMM, linear and conv1d forward/backward on the CPU, with FLOP/s counters, and the machine's
// read bandwidth.
#include <benchmark/benchmark.h>

#include "mimic/mimic.hpp"

namespace mimic {
namespace {

Tensor<float> random_tensor(const Shape& s, uint64_t seed) {
  auto t = Tensor<float>::empty(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = philox_uniform<float>(seed, i) * 2 - 1;
  return t;
}
benchmark::Counter flops_counter(double flops_per_iteration) {
  return benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate,
                            benchmark::Counter::kIs1000);
}

// C[M, N] = A[M, K] B[K, N]: 2 M N K FLOPs.
void BM_Gemm(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  auto a = random_tensor({m, k}, 1), b = random_tensor({k, n}, 2);
  auto c = Tensor<float>::empty({m, n});
  for (auto _ : state) {
    Kernels<Cpu>::gemm(false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOP/s"] = flops_counter(2.0 * m * n * k);
}
BENCHMARK(BM_Gemm)
    ->Args({256, 256, 256})
    ->Args({512, 512, 512})
    ->Args({1024, 1024, 1024})
    ->Args({1024, 4096, 1280})
    ->Args({64, 7056, 576})    // ResNet18 layer1 3x3 conv at batch 16, 84x84 (forward)
    ->Args({512, 144, 4608})   // layer4 3x3 conv (forward)
    ->Args({128, 1936, 1152})  // layer2
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Linear 1024 -> 1024 at batch 256: forward 2 B I O FLOPs; backward twice that.
// Read bandwidth: a dot product of two 256 MB float arrays, split across the OpenMP threads
// (8 independent partial sums per thread so the adds never wait on each other). The reference
// for memory-bound rows such as the batch-1 UNet call, which reads its 263 MB of weights once.
void BM_ReadBandwidth(benchmark::State& state) {
  const int64_t n = int64_t(64) << 20;  // floats per array
  auto a = random_tensor({n}, 1), b = random_tensor({n}, 2);
  double result = 0;
  for (auto _ : state) {
    double total = 0;
    const float* pa = a.data();
    const float* pb = b.data();
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (int64_t block = 0; block < n / 1024; ++block) {
      float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int64_t i = block * 1024; i < (block + 1) * 1024; i += 8)
        for (int k = 0; k < 8; ++k) lanes[k] += pa[i + k] * pb[i + k];
      for (float v : lanes) total += v;
    }
    result += total;
    benchmark::DoNotOptimize(result);
  }
  state.counters["bytes/s"] = benchmark::Counter(2.0 * double(n) * sizeof(float),
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1024);
}
BENCHMARK(BM_ReadBandwidth)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LinearForward(benchmark::State& state) {
  const int64_t batch = state.range(0), in = state.range(1), out = state.range(2);
  auto x = random_tensor({batch, in}, 1), w = random_tensor({out, in}, 2),
       b = random_tensor({out}, 3);
  Tape<float> tape;
  for (auto _ : state) {
    tape.reset();
    auto y = ops::linear(tape.constant(x), tape.constant(w), tape.constant(b));
    benchmark::DoNotOptimize(y.value().data());
  }
  state.counters["FLOP/s"] = flops_counter(2.0 * batch * in * out);
}
BENCHMARK(BM_LinearForward)->Args({256, 1024, 1024})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LinearBackward(benchmark::State& state) {
  const int64_t batch = state.range(0), in = state.range(1), out = state.range(2);
  auto x = random_tensor({batch, in}, 1), w = random_tensor({out, in}, 2),
       b = random_tensor({out}, 3);
  auto gw = Tensor<float>::zeros({out, in}), gb = Tensor<float>::zeros({out});
  Tape<float> tape;
  for (auto _ : state) {
    tape.reset();
    auto y = ops::linear(tape.leaf(x), tape.parameter(w, gw), tape.parameter(b, gb));
    tape.backward(ops::sum(y));
    benchmark::DoNotOptimize(gw.data());
  }
  // forward + dX + dW GEMMs
  state.counters["FLOP/s"] = flops_counter(6.0 * batch * in * out);
}
BENCHMARK(BM_LinearBackward)->Args({256, 1024, 1024})->Unit(benchmark::kMillisecond)->UseRealTime();

// conv1d [N, C, L] -> [N, Cout, L], kernel K, padding K/2: 2 N L Cout C K FLOPs forward.
void BM_Conv1dForward(benchmark::State& state) {
  const int64_t n = state.range(0), c = state.range(1), l = state.range(2), k = state.range(3);
  auto x = random_tensor({n, c, l}, 1), w = random_tensor({c, c, k}, 2), b = random_tensor({c}, 3);
  Tape<float> tape;
  for (auto _ : state) {
    tape.reset();
    auto y = ops::conv1d(tape.constant(x), tape.constant(w), tape.constant(b), 1, k / 2);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.counters["FLOP/s"] = flops_counter(2.0 * n * l * c * c * k);
}
BENCHMARK(BM_Conv1dForward)
    ->Args({256, 256, 16, 5})
    ->Args({64, 512, 8, 5})
    ->Args({256, 1024, 4, 5})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Conv1dBackward(benchmark::State& state) {
  const int64_t n = state.range(0), c = state.range(1), l = state.range(2), k = state.range(3);
  auto x = random_tensor({n, c, l}, 1), w = random_tensor({c, c, k}, 2), b = random_tensor({c}, 3);
  auto gw = Tensor<float>::zeros(w.shape()), gb = Tensor<float>::zeros(b.shape());
  Tape<float> tape;
  for (auto _ : state) {
    tape.reset();
    auto y = ops::conv1d(tape.leaf(x), tape.parameter(w, gw), tape.parameter(b, gb), 1, k / 2);
    tape.backward(ops::sum(y));
    benchmark::DoNotOptimize(gw.data());
  }
  state.counters["FLOP/s"] = flops_counter(6.0 * n * l * c * c * k);  // forward + dX + dW
}
BENCHMARK(BM_Conv1dBackward)
    ->Args({256, 256, 16, 5})
    ->Args({64, 512, 8, 5})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_GroupNormForward(benchmark::State& state) {
  const int64_t n = state.range(0), c = state.range(1), l = state.range(2);
  auto x = random_tensor({n, c, l}, 1), g = random_tensor({c}, 2), b = random_tensor({c}, 3);
  Tape<float> tape;
  for (auto _ : state) {
    tape.reset();
    auto y = ops::group_norm(tape.constant(x), 8, tape.constant(g), tape.constant(b));
    benchmark::DoNotOptimize(y.value().data());
  }
  state.SetBytesProcessed(state.iterations() * 2 * x.bytes());
}
BENCHMARK(BM_GroupNormForward)->Args({256, 256, 16})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace mimic
