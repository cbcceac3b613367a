#pragma once
// BC-VAE (robomimic's BC with algo.vae.enabled): a conditional VAE over the action of one step
// given its observation features (nn/vae.hpp). Training minimizes reconstruction + kl_weight x
// KL; at rollout a latent drawn from the prior is decoded into the action.
#include <nlohmann/json.hpp>

#include "mimic/config/schema.hpp"
#include "mimic/nn/vae.hpp"
#include "mimic/policy/bc/bc.hpp"

namespace mimic::policy {

struct BcVaeSettings : BcSettings {
  nn::VaeSettings vae;

  static BcVaeSettings from_config(const nlohmann::json& given) {
    const nlohmann::json config = with_defaults(bc_defaults(), given);
    BcVaeSettings s;
    static_cast<BcSettings&>(s) = BcSettings::from_config(config);
    const std::string p = "algo.vae";
    const auto& v = config.at("algo").at("vae");
    nn::VaeSettings& x = s.vae;
    x.latent_dim =
        config::bounded(v.at("latent_dim"), p + ".latent_dim", 1, config::kMaxConfigSize);
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
      throw ValueError("config: '" + pp + ".use_gmm' needs algo.vae.prior.learn: true");
    if (x.prior_conditioned && !x.prior_learn)
      throw ValueError("config: '" + pp + ".is_conditioned' needs algo.vae.prior.learn: true");
    return s;
  }
};

template <class T = float, class D = Cpu>
class BcVae : public Policy<T, D> {
 public:
  BcVae(const ShapeMeta& meta, const Normalization& norm, const BcVaeSettings& s, uint64_t seed,
        int64_t schedule_units)
      : Policy<T, D>("bc_vae", meta, norm, seed, s.encoder),
        s_(s),
        vae_(this->store_, "actor", meta.action_dim, this->feature_dim(), s.vae) {
    this->finish_setup(s.optim, schedule_units);
  }
  const BcVaeSettings& settings() const { return s_; }

  // Observation rows [B, obs_dim] -> actions [B, A] decoded from prior samples.
  Tensor<float> act(const Tensor<float>& features, const nn::ParamStore<T, D>* weights = nullptr) {
    const auto on_queue = this->on_device_queue();
    const nn::ParamStore<T, D>& store = weights ? *weights : this->store_;
    this->tape_.reset();
    auto guard = this->tape_.no_grad();
    Var<T, D> c = this->encode(store, upload(this->tape_, features), false);
    Tensor<float> a = download(vae_.sample(store, c, this->rng_).value());
    unnormalize_rows(this->norm_.action, a.data(), a.dim(0), a.dim(1));
    return a;
  }
  Tensor<float> act_rollout(const Tensor<float>& features, const std::vector<int>&) override {
    return act(this->last_step(features)).reshape({features.dim(0), 1, this->meta_.action_dim});
  }

 protected:
  Var<T, D> compute_loss(const data::Batch& batch, Tape<T, D>& tape, bool training,
                         Scalars& scalars) override {
    const ShapeMeta& m = this->meta_;
    Tensor<float> obs = gather_features(m, this->norm_.obs, batch.obs, 0, 1);
    Tensor<float> act = gather_actions(this->norm_.action, batch.data.at("actions"), 0, 1);
    const int64_t b = obs.dim(0);
    Var<T, D> c = this->encode(this->store_, upload(tape, obs.reshape({b, m.obs_dim()})), training);
    // robomimic anneals the temperature by its epoch counter, which starts at 1.
    const double temperature = s_.vae.temperature(this->optimizer_->epochs() + 1);
    const nn::VaeLoss<T, D> l = vae_.loss(
        this->store_, upload(tape, act.reshape({b, m.action_dim})), c, this->rng_, temperature);
    scalars["Loss"] = scalar(l.total);
    scalars["KL_Loss"] = scalar(l.kl);
    scalars["Reconstruction_Loss"] = scalar(l.reconstruction);
    if (s_.vae.use_categorical) {
      scalars["Gumbel_Temperature"] = temperature;
    } else {
      const std::vector<T> lv = l.encoder_logvar.value().to_vector();
      double v = 0;
      for (T x : lv) v += std::exp(double(x)) / double(lv.size());
      scalars["Encoder_Variance"] = v;
    }
    return l.total;
  }

 private:
  static double scalar(const Var<T, D>& v) { return double(v.value().to_vector()[0]); }
  BcVaeSettings s_;
  nn::ConditionalVae<T, D> vae_;
};

}  // namespace mimic::policy
