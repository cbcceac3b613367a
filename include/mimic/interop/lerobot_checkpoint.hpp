#pragma once
// LeRobot diffusion policies, as `save_pretrained` writes them, turned into mimic policies. A
// pretrained-model folder holds config.json (the DiffusionConfig: features, horizons, UNet,
// noise scheduler, normalization modes) and model.safetensors (the weights). The normalization
// statistics are in one of two places:
//   - lerobot >= 0.4: the processor pipelines' files beside them, policy_preprocessor.json naming
//     a normalizer_processor step and its .safetensors state ("<key>.<stat>"), and
//     policy_postprocessor.json an unnormalizer_processor step for the actions;
//   - lerobot <= 0.3: buffers of the policy's Normalize modules in model.safetensors
//     (normalize_inputs.buffer_observation_state.min, unnormalize_outputs.buffer_action.max, ...).
// lerobot-train writes train_config.json beside them; its seed seeds the imported policy's
// random stream (lerobot's default, 1000, without it).
//
// LeRobot's UNet is Diffusion Policy's ConditionalUnet1D with other module names; the tensors are
// renamed to DP's (mimic's) names. Its global condition is, per observation step, the state, each
// camera's image features (in config.json's order) and the environment state; mimic's
// observation row holds keys sorted by name, so the FiLM encoders' condition columns are permuted
// to match. Cameras go through LeRobot's DiffusionRgbEncoder, which is robomimic's VisualCore
// (GroupNorm ResNet18, spatial softmax without temperature, linear, ReLU) behind per-channel
// image normalization by the dataset's statistics: mimic's encoder with channel_normalization.
// One encoder shared by all cameras (LeRobot's default) becomes a copy per camera in mimic.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mimic/interop/condition_columns.hpp"
#include "mimic/interop/robomimic_checkpoint.hpp"
#include "mimic/interop/visual_core_names.hpp"
#include "mimic/nn/safetensors.hpp"

