#pragma once
// Diffusion Policy: a denoiser over a horizon of actions conditioned on the last n_obs_steps
// normalized observations: the CNN variant's ConditionalUnet1D (observations flattened as global
// conditioning) or DP-T's TransformerForDiffusion (one memory token per observation step, with
// DP's weight-decay groups). Training adds noise at a random timestep and regresses the noise (or
// the sample); an EMA of the weights is used for inference, which runs DDPM or DDIM from Gaussian
// noise and executes prediction[To-1 : To-1+Ta].
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "mimic/config/schema.hpp"
#include "mimic/diffusion/scheduler.hpp"
#include "mimic/loss/losses.hpp"
#include "mimic/nn/transformer_for_diffusion.hpp"
#include "mimic/nn/unet1d.hpp"
#include "mimic/optim/ema.hpp"
#include "mimic/policy/core/policy.hpp"
#include "mimic/policy/diffusion/defaults.hpp"

namespace mimic::policy {

struct DiffusionPolicySettings {
  int64_t n_obs_steps = 2, n_action_steps = 8, horizon = 16;
  nn::UnetConfig unet;  // input_dim and global_cond_dim are set from the shape metadata
  bool transformer_denoiser = false;              // DP-T instead of the UNet
  nn::TransformerForDiffusionConfig transformer;  // dims and horizon set from the metadata
  bool use_ema = true;
  optim::EmaOptions ema;
  diffusion::SamplerKind sampler = diffusion::SamplerKind::kDdpm;
  diffusion::SchedulerConfig scheduler;
  int64_t num_inference_steps = 100;
  OptimizerSettings optim;
  EncoderSettings encoder = EncoderSettings::from_config({}, nn::NormKind::kGroup, true);

  static DiffusionPolicySettings from_config(const nlohmann::json& given) {
    const nlohmann::json config = with_defaults(diffusion_policy_defaults(), given);
    DiffusionPolicySettings s;
    const auto& algo = config.at("algo");
    const auto& h = algo.at("horizon");
    s.n_obs_steps = config::bounded(h.at("observation_horizon"), "algo.horizon.observation_horizon",
                                    1, config::kMaxConfigSize);
    s.n_action_steps = config::bounded(h.at("action_horizon"), "algo.horizon.action_horizon", 1,
                                       config::kMaxConfigSize);
    s.horizon = config::bounded(h.at("prediction_horizon"), "algo.horizon.prediction_horizon", 1,
                                config::kMaxConfigSize);
    if (s.n_obs_steps < 1 || s.n_action_steps < 1 ||
        s.n_obs_steps - 1 + s.n_action_steps > s.horizon)
      throw ValueError(
          "algo.horizon: need observation_horizon >= 1, action_horizon >= 1 and "
          "observation_horizon - 1 + action_horizon <= prediction_horizon");
    const auto& u = algo.at("unet");
    const auto& tr = algo.at("transformer");
    s.transformer_denoiser = config::typed<bool>(tr, "enabled", "algo.transformer");
    if (config::typed<bool>(u, "enabled", "algo.unet") == s.transformer_denoiser)
      throw ValueError(
          "config: enable exactly one denoiser: 'algo.unet.enabled' or 'algo.transformer.enabled'");
    if (s.transformer_denoiser) s.transformer = transformer_from(tr, s);
    s.unet.diffusion_step_embed_dim =
        config::bounded(u.at("diffusion_step_embed_dim"), "algo.unet.diffusion_step_embed_dim", 1,
                        config::kMaxConfigSize);
    s.unet.down_dims = config::bounded_list(u, "down_dims", "algo.unet", 1, config::kMaxConfigSize);
    s.unet.kernel_size = config::bounded(u.at("kernel_size"), "algo.unet.kernel_size", 1, 1024);
    s.unet.n_groups =
        config::bounded(u.at("n_groups"), "algo.unet.n_groups", 1, config::kMaxConfigSize);
    for (int64_t d : s.unet.down_dims)  // every block group-normalizes its width
      if (d % s.unet.n_groups != 0)
        throw ValueError("config: 'algo.unet.n_groups' (" + std::to_string(s.unet.n_groups) +
                         ") must divide every width of 'algo.unet.down_dims' " +
                         u["down_dims"].dump());
    s.unet.cond_predict_scale = config::typed<bool>(u, "cond_predict_scale", "algo.unet");
    s.use_ema = config::typed<bool>(algo.at("ema"), "enabled", "algo.ema");
    s.ema.power = config::typed<double>(algo.at("ema"), "power", "algo.ema");
    const bool ddim = config::typed<bool>(algo.at("ddim"), "enabled", "algo.ddim");
    const bool ddpm = config::typed<bool>(algo.at("ddpm"), "enabled", "algo.ddpm");
    if (ddim == ddpm) throw ValueError("algo: enable exactly one of ddpm and ddim");
    const auto& sc = algo.at(ddim ? "ddim" : "ddpm");
    const std::string section = ddim ? "algo.ddim" : "algo.ddpm";
    s.sampler = ddim ? diffusion::SamplerKind::kDdim : diffusion::SamplerKind::kDdpm;
    s.scheduler.num_train_timesteps =
        config::bounded(sc.at("num_train_timesteps"), section + ".num_train_timesteps", 1, 1000000);
    s.num_inference_steps = config::bounded(sc.at("num_inference_timesteps"),
                                            section + ".num_inference_timesteps", 1, 1000000);
    s.scheduler.beta_schedule = config::naming_path(section + ".beta_schedule", [&] {
      return diffusion::beta_schedule_from_name(
          config::typed<std::string>(sc, "beta_schedule", section));
    });
    s.scheduler.clip_sample = config::typed<bool>(sc, "clip_sample", section);
    s.scheduler.float32_tables = config::typed<bool>(sc, "float32_tables", section);
    s.scheduler.prediction_type = config::naming_path(section + ".prediction_type", [&] {
      return diffusion::prediction_from_name(
          config::typed<std::string>(sc, "prediction_type", section));
    });
    if (ddim) {  // DDPM has no final-alpha or offset settings
      s.scheduler.set_alpha_to_one = config::typed<bool>(sc, "set_alpha_to_one", section);
      s.scheduler.steps_offset =
          config::bounded(sc.at("steps_offset"), section + ".steps_offset", 0, 1000000);
    }
    s.optim = OptimizerSettings::from_config(config);
    s.encoder = EncoderSettings::from_config(config, nn::NormKind::kGroup, true);
    return s;
  }

