#pragma once
// Default training configs in robomimic's JSON schema: the shared sections (experiment, train,
// observation, meta) and the algo section of "bc" as robomimic defines them, plus
// "diffusion_policy" (robomimic's layout for it) and "ibc" (the same style, with Implicit BC's
// published settings).
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/core/error.hpp"

namespace mimic::config {

using json = nlohmann::json;

inline json encoder_defaults(json core_class, json core_kwargs, json randomizer_kwargs) {
  return {{"core_class", core_class},
          {"core_kwargs", core_kwargs},
          {"obs_randomizer_class", nullptr},
          {"obs_randomizer_kwargs", randomizer_kwargs}};
}

inline json shared_defaults(const std::string& algo_name) {
  json experiment = {{"name", "test"},
                     {"validate", false},
                     {"logging",
                      {{"terminal_output_to_txt", true},
                       {"log_tb", true},
                       {"log_wandb", false},
                       {"wandb_proj_name", "debug"}}},
                     {"save",
                      {{"enabled", true},
                       {"every_n_seconds", nullptr},
                       {"every_n_epochs", 50},
                       {"epochs", json::array()},
                       {"on_best_validation", false},
                       {"on_best_rollout_return", false},
                       {"on_best_rollout_success_rate", true}}},
                     {"epoch_every_n_steps", 100},
                     {"validation_epoch_every_n_steps", 10},
                     {"env", nullptr},
                     {"additional_envs", nullptr},
                     {"render", false},
                     {"render_video", true},
                     {"keep_all_videos", false},
                     {"video_skip", 5},
                     {"rollout",
                      {{"enabled", true},
                       {"n", 50},
                       {"horizon", 400},
                       {"rate", 50},
                       {"warmstart", 0},
                       {"terminate_on_success", true}}}};
  json train = {{"data", nullptr},
                {"output_dir", "../" + algo_name + "_trained_models"},
                {"num_data_workers", 0},
                {"hdf5_cache_mode", "all"},
                {"hdf5_use_swmr", true},
                {"hdf5_load_next_obs", false},
                {"hdf5_normalize_obs", false},
                {"hdf5_filter_key", nullptr},
                {"hdf5_validation_filter_key", nullptr},
                {"seq_length", 1},
                {"pad_seq_length", true},
                {"frame_stack", 1},
                {"pad_frame_stack", true},
                {"dataset_keys", {"actions", "rewards", "dones"}},
                {"goal_mode", nullptr},
                {"cuda", true},
                {"batch_size", 100},
                {"num_epochs", 2000},
                {"seed", 1},
                {"max_grad_norm", nullptr}};
  json empty_mods = {{"low_dim", json::array()},
                     {"rgb", json::array()},
                     {"depth", json::array()},
                     {"scan", json::array()}};
  json obs_mods = empty_mods;
  obs_mods["low_dim"] = {"robot0_eef_pos", "robot0_eef_quat", "robot0_gripper_qpos", "object"};
  // robomimic fills the encoder kwargs at run time from its per-class defaults.
  json observation = {{"modalities", {{"obs", obs_mods}, {"goal", empty_mods}}},
                      {"encoder",
                       {{"low_dim", encoder_defaults(nullptr, json::object(), json::object())},
                        {"rgb", encoder_defaults("VisualCore", json::object(), json::object())},
                        {"depth", encoder_defaults("VisualCore", json::object(), json::object())},
                        {"scan", encoder_defaults("ScanCore", json::object(), json::object())}}}};
  json meta = {
      {"hp_base_config_file", nullptr}, {"hp_keys", json::array()}, {"hp_values", json::array()}};
  return {{"algo_name", algo_name}, {"experiment", experiment},   {"train", train},
          {"algo", json::object()}, {"observation", observation}, {"meta", meta}};
}

inline json bc_algo_defaults() {
  return {{"optim_params",
           {{"policy",
             {{"optimizer_type", "adam"},
              {"learning_rate",
               {{"initial", 1e-4},
                {"decay_factor", 0.1},
                {"epoch_schedule", json::array()},
                {"scheduler_type", "multistep"}}},
              {"regularization", {{"L2", 0.0}}}}}}},
          {"loss", {{"l2_weight", 1.0}, {"l1_weight", 0.0}, {"cos_weight", 0.0}}},
          {"actor_layer_dims", {1024, 1024}},
          {"gaussian",
           {{"enabled", false},
            {"fixed_std", false},
            {"init_std", 0.1},
            {"min_std", 0.01},
            {"std_activation", "softplus"},
            {"low_noise_eval", true}}},
          {"gmm",
           {{"enabled", false},
            {"num_modes", 5},
            {"min_std", 0.0001},
            {"std_activation", "softplus"},
            {"low_noise_eval", true}}},
          {"vae",
           {{"enabled", false},
            {"latent_dim", 14},
            {"latent_clip", nullptr},
            {"kl_weight", 1.0},
            {"decoder", {{"is_conditioned", true}, {"reconstruction_sum_across_elements", false}}},
            {"prior",
             {{"learn", false},
              {"is_conditioned", false},
              {"use_gmm", false},
              {"gmm_num_modes", 10},
              {"gmm_learn_weights", false},
              {"use_categorical", false},
              {"categorical_dim", 10},
              {"categorical_gumbel_softmax_hard", false},
              {"categorical_init_temp", 1.0},
              {"categorical_temp_anneal_step", 0.001},
              {"categorical_min_temp", 0.3}}},
            {"encoder_layer_dims", {300, 400}},
            {"decoder_layer_dims", {300, 400}},
            {"prior_layer_dims", {300, 400}}}},
          {"rnn",
           {{"enabled", false},
            {"horizon", 10},
            {"hidden_dim", 400},
            {"rnn_type", "LSTM"},
            {"num_layers", 2},
            {"open_loop", false},
            {"kwargs", {{"bidirectional", false}}}}},
          {"transformer",
           {{"enabled", false},
            {"context_length", 10},
            {"embed_dim", 512},
            {"num_layers", 6},
            {"num_heads", 8},
            {"emb_dropout", 0.1},
            {"attn_dropout", 0.1},
            {"block_output_dropout", 0.1},
            {"sinusoidal_embedding", false},
            {"activation", "gelu"},
            {"supervise_all_steps", false},
            {"nn_parameter_for_timesteps", true}}}};
}

// AdamW 1e-4, betas (0.95, 0.999), weight decay 1e-6, cosine schedule with 500 warm-up steps
// stepped every batch (Diffusion Policy's training recipe).
inline json diffusion_optim_defaults() {
  return {{"policy",
           {{"optimizer_type", "adamw"},
            {"betas", {0.95, 0.999}},
            {"learning_rate",
             {{"initial", 1e-4},
              {"decay_factor", 0.1},
              {"epoch_schedule", json::array()},
              {"scheduler_type", "cosine"},
              {"step_every_batch", true},
              {"warmup_steps", 500},
              {"num_cycles", 0.5}}},
            {"regularization", {{"L2", 1e-6}}}}}};
}

inline json diffusion_policy_algo_defaults() {
  return {
      {"optim_params", diffusion_optim_defaults()},
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 8}, {"prediction_horizon", 16}}},
      {"unet",
       {{"enabled", true},
        {"diffusion_step_embed_dim", 256},
        {"down_dims", {256, 512, 1024}},
        {"kernel_size", 5},
        {"n_groups", 8}}},
      {"ema", {{"enabled", true}, {"power", 0.75}}},
      {"ddpm",
       {{"enabled", true},
        {"num_train_timesteps", 100},
        {"num_inference_timesteps", 100},
        {"beta_schedule", "squaredcos_cap_v2"},
        {"clip_sample", true},
        {"prediction_type", "epsilon"}}},
      {"ddim",
       {{"enabled", false},
        {"num_train_timesteps", 100},
        {"num_inference_timesteps", 10},
        {"beta_schedule", "squaredcos_cap_v2"},
        {"clip_sample", true},
        {"set_alpha_to_one", true},
        {"steps_offset", 0},
        {"prediction_type", "epsilon"}}}};
}

