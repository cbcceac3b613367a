#pragma once
// Diffusion Policy workspace checkpoints (.ckpt, as BaseWorkspace.save_checkpoint writes them: a
// torch.save with dill of {cfg: the resolved OmegaConf config, state_dicts: {model, ema_model,
// optimizer, ...}, pickles: {...}}) turned into mimic policies. The OmegaConf objects are read as
// data (their `_content` and `_val` fields), never constructed; the config's policy section gives
// the horizons, the UNet and the noise scheduler; DP's LinearNormalizer (y = x * scale + offset)
// becomes mimic's affine statistics ((x - offset') / scale'); the UNet's tensors keep their names
// (mimic's Diffusion Policy names them as DP does). The EMA weights serve inference when the
// config's training.use_ema is set, as DP's evaluation uses ema_model.
//
// Imported today: the low-dim UNet policy (DiffusionUnetLowdimPolicy with obs_as_global_cond,
// DDPM or DDIM). Image policies, local or inpainted conditioning, pred_action_steps_only and the
// transformer denoiser are refused by name.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mimic/interop/condition_columns.hpp"
#include "mimic/interop/robomimic_checkpoint.hpp"
#include "mimic/interop/visual_core_names.hpp"
#include "mimic/io/torch_file.hpp"

namespace mimic::interop {

// The globals a Diffusion Policy checkpoint names besides torch's: OmegaConf's containers,
// nodes and metadata, dill's type loader, typing.Any and the codec torch uses for bytes. They are
// recorded as calls, never run.
inline std::vector<std::string> diffusion_policy_allowed_globals() {
  std::vector<std::string> g = io::torch_allowed_globals();
  for (const char* s :
       {"omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig",
        "omegaconf.base.ContainerMetadata", "omegaconf.base.Metadata", "omegaconf.nodes.AnyNode",
        "omegaconf.nodes.StringNode", "omegaconf.nodes.IntegerNode", "omegaconf.nodes.FloatNode",
        "omegaconf.nodes.BooleanNode", "omegaconf.nodes.BytesNode", "omegaconf.nodes.PathNode",
        "typing.Any", "dill._dill._load_type", "collections.defaultdict", "_codecs.encode",
        "pathlib.PosixPath"})
    g.push_back(s);
  return g;
}

// An OmegaConf container or node as plain JSON: DictConfig and ListConfig by their `_content`,
// value nodes by their `_val`; parents and metadata are not followed.
inline nlohmann::json omegaconf_to_json(const io::PickleValue& v, const std::string& where,
                                        int depth = 0) {
  using Kind = io::PickleValue::Kind;
  if (depth > 64) throw IoError(where + ": nested more than 64 levels deep");
  if (!v.is(Kind::kCall)) return io::pickle_to_json(v, where, depth);
  const bool container =
      v.text == "omegaconf.dictconfig.DictConfig" || v.text == "omegaconf.listconfig.ListConfig";
  const bool node = v.text.rfind("omegaconf.nodes.", 0) == 0;
  if (!container && !node)
    throw IoError(where + " is " + v.describe() + ", expected OmegaConf data");
  if (!v.state || !v.state->is(Kind::kDict))
    throw IoError(where + ": " + v.text + " without its state");
  const io::PickleValue* x = v.state->get(container ? "_content" : "_val");
  if (!x) throw IoError(where + ": " + v.text + " has no " + (container ? "_content" : "_val"));
  if (x->is(Kind::kString) && x->text.find("${") != std::string::npos)
    throw IoError(where + " is the unresolved interpolation '" + x->text +
                  "' (DP's train.py resolves the config before saving it)");
  if (x->is(Kind::kDict)) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [k, e] : x->entries) {
      if (!k->is(Kind::kString)) throw IoError(where + ": a key is " + k->describe());
      o[k->text] = omegaconf_to_json(*e, where + "." + k->text, depth + 1);
    }
    return o;
  }
  if (x->is_sequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (size_t i = 0; i < x->items.size(); ++i)
      a.push_back(
          omegaconf_to_json(*x->items[i], where + "[" + std::to_string(i) + "]", depth + 1));
    return a;
  }
  return io::pickle_to_json(*x, where, depth + 1);
}

