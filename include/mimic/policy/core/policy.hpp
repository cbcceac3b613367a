#pragma once
// What every algorithm shares: its parameters, a tape, the optimizer and schedule, normalization
// statistics, a random stream, one training step (zero grads, loss, backward, clip, optimizer
// step, post-step hook such as EMA), a no-grad validation loss, and its whole state as named
// tensors plus JSON for checkpoints. An algorithm supplies the loss and its inference.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/backend/cpu/kernels.hpp"
#include "mimic/core/device_queue.hpp"
#include "mimic/core/philox.hpp"
#include "mimic/data/batch.hpp"
#include "mimic/policy/core/any_policy.hpp"
#include "mimic/policy/core/features.hpp"
#include "mimic/policy/core/obs_encoder.hpp"
#include "mimic/policy/core/optimizer.hpp"

namespace mimic::policy {

// Puts a host float tensor on the tape as a constant of the policy's scalar type and device.
template <class T, class D>
Var<T, D> upload(Tape<T, D>& tape, const Tensor<float>& x) {
  if constexpr (std::is_same_v<T, float> && is_cpu_v<D>) {
    return tape.constant(x);
  } else {
    std::vector<T> host(size_t(x.numel()));
    for (int64_t i = 0; i < x.numel(); ++i) host[size_t(i)] = T(x[i]);
    Tensor<T, D> t = tape.alloc(x.shape());
    Kernels<D>::from_host(t.data(), host.data(), t.bytes());
    return tape.constant(t);
  }
}
// A tape value back to a host float tensor.
template <class T, class D>
Tensor<float> download(const Tensor<T, D>& x) {
  auto out = Tensor<float>::empty(x.shape());
  const std::vector<T> v = x.to_vector();
  for (size_t i = 0; i < v.size(); ++i) out[int64_t(i)] = float(v[i]);
  return out;
}

template <class T = float, class D = Cpu>
class Policy : public AnyPolicy {
 public:
  // Declares the observation encoder's parameters (one VisualCore per rgb key) first.
  Policy(std::string algo, ShapeMeta meta, Normalization norm, uint64_t seed,
         const EncoderSettings& encoder = {})
      : algo_(std::move(algo)),
        meta_(std::move(meta)),
        norm_(std::move(norm)),
        rng_{seed, 0},
        seed_(seed) {
    encoder_ = ObservationEncoder<T, D>(store_, "encoder", meta_, encoder);
  }
  virtual ~Policy() = default;
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  const std::string& algo_name() const override { return algo_; }
  const ShapeMeta& shape_meta() const override { return meta_; }
  const Normalization& normalization() const override { return norm_; }
  std::string_view device_name() const override { return D::name; }
  int64_t parameter_count() const override { return store_.count(); }
  std::vector<std::string> weight_names() const override {
    std::vector<std::string> names;
    for (const auto& e : store_.entries()) names.push_back(e.name);
    return names;
  }
  nn::ParamStore<T, D>& params() { return store_; }
  const nn::ParamStore<T, D>& params() const { return store_; }
  PolicyOptimizer<T, D>& optimizer() { return *optimizer_; }
  // Where the policy's device work is queued (on CUDA: its own stream, made on first use).
  const DeviceQueue<D>& device_queue() const { return queue_; }
  // Features per observation step after the encoder (obs_dim when there are no images).
  int64_t feature_dim() const { return encoder_.output_dim(); }
  int64_t n_obs_steps() const override { return 1; }

  // One gradient step on a batch; returns the loss terms, gradient norm and learning rate.
  Scalars train_on_batch(const data::Batch& batch) override {
    const auto on_queue = on_device_queue();
    tape_.reset();
    store_.zero_grad();
    Scalars s;
    Var<T, D> loss = compute_loss(batch, tape_, true, s);
    tape_.backward(loss);
    s["Optimizer/policy0_lr"] = optimizer_->learning_rate();
    s["Policy_Grad_Norms"] = optimizer_->logged_grad_norms(optimizer_->step());
    after_optimizer_step();
    return s;
  }
  // The same loss terms without gradients or updates (and the learning rate, which robomimic's
  // validation logs as well).
  Scalars validate_on_batch(const data::Batch& batch) override {
    const auto on_queue = on_device_queue();
    tape_.reset();
    auto guard = tape_.no_grad();
    Scalars s;
    compute_loss(batch, tape_, false, s);
    s["Optimizer/policy0_lr"] = optimizer_->learning_rate();
    return s;
  }
  void end_epoch() override { optimizer_->end_epoch(); }

