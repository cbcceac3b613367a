// The rows of bench/compare_pytorch.sh that run whole policies:
//   BM_DpChunkDdim10/1: a Diffusion Policy action chunk at batch 1 (PushT UNet, 65.8M parameters):
//     10 DDIM steps of the UNet from Gaussian noise, then the executed slice, unnormalized.
//   BM_DptChunkDdim10/1: the same chunk with DP-T's Push-T transformer (8 layers of 256, 4 heads).
//   BM_BcTrainStep/100: BC MLP 19 -> 1024 -> 1024 -> 7 (tanh), L2 + SmoothL1 + cosine, Adam.
//   BM_BcTransformerTrainStep/100: BC-Transformer with robomimic's defaults on Lift low-dim
//     (19 -> 512, 10 steps, 6 GPT blocks of 8 heads, dropout 0.1, L2 head on the last step),
//     Adam; about 100 x 10 x 6 x 24 x 512^2 = 38 GFLOP forward, three times that per step.
//   BM_BcRnnStep/1: one rollout step of BC-RNN (LSTM 2 x 400, input 19) with carried state.
//   BM_IbcDfo/1: IBC derivative-free inference, 1024 samples x 3 iterations, energy MLP 4 x 1024.
#include <benchmark/benchmark.h>

#include "mimic/policy/bc/bc.hpp"
#include "mimic/policy/bc/bc_rnn.hpp"
#include "mimic/policy/bc/bc_transformer.hpp"
#include "mimic/policy/diffusion/diffusion_policy.hpp"
#include "mimic/policy/ibc/ibc.hpp"

namespace mimic {
namespace {

using json = nlohmann::json;

policy::ShapeMeta meta(int64_t obs, int64_t act) {
  policy::ShapeMeta m;
  m.obs_shapes["obs"] = {obs};
  m.action_dim = act;
  return m;
}
json optim() { return {{"optimizer_type", "adam"}, {"learning_rate", {{"initial", 1e-4}}}}; }
Tensor<float> uniform(const Shape& s, uint64_t seed) {
  auto t = Tensor<float>::empty(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = philox_uniform<float>(seed, i) * 2 - 1;
  return t;
}

// One Diffusion Policy chunk per iteration (normalize, sample, unnormalize) with `algo`'s
// denoiser, on Push-T's shapes and limits-style statistics as a trained policy carries them.
void dp_chunk(benchmark::State& state, const json& algo) {
  policy::Normalization norm;
  norm.obs = {std::vector<double>(20, 256.0), std::vector<double>(20, 256.0)};
  norm.action = {std::vector<double>(2, 256.0), std::vector<double>(2, 256.0)};
  policy::DiffusionPolicy<float> dp(
      meta(20, 2), norm,
      policy::DiffusionPolicySettings::from_config({{"algo", algo}, {"train", json::object()}}), 1,
      1);
  const int64_t b = state.range(0);
  Tensor<float> raw = uniform({b, 2, 20}, 3);
  for (auto _ : state) {
    Tensor<float> obs = raw.clone();  // normalize, sample, unnormalize: the whole chunk
    policy::normalize_rows(norm.obs, obs.data(), b * 2, 20);
    benchmark::DoNotOptimize(dp.predict(obs).data());
  }
}
json ddim10_algo() {
  return {
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 8}, {"prediction_horizon", 16}}},
      {"ddpm", {{"enabled", false}}},
      {"ddim", {{"enabled", true}, {"num_inference_timesteps", 10}}},
      {"optim_params", {{"policy", optim()}}}};
}

void BM_DpChunkDdim10(benchmark::State& state) { dp_chunk(state, ddim10_algo()); }
BENCHMARK(BM_DpChunkDdim10)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// DP-T's Push-T low-dim chunk: TransformerForDiffusion (8 layers of 256, 4 heads, causal,
// observation tokens as memory), 10 DDIM steps at batch 1: 16 tokens x 8 layers x 28 x 256^2 =
// 0.23 GFLOP per step, 2.3 GFLOP per chunk.
void BM_DptChunkDdim10(benchmark::State& state) {
  json algo = ddim10_algo();
  algo["unet"] = {{"enabled", false}};
  algo["transformer"] = {{"enabled", true}, {"p_drop_attn", 0.01}};
  dp_chunk(state, algo);
}
BENCHMARK(BM_DptChunkDdim10)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BcTrainStep(benchmark::State& state) {
  json algo = {{"actor_layer_dims", {1024, 1024}},
               {"loss", {{"l2_weight", 1.0}, {"l1_weight", 1.0}, {"cos_weight", 1.0}}},
               {"optim_params", {{"policy", optim()}}}};
  policy::Bc<float> bc(meta(19, 7), {},
                       policy::BcSettings::from_config({{"algo", algo}, {"train", json::object()}}),
                       1, 1);
  const int64_t b = state.range(0);
  data::Batch batch;
  batch.obs["obs"] = uniform({b, 1, 19}, 1);
  batch.data["actions"] = uniform({b, 1, 7}, 2);
  for (auto _ : state) benchmark::DoNotOptimize(bc.train_on_batch(batch));
}
BENCHMARK(BM_BcTrainStep)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BcTransformerTrainStep(benchmark::State& state) {
  json algo = {{"transformer", {{"enabled", true}}}, {"optim_params", {{"policy", optim()}}}};
  policy::BcTransformer<float> bc(
      meta(19, 7), {},
      policy::BcTransformerSettings::from_config({{"algo", algo}, {"train", json::object()}}), 1,
      1);
  const int64_t b = state.range(0);
  data::Batch batch;
  batch.obs["obs"] = uniform({b, 10, 19}, 1);
  batch.data["actions"] = uniform({b, 10, 7}, 2);
  bc.train_on_batch(batch);  // warm-up (arenas, first touch), as torch_rows.py does
  for (auto _ : state) benchmark::DoNotOptimize(bc.train_on_batch(batch));
}
BENCHMARK(BM_BcTransformerTrainStep)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BcRnnStep(benchmark::State& state) {
  json algo = {{"actor_layer_dims", json::array()},
               {"rnn", {{"enabled", true}, {"hidden_dim", 400}, {"num_layers", 2}}},
               {"optim_params", {{"policy", optim()}}}};
  policy::BcRnn<float> rnn(
      meta(19, 7), {},
      policy::BcRnnSettings::from_config({{"algo", algo}, {"train", json::object()}}), 1, 1);
  const int64_t b = state.range(0);
  Tensor<float> x = uniform({b, 19}, 4);
  policy::RnnCarry carry;
  for (auto _ : state) benchmark::DoNotOptimize(rnn.act_step(x, carry).data());
}
BENCHMARK(BM_BcRnnStep)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_IbcDfo(benchmark::State& state) {
  json algo = {{"horizon", {{"observation_horizon", 2}, {"action_horizon", 1}}},
               {"energy", {{"layer_dims", {1024, 1024, 1024, 1024}}, {"dropout", 0.1}}},
               {"inference", {{"method", "dfo"}, {"num_samples", 1024}, {"iterations", 3}}},
               {"optim_params", {{"policy", optim()}}}};
  policy::Ibc<float> ibc(
      meta(20, 2), {},
      policy::IbcSettings::from_config({{"algo", algo}, {"train", json::object()}}), 1, 1);
  Tensor<float> obs = uniform({state.range(0), 2, 20}, 5);
  for (auto _ : state) benchmark::DoNotOptimize(ibc.predict(obs).data());
}
BENCHMARK(BM_IbcDfo)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace mimic
