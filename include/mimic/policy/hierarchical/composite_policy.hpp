#pragma once
// A policy made of whole policies (robomimic's HierarchicalAlgo and ValuePlanner: HBC's planner
// and actor, IRIS's planner, value network and actor), each with its own weights, optimizers,
// tape and random stream. The parts' checkpoint tensors are stored under "<part>." prefixes and
// their JSON state under "parts"; epochs end for every part. The algorithm writes the training
// step (which part trains on what) and the rollout.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/policy/core/multi_network_policy.hpp"

namespace mimic::policy {

template <class T = float, class D = Cpu>
class CompositePolicy : public Policy<T, D> {
 public:
  CompositePolicy(std::string algo, const ShapeMeta& meta, const Normalization& norm, uint64_t seed)
      : Policy<T, D>(std::move(algo), meta, norm, seed) {
    refuse_images(this->algo_, meta);
  }

  int64_t parameter_count() const override {
    int64_t n = 0;
    for (const auto& p : parts_) n += p.policy->parameter_count();
    return n;
  }
  std::vector<std::string> weight_names() const override {
    std::vector<std::string> names;
    for (const auto& p : parts_)
      for (const std::string& n : p.policy->weight_names()) names.push_back(p.name + "." + n);
    return names;
  }
  Scalars train_on_batch(const data::Batch& batch) override {
    Scalars s;
    train_step(batch, true, s);
    return s;
  }
  Scalars validate_on_batch(const data::Batch& batch) override {
    Scalars s;
    train_step(batch, false, s);
    return s;
  }
  void end_epoch() override {
    for (auto& p : parts_) p.policy->end_epoch();
  }
  void reset_rollout(int env_id) override {
    for (auto& p : parts_) p.policy->reset_rollout(env_id);
    reset_part_rollouts(env_id);
  }

  std::map<std::string, Tensor<T, D>> state_tensors() const override {
    std::map<std::string, Tensor<T, D>> out;
    for (const auto& p : parts_)
      for (auto& [name, t] : p.policy->state_tensors()) out[p.name + "." + name] = t;
    return out;
  }
  nlohmann::json state_json() const override {
    nlohmann::json parts = nlohmann::json::object();
    for (const auto& p : parts_) parts[p.name] = p.policy->state_json();
    return {{"algo_name", this->algo_},
            {"shape_meta", this->meta_.to_json()},
            {"normalization", this->norm_.to_json()},
            {"parts", parts},
            {"rng", {{"seed", this->rng_.seed}, {"offset", this->rng_.offset}}}};
  }
  void load_weights(const std::map<std::string, Tensor<float>>& tensors) override {
    for (auto& p : parts_) p.policy->load_weights(part_tensors(tensors, p.name));
  }
  void load_state(const std::map<std::string, Tensor<float>>& tensors,
                  const nlohmann::json& j) override {
    for (auto& p : parts_) {
      const nlohmann::json part = j.contains("parts") && j["parts"].contains(p.name)
                                      ? j["parts"][p.name]
                                      : nlohmann::json::object();
      p.policy->load_state(part_tensors(tensors, p.name), part);
    }
    if (j.contains("rng"))
      this->rng_ = {j["rng"].at("seed").get<uint64_t>(), j["rng"].at("offset").get<uint64_t>()};
  }

  // The seed of part `index`: its own stream, apart from the composite's and the other parts'.
  static uint64_t part_seed(uint64_t seed, int index) {
    return seed ^ (uint64_t(index + 1) * 0x9E3779B97F4A7C15ull);
  }

 protected:
  // Adds a part under `name` (its tensors' prefix); returns it.
  template <class P>
  P& add_part(const std::string& name, std::unique_ptr<P> part) {
    P& ref = *part;
    parts_.push_back({name, std::move(part)});
    return ref;
  }
  // Every update of one step, in the algorithm's order (`update` false: losses only).
  virtual void train_step(const data::Batch& batch, bool update, Scalars& out) = 0;
  virtual void reset_part_rollouts(int) {}

  // `from`'s scalars under "<prefix>/" in `out`.
  static void add_prefixed(Scalars& out, const std::string& prefix, const Scalars& from) {
    for (const auto& [k, v] : from) out[prefix + "/" + k] = v;
  }
  Var<T, D> compute_loss(const data::Batch&, Tape<T, D>&, bool, Scalars&) final {
    throw ValueError("algorithm '" + this->algo_ + "' trains through its parts");
  }

 private:
  struct Part {
    std::string name;
    std::unique_ptr<Policy<T, D>> policy;
  };
  static std::map<std::string, Tensor<float>> part_tensors(
      const std::map<std::string, Tensor<float>>& all, const std::string& name) {
    std::map<std::string, Tensor<float>> out;
    const std::string prefix = name + ".";
    for (const auto& [k, v] : all)
      if (k.compare(0, prefix.size(), prefix) == 0) out[k.substr(prefix.size())] = v;
    return out;
  }
  std::vector<Part> parts_;
};

}  // namespace mimic::policy
