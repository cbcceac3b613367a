#pragma once
// One of several networks an algorithm trains (robomimic's `self.nets[name]` with its own entry in
// `optim_params`): its parameters, its own optimizer and learning-rate schedule, the epochs it
// trains in, and optionally a target copy that follows it by soft updates (robomimic's
// TorchUtils.soft_update: target = target * (1 - tau) + source * tau).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/policy/core/optimizer.hpp"

namespace mimic::policy {

// robomimic's optim_params.<group>: the optimizer and schedule plus the epochs the network
// trains in (start_epoch / end_epoch, -1 for no bound; robomimic's _check_epoch).
struct NetworkOptimSettings {
  OptimizerSettings optim;
  int64_t start_epoch = -1, end_epoch = -1;

  static NetworkOptimSettings from_json(const nlohmann::json& p, const std::string& at) {
    NetworkOptimSettings s;
    s.optim = OptimizerSettings::from_json(p, at);
    if (p.contains("start_epoch")) s.start_epoch = config::typed<int64_t>(p, "start_epoch", at);
    if (p.contains("end_epoch")) s.end_epoch = config::typed<int64_t>(p, "end_epoch", at);
    return s;
  }
  // `epoch` counts from 1, as robomimic's train loop does.
  bool trains_in(int64_t epoch) const {
    return (start_epoch == -1 || epoch >= start_epoch) && (end_epoch == -1 || epoch < end_epoch);
  }
};

template <class T, class D = Cpu>
class Network {
 public:
  // name: the state-dict prefix of its parameters ("critic.0"); group: its optim_params key
  // ("critic"), which its target's names replace with group + "_target" ("critic_target.0").
  Network(std::string name, std::string group, bool with_target)
      : name_(std::move(name)), group_(std::move(group)), with_target_(with_target) {
    if (name_.compare(0, group_.size(), group_) != 0)
      throw ValueError("Network: name '" + name_ + "' does not start with its group '" + group_ +
                       "'");
  }
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const std::string& name() const { return name_; }
  const std::string& group() const { return group_; }
  // Modules declare their parameters here (named name() + ...), before finish().
  nn::ParamStore<T, D>& store() { return store_; }
  const nn::ParamStore<T, D>& store() const { return store_; }

  // Lays the parameters out, draws them from `seed`, makes the optimizer and syncs the target
  // (robomimic's hard_update after building the networks).
  void finish(const NetworkOptimSettings& s, int64_t schedule_units, uint64_t seed) {
    settings_ = s;
    store_.allocate();
    store_.initialize(seed);
    optimizer_ = std::make_unique<PolicyOptimizer<T, D>>(store_, s.optim, schedule_units);
    if (with_target_) target_ = store_.values().clone();
  }
  bool trains_in(int64_t epoch) const { return settings_.trains_in(epoch); }
  PolicyOptimizer<T, D>& optimizer() { return *optimizer_; }
  const PolicyOptimizer<T, D>& optimizer() const { return *optimizer_; }

  // The current weights as constants (no gradient reaches them): for using this network inside
  // another network's loss, as robomimic does with detached or separately optimized networks.
  nn::ParamStore<T, D> frozen() const { return store_.view_with_values(store_.values()); }
  bool has_target() const { return with_target_; }
  // The target weights, laid out like store() and without gradients.
  nn::ParamStore<T, D> target() const {
    if (!with_target_) throw ValueError("network '" + name_ + "' has no target");
    return store_.view_with_values(target_);
  }
  void soft_update(double tau) {
    if (!with_target_) throw ValueError("network '" + name_ + "' has no target");
    // ema_update(decay) is decay * target + (1 - decay) * source.
    Kernels<D>::ema_update(target_.numel(), target_.data(), store_.values().data(), 1.0 - tau);
  }

  // One optimizer step on the gradients the last backward left (zero them before the loss):
  // clips, updates, and returns what robomimic's backprop_for_loss returns (the sum of squared
  // gradient norms after clipping).
  double step() { return optimizer_->logged_grad_norms(optimizer_->step()); }

  // Name of a parameter's copy in the target ("critic.0.mlp.0.weight" ->
  // "critic_target.0.mlp.0.weight").
  std::string target_name(const std::string& param) const {
    return group_ + "_target" + param.substr(group_.size());
  }
  // Every buffer of the network's state as named views: weights, target weights and Adam's
  // moments ("optimizer.exp_avg.<param>", "optimizer.exp_avg_sq.<param>").
  void add_state(std::map<std::string, Tensor<T, D>>& out) const {
    for (const auto& e : store_.entries()) {
      auto view = [&](const Tensor<T, D>& flat) {
        return Tensor<T, D>::view(flat.data() + e.offset, e.shape);
      };
      out[e.name] = view(store_.values());
      if (with_target_) out[target_name(e.name)] = view(target_);
      out["optimizer.exp_avg." + e.name] = view(optimizer_->adam().exp_avg());
      out["optimizer.exp_avg_sq." + e.name] = view(optimizer_->adam().exp_avg_sq());
    }
  }
  // Restores the weights (every one must be given); with `full`, also the target (the weights
  // when the checkpoint has none) and the optimizer moments when present.
  void load(const std::map<std::string, Tensor<float>>& tensors, bool full) {
    load_flat(tensors, "", store_.values(), true);
    if (!full) {
      if (with_target_) target_.copy_from(store_.values());
      return;
    }
    if (with_target_) {
      if (tensors.count(target_name(store_.entries()[0].name)))
        load_flat(tensors, "@target", target_, true);
      else
        target_.copy_from(store_.values());
    }
    if (tensors.count("optimizer.exp_avg." + store_.entries()[0].name)) {
      load_flat(tensors, "optimizer.exp_avg.", optimizer_->adam().exp_avg(), true);
      load_flat(tensors, "optimizer.exp_avg_sq.", optimizer_->adam().exp_avg_sq(), true);
    }
  }
  nlohmann::json counters() const {
    return {{"batches", optimizer_->batches()}, {"epochs", optimizer_->epochs()}};
  }
  void set_counters(const nlohmann::json& j) {
    optimizer_->set_counters(j.value("batches", int64_t(0)), j.value("epochs", int64_t(0)));
  }

 private:
  // prefix "@target" reads each parameter under its target name.
  void load_flat(const std::map<std::string, Tensor<float>>& tensors, const std::string& prefix,
                 const Tensor<T, D>& flat, bool required) const {
    for (const auto& e : store_.entries()) {
      const std::string key = prefix == "@target" ? target_name(e.name) : prefix + e.name;
      auto it = tensors.find(key);
      if (it == tensors.end()) {
        if (required) throw IoError("checkpoint has no tensor '" + key + "'");
        continue;
      }
      if (it->second.shape() != e.shape)
        throw ShapeError("checkpoint tensor '" + key + "' has shape " + it->second.shape().str() +
                         ", the model expects " + e.shape.str());
      std::vector<T> host(size_t(e.shape.numel()));
      for (size_t i = 0; i < host.size(); ++i) host[i] = T(it->second[int64_t(i)]);
      Kernels<D>::from_host(flat.data() + e.offset, host.data(), host.size() * sizeof(T));
    }
  }

  std::string name_, group_;
  bool with_target_;
  nn::ParamStore<T, D> store_;
  NetworkOptimSettings settings_;
  std::unique_ptr<PolicyOptimizer<T, D>> optimizer_;
  Tensor<T, D> target_;
};

}  // namespace mimic::policy
