#pragma once
// One spec per algorithm, as robomimic's register_algo_factory_func plus its per-algorithm config
// class: the config's algo_name (and which variant of it a config selects), the default config,
// mimic's extension keys, validation, the sequence window it samples, its normalization rule,
// its published configs and how to build the policy. An AlgorithmRegistry is a plain object
// (no global state): config loading, the trainer, statistics, checkpoints and generate-configs
// ask the registry they are given.
#include <algorithm>
#include <any>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <vector>

#include "mimic/core/device.hpp"
#include "mimic/core/error.hpp"

namespace mimic::policy {

template <class T, class D>
class Policy;
class AnyPolicy;
struct ShapeMeta;
struct Normalization;

// Statistics a policy is trained with (train/statistics.hpp computes them).
enum class NormalizationRule {
  kRobomimic,  // robomimic: observations by mean/std when train.hdf5_normalize_obs, actions as
               // stored
  kLimits,     // Diffusion Policy: observations and actions by their limits into [-1, 1]
};

// What a policy is built from: the merged config, shapes, statistics, seed and schedule length.
struct BuildArgs {
  const nlohmann::json& config;
  const ShapeMeta& meta;
  const Normalization& norm;
  uint64_t seed;
  int64_t schedule_units;  // length of the learning-rate schedule in its own units
};

// A ready-to-run config with published settings, named by its file stem.
struct PublishedConfig {
  std::string name;  // e.g. "bc_rnn_lift_low_dim"
  nlohmann::json config;
};

template <class T, class D>
using PolicyBuilder = std::function<std::unique_ptr<Policy<T, D>>(const BuildArgs&)>;
template <class T, class D>
using PolicyBuilderFn = std::unique_ptr<Policy<T, D>> (*)(const BuildArgs&);

struct AlgorithmSpec {
  std::string name;       // unique and stored in checkpoints: "bc_rnn"
  std::string algo_name;  // the config's algo_name: "bc"
  // Variants of one algo_name: whether a merged config asks for this one (null: always).
  std::function<bool(const nlohmann::json& config)> selects;
  // The whole default config of algo_name (every section). Variants of one algo_name share it:
  // the first spec registered for an algo_name must give it.
  std::function<nlohmann::json()> defaults;
  // Dotted key paths the robomimic schema for this algo_name lacks (mimic's additions, and for
  // algorithms robomimic 0.3.0 has, the keys v0.5 added: config::shared_extension_keys()):
  // written to configs only when they differ from the default, so what mimic writes loads in
  // robomimic.
  std::vector<std::string> extension_keys;
  // Checks the algorithm's settings in a merged config; errors name the key.
  std::function<void(const nlohmann::json& config)> validate;
  // Steps each sampled window must hold (frame_stack - 1 + seq_length >= this); null: any.
  std::function<int64_t(const nlohmann::json& config)> window_steps;
  NormalizationRule normalization = NormalizationRule::kRobomimic;
  // Trains on transitions (offline RL): batches carry rewards, dones and next observations.
  bool uses_transitions = false;
  // Acts in an environment (GL only predicts subgoals: the trainer skips its rollouts).
  bool acts = true;
  // Published settings per task and observation type (for generate-configs); null: none.
  std::function<std::vector<PublishedConfig>(const std::string& dataset_dir)> published;

  // A float builder is also kept type-erased under the device's name, so code compiled without
  // that device's backend (the trainer, the CLI) can build on it (policy/core/placement.hpp).
  template <class T, class D>
  void set_builder(PolicyBuilder<T, D> b) {
    if constexpr (std::is_same_v<T, float>)
      device_builders_[std::string(D::name)] = [b](const BuildArgs& a) {
        return std::unique_ptr<AnyPolicy>(b(a));
      };
    builders_[std::type_index(typeid(PolicyBuilder<T, D>))] = std::move(b);
  }
  bool builds_on(std::string_view device) const {
    return device_builders_.count(std::string(device)) > 0;
  }
  std::unique_ptr<AnyPolicy> build_on(std::string_view device, const BuildArgs& args) const {
    auto it = device_builders_.find(std::string(device));
    if (it == device_builders_.end())
      throw UnsupportedError("algorithm '" + name + "' has no float builder on device '" +
                             std::string(device) + "'");
    return it->second(args);
  }
  template <class T, class D>
  bool builds() const {
    return builders_.count(std::type_index(typeid(PolicyBuilder<T, D>))) > 0;
  }
  template <class T, class D>
  std::unique_ptr<Policy<T, D>> build(const BuildArgs& args) const {
    auto it = builders_.find(std::type_index(typeid(PolicyBuilder<T, D>)));
    if (it == builders_.end())
      throw UnsupportedError("algorithm '" + name +
                             "' is not built for this scalar type and device");
    return std::any_cast<const PolicyBuilder<T, D>&>(it->second)(args);
  }

