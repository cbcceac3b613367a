// Running Diffusion Policy's own checkpoints in mimic. A real workspace checkpoint
// (tests/reference/make_dp_checkpoint_fixture.py: DP's low-dim UNet config composed by hydra,
// trained 3 steps, saved by DP's BaseWorkspace.save_checkpoint with dill) imports into a mimic
// policy whose action chunks equal what DP's predict_action returned for the same observations
// and the same sampler noise, directly and through a saved mimic checkpoint. What mimic cannot
// compute is refused by name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "mimic/interop/diffusion_policy_checkpoint.hpp"
#include "mimic/policy/builtin.hpp"
#include "support/action_chunks.hpp"
#include "support/errors.hpp"

namespace mimic {
namespace {

using json = nlohmann::json;

const std::string kDir = std::string(MIMIC_TEST_DATA_DIR) + "/diffusion_policy/";
const std::string kCkpt = kDir + "dp_unet_lowdim.ckpt";

std::string scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mimic_test_import_dp_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

json expected_chunks() {
  std::ifstream in(kDir + "dp_unet_lowdim_actions.json");
  return json::parse(in);
}

// DP's observations [B, To, obs_dim] (its units) as the policy's normalized rows.
Tensor<float> features(const policy::AnyPolicy& p, const json& obs) {
  const int64_t b = int64_t(obs.size()), to = int64_t(obs[0].size()), d = int64_t(obs[0][0].size());
  auto f = Tensor<float>::empty({b, to, d});
  for (int64_t i = 0; i < b; ++i)
    for (int64_t t = 0; t < to; ++t)
      for (int64_t k = 0; k < d; ++k) f[(i * to + t) * d + k] = obs[i][t][k].get<float>();
  policy::normalize_rows(p.normalization().obs, f.data(), b * to, d);
  return f;
}

// Both chunks, in order (the second chunk's noise follows the first's in the random stream).
void expect_dp_actions(policy::AnyPolicy& p, const json& expected, const std::string& what) {
  for (size_t c = 0; c < expected["chunks"].size(); ++c) {
    const json& chunk = expected["chunks"][c];
    const Tensor<float> got = p.act_rollout(features(p, chunk["obs"]), {0, 1});
    const double worst = testing::largest_relative_difference(got, chunk["action"]);
    EXPECT_LT(worst, 1e-5) << what << ", chunk " << c << ": largest relative difference";
    std::cout << what << ", chunk " << c << ": largest relative difference " << worst << "\n";
  }
}

TEST(ImportDiffusionPolicy, ActionsEqualDiffusionPolicysPredictAction) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  const json expected = expected_chunks();
  interop::ImportedPolicy imported = interop::import_diffusion_policy(kCkpt, reg);
  const json& algo = imported.config["algo"];
  EXPECT_EQ(imported.policy->algo_name(), "diffusion_policy");
  EXPECT_EQ(algo["horizon"]["prediction_horizon"], 16);
  EXPECT_EQ(algo["horizon"]["observation_horizon"], 2);
  EXPECT_EQ(algo["horizon"]["action_horizon"], 8);
  EXPECT_EQ(algo["unet"]["down_dims"], json({16, 32}));
  EXPECT_EQ(algo["ddpm"]["num_inference_timesteps"], 100);
  EXPECT_TRUE(algo["ema"]["enabled"].get<bool>());  // DP evaluates its ema_model
  EXPECT_EQ(imported.config["train"]["seed"], expected["seed"]);
  EXPECT_EQ(imported.policy->n_obs_steps(), 2);
  const std::string out = scratch("dp.safetensors");
  interop::save_imported(imported, kCkpt, out);  // before acting: the same random stream
  expect_dp_actions(*imported.policy, expected, "imported");

  const policy::Checkpoint ck = policy::load_checkpoint(out);
  EXPECT_EQ(ck.meta["imported_from"]["format"], "diffusion_policy");
  auto again = policy::policy_from_checkpoint<float, Cpu>(ck, out, reg);
  expect_dp_actions(*again, expected, "through a mimic checkpoint");
}

// With a target environment the actions come out in its units (here Push-T's: pixels / 256 - 1)
// and its env_args are kept for rollouts.
TEST(ImportDiffusionPolicy, ActionsMapIntoTheTargetEnvironmentsUnits) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  json expected = expected_chunks();
  interop::ImportedPolicy imported = interop::import_diffusion_policy(
      kCkpt, reg, [](const json& cfg) -> std::optional<interop::DiffusionPolicyTarget> {
        if (cfg["task"]["name"] != "pusht_lowdim") return std::nullopt;
        return interop::DiffusionPolicyTarget{
            {{"env_name", "PushT"}}, {1 / 256.0, 1 / 256.0}, {-1.0, -1.0}};
      });
  EXPECT_EQ(imported.env_args["env_name"], "PushT");
  for (json& chunk : expected["chunks"])
    for (json& row : chunk["action"])
      for (json& step : row)
        for (json& v : step) v = v.get<double>() / 256.0 - 1.0;
  expect_dp_actions(*imported.policy, expected, "in Push-T's units");
}

