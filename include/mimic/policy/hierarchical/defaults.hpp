#pragma once
// Default configs of robomimic's hierarchical algo_names, as robomimic's config_factory(name)
// dumps them (v0.5's schema): GL (subgoal prediction), HBC (a GL planner and a goal-conditioned
// BC-RNN actor) and IRIS (a value planner, GL scored by BCQ, and the same actor). The parts keep
// their own algorithm's sections: algo.planner is a GL algo section, algo.actor a bc one without
// its gaussian, gmm and vae blocks, algo.value_planner.value a bcq one; so do the observation
// sections (observation.planner, observation.actor, observation.value_planner.{planner, value}).
#include <nlohmann/json.hpp>

#include "mimic/config/defaults.hpp"
#include "mimic/policy/bc/defaults.hpp"
#include "mimic/policy/core/vae_config.hpp"
#include "mimic/policy/offline/defaults.hpp"

namespace mimic::policy {

// robomimic's GL algo section: a VAE over subgoals 10 steps ahead (latent 16), or an MLP.
inline nlohmann::json gl_algo_section() {
  nlohmann::json vae = robomimic_vae_defaults(true);
  vae["latent_dim"] = 16;
  return {
      {"optim_params",
       {{"goal_network",
         {{"learning_rate",
           {{"initial", 1e-4}, {"decay_factor", 0.1}, {"epoch_schedule", nlohmann::json::array()}}},
          {"regularization", {{"L2", 0.0}}}}}}},
      {"subgoal_horizon", 10},
      {"ae", {{"planner_layer_dims", {300, 400}}}},
      {"vae", vae}};
}

// robomimic's GL observation section: the shared one plus the subgoal keys it predicts.
inline nlohmann::json gl_observation_section() {
  nlohmann::json o = config::shared_defaults("gl")["observation"];
  o["modalities"]["subgoal"] = o["modalities"]["obs"];
  return o;
}

inline nlohmann::json gl_defaults() {
  nlohmann::json c = config::shared_defaults("gl");
  c["train"]["hdf5_load_next_obs"] = true;
  c["observation"] = gl_observation_section();
  c["algo"] = gl_algo_section();
  return c;
}

// The actor of HBC and IRIS: robomimic's bc algo section as a BC-RNN, without the gaussian, gmm
// and vae blocks.
inline nlohmann::json hierarchical_actor_section() {
  nlohmann::json a = bc_algo_section();
  a.erase("gaussian");
  a.erase("gmm");
  a.erase("vae");
  a["rnn"]["enabled"] = true;
  a["rnn"]["horizon"] = 10;
  return a;
}

// What HBC and IRIS share: sequences of 10 steps, next observations, and the subgoal settings.
inline nlohmann::json hierarchical_defaults(const std::string& algo_name) {
  nlohmann::json c = config::shared_defaults(algo_name);
  c["train"]["hdf5_load_next_obs"] = true;
  c["train"]["seq_length"] = 10;
  c["algo"] = {
      {"mode", "separate"},
      {"actor_use_random_subgoals", false},
      {"subgoal_update_interval", 10},
      {"latent_subgoal",
       {{"enabled", false}, {"prior_correction", {{"enabled", false}, {"num_samples", 100}}}}},
      {"actor", hierarchical_actor_section()}};
  return c;
}

inline nlohmann::json hbc_defaults() {
  nlohmann::json c = hierarchical_defaults("hbc");
  c["algo"]["planner"] = gl_algo_section();
  c["observation"] = {{"planner", gl_observation_section()},
                      {"actor", config::shared_defaults("bc")["observation"]}};
  return c;
}

inline nlohmann::json iris_defaults() {
  nlohmann::json c = hierarchical_defaults("iris");
  nlohmann::json value = bcq_defaults()["algo"];
  value["actor"]["enabled"] = false;
  c["algo"]["value_planner"] = {
      {"planner", gl_algo_section()}, {"value", value}, {"num_samples", 100}};
  c["observation"] = {{"value_planner",
                       {{"planner", gl_observation_section()},
                        {"value", config::shared_defaults("bcq")["observation"]}}},
                      {"actor", config::shared_defaults("bc")["observation"]}};
  return c;
}

}  // namespace mimic::policy
