#pragma once
// Default configs of robomimic's offline RL algo_names: robomimic's config_factory(name).dump()
// in v0.5's schema (v0.3's plus the shared keys v0.5 added, written back only when set).
#include <nlohmann/json.hpp>
#include <utility>

#include "mimic/config/defaults.hpp"
#include "mimic/policy/core/vae_config.hpp"

namespace mimic::policy {

// robomimic's per-network optimizer block: Adam at `lr`, a multistep schedule (none by default)
// and, for algorithms that stage their networks, the epochs each one trains in.
inline nlohmann::json rl_optim_group(double lr, double decay_factor, bool staged) {
  nlohmann::json g = {{"learning_rate",
                       {{"initial", lr},
                        {"decay_factor", decay_factor},
                        {"epoch_schedule", nlohmann::json::array()}}},
                      {"regularization", {{"L2", 0.0}}}};
  if (staged) {
    g["start_epoch"] = -1;
    g["end_epoch"] = -1;
  }
  return g;
}

// The critic settings robomimic's TD3-BC, BCQ and CQL share: no Huber loss, no gradient clipping,
// no value bounds, an ensemble of critics and their layer sizes; each adds its own.
inline nlohmann::json rl_critic_block(nlohmann::json ensemble, nlohmann::json layer_dims,
                                      const nlohmann::json& own = nlohmann::json::object()) {
  nlohmann::json c = {{"use_huber", false},
                      {"max_gradient_norm", nullptr},
                      {"value_bounds", nullptr},
                      {"ensemble", std::move(ensemble)},
                      {"layer_dims", std::move(layer_dims)}};
  c.update(own);
  return c;
}

// robomimic's td3_bc config: D4RL-style settings (one "flat" low-dim key, return-based
// checkpoints, 1000-step rollouts, 5000 gradient steps an epoch, 200 epochs of 256).
inline nlohmann::json td3_bc_defaults() {
  nlohmann::json c = config::shared_defaults("td3_bc");
  auto& e = c["experiment"];
  e["epoch_every_n_steps"] = 5000;
  e["render_video"] = false;
  e["rollout"]["horizon"] = 1000;
  e["rollout"]["rate"] = 1;
  e["save"]["every_n_epochs"] = 20;
  e["save"]["on_best_rollout_return"] = true;
  e["save"]["on_best_rollout_success_rate"] = false;
  c["observation"]["modalities"]["obs"]["low_dim"] = {"flat"};
  auto& t = c["train"];
  t["batch_size"] = 256;
  t["num_epochs"] = 200;
  t["hdf5_load_next_obs"] = true;
  t["hdf5_normalize_obs"] = true;
  c["algo"] = {
      {"optim_params",
       {{"critic", rl_optim_group(3e-4, 0.1, true)}, {"actor", rl_optim_group(3e-4, 0.1, true)}}},
      {"alpha", 2.5},
      {"discount", 0.99},
      {"n_step", 1},
      {"target_tau", 0.005},
      {"infinite_horizon", false},
      {"critic", rl_critic_block({{"n", 2}, {"weight", 1.0}}, {256, 256})},
      {"actor",
       {{"update_freq", 2}, {"noise_std", 0.2}, {"noise_clip", 0.5}, {"layer_dims", {256, 256}}}}};
  return c;
}

// robomimic's iql config: the shared defaults with next observations loaded.
inline nlohmann::json iql_defaults() {
  nlohmann::json c = config::shared_defaults("iql");
  c["train"]["hdf5_load_next_obs"] = true;
  c["algo"] = {
      {"optim_params",
       {{"critic", rl_optim_group(1e-4, 0.0, false)},
        {"vf", rl_optim_group(1e-4, 0.0, false)},
        {"actor", rl_optim_group(1e-4, 0.0, false)}}},
      {"discount", 0.99},
      {"target_tau", 0.01},
      {"actor",
       {{"net",
         {{"type", "gaussian"},
          {"common",
           {{"std_activation", "softplus"}, {"low_noise_eval", true}, {"use_tanh", false}}},
          {"gaussian", {{"init_last_fc_weight", 0.001}, {"init_std", 0.3}, {"fixed_std", false}}},
          {"gmm", {{"num_modes", 5}, {"min_std", 0.0001}}}}},
        {"layer_dims", {300, 400}},
        {"max_gradient_norm", nullptr}}},
      {"critic",
       {{"ensemble", {{"n", 2}}},
        {"layer_dims", {300, 400}},
        {"use_huber", false},
        {"max_gradient_norm", nullptr}}},
      {"adv", {{"clip_adv_value", nullptr}, {"beta", 1.0}, {"use_final_clip", true}}},
      {"vf_quantile", 0.9}};
  return c;
}

// robomimic's bcq config: a VAE action sampler, 2 critics blending min and max (0.75), 10 sampled
// actions per target, 100 per rollout step, no perturbation actor.
inline nlohmann::json bcq_defaults() {
  nlohmann::json c = config::shared_defaults("bcq");
  c["train"]["hdf5_load_next_obs"] = true;
  c["algo"] = {
      {"optim_params",
       {{"critic", rl_optim_group(1e-3, 0.1, true)},
        {"action_sampler", rl_optim_group(1e-3, 0.1, true)},
        {"actor", rl_optim_group(1e-3, 0.1, true)}}},
      {"discount", 0.99},
      {"n_step", 1},
      {"target_tau", 0.005},
      {"infinite_horizon", false},
      {"critic", rl_critic_block({{"n", 2}, {"weight", 0.75}}, {300, 400},
                                 {{"num_action_samples", 10},
                                  {"num_action_samples_rollout", 100},
                                  {"distributional", {{"enabled", false}, {"num_atoms", 51}}}})},
      {"action_sampler",
       {{"actor_layer_dims", {1024, 1024}},
        {"gmm",
         {{"enabled", false},
          {"num_modes", 5},
          {"min_std", 0.0001},
          {"std_activation", "softplus"},
          {"low_noise_eval", true}}},
        {"vae", robomimic_vae_defaults(true)},
        {"freeze_encoder_epoch", -1}}},
      {"actor", {{"enabled", false}, {"perturbation_scale", 0.05}, {"layer_dims", {300, 400}}}}};
  return c;
}

// robomimic's cql config: a tanh-Gaussian actor (exp scale) with entropy tuning, 2 critics, the
// CQL weight tuned towards a Q gap of 5, 10 random actions, batches of 1024.
inline nlohmann::json cql_defaults() {
  nlohmann::json c = config::shared_defaults("cql");
  c["train"]["hdf5_load_next_obs"] = true;
  c["train"]["batch_size"] = 1024;
  c["algo"] = {
      {"optim_params",
       {{"critic", rl_optim_group(1e-3, 0.0, false)}, {"actor", rl_optim_group(3e-4, 0.0, false)}}},
      {"discount", 0.99},
      {"n_step", 1},
      {"target_tau", 0.005},
      {"actor",
       {{"bc_start_steps", 0},
        {"target_entropy", "default"},
        {"max_gradient_norm", nullptr},
        {"net",
         {{"type", "gaussian"},
          {"common", {{"std_activation", "exp"}, {"use_tanh", true}, {"low_noise_eval", true}}},
          {"gaussian", {{"init_last_fc_weight", 0.001}, {"init_std", 0.3}, {"fixed_std", false}}}}},
        {"layer_dims", {300, 400}}}},
      {"critic", rl_critic_block({{"n", 2}}, {300, 400},
                                 {{"num_action_samples", 1},
                                  {"num_random_actions", 10},
                                  {"cql_weight", 1.0},
                                  {"deterministic_backup", true},
                                  {"min_q_weight", 1.0},
                                  {"target_q_gap", 5.0}})}};
  return c;
}

}  // namespace mimic::policy