  // --- rollouts (robomimic's RolloutPolicy) --------------------------------------------------
  // Normalized observation rows [B, n_obs_steps, obs_dim] of the rollouts `env_ids` -> actions
  // [B, chunk, A] in the dataset's action space (chunk 1 for single-step policies).
  // (act_rollout stays pure: each algorithm gives its own inference.)
  void reset_rollout(int env_id) override {}

  // --- checkpoint state ---------------------------------------------------------------------
  // Weights under their state-dict names, optimizer moments under "optimizer.exp_avg.<name>" and
  // "optimizer.exp_avg_sq.<name>", plus whatever the algorithm adds (EMA weights).
  virtual std::map<std::string, Tensor<T, D>> state_tensors() const {
    std::map<std::string, Tensor<T, D>> out;
    add_flat(out, "", store_.values());
    add_flat(out, "optimizer.exp_avg.", optimizer_->adam().exp_avg());
    add_flat(out, "optimizer.exp_avg_sq.", optimizer_->adam().exp_avg_sq());
    return out;
  }
  std::map<std::string, nn::SafetensorsSource> state_sources() const override {
    std::map<std::string, nn::SafetensorsSource> out;
    for (const auto& entry : state_tensors()) {  // no structured binding: clang 14 cannot
      const auto& name = entry.first;            // capture one
      const auto t = entry.second;
      const Shape s = t.shape();
      // The view shares nothing with the map it came from, so the source may outlive it; the
      // policy's buffers must outlive the source.
      out[name] = {"F32", std::vector<int64_t>(s.dims, s.dims + s.rank), uint64_t(s.numel()) * 4,
                   [t](std::ostream& o) {
                     if constexpr (std::is_same_v<T, float> && is_cpu_v<D>) {
                       o.write(reinterpret_cast<const char*>(t.data()),
                               static_cast<std::streamsize>(t.numel() * 4));
                     } else {  // one tensor at a time through the host
                       const Tensor<float> host = download(t);
                       o.write(reinterpret_cast<const char*>(host.data()),
                               static_cast<std::streamsize>(host.numel() * 4));
                     }
                   }};
    }
    return out;
  }
  nlohmann::json state_json() const override {
    return {{"algo_name", algo_},
            {"shape_meta", meta_.to_json()},
            {"normalization", norm_.to_json()},
            {"optimizer", {{"batches", optimizer_->batches()}, {"epochs", optimizer_->epochs()}}},
            {"rng", {{"seed", rng_.seed}, {"offset", rng_.offset}}}};
  }
  // Replaces the weights (by state-dict name; every one must be given), nothing else.
  void load_weights(const std::map<std::string, Tensor<float>>& tensors) override {
    const auto on_queue = on_device_queue();
    load_flat(tensors, "", store_.values(), true);
  }
  // Restores what state_tensors/state_json saved (a missing tensor is an error naming it).
  void load_state(const std::map<std::string, Tensor<float>>& tensors,
                  const nlohmann::json& j) override {
    const auto on_queue = on_device_queue();
    load_flat(tensors, "", store_.values(), true);
    const bool has_optimizer = tensors.count("optimizer.exp_avg." + store_.entries()[0].name) > 0;
    if (has_optimizer) {
      load_flat(tensors, "optimizer.exp_avg.", optimizer_->adam().exp_avg(), true);
      load_flat(tensors, "optimizer.exp_avg_sq.", optimizer_->adam().exp_avg_sq(), true);
    }
    if (j.contains("optimizer"))
      optimizer_->set_counters(j["optimizer"].value("batches", int64_t(0)),
                               j["optimizer"].value("epochs", int64_t(0)));
    if (j.contains("rng"))
      rng_ = {j["rng"].at("seed").get<uint64_t>(), j["rng"].at("offset").get<uint64_t>()};
  }