inline json ibc_algo_defaults() {
  json optim = diffusion_optim_defaults();
  optim["policy"]["learning_rate"]["scheduler_type"] = "cosine";
  optim["policy"]["betas"] = {0.9, 0.999};
  optim["policy"]["regularization"]["L2"] = 0.0;
  return {
      {"optim_params", optim},
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 1}, {"prediction_horizon", 2}}},
      {"energy", {{"layer_dims", {1024, 1024, 1024, 1024}}, {"dropout", 0.1}}},
      {"train", {{"num_negatives", 1024}}},
      {"inference",
       {{"method", "dfo"},
        {"num_samples", 1024},
        {"iterations", 3},
        {"noise_scale", 0.33},
        {"noise_shrink", 0.5},
        {"constant_noise", 0.03},
        {"langevin_steps", 100},
        {"langevin_step_init", 1e-1},
        {"langevin_step_final", 1e-5}}}};
}

inline json default_config(const std::string& algo_name) {
  json c = shared_defaults(algo_name);
  if (algo_name == "bc") {
    c["algo"] = bc_algo_defaults();
  } else if (algo_name == "diffusion_policy") {
    c["algo"] = diffusion_policy_algo_defaults();
    c["train"]["seq_length"] = 16;
    c["train"]["frame_stack"] = 2;
    c["train"]["batch_size"] = 256;
  } else if (algo_name == "ibc") {
    c["algo"] = ibc_algo_defaults();
    c["train"]["seq_length"] = 1;
    c["train"]["frame_stack"] = 2;
  } else {
    throw ValueError("algo_name: '" + algo_name +
                     "' has no defaults (expected bc, diffusion_policy or ibc)");
  }
  return c;
}

}  // namespace mimic::config
