#pragma once
// The default config of robomimic's "bc" algo_name (BC, BC-RNN and the variants robomimic
// switches on): robomimic v0.5's config_factory("bc").dump(), which is v0.3's plus the keys
// v0.5 added (written back only when set: bc/spec.hpp).
#include <nlohmann/json.hpp>

#include "mimic/config/defaults.hpp"
#include "mimic/policy/core/vae_config.hpp"

namespace mimic::policy {

inline nlohmann::json bc_algo_section() {
  using json = nlohmann::json;
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
          {"vae", robomimic_vae_defaults(false)},
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
            {"nn_parameter_for_timesteps", true},
            {"pred_future_acs", false}}}};
}

inline nlohmann::json bc_defaults() {
  nlohmann::json c = config::shared_defaults("bc");
  c["algo"] = bc_algo_section();
  return c;
}

}  // namespace mimic::policy
