#pragma once
// The settings of robomimic's HBC and IRIS: how the actor learns its goals (mode, random
// subgoals), how often a rollout replans, and each part's own settings read from its own sections
// (algo.planner or algo.value_planner.planner: GL; algo.actor: a BC-RNN; IRIS's
// algo.value_planner.value: BCQ), with errors that name the part's keys.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/config/schema.hpp"
#include "mimic/policy/bc/bc_rnn.hpp"
#include "mimic/policy/hierarchical/defaults.hpp"
#include "mimic/policy/hierarchical/goal_learning.hpp"
#include "mimic/policy/offline/bcq.hpp"

namespace mimic::policy {

// `message` with every config path that starts at `from` ("algo.", "observation.") moved under
// `to` ("algo.actor.").
inline std::string moved_paths(std::string message, const std::string& from,
                               const std::string& to) {
  for (size_t pos = message.find(from); pos != std::string::npos;
       pos = message.find(from, pos + to.size())) {
    const bool starts = pos == 0 || !(std::isalnum(static_cast<unsigned char>(message[pos - 1])) ||
                                      message[pos - 1] == '_' || message[pos - 1] == '.');
    if (starts)
      message.replace(pos, from.size(), to);
    else
      pos += 1;
  }
  return message;
}

// Reads a part's settings with `read`, which sees the part's sections at the top level; its
// errors name the keys where they are in the whole config.
template <class F>
auto read_part(F read, const std::string& algo_path, const std::string& obs_path) {
  auto moved = [&](const std::exception& e) {
    return moved_paths(moved_paths(e.what(), "algo.", algo_path + "."), "observation.",
                       obs_path + ".");
  };
  try {
    return read();
  } catch (const UnsupportedError& e) {
    throw UnsupportedError(moved(e));
  } catch (const ValueError& e) {
    throw ValueError(moved(e));
  }
}

struct HierarchicalSettings {
  std::string mode = "separate";  // "separate": the actor learns the dataset's subgoals;
                                  // "cascade": the planner's predictions (HBC only)
  bool random_subgoals = false;   // actor_use_random_subgoals
  int64_t subgoal_update_interval = 10;
  int64_t seq_length = 10;  // train.seq_length: random subgoals are drawn from its steps
  GoalLearningSettings planner;
  BcRnnSettings actor;
  std::vector<std::string> actor_obs_keys;
  // observation.actor.modalities.goal: the subgoal keys the actor is given. robomimic (0.3.0
  // through its current master) passes the planner's subgoal to the actor but conditions it only
  // on these keys, and its defaults and paper configs leave them empty: the actor then ignores
  // the planner. List the subgoal keys here for an actor that follows the planner.
  std::vector<std::string> actor_goal_keys;
  // IRIS: the value network that scores num_samples subgoals.
  BcqSettings value;
  std::vector<std::string> value_obs_keys;
  int64_t num_samples = 100;

