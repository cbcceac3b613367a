// Data loading throughput: batches assembled from robomimic files by SequenceDataset + Loader.
//   BM_SequenceLoader: Lift-sized low-dim data (200 demos x 50 steps, obs 3 + 4 + 2 + 10,
//     actions 7), seq_length 10, batch 100, everything cached.
//   BM_ImageLoader: 84x84x3 images (20 demos x 50 steps), frame_stack 2, batch 16, cache mode
//     low_dim (image rows read from the file per sample).
#ifdef MIMIC_BENCH_ENV
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "mimic/core/philox.hpp"
#include "mimic/data/loader.hpp"

namespace mimic {
namespace {

std::string make_file(const std::string& name, int demos, int steps, bool images) {
  const std::string path =
      (std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + ".hdf5"))
          .string();
  data::RobomimicWriter w(path, R"({"env_name": "Lift", "type": 1, "env_kwargs": {}})");
  uint64_t k = 0;
  auto floats = [&](int64_t rows, int64_t dim) {
    std::vector<float> v(static_cast<size_t>(rows * dim));
    for (auto& x : v) x = float(philox_uniform<double>(1, k++) * 2 - 1);
    return data::Array::floats(Shape{rows, dim}, v);
  };
  for (int d = 0; d < demos; ++d) {
    data::Demo demo;
    demo.name = "demo_" + std::to_string(d);
    demo.num_samples = steps;
    demo.actions = floats(steps, 7);
    demo.obs["robot0_eef_pos"] = floats(steps, 3);
    demo.obs["robot0_eef_quat"] = floats(steps, 4);
    demo.obs["robot0_gripper_qpos"] = floats(steps, 2);
    demo.obs["object"] = floats(steps, 10);
    if (images) {
      std::vector<uint8_t> px(static_cast<size_t>(steps) * 84 * 84 * 3);
      for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 2654435761u) >> 24);
      demo.obs["agentview_image"] = data::Array::pixels(Shape{steps, 84, 84, 3}, px);
    }
    w.add_demo(demo);
  }
  w.finish();
  return path;
}

void BM_SequenceLoader(benchmark::State& state) {
  static const std::string path = make_file("mimic_bench_lowdim", 200, 50, false);
  data::SequenceDatasetOptions o;
  o.path = path;
  o.obs_keys = {"robot0_eef_pos", "robot0_eef_quat", "robot0_gripper_qpos", "object"};
  o.seq_length = 10;
  data::SequenceDataset ds(o);
  data::Loader loader(ds, 100, 1, true, int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(loader.next().obs.at("object").data());
  state.counters["samples/s"] =
      benchmark::Counter(100, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_SequenceLoader)->Arg(1)->Arg(2)->UseRealTime();

void BM_ImageLoader(benchmark::State& state) {
  static const std::string path = make_file("mimic_bench_images", 20, 50, true);
  data::SequenceDatasetOptions o;
  o.path = path;
  o.obs_keys = {"agentview_image", "robot0_eef_pos"};
  o.frame_stack = 2;
  o.cache_mode = "low_dim";
  data::SequenceDataset ds(o);
  data::Loader loader(ds, 16, 1, true, int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(loader.next().obs.at("agentview_image").data());
  state.counters["samples/s"] =
      benchmark::Counter(16, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ImageLoader)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace mimic
#endif
