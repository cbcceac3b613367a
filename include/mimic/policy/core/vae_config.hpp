#pragma once
// robomimic's VAE block (BC-VAE's algo.vae, BCQ's algo.action_sampler.vae): its defaults, and
// its settings as nn::VaeSettings (errors name the key under `p`).
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/schema.hpp"
#include "mimic/nn/vae.hpp"

namespace mimic::policy {

inline nn::VaeSettings vae_settings_from_json(const nlohmann::json& v, const std::string& p) {
  nn::VaeSettings x;
  x.latent_dim = config::bounded(v.at("latent_dim"), p + ".latent_dim", 1, config::kMaxConfigSize);
  if (!v.at("latent_clip").is_null()) {
    x.latent_clip = config::typed<double>(v, "latent_clip", p);
    if (!(*x.latent_clip > 0))
      throw ValueError("config: '" + p + ".latent_clip' must be null or > 0, got " +
                       v.at("latent_clip").dump());
  }
  x.kl_weight = config::typed<double>(v, "kl_weight", p);
  if (!std::isfinite(x.kl_weight) || x.kl_weight < 0)
    throw ValueError("config: '" + p + ".kl_weight' must be finite and >= 0, got " +
                     v.at("kl_weight").dump());
  // robomimic's unconditioned decoder (then the prior must be conditioned) is not built.
  config::require(config::typed<bool>(v.at("decoder"), "is_conditioned", p + ".decoder"),
                  p + ".decoder.is_conditioned",
                  "must be true (an unconditioned decoder is not supported)",
                  v["decoder"]["is_conditioned"]);
  x.reconstruction_sum =
      config::typed<bool>(v.at("decoder"), "reconstruction_sum_across_elements", p + ".decoder");
  for (auto [key, dims] : {std::pair{"encoder_layer_dims", &x.encoder_dims},
                           std::pair{"decoder_layer_dims", &x.decoder_dims},
                           std::pair{"prior_layer_dims", &x.prior_dims}})
    *dims = config::bounded_list(v, key, p, 1, config::kMaxConfigSize, 1);
  const auto& pr = v.at("prior");
  const std::string pp = p + ".prior";
  x.prior_learn = config::typed<bool>(pr, "learn", pp);
  x.prior_conditioned = config::typed<bool>(pr, "is_conditioned", pp);
  x.use_gmm = config::typed<bool>(pr, "use_gmm", pp);
  x.gmm_modes = config::bounded(pr.at("gmm_num_modes"), pp + ".gmm_num_modes", 1, 1024);
  x.gmm_learn_weights = config::typed<bool>(pr, "gmm_learn_weights", pp);
  x.use_categorical = config::typed<bool>(pr, "use_categorical", pp);
  x.categorical_dim = config::bounded(pr.at("categorical_dim"), pp + ".categorical_dim", 1, 4096);
  x.gumbel_hard = config::typed<bool>(pr, "categorical_gumbel_softmax_hard", pp);
  x.init_temperature = config::typed<double>(pr, "categorical_init_temp", pp);
  x.temperature_anneal = config::typed<double>(pr, "categorical_temp_anneal_step", pp);
  x.min_temperature = config::typed<double>(pr, "categorical_min_temp", pp);
  if (x.use_categorical && !(x.min_temperature > 0 && x.init_temperature > 0))
    throw ValueError("config: '" + pp +
                     ".categorical_min_temp' and categorical_init_temp must be > 0");
  // robomimic's own asserts, as errors that name the key.
  if (x.use_gmm && x.use_categorical)
    throw ValueError("config: '" + pp + ".use_gmm' and use_categorical are exclusive");
  if (x.use_gmm && !x.prior_learn)
    throw ValueError("config: '" + pp + ".use_gmm' needs " + pp + ".learn: true");
  if (x.prior_conditioned && !x.prior_learn)
    throw ValueError("config: '" + pp + ".is_conditioned' needs " + pp + ".learn: true");
  return x;
}

// robomimic's VAE block (BC-VAE's algo.vae; BCQ's action sampler).
inline nlohmann::json robomimic_vae_defaults(bool enabled) {
  return {{"enabled", enabled},
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
          {"prior_layer_dims", {300, 400}}};
}

}  // namespace mimic::policy
