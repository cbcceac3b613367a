// Training on the GPU against the CPU: every built-in algorithm, low-dim and image, built through
// the program's registry (the path `train.cuda: true` takes), ten steps on identical batches and
// seeds; the losses agree within 1e-4 relative. Checkpoints move between devices unchanged, and
// the CPU fallback says why. The GPU cases skip without a GPU; the fallback case runs anywhere.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "commands/algorithms.hpp"
#include "mimic/config/config.hpp"
#include "mimic/cuda/check.cuh"
#include "mimic/policy/core/placement.hpp"
#include "support/optim_config.hpp"

namespace mimic::policy {
namespace {

using json = nlohmann::json;

#define MIMIC_REQUIRE_GPU() \
  if (!cuda::cuda_available()) GTEST_SKIP() << "no CUDA device: GPU test skipped"

constexpr int64_t kSide = 40;

// A training problem: a merged config, its shapes and a batch per step.
struct Case {
  std::string name;
  json config;
  ShapeMeta meta;
  int64_t steps_per_sample = 1;  // observation/action steps in each batch row
  int64_t batch = 8;
  bool transitions = false;  // offline RL: next observations, rewards and dones too
};

double uniform(uint64_t seed, uint64_t i) { return philox_uniform<double>(seed, i); }

// Low-dim rows uniform in [-1, 1]; images of a bright square; actions a smooth function of them.
data::Batch make_batch(const Case& c, uint64_t seed) {
  data::Batch out;
  const int64_t b = c.batch, t = c.steps_per_sample;
  uint64_t draw = 0;
  for (const auto& [key, shape] : c.meta.obs_shapes) {
    Shape s{b, t};
    for (int64_t d : shape) s.push_back(d);
    auto x = Tensor<float>::zeros(s);
    if (c.meta.is_rgb(key)) {
      const int64_t side = shape[1], per = x.numel() / (b * t);
      for (int64_t r = 0; r < b * t; ++r) {
        const int64_t top = int64_t(uniform(seed, draw++) * double(side - 8));
        const int64_t left = int64_t(uniform(seed, draw++) * double(side - 8));
        for (int64_t ch = 0; ch < 3; ++ch)
          for (int64_t y = top; y < top + 8; ++y)
            for (int64_t xx = left; xx < left + 8; ++xx)
              x[r * per + (ch * side + y) * side + xx] = ch == 0 ? 1.f : 0.6f;
      }
    } else {
      for (int64_t i = 0; i < x.numel(); ++i) x[i] = float(2 * uniform(seed, draw++) - 1);
    }
    out.obs[key] = x;
  }
  auto a = Tensor<float>::empty({b, t, c.meta.action_dim});
  for (int64_t i = 0; i < a.numel(); ++i)
    a[i] = float(0.8 * std::tanh(std::sin(double(i % 7) + 2 * uniform(seed, draw++))));
  out.data["actions"] = a;
  if (c.transitions) {
    for (const auto& [key, x] : out.obs) {
      auto n = Tensor<float>::empty(x.shape());
      for (int64_t i = 0; i < n.numel(); ++i) n[i] = float(2 * uniform(seed, draw++) - 1);
      out.next_obs[key] = n;
    }
    auto r = Tensor<float>::empty({b, t, 1}), d = Tensor<float>::empty({b, t, 1});
    for (int64_t i = 0; i < r.numel(); ++i) {
      r[i] = float(uniform(seed, draw++));
      d[i] = uniform(seed, draw++) < 0.2 ? 1.f : 0.f;
    }
    out.data["rewards"] = r;
    out.data["dones"] = d;
  }
  return out;
}

json merged(const AlgorithmRegistry& r, json overrides) {
  return config::load_config(overrides, r);
}

ShapeMeta low_dim_meta() {
  ShapeMeta m;
  m.obs_shapes["a_pos"] = {5};
  m.obs_shapes["b_vel"] = {2};
  m.action_dim = 3;
  return m;
}
ShapeMeta image_meta() {
  ShapeMeta m;
  m.obs_shapes["agent_pos"] = {2};
  m.obs_shapes["image"] = {3, kSide, kSide};
  m.rgb_keys = {"image"};
  m.action_dim = 2;
  return m;
}
// robomimic's VisualCore on 40x40 images cropped to 36x36 (Diffusion Policy swaps in GroupNorm).
json image_observation() {
  json rgb = {
      {"core_class", "VisualCore"},
      {"core_kwargs",
       {{"feature_dimension", 32},
        {"backbone_class", "ResNet18Conv"},
        {"pool_class", "SpatialSoftmax"},
        {"pool_kwargs", {{"num_kp", 16}}}}},
      {"obs_randomizer_class", "CropRandomizer"},
      {"obs_randomizer_kwargs", {{"crop_height", 36}, {"crop_width", 36}, {"num_crops", 1}}}};
  return {{"encoder", {{"rgb", rgb}}}};
}

std::vector<Case> cases(const AlgorithmRegistry& r) {
  const json adam = testing::adam_config(1e-3);
  std::vector<Case> out;
  out.push_back(
      {"bc",
       merged(r,
              {{"algo_name", "bc"},
               {"algo", {{"actor_layer_dims", {64, 64}}, {"optim_params", {{"policy", adam}}}}}}),
       low_dim_meta(), 1, 16});
  out.push_back({"bc_gmm",
                 merged(r, {{"algo_name", "bc"},
                            {"algo",
                             {{"actor_layer_dims", {64}},
                              {"gmm", {{"enabled", true}, {"num_modes", 3}}},
                              {"optim_params", {{"policy", adam}}}}}}),
                 low_dim_meta(), 1, 16});
  out.push_back(
      {"bc_rnn",
       merged(r, {{"algo_name", "bc"},
                  {"train", {{"seq_length", 5}}},
                  {"algo",
                   {{"actor_layer_dims", json::array()},
                    {"rnn",
                     {{"enabled", true}, {"horizon", 5}, {"hidden_dim", 48}, {"num_layers", 2}}},
                    {"gmm", {{"enabled", true}, {"num_modes", 3}}},
                    {"optim_params", {{"policy", adam}}}}}}),
       low_dim_meta(), 5, 6});
  out.push_back({"bc_transformer",
                 merged(r, {{"algo_name", "bc"},
                            {"train", {{"frame_stack", 4}}},
                            {"algo",
                             {{"actor_layer_dims", json::array()},
                              {"transformer",
                               {{"enabled", true},
                                {"context_length", 4},
                                {"embed_dim", 32},
                                {"num_layers", 2},
                                {"num_heads", 4}}},
                              {"optim_params", {{"policy", adam}}}}}}),
                 low_dim_meta(), 4, 8});
  out.push_back(
      {"bc_vae",
       merged(r, {{"algo_name", "bc"},
                  {"algo",
                   {{"vae",
                     {{"enabled", true},
                      {"latent_dim", 4},
                      {"encoder_layer_dims", {32, 32}},
                      {"decoder_layer_dims", {32, 32}},
                      {"prior", {{"learn", true}, {"use_gmm", true}, {"gmm_num_modes", 3}}}}},
                    {"optim_params", {{"policy", adam}}}}}}),
       low_dim_meta(), 1, 16});
  const json dp_algo = {
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 4}, {"prediction_horizon", 8}}},
      {"unet",
       {{"diffusion_step_embed_dim", 32},
        {"down_dims", {32, 64}},
        {"kernel_size", 3},
        {"n_groups", 8}}},
      {"optim_params", {{"policy", adam}}}};
  out.push_back({"diffusion_policy",
                 merged(r, {{"algo_name", "diffusion_policy"},
                            {"train", {{"seq_length", 8}, {"frame_stack", 2}}},
                            {"algo", dp_algo}}),
                 low_dim_meta(), 8, 8});
  json ddim = dp_algo;
  ddim["ddpm"] = {{"enabled", false}};
  ddim["ddim"] = {{"enabled", true}, {"num_inference_timesteps", 10}};
  out.push_back({"diffusion_policy_ddim",
                 merged(r, {{"algo_name", "diffusion_policy"},
                            {"train", {{"seq_length", 8}, {"frame_stack", 2}}},
                            {"algo", ddim}}),
                 low_dim_meta(), 8, 8});
  json dpt = dp_algo;
  dpt["unet"] = {{"enabled", false}};
  dpt["transformer"] = {{"enabled", true}, {"n_layer", 2}, {"n_head", 2}, {"n_emb", 32}};
  out.push_back({"diffusion_policy_transformer",
                 merged(r, {{"algo_name", "diffusion_policy"},
                            {"train", {{"seq_length", 8}, {"frame_stack", 2}}},
                            {"algo", dpt}}),
                 low_dim_meta(), 8, 8});
  out.push_back({"ibc",
                 merged(r, {{"algo_name", "ibc"},
                            {"algo",
                             {{"energy", {{"layer_dims", {64, 64}}, {"dropout", 0.1}}},
                              {"train", {{"num_negatives", 31}}},
                              {"inference", {{"num_samples", 64}}},
                              {"optim_params", {{"policy", adam}}}}}}),
                 low_dim_meta(), 2, 8});
  // robomimic's offline RL algorithms, small.
  const json critic = {{"layer_dims", {32, 32}}};
  out.push_back(
      {"td3_bc",
       merged(r, {{"algo_name", "td3_bc"},
                  {"observation", {{"modalities", {{"obs", {{"low_dim", {"a_pos", "b_vel"}}}}}}}},
                  {"algo",
                   {{"critic", critic},
                    {"n_step", 2},
                    {"actor", {{"layer_dims", {32, 32}}, {"update_freq", 1}}}}},
                  {"train", {{"seq_length", 2}}}}),
       low_dim_meta(), 2, 16, true});
  out.push_back({"iql",
                 merged(r, {{"algo_name", "iql"},
                            {"algo", {{"critic", critic}, {"actor", {{"layer_dims", {32, 32}}}}}}}),
                 low_dim_meta(), 1, 16, true});
  out.push_back({"bcq",
                 merged(r, {{"algo_name", "bcq"},
                            {"algo",
                             {{"critic",
                               {{"layer_dims", {32, 32}},
                                {"num_action_samples", 4},
                                {"num_action_samples_rollout", 8}}},
                              {"actor", {{"enabled", true}, {"layer_dims", {32, 32}}}},
                              {"action_sampler",
                               {{"vae",
                                 {{"latent_dim", 4},
                                  {"encoder_layer_dims", {32}},
                                  {"decoder_layer_dims", {32}}}}}}}}}),
                 low_dim_meta(), 1, 16, true});
  out.push_back({"cql",
                 merged(r, {{"algo_name", "cql"},
                            {"train", {{"batch_size", 16}}},
                            {"algo",
                             {{"critic", {{"layer_dims", {32, 32}}, {"num_random_actions", 4}}},
                              {"actor", {{"layer_dims", {32, 32}}}}}}}),
                 low_dim_meta(), 1, 16, true});
  // robomimic's hierarchical algorithms, small: the planner 3 steps ahead, the actor following
  // its subgoal of both keys.
  const json keys = {"a_pos", "b_vel"};
  const json gl_obs = {
      {"modalities", {{"obs", {{"low_dim", keys}}}, {"subgoal", {{"low_dim", keys}}}}}};
  const json gl_algo = {{"subgoal_horizon", 3},
                        {"vae",
                         {{"latent_dim", 4},
                          {"encoder_layer_dims", {32}},
                          {"decoder_layer_dims", {32}},
                          {"prior",
                           {{"learn", true},
                            {"is_conditioned", true},
                            {"use_gmm", true},
                            {"gmm_num_modes", 3},
                            {"gmm_learn_weights", true}}}}}};
  const json actor = {{"actor_layer_dims", json::array()},
                      {"rnn", {{"hidden_dim", 32}, {"horizon", 4}}},
                      {"optim_params", {{"policy", adam}}}};
  const json actor_obs = {
      {"modalities", {{"obs", {{"low_dim", keys}}}, {"goal", {{"low_dim", keys}}}}}};
  out.push_back({"gl",
                 merged(r, {{"algo_name", "gl"},
                            {"train", {{"seq_length", 4}}},
                            {"observation", gl_obs},
                            {"algo", gl_algo}}),
                 low_dim_meta(), 4, 16, true});
  out.push_back({"hbc",
                 merged(r, {{"algo_name", "hbc"},
                            {"train", {{"seq_length", 4}}},
                            {"observation", {{"planner", gl_obs}, {"actor", actor_obs}}},
                            {"algo", {{"planner", gl_algo}, {"actor", actor}}}}),
                 low_dim_meta(), 4, 8, true});
  out.push_back({"iris",
                 merged(r, {{"algo_name", "iris"},
                            {"train", {{"seq_length", 4}}},
                            {"observation",
                             {{"value_planner",
                               {{"planner", gl_obs},
                                {"value", {{"modalities", {{"obs", {{"low_dim", keys}}}}}}}}},
                              {"actor", actor_obs}}},
                            {"algo",
                             {{"value_planner",
                               {{"planner", gl_algo},
                                {"num_samples", 8},
                                {"value",
                                 {{"critic",
                                   {{"layer_dims", {32, 32}},
                                    {"num_action_samples", 4},
                                    {"num_action_samples_rollout", 8}}},
                                  {"action_sampler",
                                   {{"vae",
                                     {{"latent_dim", 4},
                                      {"encoder_layer_dims", {32}},
                                      {"decoder_layer_dims", {32}}}}}}}}}},
                              {"actor", actor}}}}),
                 low_dim_meta(), 4, 8, true});
  out.push_back(
      {"bc_image",
       merged(r, {{"algo_name", "bc"},
                  {"observation", image_observation()},
                  {"algo", {{"actor_layer_dims", {64}}, {"optim_params", {{"policy", adam}}}}}}),
       image_meta(), 1, 4});
  out.push_back({"diffusion_policy_image",
                 merged(r, {{"algo_name", "diffusion_policy"},
                            {"train", {{"seq_length", 8}, {"frame_stack", 2}}},
                            {"observation", image_observation()},
                            {"algo", dp_algo}}),
                 image_meta(), 8, 2});
  return out;
}