 private:
  static nn::TransformerForDiffusionConfig transformer_from(const nlohmann::json& t,
                                                            const DiffusionPolicySettings& s) {
    const std::string p = "algo.transformer";
    nn::TransformerForDiffusionConfig c;
    c.n_layer = config::bounded(t.at("n_layer"), p + ".n_layer", 1, 1024);
    c.n_head = config::bounded(t.at("n_head"), p + ".n_head", 1, 4096);
    c.n_emb = config::bounded(t.at("n_emb"), p + ".n_emb", 4, config::kMaxConfigSize);
    if (c.n_emb % c.n_head != 0 || c.n_emb % 2 != 0)
      throw ValueError("config: '" + p + ".n_head' (" + std::to_string(c.n_head) +
                       ") must divide '" + p + ".n_emb' (" + std::to_string(c.n_emb) +
                       "), which must be even");
    c.n_cond_layers = config::bounded(t.at("n_cond_layers"), p + ".n_cond_layers", 0, 1024);
    for (auto [key, out] :
         {std::pair{"p_drop_emb", &c.p_drop_emb}, std::pair{"p_drop_attn", &c.p_drop_attn}}) {
      *out = config::typed<double>(t, key, p);
      if (!(*out >= 0 && *out < 1))
        throw ValueError("config: '" + p + "." + key + "' must be in [0, 1), got " +
                         t.at(key).dump());
    }
    c.causal_attn = config::typed<bool>(t, "causal_attn", p);
    c.time_as_cond = config::typed<bool>(t, "time_as_cond", p);
    if (!config::typed<bool>(t, "obs_as_cond", p) || !c.time_as_cond)
      throw UnsupportedError(
          "config: '" + p +
          ".obs_as_cond' and time_as_cond must be true (observations as memory "
          "tokens, DP-T's low-dim setting; inpainting the observations is not supported)");
    c.horizon = s.horizon;
    c.n_obs_steps = s.n_obs_steps;
    return c;
  }
};

template <class T = float, class D = Cpu>
class DiffusionPolicy : public Policy<T, D> {
 public:
  DiffusionPolicy(const ShapeMeta& meta, const Normalization& norm,
                  const DiffusionPolicySettings& s, uint64_t seed, int64_t schedule_units)
      : Policy<T, D>(s.transformer_denoiser ? "diffusion_policy_transformer" : "diffusion_policy",
                     meta, norm, seed, s.encoder),
        s_(s),
        scheduler_(s.sampler, s.scheduler) {
    if (s.transformer_denoiser) {
      nn::TransformerForDiffusionConfig c = s.transformer;
      c.input_dim = c.output_dim = meta.action_dim;
      c.cond_dim = this->feature_dim();
      transformer_.emplace(this->store_, "model", c);
    } else {
      unet_.emplace(this->store_, unet_config(this->feature_dim(), meta, s), "model");
    }
    this->finish_setup(s.optim, schedule_units);
    if (transformer_)  // DP-T: no decay for biases, LayerNorms and position embeddings
      this->optimizer_->adam().set_weight_decay_filter(&nn::TransformerForDiffusion<T, D>::decays);
    scheduler_.set_timesteps(s.num_inference_steps);
    if (s.use_ema) {
      ema_ = std::make_unique<optim::Ema<T, D>>(this->store_, s.ema);
      ema_store_ = this->store_.view_with_values(ema_->averaged());  // shares the EMA buffer
    }
  }
  int64_t n_obs_steps() const override { return s_.n_obs_steps; }
  const DiffusionPolicySettings& settings() const { return s_; }
  optim::Ema<T, D>* ema() { return ema_.get(); }

