#pragma once
// The specs of robomimic's "bc" algo_name: BC and BC-RNN (algo.rnn.enabled). Their defaults are
// robomimic's (the bc section of v0.5, which is v0.3's plus transformer.pred_future_acs), their
// published configs robomimic's paper settings.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/config/defaults.hpp"
#include "mimic/policy/bc/bc.hpp"
#include "mimic/policy/bc/bc_rnn.hpp"
#include "mimic/policy/bc/bc_transformer.hpp"
#include "mimic/policy/bc/bc_vae.hpp"
#include "mimic/policy/bc/defaults.hpp"
#include "mimic/policy/core/algorithm.hpp"
#include "mimic/policy/core/published.hpp"

namespace mimic::policy {

// robomimic 0.3.0's bc lacks what v0.5 added.
inline std::vector<std::string> bc_extension_keys() {
  std::vector<std::string> k = config::shared_extension_keys();
  k.push_back("algo.transformer.pred_future_acs");
  return k;
}

inline bool bc_uses_rnn(const nlohmann::json& c) {
  return c.at("algo").at("rnn").at("enabled").get<bool>();
}
inline bool bc_uses_transformer(const nlohmann::json& c) {
  return c.at("algo").at("transformer").at("enabled").get<bool>();
}
inline bool bc_uses_vae(const nlohmann::json& c) {
  return c.at("algo").at("vae").at("enabled").get<bool>();
}

// Settings every bc variant checks; errors name the key.
inline void validate_bc(const nlohmann::json& c) {
  using config::require;
  const auto& algo = c.at("algo");
  config::bounded_list(algo, "actor_layer_dims", "algo", 1, config::kMaxConfigSize, 0);
  require(algo["rnn"]["rnn_type"] == "LSTM" || algo["rnn"]["rnn_type"] == "GRU",
          "algo.rnn.rnn_type", "must be \"LSTM\" or \"GRU\"", algo["rnn"]["rnn_type"]);
  require(!(algo["gmm"]["enabled"].get<bool>() && algo["gaussian"]["enabled"].get<bool>()),
          "algo.gmm.enabled", "cannot be combined with algo.gaussian.enabled",
          algo["gmm"]["enabled"]);
  if (bc_uses_vae(c)) {
    // robomimic has no recurrent or transformer VAE, and with a GMM or Gaussian head it would
    // silently train that head instead.
    require(!bc_uses_rnn(c) && !bc_uses_transformer(c), "algo.vae.enabled",
            "cannot be combined with algo.rnn.enabled or algo.transformer.enabled",
            algo["vae"]["enabled"]);
    require(!algo["gmm"]["enabled"].get<bool>() && !algo["gaussian"]["enabled"].get<bool>(),
            "algo.vae.enabled", "cannot be combined with algo.gmm.enabled or algo.gaussian.enabled",
            algo["vae"]["enabled"]);
    BcVaeSettings::from_config(c);  // errors name the key
  }
  require(!(bc_uses_rnn(c) && bc_uses_transformer(c)), "algo.transformer.enabled",
          "cannot be combined with algo.rnn.enabled", algo["transformer"]["enabled"]);
  if (bc_uses_transformer(c)) BcTransformerSettings::from_config(c);  // errors name the key
  if (bc_uses_rnn(c))
    require(c["train"]["frame_stack"].get<int64_t>() == 1, "train.frame_stack",
            "must be 1 for BC-RNN (the RNN sees the history)", c["train"]["frame_stack"]);
}

// Builds BC for any scalar type and device (CUDA: cuda::add_cuda_builders).
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_bc(const BuildArgs& a) {
  return std::make_unique<Bc<T, D>>(a.meta, a.norm, BcSettings::from_config(a.config), a.seed,
                                    a.schedule_units);
}

inline AlgorithmSpec bc_spec() {
  AlgorithmSpec s;
  s.name = "bc";
  s.algo_name = "bc";
  s.selects = [](const nlohmann::json& c) {
    return !bc_uses_rnn(c) && !bc_uses_transformer(c) && !bc_uses_vae(c);
  };
  s.defaults = bc_defaults;
  s.extension_keys = bc_extension_keys();
  s.validate = validate_bc;
  s.normalization = NormalizationRule::kRobomimic;
  s.published = [](const std::string& dir) { return published_for_tasks(bc_defaults, "bc", dir); };
  s.set_builder<float, Cpu>(build_bc<float, Cpu>);
  return s;
}

// robomimic's BC-RNN paper settings: sequences of 10, a 2-layer LSTM (400 wide, 1000 for
// images) reset every 10 steps, a 5-mode GMM head.
inline void bc_rnn_published(nlohmann::json& c, bool image) {
  c["train"]["seq_length"] = 10;
  c["algo"]["actor_layer_dims"] = nlohmann::json::array();
  c["algo"]["rnn"] = {{"enabled", true},
                      {"horizon", 10},
                      {"hidden_dim", image ? 1000 : 400},
                      {"rnn_type", "LSTM"},
                      {"num_layers", 2},
                      {"open_loop", false},
                      {"kwargs", {{"bidirectional", false}}}};
  c["algo"]["gmm"]["enabled"] = true;
  c["algo"]["gmm"]["num_modes"] = 5;
}

// Builds BC-RNN for any scalar type and device (CUDA: cuda::add_cuda_builders).
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_bc_rnn(const BuildArgs& a) {
  return std::make_unique<BcRnn<T, D>>(a.meta, a.norm, BcRnnSettings::from_config(a.config), a.seed,
                                       a.schedule_units);
}

inline AlgorithmSpec bc_rnn_spec() {
  AlgorithmSpec s;
  s.name = "bc_rnn";
  s.algo_name = "bc";
  s.selects = bc_uses_rnn;
  s.extension_keys = bc_extension_keys();
  s.validate = validate_bc;
  s.normalization = NormalizationRule::kRobomimic;
  s.published = [](const std::string& dir) {
    return published_for_tasks(bc_defaults, "bc_rnn", dir, bc_rnn_published);
  };
  s.set_builder<float, Cpu>(build_bc_rnn<float, Cpu>);
  return s;
}

// Builds BC-Transformer for any scalar type and device (CUDA: cuda::add_cuda_builders).
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_bc_transformer(const BuildArgs& a) {
  return std::make_unique<BcTransformer<T, D>>(
      a.meta, a.norm, BcTransformerSettings::from_config(a.config), a.seed, a.schedule_units);
}

// robomimic's BC-Transformer template (v0.5's bc_transformer.json; 0.3.0 ships none): a
// 10-frame context, a 6-layer GPT 512 wide with 8 heads, a 5-mode GMM head, AdamW (weight decay
// 0.01) at 1e-4 decayed linearly to 0.1x over 100 epochs.
inline void bc_transformer_published(nlohmann::json& c, bool) {
  c["train"]["seq_length"] = 1;
  c["train"]["frame_stack"] = 10;
  auto& algo = c["algo"];
  algo["optim_params"]["policy"] = {{"optimizer_type", "adamw"},
                                    {"learning_rate",
                                     {{"initial", 1e-4},
                                      {"decay_factor", 0.1},
                                      {"epoch_schedule", {100}},
                                      {"scheduler_type", "linear"}}},
                                    {"regularization", {{"L2", 0.01}}}};
  algo["actor_layer_dims"] = nlohmann::json::array();
  algo["gmm"]["enabled"] = true;
  algo["gmm"]["num_modes"] = 5;
  algo["gmm"]["min_std"] = 0.0001;
  algo["transformer"]["enabled"] = true;
  algo["transformer"]["supervise_all_steps"] = false;
  algo["transformer"]["num_layers"] = 6;
  algo["transformer"]["embed_dim"] = 512;
  algo["transformer"]["num_heads"] = 8;
}

inline AlgorithmSpec bc_transformer_spec() {
  AlgorithmSpec s;
  s.name = "bc_transformer";
  s.algo_name = "bc";
  s.selects = bc_uses_transformer;
  s.extension_keys = bc_extension_keys();
  s.validate = validate_bc;
  s.window_steps = [](const nlohmann::json& c) {
    return BcTransformerSettings::from_config(c).window_steps();
  };
  s.normalization = NormalizationRule::kRobomimic;
  s.published = [](const std::string& dir) {
    return published_for_tasks(bc_defaults, "bc_transformer", dir, bc_transformer_published);
  };
  s.set_builder<float, Cpu>(build_bc_transformer<float, Cpu>);
  return s;
}

// Builds BC-VAE for any scalar type and device (CUDA: cuda::add_cuda_builders).
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_bc_vae(const BuildArgs& a) {
  return std::make_unique<BcVae<T, D>>(a.meta, a.norm, BcVaeSettings::from_config(a.config), a.seed,
                                       a.schedule_units);
}

inline AlgorithmSpec bc_vae_spec() {
  AlgorithmSpec s;
  s.name = "bc_vae";
  s.algo_name = "bc";
  s.selects = bc_uses_vae;
  s.extension_keys = bc_extension_keys();
  s.validate = validate_bc;
  s.normalization = NormalizationRule::kRobomimic;
  // robomimic publishes no BC-VAE run: its defaults (latent 14, N(0, 1) prior, 300-400 MLPs).
  s.published = [](const std::string& dir) {
    return published_for_tasks(bc_defaults, "bc_vae", dir,
                               [](nlohmann::json& c, bool) { c["algo"]["vae"]["enabled"] = true; });
  };
  s.set_builder<float, Cpu>(build_bc_vae<float, Cpu>);
  return s;
}

}  // namespace mimic::policy