namespace mimic::interop {

constexpr uint64_t kLerobotDefaultSeed = 1000;  // lerobot-train's TrainPipelineConfig.seed

// Statistics by feature key, then by statistic name (min, max, mean, std, q01, ...).
using LerobotStats = std::map<std::string, std::map<std::string, std::vector<double>>>;

// How LeRobot maps one feature type's values (its config's normalization_mapping, or a
// processor's norm_map): the mode per type, and where the statistics live.
struct LerobotNormalizer {
  std::map<std::string, std::string> mode_by_type;  // STATE -> MIN_MAX, ...
  LerobotStats stats;
  double eps = 1e-8;
  bool legacy = false;  // lerobot <= 0.3's Normalize/Unnormalize formulas
  std::optional<std::vector<std::string>> only_keys;  // normalize_observation_keys
};

struct LerobotPolicyFolder {
  std::string dir;
  nlohmann::json config;                         // config.json
  std::vector<std::string> input_feature_order;  // its input_features, in the file's order
  nlohmann::json train_config;                   // train_config.json, null without one
  uint64_t seed = kLerobotDefaultSeed;
  std::vector<std::pair<std::string, Tensor<float>>> model;  // model.safetensors, names sorted
  LerobotNormalizer inputs, outputs;  // observation normalization, action unnormalization
};

namespace detail {

inline std::string lerobot_json_text(const std::string& path) {
  return read_json_file_text(path, std::uintmax_t(16) << 20);
}

inline nlohmann::json lerobot_json_file(const std::string& path) {
  nlohmann::json j = parse_json_text(lerobot_json_text(path), path);
  if (!j.is_object()) throw IoError(path + ": expected a JSON object");
  return j;
}

// An F32 or F64 safetensors tensor as floats.
inline Tensor<float> lerobot_tensor(const nn::SafetensorsTensor& t, const std::string& where) {
  auto out = Tensor<float>::empty(Shape::from_range(t.shape.begin(), t.shape.end()));
  const int64_t n = out.numel();
  if (t.dtype == "F32") {
    std::memcpy(out.data(), t.bytes.data(), size_t(n) * sizeof(float));
  } else if (t.dtype == "F64") {
    for (int64_t i = 0; i < n; ++i) {
      double v;
      std::memcpy(&v, t.bytes.data() + i * sizeof(double), sizeof(double));
      out[i] = float(v);
    }
  } else {
    throw UnsupportedError(where + " is " + t.dtype + ", expected F32 or F64");
  }
  return out;
}

inline std::vector<double> lerobot_values(const nn::SafetensorsTensor& t,
                                          const std::string& where) {
  const Tensor<float> x = lerobot_tensor(t, where);
  std::vector<double> v(size_t(x.numel()));
  for (int64_t i = 0; i < x.numel(); ++i) {
    v[size_t(i)] = x[i];
    if (!std::isfinite(v[size_t(i)]))
      throw IoError(where + "[" + std::to_string(i) + "] is " + std::to_string(v[size_t(i)]) +
                    ", expected a finite statistic");
  }
  return v;
}

inline std::map<std::string, std::string> lerobot_mode_map(const nlohmann::json& j,
                                                           const std::string& where) {
  std::map<std::string, std::string> m;
  if (j.is_null()) return m;
  if (!j.is_object()) throw IoError(where + " is " + j.dump() + ", expected an object");
  for (const auto& [type, mode] : j.items()) {
    if (!mode.is_string())
      throw IoError(where + "." + type + " is " + mode.dump() + ", expected a mode name");
    m[type] = mode.get<std::string>();
  }
  return m;
}

// A processor pipeline's (un)normalizer step: its config and its statistics file.
inline LerobotNormalizer lerobot_processor_normalizer(const std::string& dir,
                                                      const std::string& pipeline,
                                                      const std::string& step_name) {
  const std::string path = dir + "/" + pipeline;
  const nlohmann::json p = lerobot_json_file(path);
  if (!p.contains("steps") || !p["steps"].is_array())
    throw IoError(path + ": no 'steps' list (not a LeRobot processor pipeline?)");
  std::optional<LerobotNormalizer> found;
  for (size_t i = 0; i < p["steps"].size(); ++i) {
    const nlohmann::json& s = p["steps"][i];
    const std::string where = path + ": steps[" + std::to_string(i) + "]";
    const std::string name = s.is_object() ? s.value("registry_name", std::string()) : "";
    const nlohmann::json cfg =
        s.is_object() ? s.value("config", nlohmann::json::object()) : nlohmann::json::object();
    if (name == "to_batch_processor" || name == "device_processor") continue;
    if (name == "rename_observations_processor") {
      if (cfg.contains("rename_map") && !cfg["rename_map"].empty())
        throw UnsupportedError(where + ": rename_observations_processor renames " +
                               cfg["rename_map"].dump() +
                               "; mimic takes the policy's own feature names");
      continue;
    }
    if (name != step_name)
      throw UnsupportedError(where + ": the processor step '" + name +
                             "' has no counterpart in mimic (it imports " + step_name +
                             ", to_batch_processor, device_processor and an empty rename)");
    if (found) throw IoError(where + ": a second " + step_name);
    LerobotNormalizer n;
    n.mode_by_type = lerobot_mode_map(cfg.value("norm_map", nlohmann::json()), where + ".norm_map");
    if (cfg.contains("eps")) {
      if (!cfg["eps"].is_number() || !(cfg["eps"].get<double>() > 0))
        throw IoError(where + ".eps is " + cfg["eps"].dump() + ", expected a positive number");
      n.eps = cfg["eps"].get<double>();
    }
    if (cfg.contains("normalize_observation_keys") && !cfg["normalize_observation_keys"].is_null())
      n.only_keys = cfg["normalize_observation_keys"].get<std::vector<std::string>>();
    if (s.contains("state_file")) {
      const std::string state = dir + "/" + s["state_file"].get<std::string>();
      const nn::SafetensorsFile f = nn::read_safetensors(state);
      for (const auto& [flat, t] : f.tensors) {
        const size_t dot = flat.rfind('.');
        if (dot == std::string::npos || dot == 0)
          throw IoError(state + ": tensor '" + flat + "' is not named <feature>.<statistic>");
        n.stats[flat.substr(0, dot)][flat.substr(dot + 1)] = lerobot_values(t, state + ": " + flat);
      }
    }
    found = std::move(n);
  }
  if (!found) throw IoError(path + ": no " + step_name + " step");
  return *found;
}

// lerobot <= 0.3: module buffers "<module>.buffer_<key with . as _>.<stat>" in the weights.
inline LerobotStats lerobot_buffer_stats(
    const std::vector<std::pair<std::string, Tensor<float>>>& model, const std::string& module,
    const std::vector<std::string>& keys, const std::string& where) {
  LerobotStats stats;
  for (const std::string& key : keys) {
    std::string buffer = module + ".buffer_" + key;
    std::replace(buffer.begin() + std::ptrdiff_t(module.size()) + 8, buffer.end(), '.', '_');
    for (const auto& [name, t] : model)
      if (name.rfind(buffer + ".", 0) == 0) {
        std::vector<double> v(t.data(), t.data() + t.numel());
        for (size_t i = 0; i < v.size(); ++i)
          if (!std::isfinite(v[i]))  // lerobot fills the buffers with inf until stats are set
            throw IoError(where + ": " + name + "[" + std::to_string(i) + "] is " +
                          std::to_string(v[i]) +
                          ", expected a finite statistic (were the "
                          "dataset statistics ever set?)");
        stats[key][name.substr(buffer.size() + 1)] = v;
      }
  }
  return stats;
}

}  // namespace detail

// Reads a pretrained-model folder (or its config.json / model.safetensors).
inline LerobotPolicyFolder read_lerobot_policy(const std::string& path) {
  namespace fs = std::filesystem;
  LerobotPolicyFolder c;
  std::error_code ec;
  c.dir = fs::is_directory(path, ec) ? path : fs::path(path).parent_path().string();
  if (c.dir.empty()) c.dir = ".";
  if (!fs::exists(c.dir + "/config.json", ec))
    throw IoError(path +
                  ": no config.json (expected a folder written by LeRobot's save_pretrained: "
                  "config.json and model.safetensors)");
  {  // LeRobot stacks cameras in input_features' order, which a sorted JSON object loses.
    const std::string text = detail::lerobot_json_text(c.dir + "/config.json");
    c.config = parse_json_text(text, c.dir + "/config.json");
    if (!c.config.is_object()) throw IoError(c.dir + "/config.json: expected a JSON object");
    const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(text);
    if (ordered.contains("input_features") && ordered["input_features"].is_object())
      for (const auto& item : ordered["input_features"].items())
        c.input_feature_order.push_back(item.key());
  }
  const std::string weights_path = c.dir + "/model.safetensors";
  const nn::SafetensorsFile weights = nn::read_safetensors(weights_path);
  for (const auto& [name, t] : weights.tensors)
    c.model.emplace_back(name, detail::lerobot_tensor(t, weights_path + ": " + name));
  if (fs::exists(c.dir + "/train_config.json", ec)) {
    c.train_config = detail::lerobot_json_file(c.dir + "/train_config.json");
    const nlohmann::json& train = c.train_config;
    if (train.contains("seed") && !train["seed"].is_null()) {
      if (!train["seed"].is_number_integer() || train["seed"].get<int64_t>() < 0)
        throw IoError(c.dir + "/train_config.json: seed is " + train["seed"].dump() +
                      ", expected a non-negative integer");
      c.seed = train["seed"].get<uint64_t>();
    }
  }
  const auto mapping =
      detail::lerobot_mode_map(c.config.value("normalization_mapping", nlohmann::json()),
                               c.dir + "/config.json: normalization_mapping");
  const bool processors = fs::exists(c.dir + "/policy_preprocessor.json", ec);
  if (processors) {
    c.inputs = detail::lerobot_processor_normalizer(c.dir, "policy_preprocessor.json",
                                                    "normalizer_processor");
    if (!fs::exists(c.dir + "/policy_postprocessor.json", ec))
      throw IoError(c.dir +
                    ": policy_preprocessor.json without policy_postprocessor.json (the "
                    "action statistics)");
    c.outputs = detail::lerobot_processor_normalizer(c.dir, "policy_postprocessor.json",
                                                     "unnormalizer_processor");
  } else {
    std::vector<std::string> keys;
    for (const char* section : {"input_features", "output_features"})
      if (c.config.contains(section) && c.config[section].is_object())
        for (const auto& [k, v] : c.config[section].items()) keys.push_back(k);
    c.inputs = {mapping,
                detail::lerobot_buffer_stats(c.model, "normalize_inputs", keys, weights_path), 1e-8,
                true, std::nullopt};
    c.outputs = {mapping,
                 detail::lerobot_buffer_stats(c.model, "unnormalize_outputs", keys, weights_path),
                 1e-8, true, std::nullopt};
    bool any = false;
    for (const auto& [name, t] : c.model) any = any || name.rfind("normalize_inputs.", 0) == 0;
    if (!any && !mapping.empty())
      throw IoError(c.dir +
                    ": no normalization statistics (neither policy_preprocessor.json, as "
                    "lerobot >= 0.4 saves them, nor normalize_inputs buffers in "
                    "model.safetensors, as lerobot <= 0.3 did)");
  }
  return c;
}

namespace detail {

// The affine map (x - offset) / scale one feature gets on the way in (unnormalize = false) or
// y * scale + offset on the way out; empty when LeRobot leaves it as is.
inline std::optional<data::AffineStats> lerobot_affine(const LerobotNormalizer& n,
                                                       const std::string& key,
                                                       const std::string& type, int64_t dims,
                                                       bool unnormalize, const std::string& where) {
  if (n.only_keys && std::find(n.only_keys->begin(), n.only_keys->end(), key) == n.only_keys->end())
    return std::nullopt;
  auto m = n.mode_by_type.find(type);
  if (m == n.mode_by_type.end() || m->second == "IDENTITY") return std::nullopt;
  const std::string& mode = m->second;
  auto s = n.stats.find(key);
  if (s == n.stats.end()) {
    if (n.legacy)  // lerobot <= 0.3 asserted the buffers were set
      throw IoError(where + ": " + key + " is normalized " + mode + " but has no statistics");
    return std::nullopt;  // the processor leaves a key without statistics as is
  }
  auto stat = [&](const char* name) -> const std::vector<double>& {
    auto it = s->second.find(name);
    if (it == s->second.end())
      throw IoError(where + ": " + key + " is normalized " + mode + " but has no '" + name +
                    "' statistic");
    if (int64_t(it->second.size()) != dims)
      throw IoError(where + ": " + key + "." + name + " has " + std::to_string(it->second.size()) +
                    " values, expected " + std::to_string(dims));
    return it->second;
  };
  data::AffineStats a;
  if (mode == "MEAN_STD") {
    const std::vector<double>& mean = stat("mean");
    const std::vector<double>& std = stat("std");
    for (int64_t d = 0; d < dims; ++d) {
      a.offset.push_back(mean[size_t(d)]);
      // LeRobot divides by std + eps and multiplies back by std alone.
      a.scale.push_back(float(std[size_t(d)]) + (unnormalize ? 0.0f : float(n.eps)));
    }
    return a;
  }
  static const std::map<std::string, std::pair<const char*, const char*>> kRanges = {
      {"MIN_MAX", {"min", "max"}}, {"QUANTILES", {"q01", "q99"}}, {"QUANTILE10", {"q10", "q90"}}};
  auto r = kRanges.find(mode);
  if (r == kRanges.end() || (n.legacy && mode != "MIN_MAX"))
    throw UnsupportedError(where + ": normalization mode '" + mode + "' for " + key +
                           " (expected IDENTITY, MEAN_STD, MIN_MAX, QUANTILES or QUANTILE10)");
  const std::vector<double>& lo = stat(r->second.first);
  const std::vector<double>& hi = stat(r->second.second);
  for (int64_t d = 0; d < dims; ++d) {
    // The range as LeRobot computes it in float32: lerobot <= 0.3 adds eps on the way in;
    // the processors substitute eps for an empty range, both ways.
    float range = float(hi[size_t(d)]) - float(lo[size_t(d)]);
    if (n.legacy) {
      if (!unnormalize) range = range + float(n.eps);
    } else if (range == 0.0f) {
      range = float(n.eps);
    }
    a.scale.push_back(double(range) / 2);
    a.offset.push_back(lo[size_t(d)] + double(range) / 2);
  }
  return a;
}

// DP's (mimic's) name for a LeRobot UNet tensor ("diffusion.unet." + ...), or none for other
// tensors.
inline std::optional<std::string> lerobot_unet_name(const std::string& name) {
  const std::string prefix = "diffusion.unet.";
  if (name.rfind(prefix, 0) != 0) return std::nullopt;
  std::vector<std::string> parts;
  for (size_t b = prefix.size(), e; b <= name.size(); b = e + 1) {
    e = name.find('.', b);
    if (e == std::string::npos) e = name.size();
    parts.push_back(name.substr(b, e - b));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "conv1" || parts[i] == "conv2") {  // DiffusionConv1dBlock = DP's blocks.N
      out.push_back("blocks");
      out.push_back(parts[i] == "conv1" ? "0" : "1");
      continue;
    }
    out.push_back(parts[i]);
  }
  // Down/upsampling convolutions are plain Conv1d in LeRobot, DP's Downsample1d/Upsample1d.conv.
  if (out.size() == 4 && (out[0] == "down_modules" || out[0] == "up_modules") && out[2] == "2")
    out.insert(out.begin() + 3, "conv");
  std::string dp = "model";
  for (const std::string& p : out) dp += "." + p;
  return dp;
}

// A LeRobot image-encoder tensor ("diffusion.rgb_encoder." + ..., with the camera's index first
// when each camera has its own encoder): the camera (-1: one encoder shared by all) and mimic's
// name under encoder.<key>., or an empty name for the fixed coordinate grid mimic computes.
// torchvision's children conv1, bn1, relu, maxpool, layer1..4 are backbone.0..7.
struct LerobotEncoderTensor {
  int camera = -1;
  std::string name;
};
inline std::optional<LerobotEncoderTensor> lerobot_encoder_name(const std::string& name) {
  const std::string prefix = "diffusion.rgb_encoder.";
  if (name.rfind(prefix, 0) != 0) return std::nullopt;
  LerobotEncoderTensor t;
  std::string rest = name.substr(prefix.size());
  if (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0]))) {
    const size_t dot = rest.find('.');
    if (dot == std::string::npos || dot > 3) return std::nullopt;
    t.camera = std::stoi(rest.substr(0, dot));
    rest = rest.substr(dot + 1);
  }
  auto starts = [&](const std::string& p) { return rest.rfind(p, 0) == 0; };
  if (rest == "pool.pos_grid") return t;
  if (starts("pool.nets.")) {
    t.name = rest;
  } else if (starts("out.")) {
    t.name = "linear." + rest.substr(4);
  } else if (starts("backbone.")) {
    const std::string mine = resnet_tensor(rest.substr(9), true);
    if (mine.empty()) return std::nullopt;
    t.name = "backbone." + mine;
  } else {
    return std::nullopt;
  }
  return t;
}

}  // namespace detail