Placement place(const AlgorithmRegistry& r, const Case& c, DeviceKind d) {
  return make_policy_on(d, r, c.config, c.meta, Normalization{}, 7, 100);
}

double relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-6); }

// The rows a rollout feeds the policy for this case (normalized features, n_obs_steps deep).
Tensor<float> rollout_features(const AnyPolicy& p, const Case& c, uint64_t seed) {
  Case one = c;
  one.batch = 2;
  one.steps_per_sample = p.n_obs_steps();
  const data::Batch b = make_batch(one, seed);
  return gather_features(p.shape_meta(), p.normalization().obs, b.obs, 0, p.n_obs_steps());
}

double max_relative(const Tensor<float>& a, const Tensor<float>& b) {
  double worst = 0, scale = 1e-3;
  for (int64_t i = 0; i < b.numel(); ++i) scale = std::max(scale, double(std::abs(b[i])));
  for (int64_t i = 0; i < b.numel(); ++i) worst = std::max(worst, std::abs(double(a[i] - b[i])));
  return worst / scale;
}

TEST(CudaTraining, TenStepsMatchTheCpuForEveryAlgorithm) {
  MIMIC_REQUIRE_GPU();
  const AlgorithmRegistry r = cli::program_algorithms();
  for (const Case& c : cases(r)) {
    SCOPED_TRACE(c.name);
    Placement cpu = place(r, c, DeviceKind::kCpu), gpu = place(r, c, DeviceKind::kCuda);
    ASSERT_EQ(gpu.policy->device_name(), "cuda") << gpu.fallback;
    ASSERT_EQ(cpu.policy->device_name(), "cpu");
    ASSERT_EQ(gpu.policy->parameter_count(), cpu.policy->parameter_count());
    double worst = 0, cpu_ms = 0, gpu_ms = 0;
    for (int step = 0; step < 10; ++step) {
      const data::Batch batch = make_batch(c, 1000 + uint64_t(step));
      const auto t0 = std::chrono::steady_clock::now();
      const Scalars a = cpu.policy->train_on_batch(batch);
      const auto t1 = std::chrono::steady_clock::now();
      const Scalars b = gpu.policy->train_on_batch(batch);  // ends in a device-to-host copy
      const auto t2 = std::chrono::steady_clock::now();
      if (step > 0) {  // the first step includes one-time set-up
        cpu_ms += std::chrono::duration<double, std::milli>(t1 - t0).count() / 9;
        gpu_ms += std::chrono::duration<double, std::milli>(t2 - t1).count() / 9;
      }
      for (const auto& [key, value] : a) {
        if (key == "Optimizer/policy0_lr") continue;
        ASSERT_TRUE(b.count(key)) << key;
        worst = std::max(worst, relative(b.at(key), value));
        EXPECT_LT(relative(b.at(key), value), 1e-4) << c.name << " step " << step << " " << key
                                                    << ": gpu " << b.at(key) << " cpu " << value;
      }
    }
    const Scalars va = cpu.policy->validate_on_batch(make_batch(c, 77));
    const Scalars vb = gpu.policy->validate_on_batch(make_batch(c, 77));
    EXPECT_LT(relative(vb.at("Loss"), va.at("Loss")), 1e-4) << "validation";
    // Inference after training: same actions from the same observations and random stream
    // (GL predicts subgoals and does not act).
    double act_error = 0;
    if (r.of(c.config).acts) {
      const Tensor<float> feats = rollout_features(*cpu.policy, c, 5);
      const Tensor<float> act_cpu = cpu.policy->act_rollout(feats, {0, 1});
      const Tensor<float> act_gpu = gpu.policy->act_rollout(feats, {0, 1});
      ASSERT_EQ(act_gpu.shape(), act_cpu.shape());
      act_error = max_relative(act_gpu, act_cpu);
      EXPECT_LT(act_error, 1e-3) << "act_rollout";
    }
    // One line per algorithm for tools/gpu_check.sh's table.
    std::printf(
        "[ training ] %s | loss rel err %.2e | action rel err %.2e | step ms gpu %.2f cpu %.2f\n",
        c.name.c_str(), worst, act_error, gpu_ms, cpu_ms);
  }
}

