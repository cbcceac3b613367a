#pragma once
// The specs of robomimic's hierarchical algo_names: GL (subgoal prediction; trains, never acts),
// HBC and IRIS. They read next observations (subgoals are later observations; IRIS's value
// network learns from transitions), low-dim keys only, with frame_stack 1. robomimic's
// generate_paper_configs.py covers HBC and IRIS on low-dim data.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/defaults.hpp"
#include "mimic/config/tasks.hpp"
#include "mimic/policy/core/algorithm.hpp"
#include "mimic/policy/hierarchical/defaults.hpp"
#include "mimic/policy/hierarchical/goal_learning.hpp"
#include "mimic/policy/hierarchical/hbc.hpp"
#include "mimic/policy/hierarchical/iris.hpp"
#include "mimic/policy/offline/spec.hpp"

namespace mimic::policy {

// robomimic 0.3.0's hbc and iris lack what v0.5 added to bc (under algo.actor).
inline std::vector<std::string> hierarchical_extension_keys() {
  std::vector<std::string> k = config::shared_extension_keys();
  k.push_back("algo.actor.transformer.pred_future_acs");
  return k;
}

// The observation sections a hierarchical config keeps its keys in (generate_paper_configs.py's
// configs_to_set), as JSON pointers.
inline std::vector<std::string> hierarchical_key_lists(bool iris) {
  if (iris)
    return {"/observation/actor/modalities/obs",
            "/observation/value_planner/planner/modalities/obs",
            "/observation/value_planner/planner/modalities/subgoal",
            "/observation/value_planner/value/modalities/obs"};
  return {"/observation/actor/modalities/obs", "/observation/planner/modalities/obs",
          "/observation/planner/modalities/subgoal"};
}

// robomimic's paper settings for HBC and IRIS (modify_{hbc,iris}_config_for_dataset, ph
// low-dim): learning rates 1e-3, a GMM-prior goal VAE (10 modes, learned weights, conditioned,
// 1024-1024 networks, KL weight 5e-4), a 400-unit RNN actor without MLP layers; IRIS's value
// network with tau 5e-4 and a KL weight 0.5, latent 16, 300-400 sampler. The task's keys go into
// every observation section.
inline std::vector<PublishedConfig> hierarchical_published(bool iris, const std::string& dir) {
  std::vector<PublishedConfig> out;
  const std::string label = iris ? "iris" : "hbc";
  for (const std::string& task : config::published_tasks()) {
    nlohmann::json c =
        config::for_task(iris ? iris_defaults() : hbc_defaults(), label, task, "low_dim", dir);
    const nlohmann::json keys = c["observation"]["modalities"]["obs"]["low_dim"];
    c["observation"].erase("modalities");
    for (const std::string& p : hierarchical_key_lists(iris)) {
      c[nlohmann::json::json_pointer(p + "/low_dim")] = keys;
      c[nlohmann::json::json_pointer(p + "/rgb")] = nlohmann::json::array();
    }
    auto& a = c["algo"];
    a["actor"]["optim_params"]["policy"]["learning_rate"]["initial"] = 1e-3;
    auto& planner = iris ? a["value_planner"]["planner"] : a["planner"];
    planner["optim_params"]["goal_network"]["learning_rate"]["initial"] = 1e-3;
    auto& vae = planner["vae"];
    vae["enabled"] = true;
    vae["kl_weight"] = 5e-4;
    vae["latent_dim"] = iris ? 14 : 16;
    vae["prior"]["learn"] = true;
    vae["prior"]["is_conditioned"] = true;
    vae["prior"]["use_gmm"] = true;
    vae["prior"]["gmm_learn_weights"] = true;
    vae["prior"]["gmm_num_modes"] = 10;
    vae["encoder_layer_dims"] = vae["decoder_layer_dims"] = vae["prior_layer_dims"] = {1024, 1024};
    a["actor"]["rnn"]["hidden_dim"] = 400;
    a["actor"]["actor_layer_dims"] = nlohmann::json::array();
    if (iris) {
      auto& v = a["value_planner"]["value"];
      v["optim_params"]["critic"]["learning_rate"]["initial"] = 1e-3;
      v["optim_params"]["action_sampler"]["learning_rate"]["initial"] = 1e-4;
      v["target_tau"] = 5e-4;
      v["action_sampler"]["vae"]["kl_weight"] = 0.5;
      v["action_sampler"]["vae"]["latent_dim"] = 16;
      v["action_sampler"]["actor_layer_dims"] = {300, 400};
    }
    out.push_back({c["experiment"]["name"].get<std::string>(), c});
  }
  return out;
}

// Checks shared by GL, HBC and IRIS; errors name the key.
inline void validate_hierarchical(const nlohmann::json& c) {
  config::require(c["train"]["frame_stack"].get<int64_t>() == 1, "train.frame_stack",
                  "must be 1 (subgoals are observations a fixed number of steps after the first)",
                  c["train"]["frame_stack"]);
  config::require(c["train"]["goal_mode"].is_null(), "train.goal_mode",
                  "must be null: goal-conditioned planners are not supported yet",
                  c["train"]["goal_mode"]);
}

template <class T, class D>
std::unique_ptr<Policy<T, D>> build_gl(const BuildArgs& a) {
  return std::make_unique<GoalLearning<T, D>>(
      a.meta, a.norm, GoalLearningSettings::from_config(a.config), a.seed, a.schedule_units);
}
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_hbc(const BuildArgs& a) {
  return std::make_unique<Hbc<T, D>>(
      a.meta, a.norm, HierarchicalSettings::from_config(a.config, false), a.seed, a.schedule_units);
}
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_iris(const BuildArgs& a) {
  return std::make_unique<Iris<T, D>>(
      a.meta, a.norm, HierarchicalSettings::from_config(a.config, true), a.seed, a.schedule_units);
}

// The fields the three specs share.
inline AlgorithmSpec hierarchical_spec(const std::string& name,
                                       const std::function<nlohmann::json()>& defaults,
                                       const std::function<void(const nlohmann::json&)>& settings) {
  AlgorithmSpec s;
  s.name = s.algo_name = name;
  s.defaults = defaults;
  s.validate = [settings](const nlohmann::json& c) {
    validate_hierarchical(c);
    settings(c);
  };
  s.normalization = NormalizationRule::kRobomimic;
  s.uses_transitions = true;
  return s;
}

inline AlgorithmSpec gl_spec() {
  AlgorithmSpec s = hierarchical_spec(
      "gl", gl_defaults, [](const nlohmann::json& c) { GoalLearningSettings::from_config(c); });
  s.extension_keys = config::shared_extension_keys();
  s.window_steps = [](const nlohmann::json& c) {
    return GoalLearningSettings::from_config(c).subgoal_horizon;
  };
  s.acts = false;
  s.set_builder<float, Cpu>(build_gl<float, Cpu>);
  return s;
}

inline AlgorithmSpec hbc_spec() {
  AlgorithmSpec s = hierarchical_spec("hbc", hbc_defaults, [](const nlohmann::json& c) {
    HierarchicalSettings::from_config(c, false);
  });
  s.extension_keys = hierarchical_extension_keys();
  s.window_steps = [](const nlohmann::json& c) {
    return HierarchicalSettings::from_config(c, false).window_steps(false);
  };
  s.published = [](const std::string& dir) { return hierarchical_published(false, dir); };
  s.set_builder<float, Cpu>(build_hbc<float, Cpu>);
  return s;
}

inline AlgorithmSpec iris_spec() {
  AlgorithmSpec s = hierarchical_spec("iris", iris_defaults, [](const nlohmann::json& c) {
    HierarchicalSettings::from_config(c, true);
  });
  s.extension_keys = hierarchical_extension_keys();
  s.window_steps = [](const nlohmann::json& c) {
    return HierarchicalSettings::from_config(c, true).window_steps(true);
  };
  s.published = [](const std::string& dir) { return hierarchical_published(true, dir); };
  s.set_builder<float, Cpu>(build_iris<float, Cpu>);
  return s;
}

}  // namespace mimic::policy
