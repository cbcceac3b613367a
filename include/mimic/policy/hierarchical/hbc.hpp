#pragma once
// HBC (robomimic's hierarchical BC, after GTI): a GL VAE planner predicts the observation
// subgoal_horizon steps ahead, and a BC-RNN actor conditioned on that subgoal acts (on its
// observation.actor.modalities.goal keys of it; robomimic's defaults list none, so that its actor
// ignores the planner: HierarchicalSettings::actor_goal_keys). Each trains
// on the same batch with its own optimizer: the planner toward the dataset's subgoal, the actor
// on the window's actions given the dataset's subgoal ("separate"), the planner's prediction
// ("cascade") or a random later observation of the window (actor_use_random_subgoals). At
// rollout the planner replans every subgoal_update_interval steps of each rollout.
//
// HierarchicalPolicy holds what HBC and IRIS share; IRIS (iris.hpp) adds a value network that
// trains with the planner and picks the best of sampled subgoals.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mimic/core/philox.hpp"
#include "mimic/policy/hierarchical/composite_policy.hpp"
#include "mimic/policy/hierarchical/hierarchical_settings.hpp"

namespace mimic::policy {

template <class T = float, class D = Cpu>
class HierarchicalPolicy : public CompositePolicy<T, D> {
  using Base = CompositePolicy<T, D>;

 public:
  // meta and norm: every key the parts read (the union of their observation and subgoal keys).
  // planner_name: the planner's tensor prefix ("planner"; IRIS: "planner.planner").
  HierarchicalPolicy(std::string algo, const ShapeMeta& meta, const Normalization& norm,
                     const HierarchicalSettings& s, uint64_t seed, int64_t schedule_units,
                     const std::string& planner_name)
      : Base(std::move(algo), meta, norm, seed), s_(s) {
    planner_ = &this->add_part(
        planner_name, std::make_unique<GoalLearning<T, D>>(
                          meta, norm, s.planner, Base::part_seed(seed, 0), schedule_units));
    actor_part_ = KeySubset(meta, norm, s.actor_obs_keys, s.actor_goal_keys);
    actor_goal_columns_ = goal_columns(planner_->part_meta(), s.actor_goal_keys);
  }
  const HierarchicalSettings& settings() const { return s_; }
  GoalLearning<T, D>& planner() { return *planner_; }
  BcRnn<T, D>& actor() { return *actor_; }

  // Normalized observation rows [B, 1, obs_dim] -> the actor's actions [B, 1, A] toward each
  // rollout's current subgoal, replanned at its first step and every subgoal_update_interval.
  Tensor<float> act_rollout(const Tensor<float>& features,
                            const std::vector<int>& env_ids) override {
    // An actor without goal keys ignores the planner: no need to plan.
    const bool goals = !actor_goal_columns_.empty();
    const Tensor<float> g =
        goals ? current_goals(this->last_step(features), env_ids) : Tensor<float>();
    Tensor<float> a =
        actor_->act_rollout_with_goals(actor_part_.select(features), goals ? &g : nullptr, env_ids);
    for (int id : env_ids) steps_[id] += 1;
    return a;
  }

 protected:
  // Adds the actor after the parts that precede it; `index` gives its seed.
  void add_actor(int index, int64_t schedule_units) {
    actor_ = &this->add_part("actor", std::make_unique<BcRnn<T, D>>(
                                          actor_part_.meta, actor_part_.norm, s_.actor,
                                          Base::part_seed(this->seed_, index), schedule_units));
  }
  void reset_part_rollouts(int env_id) override {
    subgoals_.erase(env_id);
    steps_[env_id] = 0;
  }
  // Normalized whole rows [B, obs_dim] -> the subgoal to pursue from each [B, goal_dim].
  virtual Tensor<float> plan(const Tensor<float>& rows) { return planner_->predict_subgoals(rows); }
  // Trains (or evaluates) the planner on the batch; its scalars under "Planner/", and its loss.
  virtual double train_planner(const data::Batch& batch, bool update, Scalars& out) {
    const Scalars p = update ? planner_->train_on_batch(batch) : planner_->validate_on_batch(batch);
    this->add_prefixed(out, "Planner", p);
    return p.at("Loss");
  }

  void train_step(const data::Batch& batch, bool update, Scalars& out) override {
    const double planner_loss = train_planner(batch, update, out);
    data::Batch actor_batch = batch;
    actor_batch.goal_obs = actor_goals(batch);
    const Scalars a =
        update ? actor_->train_on_batch(actor_batch) : actor_->validate_on_batch(actor_batch);
    this->add_prefixed(out, "Actor", a);
    out["Loss"] = planner_loss + a.at("Loss");
  }