  // Observation rows [B, To, obs_dim] (low-dim part normalized) -> executable actions [B, Ta, A]
  // (in the dataset's action space), sampled with the EMA weights when enabled. Images are
  // encoded once per chunk. The denoising loop runs on device buffers kept between chunks, with
  // every random draw made before it, so on CUDA it is recorded once as a graph and replayed
  // (the device queue's run_recorded; the CPU runs it as it is).
  Tensor<float> predict(const Tensor<float>& obs_features) {
    auto result =
        Tensor<float>::empty({obs_features.dim(0), s_.n_action_steps, this->meta_.action_dim});
    predict_into(obs_features, result);
    return result;
  }
  // predict into `result` [B, n_action_steps, A]; after the first chunk at this batch size it
  // makes no heap allocation (the chunk's buffers, host copy and recording are kept).
  void predict_into(const Tensor<float>& obs_features, const Tensor<float>& result) {
    const auto on_queue = this->on_device_queue();
    const int64_t b = obs_features.dim(0), a = this->meta_.action_dim, h = s_.horizon;
    if (result.rank() != 3 || result.dim(0) != b || result.dim(1) != s_.n_action_steps ||
        result.dim(2) != a)
      throw ShapeError("DiffusionPolicy::predict_into: result has shape " + result.shape().str() +
                       ", expected [" + std::to_string(b) + ", " +
                       std::to_string(s_.n_action_steps) + ", " + std::to_string(a) + "]");
    const nn::ParamStore<T, D>& store = inference_store();
    Tape<T, D>& tape = this->tape_;
    ChunkBuffers& c = chunk_buffers(b);
    {  // the condition [B, To * feature_dim], computed and uploaded once per chunk
      tape.reset();
      auto guard = tape.no_grad();
      const Tensor<T, D> encoded =
          this->encoder_.has_rgb() ? this->encode(store, upload(tape, obs_features), false).value()
                                   : upload(tape, obs_features).value();
      c.cond.copy_from(encoded.reshape(c.cond.shape()));
    }
    // x_T and every DDPM step's noise, in the order the steps take them (the same values as
    // drawing at each step).
    Kernels<D>::generate(c.noise.numel(),
                         diffusion::detail::NormalNoise<T>{
                             this->rng_.seed, this->rng_.advance(uint64_t(c.noise.numel()))},
                         c.noise.data());
    this->queue_.run_recorded(b, [&] { denoise(store, c); });
    DeviceMemory<D>::to_host(c.host_result.data(), c.result.data(), c.result.bytes());
    const int64_t start = s_.n_obs_steps - 1;
    for (int64_t i = 0; i < b; ++i)
      for (int64_t j = 0; j < s_.n_action_steps * a; ++j)
        result.data()[i * s_.n_action_steps * a + j] =
            float(c.host_result[size_t((i * h + start) * a + j)]);
    unnormalize_rows(this->norm_.action, result.data(), b * s_.n_action_steps, a);
  }
  // Whether chunks replay a recorded graph (CUDA), and why not when they do not.
  void set_recording(bool on) { this->queue_.set_recording(on); }
  std::string recording_fallback() const { return this->queue_.recording_fallback(); }

