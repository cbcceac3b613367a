#pragma once
// A mimic checkpoint as a robomimic 0.3.0 checkpoint (.pth): what TrainUtils.save_model writes,
// so that FileUtils.policy_from_checkpoint loads it (strictly: every tensor of robomimic's state
// dict, including the RNN's per-step alias of its decoder and the GPT blocks' causal-mask
// buffers, and for an image policy each VisualCore's second listing of its modules, its spatial
// softmax's coordinate grid and BatchNorm's batch counters) and its RolloutPolicy computes
// mimic's actions. The config is robomimic's view of the merged config; a setting robomimic 0.3.0
// lacks is refused by name rather than dropped.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mimic/interop/robomimic_checkpoint.hpp"
#include "mimic/interop/visual_core_names.hpp"
#include "mimic/io/pickle_writer.hpp"
#include "mimic/io/zip_writer.hpp"

namespace mimic::interop {

// mimic's state-dict name -> robomimic's (the inverse of mimic_name_of_robomimic).
inline std::string robomimic_name_of_mimic(const std::string& n) {
  auto starts = [&](const std::string& p) { return n.rfind(p, 0) == 0; };
  if (n == "actor.embed_timestep") return "policy.params.embed_timestep";
  const std::string blocks = "actor.transformer.blocks.";
  if (starts(blocks)) {
    const size_t dot = n.find('.', blocks.size());
    if (dot != std::string::npos) {
      std::string part = n.substr(dot + 1);
      if (part.rfind("attention.", 0) == 0) part = "attention.nets." + part.substr(10);
      return "policy.nets.transformer.nets.transformer." +
             n.substr(blocks.size(), dot - blocks.size()) + ".nets." + part;
    }
  }
  for (const auto& [theirs, mine] : robomimic_prefixes())
    if (starts(mine)) return "policy." + theirs + n.substr(mine.size());
  throw UnsupportedError("mimic weight '" + n + "' has no robomimic 0.3.0 counterpart");
}

// The crop an exported policy's encoder applies (robomimic's CropRandomizer settings).
struct EncoderSettingsView {
  bool crop = false;
  int64_t crop_height = 0, crop_width = 0;
};
inline EncoderSettingsView encoder_settings_view(const nlohmann::json& config,
                                                 const std::string& where) {
  EncoderSettingsView v;
  const nlohmann::json& rgb = config.at("observation").at("encoder").at("rgb");
  v.crop = rgb.value("obs_randomizer_class", nlohmann::json()) == "CropRandomizer";
  if (v.crop) {
    const nlohmann::json& r = rgb.at("obs_randomizer_kwargs");
    v.crop_height = r.value("crop_height", int64_t(76));
    v.crop_width = r.value("crop_width", int64_t(76));
    if (r.value("num_crops", int64_t(1)) != 1)
      throw UnsupportedError(where + ": exporting more than one crop per image is not supported");
  }
  return v;
}

// The camera key of an encoder weight ("encoder.<rgb key>.<rest>"), if it is one.
inline std::optional<std::string> encoder_camera(const policy::ShapeMeta& meta,
                                                 const std::string& name) {
  for (const std::string& k : meta.rgb_keys)
    if (name.rfind("encoder." + k + ".", 0) == 0) return k;
  return std::nullopt;
}

// A side of ResNet18's last feature map: conv1 and max pooling halve it, then layer2..4 (each
// a 3x3 stride-2 convolution with padding 1): ceil(side / 32) for robomimic's sizes.
inline int64_t resnet18_feature_size(int64_t side) {
  for (int i = 0; i < 5; ++i) side = (side - 1) / 2 + 1;
  return side;
}

// numpy.linspace(start, stop, n)[i]: i * step + start, the last value stop itself.
inline double numpy_linspace(double start, double stop, int64_t n, int64_t i) {
  if (n > 1 && i == n - 1) return stop;
  return n > 1 ? double(i) * ((stop - start) / double(n - 1)) + start : start;
}

struct RobomimicExport {
  std::string algorithm;  // mimic's spec
  size_t tensors = 0;     // entries of robomimic's state dict
};

inline RobomimicExport export_robomimic_checkpoint(const std::string& in, const std::string& out,
                                                   const policy::AlgorithmRegistry& registry) {
  using json = nlohmann::json;
  const policy::Checkpoint ck = policy::load_checkpoint(in);
  const policy::CheckpointRecipe recipe = policy::checkpoint_recipe(ck, in, registry);
  const policy::AlgorithmSpec& spec = registry.of(recipe.config);
  const json& algo = recipe.config.at("algo");
  if (spec.name != "bc" && spec.name != "bc_rnn" && spec.name != "bc_transformer")
    throw UnsupportedError(in + ": exporting '" + spec.name +
                           "' policies to robomimic is not supported (bc, bc_rnn and "
                           "bc_transformer are)");
  if (algo.at("gaussian").at("enabled").get<bool>())
    throw UnsupportedError(in + ": exporting the Gaussian head to robomimic is not supported");
  const EncoderSettingsView encoder = encoder_settings_view(recipe.config, in);
  if (spec.name == "bc_rnn" && !algo.at("actor_layer_dims").empty())
    throw UnsupportedError(in +
                           ": exporting BC-RNN with algo.actor_layer_dims (a per-step MLP) "
                           "to robomimic is not supported");
  // robomimic's config: mimic's additions must be at their defaults (absent from the view).
  const json view = config::robomimic_view(recipe.config, registry);
  for (const std::string& key : spec.extension_keys)
    if (view.contains(config::pointer_of(key)))
      throw UnsupportedError(in + ": the config sets '" + key + "' (" +
                             view.at(config::pointer_of(key)).dump() +
                             "), which robomimic 0.3.0 does not have");
  // Rebuilding the policy checks the checkpoint and gives its weight names.
  const auto policy = policy::policy_from_checkpoint<float, Cpu>(ck, in, registry);

  // The state dict: robomimic name -> (storage key, tensor).
  struct Entry {
    std::string key;
    Tensor<float> value;
  };
  std::vector<std::pair<std::string, Entry>> state;
  std::vector<std::pair<std::string, Tensor<float>>> storages;
  auto add_storage = [&](const Tensor<float>& t) {
    storages.emplace_back(std::to_string(storages.size()), t);
    return storages.back().first;
  };
  const policy::ShapeMeta& meta = recipe.meta;
  for (const std::string& name : policy->weight_names()) {
    auto it = ck.tensors.find(name);
    if (it == ck.tensors.end()) throw IoError(in + ": checkpoint has no tensor '" + name + "'");
    const std::string key = add_storage(it->second);
    // Image encoders: robomimic's VisualCore lists each module twice; BatchNorm also counts its
    // batches (unused with robomimic's momentum 0.1: written as 0).
    if (const auto camera = encoder_camera(meta, name)) {
      const std::string head = "policy.nets.encoder.nets.obs.obs_nets." + *camera + ".";
      const std::string mine = name.substr(8 + camera->size() + 1);  // below encoder.<key>.
      const std::vector<std::string> theirs = robomimic_visual_core_names(mine);
      if (theirs.empty())
        throw UnsupportedError(in + ": mimic weight '" + name +
                               "' has no robomimic 0.3.0 counterpart");
      for (const std::string& t : theirs) state.push_back({head + t, {key, it->second}});
      const std::string running = ".running_mean";
      if (mine.size() > running.size() &&
          mine.compare(mine.size() - running.size(), running.size(), running) == 0) {
        const Tensor<float> zero = Tensor<float>::zeros(Shape{});
        const std::string count = add_storage(zero);
        for (const std::string& t : theirs)
          state.push_back({head + t.substr(0, t.size() - running.size()) + ".num_batches_tracked",
                           {count, zero}});
      }
      continue;
    }
    const std::string theirs = robomimic_name_of_mimic(name);
    state.push_back({theirs, {key, it->second}});
    const std::string decoder = "policy.nets.decoder.";
    if (spec.name == "bc_rnn" && theirs.rfind(decoder, 0) == 0)  // the shared per-step module
      state.push_back(
          {"policy.nets.rnn.per_step_net." + theirs.substr(decoder.size()), {key, it->second}});
  }
  if (spec.name == "bc_transformer") {  // each block's causal mask buffer, [1, 1, T, T]
    const int64_t t = algo.at("transformer").at("context_length").get<int64_t>();
    auto mask = Tensor<float>::empty({1, 1, t, t});
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < t; ++j) mask[i * t + j] = j <= i ? 1.0f : 0.0f;
    const std::string key = add_storage(mask);
    for (int64_t b = 0; b < algo.at("transformer").at("num_layers").get<int64_t>(); ++b)
      state.push_back(
          {"policy.nets.transformer.nets.transformer." + std::to_string(b) + ".nets.attention.mask",
           {key, mask}});
  }

