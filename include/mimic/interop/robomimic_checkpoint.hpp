#pragma once
// robomimic 0.3.0 checkpoints (.pth, as TrainUtils.save_model writes them: a torch.save of
// {model: state dict, config: JSON text, algo_name, env_metadata, shape_metadata,
// obs_normalization_stats}) turned into mimic policies and mimic checkpoints. The config loads as
// any robomimic config does, shapes come from shape_metadata, observation statistics (per-key
// mean and std, std already holding robomimic's + 1e-3) become the policy's normalization, and
// every tensor is renamed to mimic's state-dict name. Nothing is left over on either side:
// a robomimic tensor mimic has no place for, or a mimic weight the file lacks, is an error that
// names it.
//
// Imported today: bc (MLP; L2 and GMM heads), bc_rnn (L2 and GMM heads), bc_transformer (L2 and
// GMM heads), BC-VAE, low-dim observations and image observations through robomimic's VisualCore
// (ResNet18Conv with its BatchNorm running statistics, SpatialSoftmax, crops). The Gaussian head
// is refused by name: mimic's is parameterized differently from robomimic's.
#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/config/config.hpp"
#include "mimic/interop/imported_policy.hpp"
#include "mimic/interop/visual_core_names.hpp"
#include "mimic/io/torch_file.hpp"
#include "mimic/policy/core/checkpoint.hpp"

