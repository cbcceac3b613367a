// Running LeRobot's own diffusion policies in mimic. Real pretrained-model folders
// (tests/reference/make_lerobot_fixture.py: DiffusionPolicy trained 3 steps and saved by its own
// save_pretrained, with lerobot 0.4.4's processor files, or lerobot 0.3.3's statistics buffers)
// import into mimic policies whose action chunks equal what LeRobot's preprocessor,
// generate_actions and postprocessor returned for the same raw observations and the same sampler
// noise, directly and through a saved mimic checkpoint. What mimic cannot compute is refused by
// name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "mimic/interop/lerobot_checkpoint.hpp"
#include "mimic/policy/builtin.hpp"
#include "support/action_chunks.hpp"
#include "support/errors.hpp"

namespace mimic {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kDir = std::string(MIMIC_TEST_DATA_DIR) + "/lerobot/";

std::string scratch(const std::string& name) {
  const auto dir =
      fs::temp_directory_path() / ("mimic_test_import_lerobot_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

// A copy of a fixture folder to edit.
std::string copy_case(const std::string& name, const std::string& as) {
  const std::string to = scratch(as);
  fs::remove_all(to);
  fs::copy(kDir + name, to, fs::copy_options::recursive);
  return to;
}
void write_json(const std::string& path, const json& j) { std::ofstream(path) << j.dump(2); }

// Camera frames of both chunks, [chunk, B, To, camera (LeRobot's order), 3, H, W], as bytes.
std::vector<uint8_t> read_frames(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

// LeRobot's raw observations {key: [B, To, dims]} as the policy's normalized rows (keys in the
// policy's row order; `lerobot_key` maps a policy key to LeRobot's name when they differ). Image
// keys take their pixels from `frames` (one chunk's [B, To, camera, C, H, W] bytes, cameras in
// the order `cameras` names them), divided by 255 as a LeRobot dataset does.
Tensor<float> features(const policy::AnyPolicy& p, json chunk,
                       const std::map<std::string, std::string>& lerobot_key = {},
                       const uint8_t* frames = nullptr,
                       const std::vector<std::string>& cameras = {}) {
  for (const auto& [key, name] : lerobot_key) chunk[key] = chunk[name];
  const policy::ShapeMeta& meta = p.shape_meta();
  const std::vector<std::string> keys = meta.row_keys();
  const json& first = chunk[keys[0]];
  const int64_t b = int64_t(first.size()), to = int64_t(first[0].size());
  const int64_t width = meta.obs_dim();
  auto f = Tensor<float>::empty({b, to, width});
  for (int64_t i = 0; i < b; ++i)
    for (int64_t t = 0; t < to; ++t) {
      int64_t at = 0;
      for (const std::string& k : keys) {
        float* row = &f[(i * to + t) * width + at];
        if (meta.is_rgb(k)) {
          const int64_t size = meta.key_size(k), n = int64_t(cameras.size());
          const int64_t camera = std::find(cameras.begin(), cameras.end(), k) - cameras.begin();
          const uint8_t* frame = frames + ((i * to + t) * n + camera) * size;
          for (int64_t d = 0; d < size; ++d) row[d] = float(frame[d]) / 255.0f;
          at += size;
          continue;
        }
        const json& v = chunk[k][i][t];
        for (size_t d = 0; d < v.size(); ++d) row[d] = v[d].get<float>();
        at += int64_t(v.size());
      }
    }
  policy::normalize_rows(p.normalization().obs, f.data(), b * to, meta.low_dim_dim(), width);
  return f;
}

// Both chunks, in order (the second chunk's noise follows the first's in the random stream),
// within 1e-5 relative; or, where LeRobot's own float32 actions are farther than that from its
// float64 run of the same sampling (DDIM's few steps amplify rounding: 1.1e-5 for the ddim
// policy), within 3 times that floor. A wrong formula, name or column moves actions by far more.
void expect_lerobot_actions(policy::AnyPolicy& p, const json& expected, const std::string& what,
                            const std::map<std::string, std::string>& lerobot_key = {},
                            const std::vector<uint8_t>& frames = {}) {
  const double bound = std::max(1e-5, 3 * expected["float64_spread"].get<double>());
  const std::vector<std::string> cameras = expected.value("cameras", std::vector<std::string>());
  for (size_t c = 0; c < expected["chunks"].size(); ++c) {
    const json& chunk = expected["chunks"][c];
    const uint8_t* chunk_frames = frames.empty() ? nullptr : frames.data() + c * frames.size() / 2;
    const Tensor<float> got =
        p.act_rollout(features(p, chunk, lerobot_key, chunk_frames, cameras), {0, 1});
    const double worst = testing::largest_relative_difference(got, chunk["action"]);
    EXPECT_LT(worst, bound) << what << ", chunk " << c << ": largest relative difference";
    std::cout << what << ", chunk " << c << ": largest relative difference " << worst << "\n";
  }
}

void expect_case(const std::string& name, bool ddim, int64_t inference_steps) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  const json expected = read_json(kDir + name + "_actions.json");
  interop::ImportedPolicy imported = interop::import_lerobot_policy(kDir + name, reg);
  const json& algo = imported.config["algo"];
  EXPECT_EQ(imported.format, "lerobot");
  EXPECT_EQ(imported.policy->algo_name(), "diffusion_policy");
  EXPECT_EQ(algo["horizon"]["prediction_horizon"], 16);
  EXPECT_EQ(algo["horizon"]["observation_horizon"], 2);
  EXPECT_EQ(algo["horizon"]["action_horizon"], expected["n_action_steps"]);
  EXPECT_EQ(algo["unet"]["down_dims"], json({16, 32}));
  EXPECT_EQ(algo[ddim ? "ddim" : "ddpm"]["num_inference_timesteps"], inference_steps);
  EXPECT_TRUE(algo[ddim ? "ddim" : "ddpm"]["enabled"].get<bool>());
  EXPECT_EQ(imported.config["train"]["seed"], expected["seed"]);
  EXPECT_EQ(imported.policy->shape_meta().row_keys(),
            (std::vector<std::string>{"observation.environment_state", "observation.state"}));
  const std::string out = scratch(name + ".safetensors");
  interop::save_imported(imported, kDir + name, out);  // before acting: the same random stream
  expect_lerobot_actions(*imported.policy, expected, name + " imported");

  const policy::Checkpoint ck = policy::load_checkpoint(out);
  EXPECT_EQ(ck.meta["imported_from"]["format"], "lerobot");
  auto again = policy::policy_from_checkpoint<float, Cpu>(ck, out, reg);
  expect_lerobot_actions(*again, expected, name + " through a mimic checkpoint");
}

// lerobot 0.4.4: DDIM 10 steps, FiLM scale and bias, state and action min/max, the environment
// state left as is (its type has no mode in the default mapping).
TEST(ImportLerobot, DdimActionsEqualLerobots) { expect_case("ddim", true, 10); }

// lerobot 0.4.4: DDPM 100 steps, FiLM bias only, mean/std state and action, quantile-scaled
// environment state with one constant dimension (the processors' eps branch).
TEST(ImportLerobot, DdpmActionsEqualLerobots) { expect_case("ddpm", false, 100); }

// lerobot 0.3.3: statistics as Normalize buffers in model.safetensors, its own min/max formula,
// no train_config.json (lerobot-train's default seed).
// lerobot 0.4.4 with two 96x96 cameras (listed wrist, then front: not sorted) through its one
// shared DiffusionRgbEncoder (84x84 crops, GroupNorm ResNet18, 32 keypoints), each camera's
// channels normalized by its mean and std, DDIM 10; no environment state.
TEST(ImportLerobot, ImageActionsEqualLerobots) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  const json expected = read_json(kDir + "image_actions.json");
  const std::vector<uint8_t> frames = read_frames(kDir + "image_images.u8");
  ASSERT_EQ(frames.size(), size_t(2 * 2 * 2 * 2 * 3 * 96 * 96));
  interop::ImportedPolicy imported = interop::import_lerobot_policy(kDir + "image", reg);
  const policy::ShapeMeta& meta = imported.policy->shape_meta();
  EXPECT_EQ(meta.row_keys(),
            (std::vector<std::string>{"observation.state", "observation.images.front",
                                      "observation.images.wrist"}));
  EXPECT_EQ(meta.obs_shapes.at("observation.images.front"), (std::vector<int64_t>{3, 96, 96}));
  const json& rgb = imported.config["observation"]["encoder"]["rgb"];
  EXPECT_EQ(rgb["obs_randomizer_kwargs"]["crop_height"], 84);
  EXPECT_EQ(rgb["core_kwargs"]["feature_dimension"], 64);
  // The dataset's per-channel statistics (the fixture's: mean 0.35, 0.5, 0.6 plus 0.05 for the
  // second camera; std 0.2, 0.25, 0.3, each plus LeRobot's eps 1e-8 in float32).
  const json& front = rgb["core_kwargs"]["channel_normalization"]["observation.images.front"];
  EXPECT_NEAR(front["offset"][0].get<double>(), 0.40, 1e-7);
  EXPECT_NEAR(front["scale"][2].get<double>(), 0.3, 1e-7);
  EXPECT_NEAR(rgb["core_kwargs"]["channel_normalization"]["observation.images.wrist"]["offset"][0]
                  .get<double>(),
              0.35, 1e-7);
  const std::string out = scratch("image.safetensors");
  interop::save_imported(imported, kDir + "image", out);
  expect_lerobot_actions(*imported.policy, expected, "image imported", {}, frames);

  const policy::Checkpoint ck = policy::load_checkpoint(out);
  auto again = policy::policy_from_checkpoint<float, Cpu>(ck, out, reg);
  expect_lerobot_actions(*again, expected, "image through a mimic checkpoint", {}, frames);

  auto with_config = [&](const json& config) {
    policy::Checkpoint edited = ck;
    edited.meta["config"] = config;
    return policy::policy_from_checkpoint<float, Cpu>(edited, out, reg);
  };
  // The channel statistics are real: without them (the [-1, 1] range Diffusion Policy uses) the
  // actions move far beyond the bound.
  json plain = imported.config;
  plain["observation"]["encoder"]["rgb"]["core_kwargs"].erase("channel_normalization");
  auto unnormalized = with_config(plain);
  const json& chunk = expected["chunks"][0];
  const double off = testing::largest_relative_difference(
      unnormalized->act_rollout(features(*unnormalized, chunk, {}, frames.data(),
                                         expected["cameras"].get<std::vector<std::string>>()),
                                {0, 1}),
      chunk["action"]);
  EXPECT_GT(off, 1e-3) << "image statistics ignored: largest relative difference " << off;
  std::cout << "image without its channel statistics: largest relative difference " << off << "\n";

  // A channel map must name an rgb key and match its channels.
  json wrong_key = imported.config, wrong_channels = imported.config;
  wrong_key["observation"]["encoder"]["rgb"]["core_kwargs"]["channel_normalization"]
           ["observation.state"] = front;
  wrong_channels["observation"]["encoder"]["rgb"]["core_kwargs"]["channel_normalization"]
                ["observation.images.front"]["offset"] = {0.5, 0.5};
  wrong_channels["observation"]["encoder"]["rgb"]["core_kwargs"]["channel_normalization"]
                ["observation.images.front"]["scale"] = {0.5, 0.5};
  testing::expect_error<Error>([&] { with_config(wrong_key); },
                               {"channel_normalization", "observation.state", "not an rgb"});
  testing::expect_error<Error>([&] { with_config(wrong_channels); },
                               {"channel_normalization", "observation.images.front", "2 channels"});
}

TEST(ImportLerobot, LegacyBufferStatisticsActionsEqualLerobots) {
  const interop::LerobotPolicyFolder f = interop::read_lerobot_policy(kDir + "legacy");
  EXPECT_TRUE(f.inputs.legacy);
  EXPECT_EQ(f.seed, interop::kLerobotDefaultSeed);
  expect_case("legacy", true, 10);
}

// With a target environment (the CLI's for gym-pusht runs) the keys take the environment's names,
// whose sorted order is LeRobot's own, and the actions come out in its units (pixels / 256 - 1).
// LeRobot's recorded actions (Push-T pixels) in Push-T's action units, [0, 512] -> [-1, 1].
void in_pusht_units(json& expected) {
  for (json& chunk : expected["chunks"])
    for (json& row : chunk["action"])
      for (json& step : row)
        for (json& v : step) v = v.get<double>() / 256.0 - 1.0;
}

TEST(ImportLerobot, ActionsMapIntoTheTargetEnvironmentsKeysAndUnits) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  json expected = read_json(kDir + "ddim_actions.json");
  interop::ImportedPolicy imported = interop::import_lerobot_policy(
      kDir + "ddim", reg,
      [](const interop::LerobotPolicyFolder& f) -> std::optional<interop::LerobotTarget> {
        if (f.train_config["env"]["type"] != "pusht") return std::nullopt;
        return interop::LerobotTarget{{{"env_name", "PushT"}},
                                      {{"observation.state", "agent_pos"},
                                       {"observation.environment_state", "environment_state"}},
                                      {1 / 256.0, 1 / 256.0},
                                      {-1.0, -1.0}};
      });
  EXPECT_EQ(imported.env_args["env_name"], "PushT");
  EXPECT_EQ(imported.policy->shape_meta().row_keys(),
            (std::vector<std::string>{"agent_pos", "environment_state"}));
  in_pusht_units(expected);
  expect_lerobot_actions(
      *imported.policy, expected, "in Push-T's keys and units",
      {{"agent_pos", "observation.state"}, {"environment_state", "observation.environment_state"}});
}

// lerobot 0.4.4 on gym-pusht's image observation (pixels_agent_pos), its camera through its own
// encoder (tensors under rgb_encoder.0), mapped into mimic's Push-T keys (image, agent_pos) and
// action units.
TEST(ImportLerobot, PushTImageActionsMapIntoPushTsKeysAndUnits) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  json expected = read_json(kDir + "pusht_image_actions.json");
  const std::vector<uint8_t> frames = read_frames(kDir + "pusht_image_images.u8");
  interop::ImportedPolicy imported = interop::import_lerobot_policy(
      kDir + "pusht_image", reg,
      [](const interop::LerobotPolicyFolder& f) -> std::optional<interop::LerobotTarget> {
        if (f.train_config["env"]["obs_type"] != "pixels_agent_pos") return std::nullopt;
        return interop::LerobotTarget{
            {{"env_name", "PushT"}, {"env_kwargs", {{"images", true}}}},
            {{"observation.state", "agent_pos"}, {"observation.image", "image"}},
            {1 / 256.0, 1 / 256.0},
            {-1.0, -1.0}};
      });
  EXPECT_EQ(imported.policy->shape_meta().row_keys(),
            (std::vector<std::string>{"agent_pos", "image"}));
  in_pusht_units(expected);
  expected["cameras"] = {"image"};
  expect_lerobot_actions(*imported.policy, expected, "pusht_image in Push-T's keys and units",
                         {{"agent_pos", "observation.state"}}, frames);
}

