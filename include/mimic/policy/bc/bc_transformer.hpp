#pragma once
// BC-Transformer (robomimic's BC with algo.transformer.enabled): the features of context_length
// frame-stacked observation steps, each embedded by a Linear, plus a timestep embedding (a learned
// [1, T, E] parameter, an nn.Embedding table or the fixed sinusoidal code), LayerNorm and dropout,
// then the GPT backbone and the action head at every step. Training supervises the last step, or
// every step (supervise_all_steps; pred_future_acs shifts those targets to the steps from the
// current one on). At rollout the policy sees the last context_length observations and acts with
// the current step's prediction (the first one when it predicts future actions).
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mimic/config/schema.hpp"
#include "mimic/nn/gpt.hpp"
#include "mimic/policy/bc/bc.hpp"

namespace mimic::policy {

struct BcTransformerSettings : BcSettings {
  nn::GptSettings gpt;
  double emb_dropout = 0.1;
  enum class Timesteps { kParameter, kEmbedding, kSinusoidal } timesteps = Timesteps::kParameter;
  bool supervise_all_steps = false, pred_future_acs = false;

  static BcTransformerSettings from_config(const nlohmann::json& given) {
    const nlohmann::json config = with_defaults(bc_defaults(), given);
    BcTransformerSettings s;
    static_cast<BcSettings&>(s) = BcSettings::from_config(config);
    const std::string p = "algo.transformer";
    const auto& t = config.at("algo").at("transformer");
    auto probability = [&](const char* key) {
      const double v = config::typed<double>(t, key, p);
      if (!(v >= 0 && v < 1))
        throw ValueError("config: '" + p + "." + key + "' must be in [0, 1), got " +
                         std::to_string(v));
      return v;
    };
    s.gpt.context_length = config::bounded(t.at("context_length"), p + ".context_length", 1, 4096);
    s.gpt.embed_dim =
        config::bounded(t.at("embed_dim"), p + ".embed_dim", 1, config::kMaxConfigSize);
    s.gpt.num_layers = config::bounded(t.at("num_layers"), p + ".num_layers", 1, 1024);
    s.gpt.num_heads = config::bounded(t.at("num_heads"), p + ".num_heads", 1, s.gpt.embed_dim);
    if (s.gpt.embed_dim % s.gpt.num_heads != 0)
      throw ValueError("config: '" + p + ".num_heads' (" + std::to_string(s.gpt.num_heads) +
                       ") must divide " + p + ".embed_dim (" + std::to_string(s.gpt.embed_dim) +
                       ")");
    s.emb_dropout = probability("emb_dropout");
    s.gpt.attn_dropout = probability("attn_dropout");
    s.gpt.block_output_dropout = probability("block_output_dropout");
    const std::string act = config::typed<std::string>(t, "activation", p);
    if (act != "gelu" && act != "geglu")
      throw ValueError("config: '" + p + ".activation' must be \"gelu\" or \"geglu\", got \"" +
                       act + "\"");
    s.gpt.geglu = act == "geglu";
    if (config::typed<bool>(t, "sinusoidal_embedding", p))
      s.timesteps = Timesteps::kSinusoidal;
    else if (!config::typed<bool>(t, "nn_parameter_for_timesteps", p))
      s.timesteps = Timesteps::kEmbedding;
    s.supervise_all_steps = config::typed<bool>(t, "supervise_all_steps", p);
    s.pred_future_acs = config::typed<bool>(t, "pred_future_acs", p);
    if (s.pred_future_acs && !s.supervise_all_steps)
      throw ValueError("config: '" + p +
                       ".pred_future_acs' needs algo.transformer.supervise_all_steps: true");
    if (s.head.kind == ActionHeadSettings::kGaussian)
      throw ValueError(
          "config: 'algo.gaussian.enabled' cannot be combined with algo.transformer.enabled "
          "(robomimic has no Gaussian transformer; use algo.gmm)");
    return s;
  }
  // Steps of each sampled window: the context, and with future targets h - 1 more.
  int64_t window_steps() const {
    const int64_t h = gpt.context_length;
    return pred_future_acs ? 2 * h - 1 : h;
  }
};

template <class T = float, class D = Cpu>
class BcTransformer : public Policy<T, D> {
 public:
  BcTransformer(const ShapeMeta& meta, const Normalization& norm, const BcTransformerSettings& s,
                uint64_t seed, int64_t schedule_units)
      : Policy<T, D>("bc_transformer", meta, norm, seed, s.encoder), s_(s) {
    const int64_t e = s.gpt.embed_dim, h = s.gpt.context_length;
    nn::ParamStore<T, D>& store = this->store_;
    embed_encoder_ = nn::Linear<T, D>(store, "actor.embed_encoder", this->feature_dim(), e);
    using TS = BcTransformerSettings::Timesteps;
    if (s.timesteps == TS::kParameter)
      embed_timestep_ = store.declare("actor.embed_timestep", {1, h, e}, nn::Init::zeros());
    else if (s.timesteps == TS::kEmbedding)  // nn.Embedding's default init: normal(0, 1)
      embed_timestep_ = store.declare("actor.embed_timestep.weight", {h, e}, nn::Init::normal(1));
    embed_ln_ = nn::LayerNorm<T, D>(store, "actor.embed_ln", Shape{e});
    gpt_ = nn::GptBackbone<T, D>(store, "actor.transformer", s.gpt);
    head_ = ActionHead<T, D>(store, "actor", e, meta.action_dim, s.head);
    this->finish_setup(s.optim, schedule_units);
  }
  const BcTransformerSettings& settings() const { return s_; }
  int64_t n_obs_steps() const override { return s_.gpt.context_length; }

