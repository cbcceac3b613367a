// Lift environment throughput: control steps (25 physics substeps with the OSC each) and 84 x 84
// camera renders.
#if MIMIC_BENCH_ENV
#include <benchmark/benchmark.h>

#include <vector>

#include "mimic/env/lift/env.hpp"
#include "mimic/env/lift/expert.hpp"

namespace mimic::env {
namespace {

// Replays one scripted demonstration (approach, grasp, lift, hold), so gripper and cube contacts
// are part of the cost; the reset every 100 steps is included (about 1% of the time).
void BM_LiftStep(benchmark::State& state) {
  LiftEnv env;
  env.reset(1);
  LiftExpert expert(1);
  std::vector<std::vector<float>> actions;
  for (int t = 0; t < 100; ++t) {
    actions.push_back(expert.act(env.observe()));
    env.step(actions.back());
  }
  env.reset(1);
  size_t k = 0;
  for (auto _ : state) {
    if (k == actions.size()) {
      env.reset(1);
      k = 0;
    }
    benchmark::DoNotOptimize(env.step(actions[k++]));
  }
  state.SetItemsProcessed(state.iterations());  // items/s = control steps/s
}
BENCHMARK(BM_LiftStep)->Unit(benchmark::kMicrosecond);

// Arg 0: agentview, 1: robot0_eye_in_hand.
void BM_RenderLift84(benchmark::State& state) {
  LiftEnv env;
  env.reset(1);
  const std::string camera = env.cameras()[state.range(0)];
  try {
    env.render(camera, 84, 84);
  } catch (const UnsupportedError& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(env.render(camera, 84, 84));
  state.SetLabel(camera);
  state.SetItemsProcessed(state.iterations());  // items/s = frames/s
}
// Wall time: OSMesa (llvmpipe) renders on helper threads, so CPU time of this thread undercounts.
BENCHMARK(BM_RenderLift84)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace mimic::env
#endif