// Saves `p` and loads the file on `d`: the same state on the other device.
Placement round_trip(const AlgorithmRegistry& r, const AnyPolicy& p, const Case& c, DeviceKind d,
                     const std::string& path) {
  save_checkpoint(path, p, c.config, 100, {{"trainer", {{"epoch", 1}}}});
  const Checkpoint ck = load_checkpoint(path);
  return policy_from_checkpoint_on(d, ck, path, r);
}

TEST(CudaTraining, CheckpointsMoveBetweenDevicesUnchanged) {
  MIMIC_REQUIRE_GPU();
  const AlgorithmRegistry r = cli::program_algorithms();
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("mimic_test_cuda_checkpoints_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const Case& c : cases(r)) {
    SCOPED_TRACE(c.name);
    Placement gpu = place(r, c, DeviceKind::kCuda);
    ASSERT_EQ(gpu.policy->device_name(), "cuda") << gpu.fallback;
    for (int step = 0; step < 3; ++step) gpu.policy->train_on_batch(make_batch(c, 50 + step));
    const std::string first = (dir / (c.name + "_gpu.safetensors")).string();
    Placement cpu = round_trip(r, *gpu.policy, c, DeviceKind::kCpu, first);
    ASSERT_EQ(cpu.policy->device_name(), "cpu");
    // Every saved tensor is bit-identical after GPU -> file -> CPU -> file.
    const std::string second = (dir / (c.name + "_cpu.safetensors")).string();
    Placement back = round_trip(r, *cpu.policy, c, DeviceKind::kCuda, second);
    const Checkpoint a = load_checkpoint(first), b = load_checkpoint(second);
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (const auto& [name, t] : a.tensors) {
      const Tensor<float>& u = b.tensors.at(name);
      ASSERT_EQ(u.shape(), t.shape()) << name;
      EXPECT_EQ(std::memcmp(u.data(), t.data(), t.bytes()), 0) << name;
    }
    EXPECT_EQ(a.meta.at("policy"), b.meta.at("policy"));
    // And the policies continue identically: one more step on each device from the same state.
    const data::Batch next = make_batch(c, 99);
    const double l_cpu = cpu.policy->train_on_batch(next).at("Loss");
    const double l_gpu = back.policy->train_on_batch(next).at("Loss");
    EXPECT_LT(relative(l_gpu, l_cpu), 1e-4);
  }
  std::filesystem::remove_all(dir);
}

// Runs anywhere: the program registers CUDA builders for every built-in algorithm; without a
// device, asking for CUDA builds on the CPU and says why.
TEST(CudaPlacement, FallsBackToTheCpuWithTheReasonWhenNoDeviceCanBeUsed) {
  const AlgorithmRegistry r = cli::program_algorithms();
  for (const auto& s : r.specs()) EXPECT_TRUE(s.builds_on("cuda")) << s.name;
  const Case c = cases(r).front();
  const Placement p = place(r, c, DeviceKind::kCuda);
  if (cuda::cuda_available()) {
    EXPECT_EQ(p.policy->device_name(), "cuda");
    EXPECT_TRUE(p.fallback.empty());
    EXPECT_EQ(placement_line(p, "train.cuda"), "device: cuda");
  } else {
    EXPECT_EQ(p.policy->device_name(), "cpu");
    EXPECT_NE(p.fallback.find("no CUDA device"), std::string::npos) << p.fallback;
    EXPECT_NE(placement_line(p, "train.cuda").find("running on the CPU"), std::string::npos);
  }
  EXPECT_EQ(place(r, c, DeviceKind::kCpu).policy->device_name(), "cpu");
}

}  // namespace
}  // namespace mimic::policy