 private:
  std::map<std::type_index, std::any> builders_;
  std::map<std::string, std::function<std::unique_ptr<AnyPolicy>(const BuildArgs&)>, std::less<>>
      device_builders_;
};

class AlgorithmRegistry {
 public:
  // Adds a spec; its name must be new, and the first spec of an algo_name must give defaults.
  void add(AlgorithmSpec spec) {
    if (spec.name.empty() || spec.algo_name.empty())
      throw ValueError("algorithm registry: a spec needs a name and an algo_name");
    if (find(spec.name))
      throw ValueError("algorithm registry: '" + spec.name + "' is already registered");
    if (!has_algo_name(spec.algo_name) && !spec.defaults)
      throw ValueError("algorithm registry: '" + spec.name + "' is the first spec of algo_name '" +
                       spec.algo_name + "' and must give its defaults");
    specs_.push_back(std::move(spec));
  }

  // Gives the registered spec `name` one more builder (another scalar type or device).
  template <class T, class D>
  void set_builder(const std::string& name, PolicyBuilder<T, D> b) {
    for (auto& s : specs_)
      if (s.name == name) return s.template set_builder<T, D>(std::move(b));
    throw ValueError("algorithm registry: '" + name +
                     "' is not registered (registered: " + list(false) + ")");
  }

  const AlgorithmSpec* find(const std::string& name) const {
    for (const auto& s : specs_)
      if (s.name == name) return &s;
    return nullptr;
  }
  const AlgorithmSpec& at(const std::string& name) const {
    if (const AlgorithmSpec* s = find(name)) return *s;
    throw ValueError("algorithm '" + name + "' is not registered (registered: " + list(false) +
                     ")");
  }
  bool has_algo_name(const std::string& algo_name) const {
    return std::any_of(specs_.begin(), specs_.end(),
                       [&](const AlgorithmSpec& s) { return s.algo_name == algo_name; });
  }
  // The default config of an algo_name (from its first spec).
  nlohmann::json defaults(const std::string& algo_name) const {
    for (const auto& s : specs_)
      if (s.algo_name == algo_name) return s.defaults();
    throw ValueError("algo_name: '" + algo_name + "' has no defaults (expected " + list(true) +
                     ")");
  }
  // Every spec of the config's algo_name, in registration order.
  std::vector<const AlgorithmSpec*> variants(const std::string& algo_name) const {
    std::vector<const AlgorithmSpec*> out;
    for (const auto& s : specs_)
      if (s.algo_name == algo_name) out.push_back(&s);
    return out;
  }
  // The spec a merged config selects: the first variant of its algo_name whose `selects` holds.
  const AlgorithmSpec& of(const nlohmann::json& config) const {
    const std::string algo_name = config.at("algo_name").get<std::string>();
    for (const AlgorithmSpec* s : variants(algo_name))
      if (!s->selects || s->selects(config)) return *s;
    throw ValueError("algo_name: '" + algo_name + "' is not supported (expected " + list(true) +
                     ")");
  }
  const std::vector<AlgorithmSpec>& specs() const { return specs_; }

 private:
  std::string list(bool algo_names) const {
    std::vector<std::string> names;
    for (const auto& s : specs_) {
      const std::string& n = algo_names ? s.algo_name : s.name;
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
    std::string out;
    for (size_t i = 0; i < names.size(); ++i)
      out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    return out;
  }
  std::vector<AlgorithmSpec> specs_;
};

}  // namespace mimic::policy