// One observation feature the UNet is conditioned on, in LeRobot's per-step order: its LeRobot
// name and the observation key mimic gives it (the same, unless a target environment renames it).
struct LerobotFeature {
  std::string key, type;
  int64_t dims = 0;  // the condition columns it fills per step (an image: its encoder's features)
  std::string name;
  std::vector<int64_t> image;  // VISUAL: [C, H, W]
};

// Where an imported policy acts, when the caller recognizes the run's environment (from
// train_config.json): the environment's env_args, its observation key for each LeRobot feature,
// and the affine map from the dataset's action units to the environment's, a = scale * a' + offset.
struct LerobotTarget {
  nlohmann::json env_args;
  std::map<std::string, std::string> key_names;
  std::vector<double> action_scale, action_offset;
};
using LerobotTargetFor =
    std::function<std::optional<LerobotTarget>(const LerobotPolicyFolder& folder)>;

// The features the diffusion model reads, in its per-step order (observation.state, the cameras
// in config.json's order, observation.environment_state), and the action size; refuses what
// mimic's policy does not compute by name.
inline std::vector<LerobotFeature> lerobot_condition_features(const LerobotPolicyFolder& c,
                                                              int64_t* action_dim) {
  const std::string where = c.dir + "/config.json";
  auto features = [&](const char* section) {
    if (!c.config.contains(section) || !c.config[section].is_object())
      throw IoError(where + ": no '" + section +
                    "' (expected LeRobot's PreTrainedConfig; configs from before lerobot 0.2 "
                    "with input_shapes are not supported)");
    std::map<std::string, std::pair<std::string, std::vector<int64_t>>> out;
    for (const auto& [k, v] : c.config[section].items()) {
      if (!v.is_object() || !v.contains("type") || !v["type"].is_string() || !v.contains("shape") ||
          !v["shape"].is_array())
        throw IoError(where + ": " + section + "." + k + " is " + v.dump() +
                      ", expected {type, shape}");
      std::vector<int64_t> shape;
      for (const auto& d : v["shape"]) {
        if (!d.is_number_integer() || d.get<int64_t>() <= 0 || d.get<int64_t>() > (1 << 20))
          throw IoError(where + ": " + section + "." + k + ".shape holds " + d.dump());
        shape.push_back(d.get<int64_t>());
      }
      out[k] = {v["type"].get<std::string>(), shape};
    }
    return out;
  };
  const auto in = features("input_features");
  const auto out = features("output_features");
  std::vector<LerobotFeature> cond;
  auto one_dim = [&](const std::string& k, const std::vector<int64_t>& shape) {
    if (shape.size() != 1)
      throw UnsupportedError(where + ": " + k + " has shape of rank " +
                             std::to_string(shape.size()) + ", expected a vector");
    return shape[0];
  };
  auto state = in.find("observation.state");
  if (state == in.end() || state->second.first != "STATE")
    throw IoError(where +
                  ": no STATE input feature 'observation.state' (LeRobot's diffusion "
                  "policy requires it)");
  cond.push_back(
      {state->first, "STATE", one_dim(state->first, state->second.second), state->first, {}});
  const int64_t keypoints = c.config.value("spatial_softmax_num_keypoints", int64_t(32));
  if (keypoints < 1 || keypoints > 4096)
    throw IoError(where + ": spatial_softmax_num_keypoints " + std::to_string(keypoints) +
                  ", expected 1 to 4096");
  bool images = false;
  for (const std::string& k : c.input_feature_order) {
    auto f = in.find(k);
    if (f == in.end() || f->second.first != "VISUAL") continue;
    const std::vector<int64_t>& shape = f->second.second;
    if (shape.size() != 3 || shape[0] > 16)
      throw UnsupportedError(where + ": image feature " + k + " has shape " +
                             nlohmann::json(shape).dump() + ", expected [channels, height, width]");
    if (images && shape != cond.back().image)
      throw IoError(where + ": image feature " + k + " has shape " + nlohmann::json(shape).dump() +
                    ", the first camera " + nlohmann::json(cond.back().image).dump() +
                    " (LeRobot requires one shape for all cameras)");
    cond.push_back({k, "VISUAL", 2 * keypoints, k, shape});
    images = true;
  }
  const LerobotFeature* env = nullptr;
  for (const auto& [k, f] : in)
    if (f.first == "ENV") {
      if (env || k != "observation.environment_state")
        throw UnsupportedError(where + ": ENV feature '" + k +
                               "'; LeRobot's diffusion model reads one, "
                               "observation.environment_state");
      cond.push_back({k, "ENV", one_dim(k, f.second), k, {}});
      env = &cond.back();
    } else if (f.first != "STATE" && f.first != "VISUAL") {
      throw UnsupportedError(where + ": input feature '" + k + "' of type " + f.first +
                             " (LeRobot's diffusion model reads STATE, VISUAL and ENV)");
    } else if (f.first == "STATE" && k != "observation.state") {
      throw UnsupportedError(where + ": STATE feature '" + k +
                             "'; LeRobot's diffusion model reads one, observation.state");
    }
  if (!env && !images)
    throw IoError(where +
                  ": no ENV input feature 'observation.environment_state' and no image (LeRobot's "
                  "diffusion policy needs one of them)");
  auto action = out.find("action");
  if (action == out.end() || action->second.first != "ACTION")
    throw IoError(where + ": no ACTION output feature 'action'");
  *action_dim = one_dim("action", action->second.second);
  return cond;
}

