#pragma once
// A policy trained as several networks (robomimic's offline RL algorithms: critics, actor, value
// function, each with its own optimizer group, schedule and target copy). The algorithm declares
// its networks, then writes one training step as a sequence of updates, each on a fresh tape:
// zero that network's gradients, build its loss (other networks enter as frozen or target
// weights), backward, step. The whole state (weights, targets, moments, counters) goes into
// checkpoints. Low-dim observations only for now: image encoders per network are not built.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mimic/policy/core/network.hpp"
#include "mimic/policy/core/policy.hpp"

namespace mimic::policy {

// For the algorithms that take low-dim observations only (no per-network image encoders yet).
inline void refuse_images(const std::string& algo, const ShapeMeta& meta) {
  if (!meta.rgb_keys.empty())
    throw UnsupportedError("algorithm '" + algo +
                           "' trains on low-dim observations only; image observations (" +
                           *meta.rgb_keys.begin() + ") are not supported for it yet");
}

template <class T = float, class D = Cpu>
class MultiNetworkPolicy : public Policy<T, D> {
 public:
  MultiNetworkPolicy(std::string algo, const ShapeMeta& meta, const Normalization& norm,
                     uint64_t seed)
      : Policy<T, D>(std::move(algo), meta, norm, seed) {
    refuse_images(this->algo_, meta);
  }

  int64_t parameter_count() const override {
    int64_t n = 0;
    for (const auto& net : nets_) n += net->store().count();
    return n;
  }
  // Every network's parameters (targets excluded), in declaration order.
  std::vector<std::string> weight_names() const override {
    std::vector<std::string> names;
    for (const auto& net : nets_)
      for (const auto& e : net->store().entries()) names.push_back(e.name);
    return names;
  }
  Network<T, D>& network(const std::string& name) {
    for (auto& net : nets_)
      if (net->name() == name) return *net;
    throw ValueError("algorithm '" + this->algo_ + "' has no network '" + name + "'");
  }
  const std::vector<std::unique_ptr<Network<T, D>>>& networks() const { return nets_; }

  Scalars train_on_batch(const data::Batch& batch) override {
    const auto on_queue = this->on_device_queue();
    Scalars s;
    train_step(batch, true, s);
    return s;
  }
  // robomimic's train_on_batch with validate=True: the same losses, no update.
  Scalars validate_on_batch(const data::Batch& batch) override {
    const auto on_queue = this->on_device_queue();
    Scalars s;
    train_step(batch, false, s);
    return s;
  }
  // robomimic's on_epoch_end: every network's schedule moves one epoch.
  void end_epoch() override {
    for (auto& net : nets_) net->optimizer().end_epoch();
    ++epochs_;
  }

  std::map<std::string, Tensor<T, D>> state_tensors() const override {
    std::map<std::string, Tensor<T, D>> out;
    for (const auto& net : nets_) net->add_state(out);
    return out;
  }
  nlohmann::json state_json() const override {
    nlohmann::json nets = nlohmann::json::object();
    for (const auto& net : nets_) nets[net->name()] = net->counters();
    return {{"algo_name", this->algo_},
            {"shape_meta", this->meta_.to_json()},
            {"normalization", this->norm_.to_json()},
            {"networks", nets},
            {"epochs", epochs_},
            {"algorithm", algorithm_state()},
            {"rng", {{"seed", this->rng_.seed}, {"offset", this->rng_.offset}}}};
  }
  // Weights only; targets are set equal to them.
  void load_weights(const std::map<std::string, Tensor<float>>& tensors) override {
    const auto on_queue = this->on_device_queue();
    for (auto& net : nets_) net->load(tensors, false);
  }
  // Weights, targets (equal to the weights when absent) and moments, plus the counters.
  void load_state(const std::map<std::string, Tensor<float>>& tensors,
                  const nlohmann::json& j) override {
    const auto on_queue = this->on_device_queue();
    for (auto& net : nets_) net->load(tensors, true);
    if (j.contains("networks"))
      for (auto& net : nets_)
        if (j["networks"].contains(net->name())) net->set_counters(j["networks"][net->name()]);
    if (j.contains("epochs")) epochs_ = j["epochs"].get<int64_t>();
    if (j.contains("algorithm")) load_algorithm_state(j["algorithm"]);
    if (j.contains("rng"))
      this->rng_ = {j["rng"].at("seed").get<uint64_t>(), j["rng"].at("offset").get<uint64_t>()};
  }