  Tensor<float> act_rollout(const Tensor<float>& features, const std::vector<int>&) override {
    return predict(features);
  }
  void act_rollout_into(const Tensor<float>& features, const std::vector<int>&,
                        Tensor<float>& actions) override {
    const Shape want{features.dim(0), s_.n_action_steps, this->meta_.action_dim};
    if (actions.data() == nullptr || actions.numel() != want.numel())
      actions = Tensor<float>::empty(want);
    actions = actions.reshape(want);
    predict_into(features, actions);
  }

  std::map<std::string, Tensor<T, D>> state_tensors() const override {
    auto out = Policy<T, D>::state_tensors();
    if (ema_) this->add_flat(out, "ema.", ema_->averaged());
    return out;
  }
  nlohmann::json state_json() const override {
    nlohmann::json j = Policy<T, D>::state_json();
    if (ema_) j["ema"] = {{"steps", ema_->steps()}};
    return j;
  }
  void load_weights(const std::map<std::string, Tensor<float>>& tensors) override {
    const auto on_queue = this->on_device_queue();
    Policy<T, D>::load_weights(tensors);
    if (ema_) ema_->averaged().copy_from(this->store_.values());
  }
  void load_state(const std::map<std::string, Tensor<float>>& tensors,
                  const nlohmann::json& j) override {
    const auto on_queue = this->on_device_queue();
    Policy<T, D>::load_state(tensors, j);
    if (ema_) {
      const bool has = tensors.count("ema." + this->store_.entries()[0].name) > 0;
      // A checkpoint without EMA weights (for example exported from elsewhere) uses the weights.
      if (has)
        this->load_flat(tensors, "ema.", ema_->averaged(), true);
      else
        ema_->averaged().copy_from(this->store_.values());
      if (j.contains("ema")) ema_->set_steps(j["ema"].value("steps", int64_t(0)));
    }
  }

 protected:
  Var<T, D> compute_loss(const data::Batch& batch, Tape<T, D>& tape, bool training,
                         Scalars& scalars) override {
    const ShapeMeta& m = this->meta_;
    Tensor<float> obs = gather_features(m, this->norm_.obs, batch.obs, 0, s_.n_obs_steps);
    Tensor<float> act = gather_actions(this->norm_.action, batch.data.at("actions"), 0, s_.horizon);
    const int64_t b = obs.dim(0);
    Var<T, D> x0 = upload(tape, act);
    Tensor<T, D> noise = tape.alloc(x0.shape()), noisy = tape.alloc(x0.shape());
    Kernels<D>::generate(noise.numel(),
                         diffusion::detail::NormalNoise<T>{
                             this->rng_.seed, this->rng_.advance(uint64_t(noise.numel()))},
                         noise.data());
    std::vector<int64_t> t(static_cast<size_t>(b));
    auto steps = Tensor<float>::empty({b});
    const uint64_t base = this->rng_.advance(uint64_t(b));
    const int64_t n = s_.scheduler.num_train_timesteps;
    for (int64_t i = 0; i < b; ++i) {
      t[size_t(i)] =
          std::min<int64_t>(n - 1, int64_t(philox_uniform<double>(this->rng_.seed, base + i) * n));
      steps[i] = float(t[size_t(i)]);
    }
    scheduler_.add_noise(x0.value(), noise, t, noisy);
    Var<T, D> cond = ops::reshape(this->encode(this->store_, upload(tape, obs), training),
                                  Shape{b, s_.n_obs_steps * this->feature_dim()});
    Var<T, D> pred =
        denoise_once(this->store_, tape.constant(noisy), upload(tape, steps), cond, training);
    Var<T, D> target =
        s_.scheduler.prediction_type == diffusion::Prediction::kEpsilon ? tape.constant(noise) : x0;
    Var<T, D> l = loss::mse(pred, target);
    scalars["L2_Loss"] = scalars["Loss"] = double(l.value().to_vector()[0]);
    return l;
  }
  void after_optimizer_step() override {
    if (ema_) ema_->update();
  }

