#pragma once
// IRIS (Mandlekar et al. 2020) as robomimic 0.3.0 trains it: HBC whose planner is a value
// planner, a GL VAE that proposes subgoals and a BCQ value network (no perturbation actor by
// default) trained on the same batch that scores them. At rollout the planner samples num_samples
// subgoals per observation and keeps the one whose value (BCQ's best sampled action under
// critic 0, with the subgoal as the observation) is highest. Logs: "Planner/Planner/...",
// "Planner/ValueNetwork/...", "Planner/Loss", "Actor/..." and "Loss", as robomimic's.
#include <memory>
#include <string>
#include <vector>

#include "mimic/policy/hierarchical/hbc.hpp"
#include "mimic/policy/offline/bcq.hpp"

namespace mimic::policy {

template <class T = float, class D = Cpu>
class Iris : public HierarchicalPolicy<T, D> {
  using Base = HierarchicalPolicy<T, D>;

 public:
  Iris(const ShapeMeta& meta, const Normalization& norm, const HierarchicalSettings& s,
       uint64_t seed, int64_t schedule_units)
      : Base("iris", meta, norm, s, seed, schedule_units, "planner.planner") {
    const KeySubset value_part(meta, norm, s.value_obs_keys);
    value_ = &this->add_part(
        "planner.value_net",
        std::make_unique<Bcq<T, D>>(value_part.meta, value_part.norm, s.value,
                                    CompositePolicy<T, D>::part_seed(seed, 1), schedule_units));
    value_columns_ = goal_columns(this->planner_->part_meta(), s.value_obs_keys);
    this->add_actor(2, schedule_units);
  }
  Bcq<T, D>& value_net() { return *value_; }

 protected:
  // num_samples subgoals per row, each scored as the value network's observation; the best.
  Tensor<float> plan(const Tensor<float>& rows) override {
    const int64_t b = rows.dim(0), n = this->s_.num_samples;
    const Tensor<float> subgoals = this->planner_->sample_subgoals(rows, n);
    const int64_t g = subgoals.dim(1), v = int64_t(value_columns_.size());
    auto value_rows = Tensor<float>::empty({b * n, v});
    for (int64_t r = 0; r < b * n; ++r)
      for (int64_t j = 0; j < v; ++j)
        value_rows[r * v + j] = subgoals[r * g + value_columns_[size_t(j)]];
    const Tensor<float> values = value_->state_value(value_rows);
    auto best = Tensor<float>::empty({b, g});
    for (int64_t i = 0; i < b; ++i) {
      int64_t k = 0;  // torch.argmax: the first of equal maxima
      for (int64_t j = 1; j < n; ++j)
        if (values[i * n + j] > values[i * n + k]) k = j;
      std::copy_n(subgoals.data() + (i * n + k) * g, g, best.data() + i * g);
    }
    return best;
  }
  // The value planner's step: the GL planner, then the value network, on the same batch.
  double train_planner(const data::Batch& batch, bool update, Scalars& out) override {
    auto& gl = *this->planner_;
    const Scalars p = update ? gl.train_on_batch(batch) : gl.validate_on_batch(batch);
    const Scalars v = update ? value_->train_on_batch(batch) : value_->validate_on_batch(batch);
    this->add_prefixed(out, "Planner/Planner", p);
    this->add_prefixed(out, "Planner/ValueNetwork", v);
    const double loss = p.at("Loss") + v.at("Loss");
    out["Planner/Loss"] = loss;
    return loss;
  }

 private:
  Bcq<T, D>* value_ = nullptr;
  std::vector<int64_t> value_columns_;  // of a subgoal row, the value network's observation
};

}  // namespace mimic::policy