 protected:
  // Declares a network; its modules declare into network.store() next.
  Network<T, D>& add_network(const std::string& name, const std::string& group, bool with_target) {
    for (const auto& net : nets_)
      if (net->name() == name) throw ValueError("network '" + name + "' declared twice");
    nets_.push_back(std::make_unique<Network<T, D>>(name, group, with_target));
    return *nets_.back();
  }
  // Once every module is declared: lays out and draws each network (each from its own stream,
  // so that ensemble members differ) with its group's optimizer settings.
  void finish_networks(const std::map<std::string, NetworkOptimSettings>& by_group,
                       int64_t schedule_units) {
    for (size_t i = 0; i < nets_.size(); ++i) {
      auto it = by_group.find(nets_[i]->group());
      if (it == by_group.end())
        throw ValueError("algorithm '" + this->algo_ + "' has no optimizer settings for '" +
                         nets_[i]->group() + "'");
      nets_[i]->finish(it->second, schedule_units,
                       this->seed_ + uint64_t(i + 1) * 0x9E3779B97F4A7C15ull);
    }
  }

  // One step: every update the algorithm makes on this batch, in its order (`update` false:
  // losses only). Fills robomimic's logged scalars.
  virtual void train_step(const data::Batch& batch, bool update, Scalars& scalars) = 0;
  // Algorithm counters kept across steps (TD3's actor update counter).
  virtual nlohmann::json algorithm_state() const { return nlohmann::json::object(); }
  virtual void load_algorithm_state(const nlohmann::json&) {}

  // The epoch a step belongs to, counted from 1 as robomimic's train loop does.
  int64_t epoch() const { return epochs_ + 1; }
  using NoGrad = std::optional<typename Tape<T, D>::NoGradGuard>;
  // A fresh tape for a loss of `net`. With `step` its gradients are zeroed for an update;
  // without, nothing is recorded while `no_grad` lives (robomimic computes such losses under
  // no_grad, for logging).
  Tape<T, D>& begin_loss(Network<T, D>& net, bool step, NoGrad& no_grad) {
    this->tape_.reset();
    if (step)
      net.store().zero_grad();
    else
      no_grad.emplace(this->tape_);
    return this->tape_;
  }
  // A fresh tape recording nothing while `no_grad` lives (targets, inference).
  Tape<T, D>& begin_no_grad(NoGrad& no_grad) {
    this->tape_.reset();
    no_grad.emplace(this->tape_);
    return this->tape_;
  }
  // Backward of `loss` and one step of `net`; returns robomimic's grad_norms.
  double finish_update(Network<T, D>& net, Var<T, D> loss) {
    this->tape_.backward(loss);
    return net.step();
  }
  // An owned copy of a tape value that must outlive the tape (kept between updates).
  static Tensor<T, D> keep(Var<T, D> v) { return v.value().clone(); }
  static double scalar(Var<T, D> v) { return double(v.value().to_vector()[0]); }

  // Not used: train_step replaces the single-loss step.
  Var<T, D> compute_loss(const data::Batch&, Tape<T, D>&, bool, Scalars&) final {
    throw ValueError("algorithm '" + this->algo_ + "' trains through train_step");
  }

  std::vector<std::unique_ptr<Network<T, D>>> nets_;
  int64_t epochs_ = 0;
};

}  // namespace mimic::policy