struct DiffusionPolicyCheckpoint {
  nlohmann::json cfg;                                                   // the resolved config
  std::vector<std::pair<std::string, Tensor<float>>> model, ema_model;  // ema_model may be empty
  // cfg.policy.shape_meta.obs's keys in the config's order (the JSON above sorts them), which is
  // the order a hybrid image policy's encoder concatenates their features in; empty without one.
  std::vector<std::string> obs_key_order;
};

// The keys of the OmegaConf mapping at `path` (from the config's root) in their stored order;
// empty when the path does not lead to a mapping.
inline std::vector<std::string> omegaconf_keys_at(const io::PickleValue& root,
                                                  const std::vector<std::string>& path) {
  using Kind = io::PickleValue::Kind;
  auto content = [](const io::PickleValue* v) -> const io::PickleValue* {
    if (!v || !v->is(Kind::kCall) || !v->state || !v->state->is(Kind::kDict)) return nullptr;
    const io::PickleValue* c = v->state->get("_content");
    return c && c->is(Kind::kDict) ? c : nullptr;
  };
  const io::PickleValue* at = content(&root);
  for (const std::string& k : path) at = at ? content(at->get(k)) : nullptr;
  std::vector<std::string> keys;
  if (at)
    for (const auto& [k, v] : at->entries)
      if (k->is(Kind::kString)) keys.push_back(k->text);
  return keys;
}

inline DiffusionPolicyCheckpoint read_diffusion_policy_checkpoint(const std::string& path) {
  io::TorchFile file(path, diffusion_policy_allowed_globals());
  const io::PickleValue& root = file.root();
  if (!root.is(io::PickleValue::Kind::kDict))
    throw IoError(path + ": holds " + root.describe() +
                  ", expected Diffusion Policy's checkpoint dict {cfg, state_dicts, pickles}");
  const io::PickleValue* cfg = root.get("cfg");
  const io::PickleValue* dicts = root.get("state_dicts");
  if (!cfg || !dicts || !dicts->is(io::PickleValue::Kind::kDict))
    throw IoError(path +
                  ": no 'cfg' and 'state_dicts' entries (not a Diffusion Policy workspace "
                  "checkpoint? BaseWorkspace.save_checkpoint writes cfg, state_dicts, pickles)");
  DiffusionPolicyCheckpoint c;
  c.cfg = omegaconf_to_json(*cfg, path + ": cfg");
  if (!c.cfg.is_object()) throw IoError(path + ": cfg is not a mapping");
  auto tensors = [&](const char* key, bool required) {
    std::vector<std::pair<std::string, Tensor<float>>> out;
    const io::PickleValue* sd = dicts->get(key);
    if (!sd) {
      if (required) throw IoError(path + ": state_dicts has no '" + std::string(key) + "'");
      return out;
    }
    if (!sd->is(io::PickleValue::Kind::kDict))
      throw IoError(path + ": state_dicts." + key + " is " + sd->describe());
    for (const auto& [k, v] : sd->entries) {
      if (!k->is(io::PickleValue::Kind::kString))
        throw IoError(path + ": a state_dicts." + key + " key is " + k->describe());
      out.emplace_back(k->text, file.tensor(*v, std::string(key) + "." + k->text));
    }
    return out;
  };
  c.model = tensors("model", true);
  c.ema_model = tensors("ema_model", false);
  c.obs_key_order = omegaconf_keys_at(*cfg, {"policy", "shape_meta", "obs"});
  return c;
}

