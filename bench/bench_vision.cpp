// Image rows of bench/compare_pytorch.sh:
//   BM_ResNet18Train/16: robomimic's VisualCore (ResNet18 trunk with BatchNorm in training mode,
//     SpatialSoftmax with 32 keypoints, Linear(64, 64)) forward and backward on 16 images of
//     84x84. ~0.58 GFLOP per image forward, so ~28 GFLOP per step with the backward pass.
//   BM_DpImageChunk/1: a Diffusion Policy action chunk from images at batch 1: two 96x96 frames
//     centre-cropped to 84x84 through the GroupNorm encoder, with agent_pos, conditioning the
//     PushT UNet for 10 DDIM steps.
#include <benchmark/benchmark.h>

#include "mimic/nn/visual_core.hpp"
#include "mimic/policy/diffusion/diffusion_policy.hpp"

namespace mimic {
namespace {

using json = nlohmann::json;

Tensor<float> unit_uniform(const Shape& s, uint64_t seed) {
  auto t = Tensor<float>::empty(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = philox_uniform<float>(seed, i);
  return t;
}

void BM_ResNet18Train(benchmark::State& state) {
  const int64_t batch = state.range(0);
  nn::ParamStore<float> store;
  nn::VisualCore<float> core(store, "", Shape{3, 84, 84});
  store.allocate();
  store.initialize(0);
  const Tensor<float> x = unit_uniform({batch, 3, 84, 84}, 1);
  const Tensor<float> w = unit_uniform({batch, 64}, 2);
  Tape<float> tape(size_t(1) << 28);
  for (auto _ : state) {
    tape.reset();
    store.zero_grad();
    Var<float> y = core(store, tape.constant(x), nullptr, true);
    tape.backward(ops::sum(ops::mul(y, tape.constant(w))));
    benchmark::DoNotOptimize(store.grads().data());
  }
  state.counters["images/s"] =
      benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ResNet18Train)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_DpImageChunk(benchmark::State& state) {
  json rgb = {{"core_class", "VisualCore"},
              {"core_kwargs", {{"feature_dimension", 64}, {"pool_kwargs", {{"num_kp", 32}}}}},
              {"obs_randomizer_class", "CropRandomizer"},
              {"obs_randomizer_kwargs", {{"crop_height", 84}, {"crop_width", 84}}}};
  json algo = {
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 8}, {"prediction_horizon", 16}}},
      {"ddpm", {{"enabled", false}}},
      {"ddim", {{"enabled", true}, {"num_inference_timesteps", 10}}},
      {"optim_params",
       {{"policy", {{"optimizer_type", "adam"}, {"learning_rate", {{"initial", 1e-4}}}}}}}};
  policy::ShapeMeta meta;
  meta.obs_shapes["agent_pos"] = {2};
  meta.obs_shapes["image"] = {3, 96, 96};
  meta.rgb_keys = {"image"};
  meta.action_dim = 2;
  policy::Normalization norm;
  norm.obs = {std::vector<double>(2, 256.0), std::vector<double>(2, 256.0)};
  norm.action = {std::vector<double>(2, 256.0), std::vector<double>(2, 256.0)};
  policy::DiffusionPolicy<float> dp(meta, norm,
                                    policy::DiffusionPolicySettings::from_config(
                                        {{"algo", algo},
                                         {"train", json::object()},
                                         {"observation", {{"encoder", {{"rgb", rgb}}}}}}),
                                    1, 1);
  const int64_t b = state.range(0), dim = meta.obs_dim();
  const Tensor<float> raw = unit_uniform({b, 2, dim}, 3);
  for (auto _ : state) {
    Tensor<float> obs = raw.clone();  // normalize, encode, sample, unnormalize: the whole chunk
    policy::normalize_rows(norm.obs, obs.data(), b * 2, meta.low_dim_dim(), dim);
    benchmark::DoNotOptimize(dp.predict(obs).data());
  }
}
BENCHMARK(BM_DpImageChunk)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace mimic