 private:
  // Each rollout's goal for the actor [B, goal_dim] (normalized), replanned from its whole row
  // (rows [B, obs_dim]) at its first step and every subgoal_update_interval steps.
  Tensor<float> current_goals(const Tensor<float>& rows, const std::vector<int>& env_ids) {
    const int64_t g = int64_t(actor_goal_columns_.size());
    const int64_t b = rows.dim(0), dim = rows.dim(1);
    std::vector<int64_t> replan;
    for (int64_t i = 0; i < b; ++i) {
      const int id = env_ids[size_t(i)];
      if (!subgoals_.count(id) || steps_[id] % s_.subgoal_update_interval == 0) replan.push_back(i);
    }
    if (!replan.empty()) {
      auto sub = Tensor<float>::empty({int64_t(replan.size()), dim});
      for (size_t j = 0; j < replan.size(); ++j)
        std::copy_n(rows.data() + replan[j] * dim, dim, sub.data() + int64_t(j) * dim);
      const Tensor<float> planned = plan(sub);
      const int64_t width = planned.dim(1);
      for (size_t j = 0; j < replan.size(); ++j) {
        std::vector<float> goal(static_cast<size_t>(g), 0.f);
        for (int64_t k = 0; k < g; ++k)
          goal[size_t(k)] = planned[int64_t(j) * width + actor_goal_columns_[size_t(k)]];
        subgoals_[env_ids[size_t(replan[j])]] = goal;
      }
    }
    auto goals = Tensor<float>::empty({b, g});
    for (int64_t i = 0; i < b; ++i)
      std::copy_n(subgoals_.at(env_ids[size_t(i)]).data(), g, goals.data() + i * g);
    return goals;
  }
  // The raw goal each batch row's actor trains with ([B, ...] per subgoal key).
  std::map<std::string, Tensor<float>> actor_goals(const data::Batch& batch) {
    if (s_.random_subgoals) return random_subgoals(batch);
    if (s_.mode == "separate") return planner_->raw_subgoals(batch);
    // cascade: the planner's predictions, taken back to raw values for the actor to normalize.
    const Tensor<float> rows = gather_features(this->meta_, this->norm_.obs, batch.obs, 0, 1);
    Tensor<float> predicted = planner_->predict_subgoals(rows.reshape({rows.dim(0), rows.dim(2)}));
    const ShapeMeta& pm = planner_->part_meta();
    unnormalize_rows(planner_->part().norm.goal, predicted.data(), predicted.dim(0), pm.goal_dim());
    return split_goal_rows(pm, predicted);
  }
  // robomimic's actor_use_random_subgoals: for each row the next observation of a step drawn
  // uniformly from [0, seq_length) (one uniform of the composite's stream per row, drawn even
  // when the actor has no goal keys, as robomimic draws them).
  std::map<std::string, Tensor<float>> random_subgoals(const data::Batch& batch) {
    const int64_t n = s_.seq_length;
    const int64_t b = batch.data.at("actions").dim(0);
    const uint64_t base = this->rng_.advance(uint64_t(b));
    std::vector<int64_t> steps;
    for (int64_t i = 0; i < b; ++i)
      steps.push_back(std::min<int64_t>(
          n - 1, int64_t(philox_uniform<double>(this->rng_.seed, base + uint64_t(i)) * double(n))));
    return next_obs_at(batch, actor_part_.meta.goal_shapes, steps, n,
                       "random subgoals need train.seq_length steps");
  }
  // Goal rows [B, goal_dim] (keys sorted) -> key -> [B, width].
  static std::map<std::string, Tensor<float>> split_goal_rows(const ShapeMeta& m,
                                                              const Tensor<float>& rows) {
    std::map<std::string, Tensor<float>> out;
    const int64_t b = rows.dim(0), dim = rows.dim(1);
    int64_t col = 0;
    for (const auto& [key, shape] : m.goal_shapes) {
      const int64_t w = shape_numel(shape);
      auto t = Tensor<float>::empty({b, w});
      for (int64_t i = 0; i < b; ++i) std::copy_n(rows.data() + i * dim + col, w, t.data() + i * w);
      out[key] = t;
      col += w;
    }
    return out;
  }

 protected:
  HierarchicalSettings s_;
  GoalLearning<T, D>* planner_ = nullptr;
  BcRnn<T, D>* actor_ = nullptr;
  KeySubset actor_part_;
  std::vector<int64_t> actor_goal_columns_;     // of a planned subgoal row, the actor's goal
  std::map<int, std::vector<float>> subgoals_;  // per rollout, the actor's goal, normalized
  std::map<int, int64_t> steps_;                // control steps since each rollout's reset
};

template <class T = float, class D = Cpu>
class Hbc : public HierarchicalPolicy<T, D> {
 public:
  Hbc(const ShapeMeta& meta, const Normalization& norm, const HierarchicalSettings& s,
      uint64_t seed, int64_t schedule_units)
      : HierarchicalPolicy<T, D>("hbc", meta, norm, s, seed, schedule_units, "planner") {
    this->add_actor(1, schedule_units);
  }
};

}  // namespace mimic::policy
