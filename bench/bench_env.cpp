// Push-T environment throughput: control steps (10 physics substeps each) and 96 x 96 renders,
// both in wall time (llvmpipe renders on worker threads).
#if MIMIC_BENCH_ENV
#include <benchmark/benchmark.h>

#include <cmath>

#include "mimic/env/pusht/env.hpp"

namespace mimic::env {
namespace {

// The agent circles through the block so that contacts are part of the cost.
void BM_PushTStep(benchmark::State& state) {
  PushT env;
  env.set_pose(100, 256, {256, 256, 0.3});
  int k = 0;
  for (auto _ : state) {
    const double a = 0.05 * k++;
    benchmark::DoNotOptimize(env.step_target(256 + 150 * std::cos(a), 256 + 150 * std::sin(a)));
  }
  state.SetItemsProcessed(state.iterations());  // items/s = control steps/s
}
BENCHMARK(BM_PushTStep)->UseRealTime();

void BM_RenderPushT96(benchmark::State& state) {
  PushT env;
  env.reset(1);
  try {
    env.render("top", 96, 96);
  } catch (const UnsupportedError& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(env.render("top", 96, 96));
  state.SetItemsProcessed(state.iterations());  // items/s = frames/s
}
BENCHMARK(BM_RenderPushT96)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace mimic::env
#endif
