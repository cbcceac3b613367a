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
  require(!algo["vae"]["enabled"].get<bool>(), "algo.vae.enabled", "is not supported (BC-VAE)",
          algo["vae"]["enabled"]);
  require(!algo["transformer"]["enabled"].get<bool>(), "algo.transformer.enabled",
          "is not supported (BC-Transformer)", algo["transformer"]["enabled"]);
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
  s.selects = [](const nlohmann::json& c) { return !bc_uses_rnn(c); };
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

}  // namespace mimic::policy