// An OmegaConf config pickled by dill (protocol 2, as DP's checkpoints hold it) reads as the
// plain data it holds; its classes are recorded, never constructed.
TEST(ImportDiffusionPolicy, ReadsOmegaConfAsData) {
  std::ifstream in(std::string(MIMIC_SOURCE_DIR) + "/tests/fuzz/corpus/torch/dp_omegaconf_cfg.pkl",
                   std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_FALSE(bytes.empty());
  const io::Unpickled u = io::Unpickler("cfg.pkl", interop::diffusion_policy_allowed_globals())
                              .load(bytes.data(), bytes.size());
  EXPECT_EQ(interop::omegaconf_to_json(u.root(), "cfg"), json::parse(R"({"name": "x",
      "policy": {"horizon": 16, "model": {"down_dims": [16, 32]},
                 "noise_scheduler": {"beta_schedule": "squaredcos_cap_v2", "clip_sample": true}},
      "lr": 0.0001, "none": null})"));
  // Without OmegaConf's globals on the allow-list the same bytes are refused by name.
  testing::expect_error<IoError>(
      [&] {
        io::Unpickler("cfg.pkl", io::torch_allowed_globals()).load(bytes.data(), bytes.size());
      },
      {"cfg.pkl", "omegaconf.dictconfig.DictConfig", "not allowed"});
}

// The EMA weights are the ones that act: with the model's weights in their place the actions move.
TEST(ImportDiffusionPolicy, TheEmaWeightsAct) {
  const interop::DiffusionPolicyCheckpoint c = interop::read_diffusion_policy_checkpoint(kCkpt);
  ASSERT_EQ(c.model.size(), c.ema_model.size());
  double largest = 0;
  for (size_t i = 0; i < c.model.size(); ++i) {
    ASSERT_EQ(c.model[i].first, c.ema_model[i].first);
    const Tensor<float>& a = c.model[i].second;
    const Tensor<float>& b = c.ema_model[i].second;
    for (int64_t k = 0; k < a.numel(); ++k)
      largest = std::max(largest, double(std::abs(a[k] - b[k])));
  }
  EXPECT_GT(largest, 1e-6)
      << "the fixture's EMA weights equal its model's: the test proves nothing";
  EXPECT_EQ(c.cfg["policy"]["noise_scheduler"]["beta_schedule"], "squaredcos_cap_v2");
  EXPECT_EQ(c.cfg["task"]["name"], "pusht_lowdim");
}

// float32_tables reproduces diffusers' betas and alphas_cumprod: exactly for squaredcos_cap_v2
// (DP's and robomimic's schedule); within a float unit for the linear ones (torch's linspace).
TEST(ImportDiffusionPolicy, Float32TablesAreDiffusersTables) {
  const json tables = expected_chunks()["diffusers_tables"];
  for (const auto& [name, kind] :
       {std::pair{"squaredcos_cap_v2", diffusion::BetaSchedule::kSquaredCosCapV2},
        std::pair{"linear", diffusion::BetaSchedule::kLinear},
        std::pair{"scaled_linear", diffusion::BetaSchedule::kScaledLinear}}) {
    std::vector<double> betas = diffusion::make_betas(kind, 100, 1e-4, 0.02);
    const std::vector<double> ac = diffusion::diffusers_alphas_cumprod(betas);
    const auto want_betas = tables[name]["betas"].get<std::vector<double>>();
    const auto want_ac = tables[name]["alphas_cumprod"].get<std::vector<double>>();
    ASSERT_EQ(ac.size(), want_ac.size());
    const bool exact = std::string(name) == "squaredcos_cap_v2";
    for (size_t i = 0; i < ac.size(); ++i) {
      const double ulp = std::abs(std::nextafter(float(want_ac[i]), 2.0f) - float(want_ac[i]));
      EXPECT_NEAR(betas[i], want_betas[i], exact ? 0.0 : 1e-8) << name << " beta " << i;
      EXPECT_NEAR(ac[i], want_ac[i], exact ? 0.0 : 2 * ulp) << name << " alphas_cumprod " << i;
    }
  }
}

TEST(ImportDiffusionPolicy, RefusesWhatMimicDoesNotComputeByName) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  const json cfg = interop::read_diffusion_policy_checkpoint(kCkpt).cfg;
  auto refused = [&](const std::function<void(json&)>& edit, std::vector<std::string> needles) {
    json c = cfg;
    edit(c);
    testing::expect_error<Error>(
        [&] { interop::diffusion_policy_config_from_dp(c, "x.ckpt", reg); }, needles);
  };
  refused([](json& c) { c["policy"]["obs_as_global_cond"] = false; },
          {"x.ckpt", "obs_as_global_cond"});
  refused([](json& c) { c["policy"]["pred_action_steps_only"] = true; },
          {"pred_action_steps_only"});
  refused([](json& c) { c["policy"]["oa_step_convention"] = false; }, {"oa_step_convention"});
  refused(
      [](json& c) {
        c["policy"]["_target_"] =
            "diffusion_policy.policy.diffusion_transformer_hybrid_image_policy."
            "DiffusionTransformerHybridImagePolicy";
      },
      {"DiffusionTransformerHybridImagePolicy", "not supported yet"});
  refused([](json& c) { c["policy"]["noise_scheduler"]["variance_type"] = "fixed_small_log"; },
          {"variance_type", "fixed_small_log"});
  refused([](json& c) { c["policy"]["model"].erase("down_dims"); }, {"cfg.policy.model.down_dims"});
  refused([](json& c) { c["policy"]["model"]["n_groups"] = 5; }, {"n_groups"});

  // Files of the wrong kind.
  testing::expect_error<IoError>(
      [&] {
        interop::read_diffusion_policy_checkpoint(std::string(MIMIC_TEST_DATA_DIR) +
                                                  "/robomimic_checkpoints/bc.pth");
      },
      {"bc.pth", "cfg", "state_dicts"});
  testing::expect_error<IoError>([&] { interop::read_robomimic_checkpoint(kCkpt); },
                                 {"dp_unet_lowdim.ckpt"});
  const std::string cut = scratch("truncated.ckpt");
  {
    std::ifstream in(kCkpt, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  testing::expect_error<IoError>([&] { interop::import_diffusion_policy(cut, reg); },
                                 {"truncated.ckpt"});
}

// A hybrid image policy (DP's DiffusionUnetHybridImagePolicy on pusht_image: a camera image and
// the agent position, robomimic 0.2's VisualCore with GroupNorm, 84x84 crops; saved by DP's own
// save_checkpoint, tests/reference/make_dp_hybrid_fixture.py) imports into mimic's image Diffusion
// Policy whose action chunks equal DP's predict_action for the same images and sampler noise:
// the encoder's tensors renamed, DP's feature order (image, agent_pos) mapped to mimic's sorted
// one, its image range normalizer checked.
TEST(ImportDiffusionPolicy, HybridImageActionsEqualDiffusionPolicysPredictAction) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  const std::string ckpt = kDir + "dp_unet_hybrid.ckpt";
  std::ifstream in(kDir + "dp_unet_hybrid_actions.json");
  const json expected = json::parse(in);
  std::ifstream img(kDir + "dp_unet_hybrid_images.u8", std::ios::binary);
  const std::string pixels((std::istreambuf_iterator<char>(img)), {});
  interop::ImportedPolicy imported = interop::import_diffusion_policy(ckpt, reg);
  const policy::ShapeMeta& meta = imported.policy->shape_meta();
  EXPECT_EQ(meta.row_keys(), (std::vector<std::string>{"agent_pos", "image"}));
  EXPECT_TRUE(meta.is_rgb("image"));
  EXPECT_EQ(
      imported.config["observation"]["encoder"]["rgb"]["obs_randomizer_kwargs"]["crop_height"], 84);
  EXPECT_FALSE(imported.config["algo"]["ema"]["enabled"].get<bool>());
  const std::string out = scratch("dp_hybrid.safetensors");
  interop::save_imported(imported, ckpt, out);
  const policy::Checkpoint ck = policy::load_checkpoint(out);
  auto again = policy::policy_from_checkpoint<float, Cpu>(ck, out, reg);

  const int64_t image = 3 * 96 * 96, width = meta.obs_dim();
  ASSERT_EQ(width, 2 + image);
  const double bound = std::max(1e-5, 3 * expected["float64_spread"].get<double>());
  for (policy::AnyPolicy* p : {static_cast<policy::AnyPolicy*>(imported.policy.get()),
                               static_cast<policy::AnyPolicy*>(again.get())}) {
    for (size_t c = 0; c < expected["chunks"].size(); ++c) {
      const json& chunk = expected["chunks"][c];
      const int64_t b = int64_t(chunk["agent_pos"].size()),
                    to = int64_t(chunk["agent_pos"][0].size());
      ASSERT_EQ(int64_t(pixels.size()), int64_t(expected["chunks"].size()) * b * to * image);
      auto f = Tensor<float>::empty({b, to, width});
      for (int64_t i = 0; i < b; ++i)
        for (int64_t t = 0; t < to; ++t) {
          float* row = f.data() + (i * to + t) * width;
          row[0] = chunk["agent_pos"][i][t][0].get<float>();
          row[1] = chunk["agent_pos"][i][t][1].get<float>();
          const size_t at = size_t(((int64_t(c) * b + i) * to + t) * image);
          for (int64_t k = 0; k < image; ++k)
            row[2 + k] = float(static_cast<unsigned char>(pixels[at + size_t(k)])) / 255.0f;
        }
      policy::normalize_rows(p->normalization().obs, f.data(), b * to, 2, width);
      const Tensor<float> got = p->act_rollout(f, {0, 1});
      const double worst = testing::largest_relative_difference(got, chunk["action"]);
      EXPECT_LT(worst, bound) << "chunk " << c;
      std::cout << (p == imported.policy.get() ? "imported" : "through a mimic checkpoint")
                << ", chunk " << c << ": largest relative difference " << worst << "\n";
    }
  }
}

}  // namespace
}  // namespace mimic
