#pragma once
// The default config of "diffusion_policy": robomimic v0.5's layout for it (UNet, EMA, DDPM and
// DDIM sections) with Diffusion Policy's training recipe (batch 256, windows of 16 steps over 2
// stacked frames).
#include <nlohmann/json.hpp>

#include "mimic/config/defaults.hpp"

namespace mimic::policy {

// AdamW 1e-4, betas (0.95, 0.999), weight decay 1e-6, cosine schedule with 500 warm-up steps
// stepped every batch (Diffusion Policy's training recipe).
inline nlohmann::json diffusion_optim_section() {
  using json = nlohmann::json;
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

inline nlohmann::json diffusion_policy_algo_section() {
  return {
      {"optim_params", diffusion_optim_section()},
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 8}, {"prediction_horizon", 16}}},
      {"unet",
       {{"enabled", true},
        {"diffusion_step_embed_dim", 256},
        {"down_dims", {256, 512, 1024}},
        {"kernel_size", 5},
        {"n_groups", 8},
        {"cond_predict_scale", true}}},
      // mimic's addition: Diffusion Policy's transformer denoiser (DP-T), with DP's low-dim
      // settings; enabled instead of the UNet.
      {"transformer",
       {{"enabled", false},
        {"n_layer", 8},
        {"n_head", 4},
        {"n_emb", 256},
        {"p_drop_emb", 0.0},
        {"p_drop_attn", 0.3},
        {"causal_attn", true},
        {"time_as_cond", true},
        {"obs_as_cond", true},
        {"n_cond_layers", 0}}},
      {"ema", {{"enabled", true}, {"power", 0.75}}},
      // float32_tables (mimic's addition): sample with diffusers' float32 beta and alpha tables,
      // as the originals do; imported Diffusion Policy checkpoints set it.
      {"ddpm",
       {{"enabled", true},
        {"num_train_timesteps", 100},
        {"num_inference_timesteps", 100},
        {"beta_schedule", "squaredcos_cap_v2"},
        {"clip_sample", true},
        {"float32_tables", false},
        {"prediction_type", "epsilon"}}},
      {"ddim",
       {{"enabled", false},
        {"num_train_timesteps", 100},
        {"num_inference_timesteps", 10},
        {"beta_schedule", "squaredcos_cap_v2"},
        {"clip_sample", true},
        {"float32_tables", false},
        {"set_alpha_to_one", true},
        {"steps_offset", 0},
        {"prediction_type", "epsilon"}}}};
}

inline nlohmann::json diffusion_policy_defaults() {
  nlohmann::json c = config::shared_defaults("diffusion_policy");
  c["algo"] = diffusion_policy_algo_section();
  c["train"]["seq_length"] = 16;
  c["train"]["frame_stack"] = 2;
  c["train"]["batch_size"] = 256;
  return c;
}

}  // namespace mimic::policy