  // The spatial softmax's fixed coordinate grid per camera, as numpy's linspace makes it.
  for (const std::string& camera : meta.rgb_keys) {
    const auto& shape = meta.obs_shapes.at(camera);
    const int64_t h = resnet18_feature_size(encoder.crop ? encoder.crop_height : shape[1]),
                  w = resnet18_feature_size(encoder.crop ? encoder.crop_width : shape[2]);
    auto pos_x = Tensor<float>::empty({1, h * w}), pos_y = Tensor<float>::empty({1, h * w});
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        pos_x[i * w + j] = float(numpy_linspace(-1.0, 1.0, w, j));
        pos_y[i * w + j] = float(numpy_linspace(-1.0, 1.0, h, i));
      }
    const std::string head = "policy.nets.encoder.nets.obs.obs_nets." + camera + ".";
    const std::string kx = add_storage(pos_x), ky = add_storage(pos_y);
    for (const char* pool : {"pool.", "nets.1."}) {
      state.push_back({head + pool + "pos_x", {kx, pos_x}});
      state.push_back({head + pool + "pos_y", {ky, pos_y}});
    }
  }

  // Shapes, statistics and environment as save_model stores them.
  json shapes = json::object(), keys = json::array();
  for (const std::string& k : meta.keys()) {
    shapes[k] = meta.obs_shapes.at(k);
    keys.push_back(k);
  }
  json top = {{"config", view.dump(4)},
              {"algo_name", recipe.config.at("algo_name")},
              {"shape_metadata",
               {{"ac_dim", meta.action_dim},
                {"all_shapes", shapes},
                {"all_obs_keys", keys},
                {"use_images", !meta.rgb_keys.empty()}}}};
  top["env_metadata"] = ck.meta.contains("trainer")
                            ? ck.meta["trainer"].value("env_args", json::object())
                            : json::object();
  if (recipe.config.at("train").value("hdf5_normalize_obs", false)) {
    if (recipe.norm.obs.offset.size() != size_t(meta.low_dim_dim()))
      throw IoError(in + ": the config normalizes observations but the checkpoint holds " +
                    std::to_string(recipe.norm.obs.offset.size()) + " statistics for " +
                    std::to_string(meta.low_dim_dim()) + " low-dim values");
    json stats = json::object();
    size_t at = 0;
    for (const std::string& k : meta.low_dim_keys()) {
      const size_t n = size_t(meta.key_size(k));
      const std::vector<double> mean(recipe.norm.obs.offset.begin() + std::ptrdiff_t(at),
                                     recipe.norm.obs.offset.begin() + std::ptrdiff_t(at + n));
      const std::vector<double> std(recipe.norm.obs.scale.begin() + std::ptrdiff_t(at),
                                    recipe.norm.obs.scale.begin() + std::ptrdiff_t(at + n));
      stats[k] = {{"mean", json::array({mean})}, {"std", json::array({std})}};
      at += n;
    }
    top["obs_normalization_stats"] = stats;
  }

  io::PickleWriter p;
  p.empty_dict();
  p.mark();
  for (const auto& [k, v] : top.items()) {
    p.text(k);
    p.json(v);
  }
  p.text("model");
  p.ordered_dict();
  p.mark();
  for (const auto& [name, e] : state) {
    p.text(name);
    const Shape s = e.value.shape();
    p.float_tensor(e.key, std::vector<int64_t>(s.dims, s.dims + s.rank));
  }
  p.set_items();
  p.set_items();
  const std::string pickle = p.finish();

  io::ZipWriter zip(out);
  const std::string dir = "archive/";
  zip.add(dir + "data.pkl", pickle);
  zip.add(dir + ".format_version", "1");
  zip.add(dir + ".storage_alignment", "64");
  zip.add(dir + "byteorder", "little");
  for (const auto& [key, t] : storages)
    zip.add(dir + "data/" + key, t.data(), size_t(t.numel()) * sizeof(float));
  zip.add(dir + "version", "3\n");
  zip.finish();
  return {spec.name, state.size()};
}

}  // namespace mimic::interop