namespace detail {

// cfg[a][b]... with the path in errors.
inline const nlohmann::json& dp_at(const nlohmann::json& j, const std::string& path,
                                   const std::vector<std::string>& keys) {
  const nlohmann::json* x = &j;
  std::string at = "cfg";
  for (const std::string& k : keys) {
    at += "." + k;
    if (!x->is_object() || !x->contains(k))
      throw IoError(path + ": the config has no '" + at + "'");
    x = &(*x)[k];
  }
  return *x;
}
inline std::string dp_target(const nlohmann::json& section) {
  return section.is_object() ? section.value("_target_", std::string()) : std::string();
}

// DP's normalizer for `key` (params_dict.<key>.scale / offset, y = x * scale + offset) as mimic's
// statistics (y = (x - offset') / scale').
inline data::AffineStats dp_normalizer(const DiffusionPolicyCheckpoint& c, const std::string& key,
                                       int64_t dims, const std::string& path) {
  auto find = [&](const std::string& name) -> const Tensor<float>& {
    for (const auto& [n, t] : c.model)
      if (n == name) return t;
    throw IoError(path + ": state_dicts.model has no '" + name + "' (DP's LinearNormalizer)");
  };
  const std::string base = "normalizer.params_dict." + key + ".";
  const Tensor<float>& scale = find(base + "scale");
  const Tensor<float>& offset = find(base + "offset");
  if (scale.numel() != dims || offset.numel() != dims)
    throw IoError(path + ": " + base + "scale and offset have " + std::to_string(scale.numel()) +
                  " and " + std::to_string(offset.numel()) + " values, expected " +
                  std::to_string(dims));
  data::AffineStats s;
  for (int64_t d = 0; d < dims; ++d) {
    const double sc = scale[d], of = offset[d];
    if (!std::isfinite(sc) || !std::isfinite(of) || sc == 0.0)
      throw IoError(path + ": " + base + "scale[" + std::to_string(d) +
                    "] = " + std::to_string(sc) + ", offset = " + std::to_string(of) +
                    " (expected finite values and a nonzero scale)");
    s.scale.push_back(1.0 / sc);
    s.offset.push_back(-of / sc);
  }
  return s;
}

// mimic's name for a hybrid policy's encoder tensor (robomimic 0.2's VisualCore under
// obs_encoder.obs_nets.<key>), or none for the copies and fixed buffers mimic does not keep.
inline std::optional<std::string> dp_encoder_name(const std::string& name) {
  const std::string head = "obs_encoder.obs_nets.";
  if (name.rfind(head, 0) != 0) return std::string("unmapped." + name);
  const size_t key_end = name.find('.', head.size());
  if (key_end == std::string::npos) return std::string("unmapped." + name);
  const std::string key = name.substr(head.size(), key_end - head.size());
  const VisualCoreName v = visual_core_name(name.substr(key_end + 1));
  if (!v.keep) return std::nullopt;
  if (v.name.empty()) return std::string("unmapped." + name);
  return "encoder." + key + "." + v.name;
}

}  // namespace detail