 protected:
  // Makes the policy's device queue current until the returned scope ends (on CUDA: the policy's
  // own stream, cuBLAS handle and pinned staging; on the CPU: nothing). Every entry point that
  // queues device work holds one; nested scopes are fine.
  auto on_device_queue() const { return queue_.enter(); }

  // Builds the loss of one batch on `tape` and fills the scalars to log (without prefix).
  virtual Var<T, D> compute_loss(const data::Batch& batch, Tape<T, D>& tape, bool training,
                                 Scalars& scalars) = 0;
  virtual void after_optimizer_step() {}

  // Raw observation rows [..., obs_dim] -> features [..., feature_dim] (the identity without
  // images). `training` selects random crops and batch statistics.
  Var<T, D> encode(const nn::ParamStore<T, D>& store, Var<T, D> raw, bool training) {
    if (!encoder_.has_rgb()) return raw;
    const Shape s = raw.shape();
    const int64_t width = s[s.rank - 1];
    Var<T, D> y =
        encoder_(store, ops::reshape(raw, Shape{s.numel() / width, width}), &rng_, training);
    Shape out = s;
    out.dims[s.rank - 1] = feature_dim();
    return ops::reshape(y, out);
  }

  // The last observation step of rows [B, To, dim] as [B, dim].
  static Tensor<float> last_step(const Tensor<float>& feats) {
    const int64_t b = feats.dim(0), to = feats.dim(1), dim = feats.dim(2);
    auto x = Tensor<float>::empty({b, dim});
    for (int64_t i = 0; i < b; ++i)
      std::copy_n(feats.data() + (i * to + to - 1) * dim, dim, x.data() + i * dim);
    return x;
  }

  // Called by the algorithm's constructor once every module is declared.
  void finish_setup(const OptimizerSettings& settings, int64_t schedule_units) {
    store_.allocate();
    store_.initialize(seed_);
    optimizer_ = std::make_unique<PolicyOptimizer<T, D>>(store_, settings, schedule_units);
  }

  // Per-parameter views of a flat buffer laid out like the store, named prefix + state-dict name.
  void add_flat(std::map<std::string, Tensor<T, D>>& out, const std::string& prefix,
                const Tensor<T, D>& flat) const {
    for (const auto& e : store_.entries())
      out[prefix + e.name] = Tensor<T, D>::view(flat.data() + e.offset, e.shape);
  }
  void load_flat(const std::map<std::string, Tensor<float>>& tensors, const std::string& prefix,
                 const Tensor<T, D>& flat, bool required) const {
    for (const auto& e : store_.entries()) {
      auto it = tensors.find(prefix + e.name);
      if (it == tensors.end()) {
        if (required) throw IoError("checkpoint has no tensor '" + prefix + e.name + "'");
        continue;
      }
      if (it->second.shape() != e.shape)
        throw ShapeError("checkpoint tensor '" + prefix + e.name + "' has shape " +
                         it->second.shape().str() + ", the model expects " + e.shape.str());
      std::vector<T> host(size_t(e.shape.numel()));
      for (size_t i = 0; i < host.size(); ++i) host[i] = T(it->second[int64_t(i)]);
      Kernels<D>::from_host(flat.data() + e.offset, host.data(), host.size() * sizeof(T));
    }
  }

  // First, so that it outlives every buffer the policy's work uses.
  mutable DeviceQueue<D> queue_;
  std::string algo_;
  ShapeMeta meta_;
  Normalization norm_;
  nn::ParamStore<T, D> store_;
  ObservationEncoder<T, D> encoder_;
  std::unique_ptr<PolicyOptimizer<T, D>> optimizer_;
  Tape<T, D> tape_{size_t(1) << 24};
  PhiloxStream rng_;
  uint64_t seed_;
};

}  // namespace mimic::policy