// The pieces the parity rests on are real: LeRobot's step layout differs from mimic's row
// (without the column permutation the FiLM encoders would read the wrong values), and the
// statistics do move the values.
TEST(ImportLerobot, ConditionColumnsAndStatisticsAreLerobots) {
  const interop::LerobotPolicyFolder f = interop::read_lerobot_policy(kDir + "ddim");
  int64_t action_dim = 0;
  const auto cond = interop::lerobot_condition_features(f, &action_dim);
  ASSERT_EQ(cond.size(), 2u);
  EXPECT_EQ(cond[0].key, "observation.state");  // LeRobot: state first
  EXPECT_EQ(cond[1].key, "observation.environment_state");
  EXPECT_EQ(action_dim, 2);
  EXPECT_EQ(interop::detail::lerobot_unet_name("diffusion.unet.down_modules.0.2.weight"),
            "model.down_modules.0.2.conv.weight");
  EXPECT_EQ(interop::detail::lerobot_unet_name("diffusion.unet.mid_modules.1.conv2.block.1.bias"),
            "model.mid_modules.1.blocks.1.block.1.bias");
  EXPECT_EQ(interop::detail::lerobot_unet_name("diffusion.unet.final_conv.0.block.0.weight"),
            "model.final_conv.0.block.0.weight");
  EXPECT_EQ(interop::detail::lerobot_unet_name("normalize_inputs.buffer_action.min"), std::nullopt);

  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  const interop::ImportedPolicy p = interop::import_lerobot_policy(kDir + "ddim", reg);
  const data::AffineStats& obs = p.policy->normalization().obs;
  ASSERT_EQ(obs.offset.size(), 18u);
  for (size_t d = 0; d < 16; ++d) {  // environment state: as is
    EXPECT_EQ(obs.offset[d], 0.0);
    EXPECT_EQ(obs.scale[d], 1.0);
  }
  const auto& st = f.inputs.stats.at("observation.state");
  for (size_t d = 0; d < 2; ++d) {  // state: min/max into [-1, 1]
    EXPECT_NEAR(obs.offset[16 + d], (st.at("min")[d] + st.at("max")[d]) / 2, 1e-4);
    EXPECT_NEAR(obs.scale[16 + d], (st.at("max")[d] - st.at("min")[d]) / 2, 1e-4);
  }
}