// mimic's diffusion_policy config for a DP low-dim UNet workspace config; refuses what mimic's
// policy does not compute by name.
inline nlohmann::json diffusion_policy_config_from_dp(const nlohmann::json& cfg,
                                                      const std::string& path,
                                                      const policy::AlgorithmRegistry& registry) {
  using detail::dp_at;
  const nlohmann::json& pol = dp_at(cfg, path, {"policy"});
  const std::string target = detail::dp_target(pol);
  const bool hybrid = target.find("DiffusionUnetHybridImagePolicy") != std::string::npos;
  if (target.find("DiffusionUnetLowdimPolicy") == std::string::npos && !hybrid)
    throw UnsupportedError(path + ": cfg.policy._target_ is '" + target +
                           "'; importing it is not supported yet (mimic imports "
                           "DiffusionUnetLowdimPolicy and DiffusionUnetHybridImagePolicy)");
  auto flag = [&](const char* key, bool fallback) {
    return pol.contains(key) && !pol[key].is_null() ? pol[key].get<bool>() : fallback;
  };
  if (!flag("obs_as_global_cond", false) || flag("obs_as_local_cond", false))
    throw UnsupportedError(path +
                           ": cfg.policy.obs_as_global_cond must be true (mimic's UNet takes the "
                           "observations as global conditioning; inpainting and local "
                           "conditioning are not supported)");
  if (flag("pred_action_steps_only", false))
    throw UnsupportedError(path + ": cfg.policy.pred_action_steps_only is not supported");
  if (!hybrid && !flag("oa_step_convention", false))  // the hybrid policy always acts so
    throw UnsupportedError(path +
                           ": cfg.policy.oa_step_convention must be true (actions start at the "
                           "last observation step, as mimic executes them)");
  if (hybrid && !flag("obs_encoder_group_norm", false))
    throw UnsupportedError(path +
                           ": cfg.policy.obs_encoder_group_norm must be true (mimic's Diffusion "
                           "Policy encoder uses GroupNorm; BatchNorm statistics are not imported)");
  if (hybrid && pol.contains("crop_shape") && !pol["crop_shape"].is_null() &&
      !flag("eval_fixed_crop", false))
    throw UnsupportedError(path +
                           ": cfg.policy.eval_fixed_crop must be true (mimic evaluates with a "
                           "centre crop)");
  // The UNet's settings: the low-dim policy's model section, the hybrid policy's own keys.
  const std::vector<std::string> unet_at =
      hybrid ? std::vector<std::string>{"policy"} : std::vector<std::string>{"policy", "model"};
  if (!hybrid) {
    const nlohmann::json& model = dp_at(cfg, path, {"policy", "model"});
    if (detail::dp_target(model).find("ConditionalUnet1D") == std::string::npos)
      throw UnsupportedError(path + ": cfg.policy.model._target_ is '" + detail::dp_target(model) +
                             "', expected DP's ConditionalUnet1D");
  }
  const nlohmann::json& ns = dp_at(cfg, path, {"policy", "noise_scheduler"});
  const std::string sched = detail::dp_target(ns);
  const bool ddim = sched.find("DDIMScheduler") != std::string::npos;
  if (!ddim && sched.find("DDPMScheduler") == std::string::npos)
    throw UnsupportedError(path + ": cfg.policy.noise_scheduler._target_ is '" + sched +
                           "', expected diffusers' DDPMScheduler or DDIMScheduler");
  const std::string variance = ns.value("variance_type", std::string("fixed_small"));
  if (!ddim && variance != "fixed_small")
    throw UnsupportedError(path + ": cfg.policy.noise_scheduler.variance_type '" + variance +
                           "' is not supported (mimic's DDPM uses fixed_small, DP's setting)");
  const std::string schedule = ns.value("beta_schedule", std::string("linear"));
  expect_default_beta_range(schedule, ns.value("beta_start", 1e-4), ns.value("beta_end", 0.02),
                            path);

  nlohmann::json c = config::default_config("diffusion_policy", registry);
  c["experiment"]["name"] = cfg.value("name", std::string("diffusion_policy_import"));
  nlohmann::json& algo = c["algo"];
  algo["horizon"] = {{"observation_horizon", dp_at(cfg, path, {"policy", "n_obs_steps"})},
                     {"action_horizon", dp_at(cfg, path, {"policy", "n_action_steps"})},
                     {"prediction_horizon", dp_at(cfg, path, {"policy", "horizon"})}};
  for (const char* k :
       {"diffusion_step_embed_dim", "down_dims", "kernel_size", "n_groups", "cond_predict_scale"}) {
    std::vector<std::string> at = unet_at;
    at.push_back(k);
    algo["unet"][k] = dp_at(cfg, path, at);
  }
  DiffusersScheduler sched_cfg;
  sched_cfg.ddim = ddim;
  sched_cfg.train_steps = dp_at(cfg, path, {"policy", "noise_scheduler", "num_train_timesteps"});
  sched_cfg.inference_steps =
      pol.contains("num_inference_steps") && !pol["num_inference_steps"].is_null()
          ? pol["num_inference_steps"]
          : sched_cfg.train_steps;
  sched_cfg.beta_schedule = schedule;
  sched_cfg.clip_sample = ns.value("clip_sample", true);
  sched_cfg.prediction_type = ns.value("prediction_type", std::string("epsilon"));
  sched_cfg.set_alpha_to_one = ns.value("set_alpha_to_one", true);
  sched_cfg.steps_offset = ns.value("steps_offset", 0);
  sched_cfg.write_to(algo);
  const nlohmann::json training = cfg.value("training", nlohmann::json::object());
  algo["ema"]["enabled"] = training.value("use_ema", false);
  if (cfg.contains("ema") && cfg["ema"].is_object() && cfg["ema"].contains("power"))
    algo["ema"]["power"] = cfg["ema"]["power"];
  if (cfg.contains("optimizer") && cfg["optimizer"].is_object()) {
    const nlohmann::json& o = cfg["optimizer"];
    write_adam(algo, o.value("lr", nlohmann::json()), o.value("betas", nlohmann::json()),
               o.value("weight_decay", nlohmann::json()),
               training.value("lr_warmup_steps", nlohmann::json()));
  }
  c["train"]["seed"] = training.value("seed", 1);
  c["train"]["seq_length"] = algo["horizon"]["prediction_horizon"];
  c["train"]["frame_stack"] = algo["horizon"]["observation_horizon"];
  if (training.contains("num_epochs")) c["train"]["num_epochs"] = training["num_epochs"];
  if (cfg.contains("dataloader") && cfg["dataloader"].is_object() &&
      cfg["dataloader"].contains("batch_size"))
    c["train"]["batch_size"] = cfg["dataloader"]["batch_size"];
  if (!hybrid) {
    c["observation"]["modalities"]["obs"]["low_dim"] = {"obs"};
  } else {
    nlohmann::json low_dim = nlohmann::json::array(), rgb = nlohmann::json::array();
    for (const auto& [key, meta] : dp_at(cfg, path, {"policy", "shape_meta", "obs"}).items()) {
      const std::string type = meta.is_object() ? meta.value("type", std::string("low_dim")) : "";
      if (type != "low_dim" && type != "rgb")
        throw UnsupportedError(path + ": cfg.policy.shape_meta.obs." + key + " has type '" + type +
                               "' (expected low_dim or rgb)");
      (type == "rgb" ? rgb : low_dim).push_back(key);
    }
    c["observation"]["modalities"]["obs"]["low_dim"] = low_dim;
    c["observation"]["modalities"]["obs"]["rgb"] = rgb;
    // DP's encoder: robomimic's image VisualCore defaults (ResNet18, 32 keypoints, 64 features),
    // and its crop (random in training, centre at evaluation) when crop_shape is set.
    std::optional<std::pair<int64_t, int64_t>> crop_size;
    if (pol.contains("crop_shape") && !pol["crop_shape"].is_null()) {
      const nlohmann::json& crop = pol["crop_shape"];
      if (!crop.is_array() || crop.size() != 2 || !crop[0].is_number() || !crop[1].is_number())
        throw IoError(path + ": cfg.policy.crop_shape is " + crop.dump() + ", expected [h, w]");
      crop_size = {crop[0].get<int64_t>(), crop[1].get<int64_t>()};
    }
    write_visual_core(c["observation"]["encoder"]["rgb"], 32, 64, crop_size);
  }
  return policy::naming_checkpoint(path, [&] { return config::load_config(c, registry); });
}