namespace mimic::interop {

struct RobomimicCheckpoint {
  std::string algo_name;
  nlohmann::json config;                                                 // as robomimic dumped it
  nlohmann::json env_metadata, shape_metadata, obs_normalization_stats;  // null when absent
  std::vector<std::pair<std::string, Tensor<float>>> model;  // the state dict, in its order
  // shape_metadata.all_shapes' keys in the file's order: robomimic's encoder concatenates
  // observation features in that order (its train.py writes them sorted, as mimic's row holds
  // them).
  std::vector<std::string> all_shapes_order;
};

inline RobomimicCheckpoint read_robomimic_checkpoint(const std::string& path) {
  io::TorchFile file(path);
  const io::PickleValue& root = file.root();
  if (!root.is(io::PickleValue::Kind::kDict))
    throw IoError(path + ": holds " + root.describe() + ", expected robomimic's checkpoint dict");
  auto need = [&](const char* key) -> const io::PickleValue& {
    const io::PickleValue* v = root.get(key);
    if (!v)
      throw IoError(path + ": no '" + std::string(key) +
                    "' entry (not a robomimic checkpoint? robomimic saves model, config, "
                    "algo_name, env_metadata, shape_metadata)");
    return *v;
  };
  RobomimicCheckpoint c;
  const io::PickleValue& algo = need("algo_name");
  if (!algo.is(io::PickleValue::Kind::kString))
    throw IoError(path + ": 'algo_name' is " + algo.describe());
  c.algo_name = algo.text;
  const io::PickleValue& config = need("config");
  if (!config.is(io::PickleValue::Kind::kString))
    throw IoError(path + ": 'config' is " + config.describe() + ", expected robomimic's JSON text");
  c.config = parse_json_text(config.text, path + ": config");
  const io::PickleValue& shape_metadata = need("shape_metadata");
  c.shape_metadata = io::pickle_to_json(shape_metadata, path + ": shape_metadata");
  if (const io::PickleValue* all = shape_metadata.get("all_shapes"))
    for (const auto& [k, v] : all->entries)
      if (k->is(io::PickleValue::Kind::kString)) c.all_shapes_order.push_back(k->text);
  if (const io::PickleValue* e = root.get("env_metadata"))
    c.env_metadata = io::pickle_to_json(*e, path + ": env_metadata");
  if (const io::PickleValue* s = root.get("obs_normalization_stats"))
    c.obs_normalization_stats = io::pickle_to_json(*s, path + ": obs_normalization_stats");
  const io::PickleValue& model = need("model");
  if (!model.is(io::PickleValue::Kind::kDict))
    throw IoError(path + ": 'model' is " + model.describe() + ", expected a state dict");
  for (const auto& [k, v] : model.entries) {
    if (!k->is(io::PickleValue::Kind::kString))
      throw IoError(path + ": a state-dict key is " + k->describe());
    c.model.emplace_back(k->text, file.tensor(*v, k->text));
  }
  return c;
}

// robomimic's module prefixes (after "policy.") and mimic's names for them, both ways. GPT blocks
// (nets.transformer.nets.transformer.<i>.nets.<part>) are renamed separately.
inline const std::vector<std::pair<std::string, std::string>>& robomimic_prefixes() {
  static const std::vector<std::pair<std::string, std::string>> table = {
      {"nets.mlp._model.", "actor.mlp."},
      {"nets.decoder.nets.action.", "actor.decoder."},
      {"nets.decoder.nets.mean.", "actor.mean."},
      {"nets.decoder.nets.scale.", "actor.scale."},
      {"nets.decoder.nets.logits.", "actor.logits."},
      {"nets.rnn.nets.", "actor.rnn."},
      {"nets.embed_encoder.", "actor.embed_encoder."},
      {"nets.embed_ln.", "actor.embed_ln."},
      {"nets.embed_timestep.", "actor.embed_timestep."},
      {"nets.transformer.nets.output_ln.", "actor.transformer.output_ln."},
      // BC-VAE: robomimic's VAE networks (encoder, decoder, prior) under actor.
      {"_vae.nets.encoder.nets.mlp._model.", "actor.encoder.mlp."},
      {"_vae.nets.encoder.nets.decoder.nets.", "actor.encoder."},
      {"_vae.nets.decoder.nets.mlp._model.", "actor.decoder.mlp."},
      {"_vae.nets.decoder.nets.decoder.nets.", "actor.decoder."},
      {"_vae.nets.prior.prior_module.nets.mlp._model.", "actor.prior.mlp."},
      {"_vae.nets.prior.prior_module.nets.decoder.nets.", "actor.prior.decoder."},
      {"_vae.nets.prior.prior_params.", "actor.prior."},
  };
  return table;
}

// robomimic's state-dict name -> mimic's; "" for tensors mimic keeps no copy of (robomimic's
// per-step alias of the RNN decoder, attention-mask buffers). Errors name the tensor.
inline std::string mimic_name_of_robomimic(const std::string& full, const std::string& path) {
  const std::string policy = "policy.";
  if (full.rfind(policy, 0) != 0)
    throw IoError(path + ": tensor '" + full + "' is outside robomimic's 'policy' network");
  const std::string n = full.substr(policy.size());
  auto starts = [&](const std::string& p) { return n.rfind(p, 0) == 0; };
  if (starts("nets.rnn.per_step_net.")) return "";
  if (n == "params.embed_timestep") return "actor.embed_timestep";
  for (const auto& [from, to] : robomimic_prefixes())
    if (starts(from)) return to + n.substr(from.size());
  // GPT blocks: nets.transformer.nets.transformer.<i>.nets.<part>
  const std::string blocks = "nets.transformer.nets.transformer.";
  if (starts(blocks)) {
    const size_t dot = n.find('.', blocks.size());
    const std::string index = n.substr(blocks.size(), dot - blocks.size());
    if (dot != std::string::npos && !index.empty() &&
        index.find_first_not_of("0123456789") == std::string::npos &&
        n.compare(dot, 6, ".nets.") == 0) {
      std::string part = n.substr(dot + 6);
      if (part == "attention.mask") return "";  // the causal mask buffer
      for (const char* sub : {"attention.nets.qkv.", "attention.nets.output."})
        if (part.rfind(sub, 0) == 0) part = "attention." + part.substr(15);
      return "actor.transformer.blocks." + index + "." + part;
    }
  }
  // Image encoders: a VisualCore per rgb key.
  const std::string obs_nets = "nets.encoder.nets.obs.obs_nets.";
  if (starts(obs_nets)) {
    const size_t key_end = n.find('.', obs_nets.size());
    if (key_end != std::string::npos) {
      const std::string key = n.substr(obs_nets.size(), key_end - obs_nets.size());
      const VisualCoreName v = visual_core_name(n.substr(key_end + 1));
      if (!v.keep) return "";
      if (!v.name.empty()) return "encoder." + key + "." + v.name;
    }
    throw IoError(path + ": tensor '" + full +
                  "' has no counterpart in mimic's image encoder (robomimic's VisualCore with "
                  "ResNet18Conv and SpatialSoftmax)");
  }
  if (starts("_vae."))
    throw IoError(path + ": tensor '" + full +
                  "' has no counterpart in mimic's BC-VAE (robomimic's VAE encoder, decoder and "
                  "prior networks)");
  throw IoError(path + ": tensor '" + full + "' has no counterpart in mimic's policy");
}

// The policy's shapes: every observation key the config uses, with robomimic's stored shape.
inline policy::ShapeMeta robomimic_shape_meta(const RobomimicCheckpoint& c,
                                              const nlohmann::json& config,
                                              const std::string& path) {
  const nlohmann::json& sm = c.shape_metadata;
  if (!sm.is_object() || !sm.contains("all_shapes") || !sm["all_shapes"].is_object() ||
      !sm.contains("ac_dim") || !sm["ac_dim"].is_number_integer())
    throw IoError(path + ": shape_metadata needs 'all_shapes' {key: shape} and 'ac_dim'");
  policy::ShapeMeta meta;
  meta.action_dim = sm["ac_dim"].get<int64_t>();
  const nlohmann::json& obs = config.at("observation").at("modalities").at("obs");
  for (const auto& [modality, keys] : obs.items()) {
    for (const auto& k : keys) {
      const std::string key = k.get<std::string>();
      if (!sm["all_shapes"].contains(key))
        throw IoError(path + ": shape_metadata.all_shapes has no entry for observation '" + key +
                      "' that the config uses");
      meta.obs_shapes[key] = sm["all_shapes"][key].get<std::vector<int64_t>>();
      if (modality == "rgb")
        meta.rgb_keys.insert(key);
      else if (modality != "low_dim")
        throw UnsupportedError(path + ": observation '" + key + "' is of modality '" + modality +
                               "'; mimic reads low_dim and rgb");
    }
  }
  // robomimic concatenates the features in all_shapes' order, mimic in sorted key order.
  std::vector<std::string> used;
  for (const std::string& k : c.all_shapes_order)
    if (meta.obs_shapes.count(k)) used.push_back(k);
  if (!std::is_sorted(used.begin(), used.end()))
    throw UnsupportedError(path + ": shape_metadata.all_shapes lists the observations as " +
                           nlohmann::json(used).dump() +
                           "; robomimic's encoder concatenates them in that order, mimic's sorted "
                           "(robomimic's train.py writes them sorted)");
  meta.validate();
  return meta;
}

// robomimic's per-key statistics as mimic's offset / scale over the sorted low-dim keys.
inline policy::Normalization robomimic_normalization(const RobomimicCheckpoint& c,
                                                     const policy::ShapeMeta& meta,
                                                     const nlohmann::json& config,
                                                     const std::string& path) {
  policy::Normalization norm;
  if (!config.at("train").value("hdf5_normalize_obs", false)) return norm;
  const nlohmann::json& s = c.obs_normalization_stats;
  if (!s.is_object())
    throw IoError(path +
                  ": the config sets train.hdf5_normalize_obs but the file has no "
                  "obs_normalization_stats");
  auto flat = [&](const nlohmann::json& v, const std::string& where) {
    std::vector<double> out;
    std::vector<const nlohmann::json*> todo{&v};
    while (!todo.empty()) {  // depth-first, in order
      const nlohmann::json* x = todo.back();
      todo.pop_back();
      if (x->is_array())
        for (auto it = x->rbegin(); it != x->rend(); ++it) todo.push_back(&*it);
      else if (x->is_number())
        out.push_back(x->get<double>());
      else
        throw IoError(where + " holds " + std::string(x->type_name()) + ", expected numbers");
    }
    return out;
  };
  for (const std::string& key : meta.low_dim_keys()) {
    const std::string at = path + ": obs_normalization_stats." + key;
    if (!s.contains(key) || !s[key].contains("mean") || !s[key].contains("std"))
      throw IoError(at + " needs 'mean' and 'std'");
    const std::vector<double> mean = flat(s[key]["mean"], at + ".mean");
    const std::vector<double> std = flat(s[key]["std"], at + ".std");
    if (int64_t(mean.size()) != meta.key_size(key) || std.size() != mean.size())
      throw IoError(at + ": mean and std need " + std::to_string(meta.key_size(key)) +
                    " values each, got " + std::to_string(mean.size()) + " and " +
                    std::to_string(std.size()));
    for (double v : std)
      if (!(v > 0) || !std::isfinite(v))
        throw IoError(at + ".std holds " + std::to_string(v) + ", expected positive values");
    norm.obs.offset.insert(norm.obs.offset.end(), mean.begin(), mean.end());
    norm.obs.scale.insert(norm.obs.scale.end(), std.begin(), std.end());
  }
  return norm;
}

inline ImportedPolicy import_robomimic_policy(const std::string& path,
                                              const policy::AlgorithmRegistry& registry) {
  const RobomimicCheckpoint c = read_robomimic_checkpoint(path);
  if (!registry.has_algo_name(c.algo_name))
    throw UnsupportedError(path + ": robomimic algorithm '" + c.algo_name +
                           "' has no counterpart in mimic yet");
  if (registry.variants(c.algo_name).front()->uses_transitions)
    throw UnsupportedError(path + ": importing robomimic '" + c.algo_name +
                           "' checkpoints (several networks: offline RL, GL, HBC, IRIS) is not "
                           "supported yet");
  ImportedPolicy out;
  out.config =
      policy::naming_checkpoint(path, [&] { return config::load_config(c.config, registry); });
  const nlohmann::json& gaussian = out.config.at("algo").value("gaussian", nlohmann::json());
  if (gaussian.is_object() && gaussian.value("enabled", false))
    throw UnsupportedError(path +
                           ": the policy has robomimic's Gaussian head (algo.gaussian.enabled); "
                           "mimic's Gaussian head is a one-mode mixture whose scale is softplus "
                           "+ min_std, robomimic's a softplus scaled to init_std and clamped, so "
                           "it is not imported");
  if (out.config.at("algo_name") != c.algo_name)
    throw IoError(path + ": algo_name '" + c.algo_name + "' disagrees with its config's " +
                  out.config.at("algo_name").dump());
  const policy::ShapeMeta meta = robomimic_shape_meta(c, out.config, path);
  const policy::Normalization norm = robomimic_normalization(c, meta, out.config, path);
  out.schedule_units = imported_schedule_units(out.config);
  const uint64_t seed = out.config.at("train").value("seed", uint64_t(1));
  const policy::AlgorithmSpec& spec = registry.of(out.config);
  out.policy = policy::naming_checkpoint(path, [&] {
    return spec.build<float, Cpu>(
        policy::BuildArgs{out.config, meta, norm, seed, out.schedule_units});
  });
  // Rename; aliases robomimic shares between modules must hold the same values.
  std::map<std::string, Tensor<float>> weights;
  std::map<std::string, std::string> source;  // mimic name -> robomimic name
  for (const auto& [name, t] : c.model) {
    const std::string mine = mimic_name_of_robomimic(name, path);
    if (mine.empty()) continue;
    if (source.count(mine))
      throw IoError(path + ": tensors '" + source[mine] + "' and '" + name +
                    "' both map to mimic's '" + mine + "'");
    source[mine] = name;
    weights.emplace(mine, t);
  }
  expect_weights_match(weights, *out.policy, path, "the checkpoint", [&](const std::string& mine) {
    return "'" + source.at(mine) + "' (mimic name '" + mine + "')";
  });
  for (const auto& [name, t] : c.model) {  // robomimic's RNN per-step alias of its decoder
    const std::string alias = "policy.nets.rnn.per_step_net.";
    if (name.rfind(alias, 0) != 0) continue;
    const std::string original = "policy.nets.decoder." + name.substr(alias.size());
    auto it = std::find_if(c.model.begin(), c.model.end(),
                           [&](const auto& e) { return e.first == original; });
    if (it == c.model.end() || it->second.shape() != t.shape() ||
        !std::equal(t.data(), t.data() + t.numel(), it->second.data()))
      throw IoError(path + ": '" + name + "' should equal '" + original +
                    "' (robomimic shares the module)");
  }
  policy::naming_checkpoint(path, [&] {
    out.policy->load_weights(weights);
    return 0;
  });
  out.env_args = c.env_metadata;
  out.tensors = c.model.size();
  return out;
}

}  // namespace mimic::interop