  // `iris`: the config is IRIS's (a value planner); otherwise HBC's.
  static HierarchicalSettings from_config(const nlohmann::json& given, bool iris) {
    using config::require;
    using config::typed;
    const nlohmann::json c = config::merged_over(iris ? iris_defaults() : hbc_defaults(), given);
    const nlohmann::json& a = c.at("algo");
    HierarchicalSettings s;
    s.mode = typed<std::string>(a, "mode", "algo");
    require(s.mode == "separate" || (!iris && s.mode == "cascade"), "algo.mode",
            iris ? "must be \"separate\" (robomimic 0.3.0's IRIS cannot train in cascade mode)"
                 : "must be \"separate\" or \"cascade\"",
            a["mode"]);
    s.random_subgoals = typed<bool>(a, "actor_use_random_subgoals", "algo");
    s.subgoal_update_interval = config::bounded(
        a.at("subgoal_update_interval"), "algo.subgoal_update_interval", 1, config::kMaxConfigSize);
    s.seq_length = typed<int64_t>(c.at("train"), "seq_length", "train");
    require(!typed<bool>(a.at("latent_subgoal"), "enabled", "algo.latent_subgoal"),
            "algo.latent_subgoal.enabled",
            iris ? "must be false (IRIS does not support latent subgoals)"
                 : "must be false: latent subgoals are not supported yet",
            a["latent_subgoal"]["enabled"]);

    const std::string planner_algo = iris ? "algo.value_planner.planner" : "algo.planner";
    const std::string planner_obs =
        iris ? "observation.value_planner.planner" : "observation.planner";
    const nlohmann::json& planner_a = iris ? a.at("value_planner").at("planner") : a.at("planner");
    const nlohmann::json& obs = c.at("observation");
    const nlohmann::json& planner_o =
        iris ? obs.at("value_planner").at("planner") : obs.at("planner");
    s.planner =
        GoalLearningSettings::from_sections(planner_a, planner_o, planner_algo, planner_obs);
    require(
        s.planner.vae_enabled, planner_algo + ".vae.enabled",
        "must be true (robomimic's " + std::string(iris ? "IRIS" : "HBC") + " plans with a VAE)",
        planner_a["vae"]["enabled"]);

    // The actor: a goal-conditioned BC-RNN (robomimic's bc factory on algo.actor).
    const nlohmann::json actor_config = {{"algo_name", "bc"},
                                         {"algo", a.at("actor")},
                                         {"train", c.at("train")},
                                         {"observation", obs.at("actor")}};
    s.actor = read_part([&] { return BcRnnSettings::from_config(actor_config); }, "algo.actor",
                        "observation.actor");
    require(a["actor"]["rnn"]["enabled"] == true, "algo.actor.rnn.enabled",
            "must be true (the actor is a BC-RNN here)", a["actor"]["rnn"]["enabled"]);
    if (a["actor"].contains("transformer"))
      require(a["actor"]["transformer"]["enabled"] == false, "algo.actor.transformer.enabled",
              "must be false (the actor is a BC-RNN here)", a["actor"]["transformer"]["enabled"]);
    s.actor_obs_keys = low_dim_group(obs.at("actor"), "obs", "observation.actor");
    if (s.actor_obs_keys.empty())
      throw ValueError("config: 'observation.actor.modalities.obs.low_dim' lists no keys");
    s.actor_goal_keys = low_dim_group(obs.at("actor"), "goal", "observation.actor");
    for (const std::string& k : s.actor_goal_keys)
      if (std::find(s.planner.subgoal_keys.begin(), s.planner.subgoal_keys.end(), k) ==
          s.planner.subgoal_keys.end())
        throw ValueError("config: 'observation.actor.modalities.goal.low_dim' has '" + k +
                         "', which the planner does not predict (" + planner_obs +
                         ".modalities.subgoal.low_dim)");

    if (iris) {
      const nlohmann::json& vp = a.at("value_planner");
      s.num_samples =
          config::bounded(vp.at("num_samples"), "algo.value_planner.num_samples", 1, 1 << 16);
      const nlohmann::json value_config = {{"algo_name", "bcq"},
                                           {"algo", vp.at("value")},
                                           {"train", c.at("train")},
                                           {"observation", obs.at("value_planner").at("value")}};
      s.value = read_part([&] { return BcqSettings::from_config(value_config); },
                          "algo.value_planner.value", "observation.value_planner.value");
      s.value_obs_keys = low_dim_group(obs.at("value_planner").at("value"), "obs",
                                       "observation.value_planner.value");
      for (const std::string& k : s.value_obs_keys)
        if (std::find(s.planner.subgoal_keys.begin(), s.planner.subgoal_keys.end(), k) ==
            s.planner.subgoal_keys.end())
          throw ValueError(
              "config: 'observation.value_planner.value.modalities.obs.low_dim' has '" + k +
              "', which the planner does not predict (observation.value_planner."
              "planner.modalities.subgoal.low_dim): IRIS scores predicted subgoals "
              "as the value network's observations");
      if (s.value_obs_keys.empty())
        throw ValueError(
            "config: 'observation.value_planner.value.modalities.obs.low_dim' lists no keys");
    }
    return s;
  }

  // Steps each sampled window must hold: the subgoal horizon, and IRIS's n-step returns.
  int64_t window_steps(bool iris) const {
    return std::max(planner.subgoal_horizon, iris ? value.n_step : int64_t(1));
  }
};

}  // namespace mimic::policy