// mimic's diffusion_policy config for a LeRobot DiffusionConfig.
// mimic's observation.encoder.rgb for LeRobot's DiffusionRgbEncoder: ResNet18 with GroupNorm,
// a spatial softmax with LeRobot's keypoints and no temperature (1), a linear layer to twice the
// keypoints, its crop (random in training, centre at evaluation), and the channel statistics.
inline void lerobot_encoder_config(const LerobotPolicyFolder& c,
                                   const std::vector<LerobotFeature>& features,
                                   const std::map<std::string, data::AffineStats>& normalization,
                                   nlohmann::json& m) {
  const std::string where = c.dir + "/config.json";
  const nlohmann::json& l = c.config;
  const std::string backbone = l.value("vision_backbone", std::string("resnet18"));
  if (backbone != "resnet18")
    throw UnsupportedError(where + ": vision_backbone '" + backbone +
                           "' (mimic's encoder is ResNet18)");
  if (!l.value("use_group_norm", true))
    throw UnsupportedError(where +
                           ": use_group_norm is false (mimic's Diffusion Policy encoder uses "
                           "GroupNorm; BatchNorm statistics are not imported)");
  if (l.contains("resize_shape") && !l["resize_shape"].is_null())
    throw UnsupportedError(where + ": resize_shape " + l["resize_shape"].dump() +
                           " (mimic's encoder does not resize images; set it to null)");
  const int64_t keypoints = l.value("spatial_softmax_num_keypoints", int64_t(32));
  const LerobotFeature& first = *std::find_if(
      features.begin(), features.end(), [](const LerobotFeature& f) { return f.type == "VISUAL"; });
  std::optional<std::pair<int64_t, int64_t>> crop_size;
  if (l.contains("crop_shape") && !l["crop_shape"].is_null()) {
    const nlohmann::json& crop = l["crop_shape"];
    if (!crop.is_array() || crop.size() != 2 || !crop[0].is_number_integer() ||
        !crop[1].is_number_integer())
      throw IoError(where + ": crop_shape is " + crop.dump() + ", expected [height, width]");
    const int64_t ch = crop[0].get<int64_t>(), cw = crop[1].get<int64_t>();
    if (ch < 1 || cw < 1 || ch > first.image[1] || cw > first.image[2])
      throw IoError(where + ": crop_shape " + crop.dump() + " does not fit images of " +
                    nlohmann::json(first.image).dump());
    // torchvision's CenterCrop starts at round((H - h) / 2), half to even; mimic's at
    // floor((H - h) / 2). They differ only for odd margins (H - h) / 2 = k + 0.5 with k odd.
    for (const int64_t margin : {first.image[1] - ch, first.image[2] - cw})
      if (margin % 4 == 3)
        throw UnsupportedError(where + ": crop_shape " + crop.dump() + " on images of " +
                               nlohmann::json(first.image).dump() +
                               " centres the evaluation crop half a pixel off mimic's");
    crop_size = {ch, cw};
  }
  nlohmann::json& enc = m["observation"]["encoder"]["rgb"];
  write_visual_core(enc, keypoints, 2 * keypoints, crop_size);
  nlohmann::json channels = nlohmann::json::object();
  for (const auto& [name, stats] : normalization) channels[name] = policy::stats_to_json(stats);
  enc["core_kwargs"]["channel_normalization"] = channels;
}