  // Observation rows [B, context_length, obs_dim] -> actions [B, A] in the dataset's space.
  Tensor<float> act(const Tensor<float>& features, const nn::ParamStore<T, D>* weights = nullptr) {
    const auto on_queue = this->on_device_queue();
    const nn::ParamStore<T, D>& store = weights ? *weights : this->store_;
    Tape<T, D>& tape = this->tape_;
    tape.reset();
    auto guard = tape.no_grad();
    check_context(features);
    const int64_t b = features.dim(0), h = s_.gpt.context_length;
    Var<T, D> y = sequence(store, upload(tape, features), false);
    const int64_t step = s_.pred_future_acs ? 0 : h - 1;
    Var<T, D> f = ops::reshape(ops::slice(y, 1, step, step + 1), Shape{b, s_.gpt.embed_dim});
    Tensor<float> a = head_.act(store, f, this->rng_);
    unnormalize_rows(this->norm_.action, a.data(), a.dim(0), a.dim(1));
    return a;
  }
  Tensor<float> act_rollout(const Tensor<float>& features, const std::vector<int>&) override {
    return act(features).reshape({features.dim(0), 1, this->meta_.action_dim});
  }

 protected:
  Var<T, D> compute_loss(const data::Batch& batch, Tape<T, D>& tape, bool training,
                         Scalars& scalars) override {
    const ShapeMeta& m = this->meta_;
    const int64_t h = s_.gpt.context_length, e = s_.gpt.embed_dim;
    const Tensor<float>& actions = batch.data.at("actions");
    Tensor<float> obs = gather_features(m, this->norm_.obs, batch.obs, 0, h);
    const int64_t b = obs.dim(0);
    Var<T, D> y = sequence(this->store_, upload(tape, obs), training);
    if (!s_.supervise_all_steps) {  // the current (last) step only
      Tensor<float> target = gather_actions(this->norm_.action, actions, h - 1, 1);
      Var<T, D> f = ops::reshape(ops::slice(y, 1, h - 1, h), Shape{b, e});
      return head_.loss(this->store_, f, upload(tape, target.reshape({b, m.action_dim})), scalars);
    }
    Tensor<float> target =
        gather_actions(this->norm_.action, actions, s_.pred_future_acs ? h - 1 : 0, h);
    return head_.loss(this->store_, ops::reshape(y, Shape{b * h, e}),
                      upload(tape, target.reshape({b * h, m.action_dim})), scalars);
  }

 private:
  void check_context(const Tensor<float>& features) const {
    if (features.rank() != 3 || features.dim(1) != s_.gpt.context_length)
      throw ShapeError("bc_transformer: expected observation rows [B, " +
                       std::to_string(s_.gpt.context_length) + ", obs_dim], got " +
                       features.shape().str());
  }
  // Raw observation rows [B, T, obs_dim] -> transformer outputs [B, T, E].
  Var<T, D> sequence(const nn::ParamStore<T, D>& store, Var<T, D> raw, bool training) {
    Tape<T, D>& tape = *raw.tape;
    const int64_t t = raw.shape()[1];
    Var<T, D> x = embed_encoder_(store, this->encode(store, raw, training));
    x = x + timestep_embedding(store, tape, t);
    x = ops::dropout(embed_ln_(store, x), s_.emb_dropout, this->rng_, training);
    return gpt_(store, x, this->rng_, training);
  }
  // [1, T, E], added to every sequence of the batch.
  Var<T, D> timestep_embedding(const nn::ParamStore<T, D>& store, Tape<T, D>& tape, int64_t t) {
    const int64_t e = s_.gpt.embed_dim;
    using TS = BcTransformerSettings::Timesteps;
    if (s_.timesteps == TS::kParameter) return store.on(tape, embed_timestep_);
    if (s_.timesteps == TS::kEmbedding)
      return ops::reshape(ops::slice(store.on(tape, embed_timestep_), 0, 0, t), Shape{1, t, e});
    // robomimic's PositionalEncoding: column 2i holds sin(k w_i), 2i + 1 cos(k w_i), with
    // w_i = exp(-2i ln(10000) / E) evaluated in float as torch does.
    if (sinusoid_.numel() != t * e) {
      sinusoid_ = Tensor<float>::zeros({1, t, e});
      for (int64_t k = 0; k < t; ++k)
        for (int64_t i = 0; 2 * i < e; ++i) {
          const float w = std::exp(float(2 * i) * float(-std::log(10000.0) / double(e)));
          const float angle = float(k) * w;
          sinusoid_[k * e + 2 * i] = std::sin(angle);
          if (2 * i + 1 < e) sinusoid_[k * e + 2 * i + 1] = std::cos(angle);
        }
    }
    return upload(tape, sinusoid_);
  }

  BcTransformerSettings s_;
  nn::Linear<T, D> embed_encoder_;
  nn::ParamId embed_timestep_;
  nn::LayerNorm<T, D> embed_ln_;
  nn::GptBackbone<T, D> gpt_;
  ActionHead<T, D> head_;
  Tensor<float> sinusoid_;
};

}  // namespace mimic::policy