 private:
  static nn::UnetConfig unet_config(int64_t feature_dim, const ShapeMeta& meta,
                                    const DiffusionPolicySettings& s) {
    nn::UnetConfig c = s.unet;
    c.input_dim = meta.action_dim;
    c.global_cond_dim = feature_dim * s.n_obs_steps;
    return c;
  }
  const nn::ParamStore<T, D>& inference_store() const { return ema_ ? ema_store_ : this->store_; }
  // The denoiser's output for samples x [B, H, A] at steps [B] given the condition
  // [B, To * feature_dim] (the transformer reads it as To tokens).
  Var<T, D> denoise_once(const nn::ParamStore<T, D>& store, Var<T, D> x, Var<T, D> steps,
                         Var<T, D> cond, bool training) {
    if (!transformer_) return (*unet_)(store, x, steps, cond);
    const int64_t b = cond.shape()[0];
    return (*transformer_)(store, x, steps,
                           ops::reshape(cond, Shape{b, s_.n_obs_steps, this->feature_dim()}),
                           this->rng_, training);
  }

  // The device buffers of one chunk at batch size `batch`: the condition, the two samples the
  // steps alternate between (`result` is the one holding x_0), and the chunk's noise.
  struct ChunkBuffers {
    int64_t batch = -1;
    Tensor<T, D> cond, x, next, noise, result;
    std::vector<T> host_result;  // result's values on the host, sized once
  };
  ChunkBuffers& chunk_buffers(int64_t b) {
    if (chunk_.batch == b) return chunk_;
    this->queue_.forget_recorded();  // recordings point at the buffers being replaced
    const int64_t a = this->meta_.action_dim, h = s_.horizon;
    chunk_.cond = Tensor<T, D>::empty({b, unet_cond_dim()});
    chunk_.x = Tensor<T, D>::empty({b, h, a});
    chunk_.next = Tensor<T, D>::empty({b, h, a});
    chunk_.noise = Tensor<T, D>::empty({scheduler_.chunk_noise_blocks(), b, h, a});
    chunk_.result = scheduler_.timesteps().size() % 2 == 0 ? chunk_.x : chunk_.next;
    chunk_.host_result.assign(size_t(b * h * a), T(0));
    chunk_.batch = b;
    return chunk_;
  }
  int64_t unet_cond_dim() const { return s_.n_obs_steps * this->feature_dim(); }
  // All denoising steps from x_T = noise block 0; the same device work on every call.
  void denoise(const nn::ParamStore<T, D>& store, const ChunkBuffers& c) {
    Tape<T, D>& tape = this->tape_;
    Tensor<T, D> x = c.x, next = c.next;
    x.copy_from(c.noise.select(0));
    int64_t drawn = 1;
    for (int64_t t : scheduler_.timesteps()) {
      tape.reset();
      auto guard = tape.no_grad();
      Tensor<T, D> steps = tape.alloc(Shape{c.batch});
      steps.fill(T(float(t)));
      Var<T, D> out =
          denoise_once(store, tape.constant(x), tape.constant(steps), tape.constant(c.cond), false);
      const Tensor<T, D> z =
          scheduler_.step_draws_noise(t) ? c.noise.select(drawn++) : Tensor<T, D>();
      scheduler_.step(out.value(), t, x, next, z);
      std::swap(x, next);
    }
  }

  DiffusionPolicySettings s_;
  std::optional<nn::ConditionalUnet1D<T, D>> unet_;  // one of the two
  std::optional<nn::TransformerForDiffusion<T, D>> transformer_;
  diffusion::Scheduler<T, D> scheduler_;
  std::unique_ptr<optim::Ema<T, D>> ema_;
  nn::ParamStore<T, D> ema_store_;
  ChunkBuffers chunk_;
};

}  // namespace mimic::policy