// `image_normalization`: each camera's channel map, by its name in `features`.
inline nlohmann::json diffusion_policy_config_from_lerobot(
    const LerobotPolicyFolder& c, const policy::AlgorithmRegistry& registry,
    const std::vector<LerobotFeature>& features,
    const std::map<std::string, data::AffineStats>& image_normalization) {
  const std::string where = c.dir + "/config.json";
  const nlohmann::json& l = c.config;
  auto at = [&](const char* key) -> const nlohmann::json& {
    if (!l.contains(key)) throw IoError(where + ": no '" + std::string(key) + "'");
    return l[key];
  };
  const std::string type = l.value("type", std::string());
  if (type != "diffusion")
    throw UnsupportedError(where + ": policy type '" + type +
                           "'; mimic imports LeRobot's diffusion policies");
  const std::string sched = at("noise_scheduler_type").get<std::string>();
  if (sched != "DDPM" && sched != "DDIM")
    throw UnsupportedError(where + ": noise_scheduler_type '" + sched + "', expected DDPM or DDIM");
  const double clip_range = l.value("clip_sample_range", 1.0);
  if (l.value("clip_sample", true) && clip_range != 1.0)
    throw UnsupportedError(where + ": clip_sample_range " + std::to_string(clip_range) +
                           " (mimic clips samples to [-1, 1])");
  const std::string schedule = l.value("beta_schedule", std::string("squaredcos_cap_v2"));
  expect_default_beta_range(schedule, l.value("beta_start", 1e-4), l.value("beta_end", 0.02),
                            where);

  nlohmann::json m = config::default_config("diffusion_policy", registry);
  m["experiment"]["name"] = "lerobot_diffusion_import";
  nlohmann::json& algo = m["algo"];
  algo["horizon"] = {{"observation_horizon", at("n_obs_steps")},
                     {"action_horizon", at("n_action_steps")},
                     {"prediction_horizon", at("horizon")}};
  algo["unet"]["diffusion_step_embed_dim"] = at("diffusion_step_embed_dim");
  algo["unet"]["down_dims"] = at("down_dims");
  algo["unet"]["kernel_size"] = at("kernel_size");
  algo["unet"]["n_groups"] = at("n_groups");
  algo["unet"]["cond_predict_scale"] = at("use_film_scale_modulation");
  DiffusersScheduler scheduler;  // LeRobot builds DDIM with diffusers' defaults for the rest
  scheduler.ddim = sched == "DDIM";
  scheduler.train_steps = at("num_train_timesteps");
  scheduler.inference_steps =
      l.contains("num_inference_steps") && !l["num_inference_steps"].is_null()
          ? l["num_inference_steps"]
          : scheduler.train_steps;
  scheduler.beta_schedule = schedule;
  scheduler.clip_sample = l.value("clip_sample", true);
  scheduler.prediction_type = l.value("prediction_type", std::string("epsilon"));
  scheduler.write_to(algo);
  algo["ema"]["enabled"] = false;  // LeRobot's diffusion policy keeps no EMA weights
  write_adam(algo, l.value("optimizer_lr", nlohmann::json()),
             l.value("optimizer_betas", nlohmann::json()),
             l.value("optimizer_weight_decay", nlohmann::json()),
             l.value("scheduler_warmup_steps", nlohmann::json()));
  m["train"]["seed"] = c.seed;
  m["train"]["seq_length"] = algo["horizon"]["prediction_horizon"];
  m["train"]["frame_stack"] = algo["horizon"]["observation_horizon"];
  nlohmann::json keys = nlohmann::json::array(), cameras = nlohmann::json::array();
  for (const LerobotFeature& f : features) (f.type == "VISUAL" ? cameras : keys).push_back(f.name);
  m["observation"]["modalities"]["obs"]["low_dim"] = keys;
  m["observation"]["modalities"]["obs"]["rgb"] = cameras;
  if (!cameras.empty()) lerobot_encoder_config(c, features, image_normalization, m);
  return policy::naming_checkpoint(where, [&] { return config::load_config(m, registry); });
}