// Where an imported policy acts, when the caller knows DP's task: the environment rollouts run in
// (its env_args) and the affine map from DP's action units to that environment's,
// a = scale * a_dp + offset per dimension (Push-T: pixels to [-1, 1]).
struct DiffusionPolicyTarget {
  nlohmann::json env_args;
  std::vector<double> action_scale, action_offset;
};
// The target for a checkpoint's resolved config, or none (actions stay in DP's units).
using DiffusionPolicyTargetFor =
    std::function<std::optional<DiffusionPolicyTarget>(const nlohmann::json& cfg)>;

// The policy a DP low-dim UNet checkpoint computes: observations "obs" [obs_dim] in DP's units;
// actions in DP's units, or in the target environment's when `target_for` names one.
inline ImportedPolicy import_diffusion_policy(const std::string& path,
                                              const policy::AlgorithmRegistry& registry,
                                              const DiffusionPolicyTargetFor& target_for = {}) {
  const DiffusionPolicyCheckpoint c = read_diffusion_policy_checkpoint(path);
  ImportedPolicy out;
  out.format = "diffusion_policy";
  out.config = diffusion_policy_config_from_dp(c.cfg, path, registry);
  const bool hybrid = !out.config["observation"]["modalities"]["obs"]["rgb"].empty();
  policy::ShapeMeta meta;
  policy::Normalization norm;
  meta.action_dim = hybrid
                        ? detail::dp_at(c.cfg, path, {"policy", "shape_meta", "action", "shape"})[0]
                              .get<int64_t>()
                        : detail::dp_at(c.cfg, path, {"policy", "action_dim"}).get<int64_t>();
  FeatureBlocks dp_layout;  // one step's features in DP's order (hybrid: its shape_meta's)
  if (!hybrid) {
    const int64_t obs_dim = detail::dp_at(c.cfg, path, {"policy", "obs_dim"}).get<int64_t>();
    meta.obs_shapes["obs"] = {obs_dim};
    norm.obs = detail::dp_normalizer(c, "obs", obs_dim, path);
  } else {
    const nlohmann::json& obs = detail::dp_at(c.cfg, path, {"policy", "shape_meta", "obs"});
    if (c.obs_key_order.size() != obs.size())
      throw IoError(path + ": cannot read the order of cfg.policy.shape_meta.obs");
    for (const std::string& key : c.obs_key_order) {
      const nlohmann::json& m = obs.at(key);
      if (!m.contains("shape") || !m["shape"].is_array())
        throw IoError(path + ": cfg.policy.shape_meta.obs." + key + " has no shape");
      const auto shape = m["shape"].get<std::vector<int64_t>>();
      meta.obs_shapes[key] = shape;
      const bool rgb = m.value("type", std::string("low_dim")) == "rgb";
      if (rgb) meta.rgb_keys.insert(key);
      dp_layout.emplace_back(key, rgb ? 64 : policy::shape_numel(shape));  // VisualCore: 64
    }
    // Low-dim statistics in the row's (sorted) order; images must use DP's range normalizer,
    // [0, 1] -> [-1, 1], which mimic's encoder applies itself.
    for (const std::string& key : meta.low_dim_keys()) {
      const data::AffineStats k = detail::dp_normalizer(c, key, meta.key_size(key), path);
      norm.obs.offset.insert(norm.obs.offset.end(), k.offset.begin(), k.offset.end());
      norm.obs.scale.insert(norm.obs.scale.end(), k.scale.begin(), k.scale.end());
    }
    for (const std::string& key : meta.rgb_keys) {
      const data::AffineStats k = detail::dp_normalizer(c, key, 1, path);
      if (k.scale[0] != 0.5 || k.offset[0] != 0.5)
        throw UnsupportedError(path + ": normalizer.params_dict." + key +
                               " is not DP's image range normalizer (scale 2, offset -1)");
    }
  }
  norm.action = detail::dp_normalizer(c, "action", meta.action_dim, path);
  if (target_for) {
    if (const std::optional<DiffusionPolicyTarget> t = target_for(c.cfg)) {
      fold_action_units(norm, t->action_scale, t->action_offset, path);
      out.env_args = t->env_args;
    }
  }
  out.schedule_units = imported_schedule_units(out.config);
  const uint64_t seed = out.config.at("train").value("seed", uint64_t(1));
  const policy::AlgorithmSpec& spec = registry.of(out.config);
  out.policy = policy::naming_checkpoint(path, [&] {
    return spec.build<float, Cpu>(
        policy::BuildArgs{out.config, meta, norm, seed, out.schedule_units});
  });
  // The UNet's tensors keep their names (their FiLM condition columns reordered to mimic's
  // sorted keys); the image encoder's take mimic's; the normalizer went into the statistics.
  const int64_t embed = out.config["algo"]["unet"]["diffusion_step_embed_dim"].get<int64_t>();
  const int64_t steps = out.config["algo"]["horizon"]["observation_horizon"].get<int64_t>();
  auto weights_of = [&](const std::vector<std::pair<std::string, Tensor<float>>>& sd,
                        const std::string& prefix) {
    std::map<std::string, Tensor<float>> w;
    for (const auto& [name, t] : sd) {
      if (name.rfind("normalizer.", 0) == 0 || name == "_dummy_variable" ||
          name == "mask_generator._dummy_variable")
        continue;
      if (hybrid && name.rfind("obs_encoder.", 0) == 0) {
        if (const std::optional<std::string> m = detail::dp_encoder_name(name)) w.emplace(*m, t);
        continue;
      }
      if (name.rfind("model.", 0) != 0)
        throw IoError(path + ": tensor '" + prefix + name +
                      "' has no counterpart in mimic's policy");
      const bool condition = name.find(".cond_encoder.1.weight") != std::string::npos;
      w.emplace(name, hybrid && condition ? permute_condition_columns(t, embed, steps, dp_layout,
                                                                      sorted_blocks(dp_layout),
                                                                      path + ": " + prefix + name)
                                          : t);
    }
    expect_weights_match(w, *out.policy, path, prefix,
                         [&](const std::string& name) { return "'" + prefix + name + "'"; });
    return w;
  };
  std::map<std::string, Tensor<float>> state = weights_of(c.model, "state_dicts.model.");
  const bool use_ema = out.config["algo"]["ema"].value("enabled", false);
  if (use_ema) {
    if (c.ema_model.empty())
      throw IoError(path + ": training.use_ema is set but state_dicts has no 'ema_model'");
    for (auto& [name, t] : weights_of(c.ema_model, "state_dicts.ema_model."))
      state.emplace("ema." + name, t);
  }
  policy::naming_checkpoint(path, [&] {
    out.policy->load_state(state, nlohmann::json::object());
    return 0;
  });
  out.tensors = c.model.size() + c.ema_model.size();
  return out;
}

}  // namespace mimic::interop
