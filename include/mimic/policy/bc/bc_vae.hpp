#pragma once
// BC-VAE (robomimic's BC with algo.vae.enabled): a conditional VAE over the action of one step
// given its observation features (nn/vae.hpp). Training minimizes reconstruction + kl_weight x
// KL; at rollout a latent drawn from the prior is decoded into the action.
#include <nlohmann/json.hpp>

#include "mimic/config/schema.hpp"
#include "mimic/nn/vae.hpp"
#include "mimic/policy/bc/bc.hpp"
#include "mimic/policy/core/vae_config.hpp"

namespace mimic::policy {

struct BcVaeSettings : BcSettings {
  nn::VaeSettings vae;

  static BcVaeSettings from_config(const nlohmann::json& given) {
    const nlohmann::json config = with_defaults(bc_defaults(), given);
    BcVaeSettings s;
    static_cast<BcSettings&>(s) = BcSettings::from_config(config);
    s.vae = vae_settings_from_json(config.at("algo").at("vae"), "algo.vae");
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