TEST(ImportLerobot, RefusesWhatMimicDoesNotComputeByName) {
  const policy::AlgorithmRegistry reg = policy::builtin_algorithms();
  auto refused = [&](const std::string& name, const std::function<void(const std::string&)>& edit,
                     std::vector<std::string> needles, const std::string& base = "ddim") {
    const std::string dir = copy_case(base, name);
    edit(dir);
    needles.push_back(name);
    testing::expect_error<Error>([&] { interop::import_lerobot_policy(dir, reg); }, needles);
  };
  auto edit_config = [](const std::function<void(json&)>& f) {
    return [f](const std::string& dir) {
      json c = read_json(dir + "/config.json");
      f(c);
      write_json(dir + "/config.json", c);
    };
  };
  refused("camera", edit_config([](json& c) {
            c["input_features"]["observation.image"] = {{"type", "VISUAL"}, {"shape", {3, 96, 96}}};
          }),
          {"model.safetensors", "cond_encoder", "82 features"});  // 2 + 64 (the camera) + 16
  refused("resize", edit_config([](json& c) {
            c["resize_shape"] = {64, 64};
          }),
          {"resize_shape"}, "image");
  refused("batchnorm", edit_config([](json& c) { c["use_group_norm"] = false; }),
          {"use_group_norm", "GroupNorm"}, "image");
  refused("resnet34", edit_config([](json& c) { c["vision_backbone"] = "resnet34"; }),
          {"vision_backbone", "resnet34"}, "image");
  refused("halfpixel", edit_config([](json& c) {
            c["crop_shape"] = {81, 84};
          }),
          {"crop_shape", "half a pixel"}, "image");
  refused("shapes", edit_config([](json& c) {
            c["input_features"]["observation.images.front"]["shape"] = {3, 64, 64};
          }),
          {"observation.images.wrist", "[3,64,64]", "one shape for all cameras"}, "image");
  refused("act", edit_config([](json& c) { c["type"] = "act"; }), {"policy type 'act'"});
  refused("clip", edit_config([](json& c) { c["clip_sample_range"] = 2.0; }),
          {"clip_sample_range"});
  refused("sched", edit_config([](json& c) { c["noise_scheduler_type"] = "PNDM"; }),
          {"noise_scheduler_type", "PNDM"});
  refused("nostate", edit_config([](json& c) { c["input_features"].erase("observation.state"); }),
          {"config.json", "observation.state"});
  refused("noenv",
          edit_config([](json& c) { c["input_features"].erase("observation.environment_state"); }),
          {"observation.environment_state"});
  refused("dims", edit_config([](json& c) {
            c["down_dims"] = {16, 32, 64};
          }),
          {"model.safetensors", "needs"});
  refused("step",
          [](const std::string& dir) {
            json p = read_json(dir + "/policy_preprocessor.json");
            p["steps"].push_back(
                {{"registry_name", "image_crop_processor"}, {"config", json::object()}});
            write_json(dir + "/policy_preprocessor.json", p);
          },
          {"policy_preprocessor.json", "image_crop_processor", "no counterpart"});
  refused("rename",
          [](const std::string& dir) {
            json p = read_json(dir + "/policy_preprocessor.json");
            p["steps"][0]["config"]["rename_map"] = {{"agent_pos", "observation.state"}};
            write_json(dir + "/policy_preprocessor.json", p);
          },
          {"rename_observations_processor", "agent_pos"});
  refused("mode",
          [](const std::string& dir) {
            json p = read_json(dir + "/policy_postprocessor.json");
            p["steps"][0]["config"]["norm_map"]["ACTION"] = "LOG";
            write_json(dir + "/policy_postprocessor.json", p);
          },
          {"policy_postprocessor.json", "LOG", "action"});
  refused("nostats",
          [](const std::string& dir) {
            fs::remove(dir + "/policy_preprocessor_step_3_normalizer_processor.safetensors");
          },
          {"policy_preprocessor_step_3_normalizer_processor.safetensors"});
  refused("truncated",
          [](const std::string& dir) {
            const std::string w = dir + "/model.safetensors";
            fs::resize_file(w, fs::file_size(w) / 2);
          },
          {"model.safetensors"});
  refused("empty", [](const std::string& dir) { fs::remove(dir + "/config.json"); },
          {"no config.json", "save_pretrained"});
  // lerobot <= 0.3 folders whose statistics were never set hold inf buffers.
  {
    const std::string dir = copy_case("legacy", "legacy_inf");
    nn::SafetensorsFile f = nn::read_safetensors(dir + "/model.safetensors");
    nn::SafetensorsTensor& t = f.tensors.at("normalize_inputs.buffer_observation_state.min");
    const float inf = INFINITY;
    for (size_t i = 0; i + 4 <= t.bytes.size(); i += 4) std::memcpy(t.bytes.data() + i, &inf, 4);
    nn::write_safetensors(dir + "/model.safetensors", f.tensors, f.metadata);
    testing::expect_error<IoError>(
        [&] { interop::import_lerobot_policy(dir, reg); },
        {"legacy_inf", "normalize_inputs.buffer_observation_state.min", "finite"});
  }
}

}  // namespace
}  // namespace mimic
