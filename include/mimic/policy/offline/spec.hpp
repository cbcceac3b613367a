#pragma once
// The specs of robomimic's offline RL algo_names. They learn from transitions (rewards, dones,
// next observations), sample windows of n_step steps and keep robomimic's normalization rule.
// robomimic's paper configs (generate_paper_configs.py) cover BCQ and CQL, not IQL or TD3-BC;
// they are written for low-dim observations, the only kind these algorithms take here.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/defaults.hpp"
#include "mimic/config/tasks.hpp"
#include "mimic/policy/core/algorithm.hpp"
#include "mimic/policy/core/published.hpp"
#include "mimic/policy/offline/bcq.hpp"
#include "mimic/policy/offline/cql.hpp"
#include "mimic/policy/offline/defaults.hpp"
#include "mimic/policy/offline/iql.hpp"
#include "mimic/policy/offline/td3_bc.hpp"

namespace mimic::policy {

// Checks shared by the offline RL algorithms; errors name the key.
inline void validate_offline_rl(const nlohmann::json& c) {
  config::require(c["train"]["frame_stack"].get<int64_t>() == 1, "train.frame_stack",
                  "must be 1 for offline RL (robomimic's algorithms use the first frame only)",
                  c["train"]["frame_stack"]);
  config::require(c["train"]["goal_mode"].is_null(), "train.goal_mode",
                  "must be null: goal-conditioned offline RL is not supported yet",
                  c["train"]["goal_mode"]);
}

// An algorithm's paper settings for every task, low-dim observations, as robomimic's
// generate_paper_configs.py sets them for its proficient-human ("ph") datasets.
inline std::vector<PublishedConfig> low_dim_published(
    const std::function<nlohmann::json()>& defaults, const std::string& label,
    const std::string& dir, const std::function<void(nlohmann::json&)>& adjust) {
  std::vector<PublishedConfig> out;
  for (const std::string& task : config::published_tasks()) {
    nlohmann::json c = config::for_task(defaults(), label, task, "low_dim", dir);
    adjust(c);
    out.push_back({c["experiment"]["name"].get<std::string>(), c});
  }
  return out;
}

// robomimic's BCQ paper settings (modify_bcq_config_for_dataset, ph low-dim): learning rates
// 1e-4 (critic, sampler) and 1e-3 (actor, disabled), a VAE sampler with KL weight 0.05 and an
// N(0, 1) prior, 300-400 MLPs, tau 5e-4.
inline void bcq_published(nlohmann::json& c) {
  auto& a = c["algo"];
  a["optim_params"]["critic"]["learning_rate"]["initial"] = 1e-4;
  a["optim_params"]["action_sampler"]["learning_rate"]["initial"] = 1e-4;
  a["optim_params"]["actor"]["learning_rate"]["initial"] = 1e-3;
  a["actor"]["enabled"] = false;
  a["action_sampler"]["vae"]["enabled"] = true;
  a["action_sampler"]["gmm"]["enabled"] = false;
  a["action_sampler"]["vae"]["kl_weight"] = 0.05;
  a["action_sampler"]["vae"]["latent_dim"] = 14;
  a["action_sampler"]["vae"]["prior"]["learn"] = false;
  a["critic"]["layer_dims"] = {300, 400};
  a["action_sampler"]["vae"]["encoder_layer_dims"] = {300, 400};
  a["action_sampler"]["vae"]["decoder_layer_dims"] = {300, 400};
  a["actor"]["layer_dims"] = {300, 400};
  a["target_tau"] = 5e-4;
  a["discount"] = 0.99;
  a["critic"]["num_action_samples"] = 10;
  a["critic"]["num_action_samples_rollout"] = 100;
}

// robomimic's CQL paper settings (modify_cql_config_for_dataset, low-dim): batches of 1024,
// learning rates 1e-3 (critic) and 3e-4 (actor), default entropy target, deterministic backup,
// Lagrange threshold 5, tau 5e-3, 300-400 MLPs.
inline void cql_published(nlohmann::json& c) {
  c["train"]["batch_size"] = 1024;
  auto& a = c["algo"];
  a["optim_params"]["critic"]["learning_rate"]["initial"] = 1e-3;
  a["optim_params"]["actor"]["learning_rate"]["initial"] = 3e-4;
  a["actor"]["target_entropy"] = "default";
  a["critic"]["deterministic_backup"] = true;
  a["critic"]["target_q_gap"] = 5.0;
  a["critic"]["min_q_weight"] = 1.0;
  a["target_tau"] = 5e-3;
  a["discount"] = 0.99;
  a["critic"]["layer_dims"] = {300, 400};
  a["actor"]["layer_dims"] = {300, 400};
}

// The fields every offline RL spec shares: robomimic's name for both, its defaults, the shared
// extension keys, validation (the shared checks, then the algorithm's settings, whose errors name
// the key), robomimic's normalization rule, and transitions.
inline AlgorithmSpec offline_rl_spec(const std::string& name,
                                     const std::function<nlohmann::json()>& defaults,
                                     const std::function<void(const nlohmann::json&)>& settings) {
  AlgorithmSpec s;
  s.name = s.algo_name = name;
  s.defaults = defaults;
  s.extension_keys = config::shared_extension_keys();
  s.validate = [settings](const nlohmann::json& c) {
    validate_offline_rl(c);
    settings(c);
  };
  s.normalization = NormalizationRule::kRobomimic;
  s.uses_transitions = true;
  return s;
}

// Builds TD3-BC for any scalar type and device.
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_td3_bc(const BuildArgs& a) {
  return std::make_unique<Td3Bc<T, D>>(a.meta, a.norm, Td3BcSettings::from_config(a.config), a.seed,
                                       a.schedule_units);
}

inline AlgorithmSpec td3_bc_spec() {
  AlgorithmSpec s = offline_rl_spec("td3_bc", td3_bc_defaults,
                                    [](const nlohmann::json& c) { Td3BcSettings::from_config(c); });
  s.window_steps = [](const nlohmann::json& c) { return Td3BcSettings::from_config(c).n_step; };
  s.set_builder<float, Cpu>(build_td3_bc<float, Cpu>);
  return s;
}

// Builds IQL for any scalar type and device.
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_iql(const BuildArgs& a) {
  return std::make_unique<Iql<T, D>>(a.meta, a.norm, IqlSettings::from_config(a.config), a.seed,
                                     a.schedule_units);
}

inline AlgorithmSpec iql_spec() {
  AlgorithmSpec s = offline_rl_spec("iql", iql_defaults,
                                    [](const nlohmann::json& c) { IqlSettings::from_config(c); });
  s.set_builder<float, Cpu>(build_iql<float, Cpu>);
  return s;
}

// Builds BCQ for any scalar type and device.
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_bcq(const BuildArgs& a) {
  return std::make_unique<Bcq<T, D>>(a.meta, a.norm, BcqSettings::from_config(a.config), a.seed,
                                     a.schedule_units);
}

inline AlgorithmSpec bcq_spec() {
  AlgorithmSpec s = offline_rl_spec("bcq", bcq_defaults,
                                    [](const nlohmann::json& c) { BcqSettings::from_config(c); });
  s.window_steps = [](const nlohmann::json& c) { return BcqSettings::from_config(c).n_step; };
  s.published = [](const std::string& dir) {
    return low_dim_published(bcq_defaults, "bcq", dir, bcq_published);
  };
  s.set_builder<float, Cpu>(build_bcq<float, Cpu>);
  return s;
}

// Builds CQL for any scalar type and device.
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_cql(const BuildArgs& a) {
  return std::make_unique<Cql<T, D>>(a.meta, a.norm,
                                     CqlSettings::from_config(a.config, a.meta.action_dim), a.seed,
                                     a.schedule_units);
}

inline AlgorithmSpec cql_spec() {
  AlgorithmSpec s = offline_rl_spec(
      "cql", cql_defaults, [](const nlohmann::json& c) { CqlSettings::from_config(c, 1); });
  s.window_steps = [](const nlohmann::json& c) { return CqlSettings::from_config(c, 1).n_step; };
  s.published = [](const std::string& dir) {
    return low_dim_published(cql_defaults, "cql", dir, cql_published);
  };
  s.set_builder<float, Cpu>(build_cql<float, Cpu>);
  return s;
}

}  // namespace mimic::policy