// The policy a LeRobot diffusion folder computes: observations by LeRobot's feature names in
// their units, actions in the dataset's units (LeRobot's postprocessor output); or, when
// `target_for` recognizes the run's environment, by that environment's keys and in its units.
inline ImportedPolicy import_lerobot_policy(const std::string& path,
                                            const policy::AlgorithmRegistry& registry,
                                            const LerobotTargetFor& target_for = {}) {
  const LerobotPolicyFolder c = read_lerobot_policy(path);
  ImportedPolicy out;
  out.format = "lerobot";
  int64_t action_dim = 0;
  std::vector<LerobotFeature> cond = lerobot_condition_features(c, &action_dim);
  const std::optional<LerobotTarget> target =
      target_for ? target_for(c) : std::optional<LerobotTarget>();
  if (target) {
    for (LerobotFeature& f : cond) {
      auto it = target->key_names.find(f.key);
      if (it == target->key_names.end())
        throw ValueError(c.dir + ": the target environment has no observation for " + f.key);
      f.name = it->second;
    }
    out.env_args = target->env_args;
  }
  // The observation row holds the keys sorted; each low-dim key's statistics (identity where
  // LeRobot leaves it as is) go to its columns, each camera's to its encoder's channels.
  const std::string stats_where =
      c.inputs.legacy ? c.dir + "/model.safetensors" : c.dir + "/policy_preprocessor.json";
  policy::ShapeMeta meta;
  meta.action_dim = action_dim;
  std::map<std::string, data::AffineStats> image_normalization;
  for (const LerobotFeature& f : cond) {
    if (f.type != "VISUAL") {
      meta.obs_shapes[f.name] = {f.dims};
      continue;
    }
    meta.obs_shapes[f.name] = f.image;
    meta.rgb_keys.insert(f.name);
    const int64_t channels = f.image[0];
    image_normalization[f.name] =
        detail::lerobot_affine(c.inputs, f.key, f.type, channels, false, stats_where)
            .value_or(policy::identity_stats(channels));
  }
  out.config = diffusion_policy_config_from_lerobot(c, registry, cond, image_normalization);
  policy::Normalization norm;
  auto feature_named = [&](const std::string& name) -> const LerobotFeature& {
    return *std::find_if(cond.begin(), cond.end(),
                         [&](const LerobotFeature& x) { return x.name == name; });
  };
  for (const std::string& name : meta.low_dim_keys()) {
    const LerobotFeature& f = feature_named(name);
    const std::optional<data::AffineStats> a =
        detail::lerobot_affine(c.inputs, f.key, f.type, f.dims, false, stats_where);
    for (int64_t d = 0; d < f.dims; ++d) {
      norm.obs.offset.push_back(a ? a->offset[size_t(d)] : 0.0);
      norm.obs.scale.push_back(a ? a->scale[size_t(d)] : 1.0);
    }
  }
  const std::optional<data::AffineStats> act = detail::lerobot_affine(
      c.outputs, "action", "ACTION", action_dim, true,
      c.outputs.legacy ? c.dir + "/model.safetensors" : c.dir + "/policy_postprocessor.json");
  if (act) {
    norm.action = *act;
  } else {
    norm.action.offset.assign(size_t(action_dim), 0.0);
    norm.action.scale.assign(size_t(action_dim), 1.0);
  }
  if (target) fold_action_units(norm, target->action_scale, target->action_offset, c.dir);
  out.schedule_units = imported_schedule_units(out.config);
  const policy::AlgorithmSpec& spec = registry.of(out.config);
  out.policy = policy::naming_checkpoint(c.dir, [&] {
    return spec.build<float, Cpu>(
        policy::BuildArgs{out.config, meta, norm, c.seed, out.schedule_units});
  });

  // Condition columns: LeRobot's step layout (state, cameras, environment state) to mimic's
  // sorted keys.
  FeatureBlocks lerobot_layout;
  for (const LerobotFeature& f : cond) lerobot_layout.emplace_back(f.name, f.dims);
  const int64_t embed = out.config["algo"]["unet"]["diffusion_step_embed_dim"].get<int64_t>();
  const int64_t steps = out.config["algo"]["horizon"]["observation_horizon"].get<int64_t>();
  auto permute_condition = [&](const std::string& name, const Tensor<float>& w) {
    return permute_condition_columns(w, embed, steps, lerobot_layout, sorted_blocks(lerobot_layout),
                                     c.dir + "/model.safetensors: " + name);
  };

  std::map<std::string, Tensor<float>> state;
  std::vector<std::string> cameras;  // mimic's keys, in LeRobot's camera order
  for (const LerobotFeature& f : cond)
    if (f.type == "VISUAL") cameras.push_back(f.name);
  for (const std::string& camera : cameras) {  // LeRobot's spatial softmax has no temperature
    Tensor<float> one = Tensor<float>::empty(Shape{1});
    one[0] = 1.0f;
    state.emplace("encoder." + camera + ".pool.temperature", one);
  }
  for (const auto& [name, t] : c.model) {
    if (name.rfind("normalize_inputs.", 0) == 0 || name.rfind("normalize_targets.", 0) == 0 ||
        name.rfind("unnormalize_outputs.", 0) == 0)
      continue;  // lerobot <= 0.3's statistics, read above
    if (const std::optional<detail::LerobotEncoderTensor> e = detail::lerobot_encoder_name(name)) {
      if (e->name.empty()) continue;  // the coordinate grid
      if (e->camera >= int(cameras.size()))
        throw IoError(c.dir + "/model.safetensors: '" + name + "' belongs to camera " +
                      std::to_string(e->camera) + " of " + std::to_string(cameras.size()));
      for (size_t k = 0; k < cameras.size(); ++k)
        if (e->camera < 0 || size_t(e->camera) == k)
          state.emplace("encoder." + cameras[k] + "." + e->name, t);
      continue;
    }
    const std::optional<std::string> mimic_name = detail::lerobot_unet_name(name);
    if (!mimic_name)
      throw IoError(c.dir + "/model.safetensors: tensor '" + name +
                    "' has no counterpart in mimic's policy");
    const bool condition = mimic_name->find(".cond_encoder.1.weight") != std::string::npos;
    state.emplace(*mimic_name, condition ? permute_condition(name, t) : t);
  }
  expect_weights_match(state, *out.policy, c.dir + "/model.safetensors", "the file");
  policy::naming_checkpoint(c.dir, [&] {
    out.policy->load_state(state, nlohmann::json::object());
    return 0;
  });
  out.tensors = c.model.size();
  return out;
}

}  // namespace mimic::interop
