// robomimic's hierarchical algorithms against robomimic 0.3.0's own code
// (tests/reference/make_hierarchical_fixture.py): from the same weights and batches,
// train_on_batch gives robomimic's logged scalars, each network's gradients at its step, every
// updated weight and each part's draws from its random stream; then HBC and IRIS act for three
// steps of three rollouts (replanning at steps 0 and 2) as robomimic's get_action.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mimic/policy/builtin.hpp"
#include "support/compare.hpp"
#include "support/golden_training_case.hpp"

namespace mimic::policy {
namespace {

const std::vector<std::pair<std::string, int64_t>> kKeys = {
    {"a_pos", 3}, {"b_flag", 2}, {"c_vel", 4}};

// Every network's gradients of a policy part under the part's tensor prefix.
void add_gradients(const std::string& prefix, Policy<float>& part,
                   std::map<std::string, std::vector<float>>& out) {
  if (auto* multi = dynamic_cast<MultiNetworkPolicy<float>*>(&part)) {
    for (const auto& net : multi->networks())
      for (const auto& e : net->store().entries())
        out[prefix + e.name] = net->store().grad(net->store().find(e.name)).to_vector();
    return;
  }
  for (const auto& e : part.params().entries())
    out[prefix + e.name] = part.params().grad(part.params().find(e.name)).to_vector();
}

void check_case(const std::string& key) {
  SCOPED_TRACE(key);
  const testing::GoldenTrainingCase c("golden_hierarchical", key);
  ShapeMeta meta;
  std::vector<std::string> keys;
  for (const auto& [k, d] : kKeys) {
    meta.obs_shapes[k] = {d};
    keys.push_back(k);
  }
  meta.action_dim = 4;
  const AlgorithmRegistry algos = builtin_algorithms();
  const std::string algo = c.at("algo_name").get<std::string>();
  const AlgorithmSpec& spec = algos.at(algo);
  const nlohmann::json config = config::merged_over(spec.defaults(), c.at("config"));
  spec.validate(config);
  auto policy = spec.build<float, Cpu>({config, meta, {}, c.at("seed").get<uint64_t>(), 1});
  ASSERT_NO_FATAL_FAILURE(c.load_parameters(*policy));  // every part's weights
  c.expect_scalars(c.step(*policy, keys));

  // Each part's draws from its own stream (the composite's: random subgoal steps).
  const nlohmann::json state = policy->state_json();
  for (const auto& [part, draws] : c.at("draws").items()) {
    if (algo == "gl" && part == "composite") continue;
    const nlohmann::json& s =
        part == "composite" || algo == "gl"
            ? state
            : state.at("parts").at(part.substr(0, part.size() - 1));  // "planner." -> "planner"
    EXPECT_EQ(s.at("rng").at("offset").get<uint64_t>(), draws.get<uint64_t>()) << part;
  }

  // Gradients of the networks that stepped in the last step, as their optimizers saw them.
  std::map<std::string, std::vector<float>> grads;
  if (algo == "gl") {
    add_gradients("", *policy, grads);
  } else {
    auto* h = dynamic_cast<HierarchicalPolicy<float>*>(policy.get());
    ASSERT_NE(h, nullptr);
    add_gradients(algo == "iris" ? "planner.planner." : "planner.", h->planner(), grads);
    add_gradients("actor.", h->actor(), grads);
    if (auto* iris = dynamic_cast<Iris<float>*>(h))
      add_gradients("planner.value_net.", iris->value_net(), grads);
  }
  const auto stepped = c.at("stepped").get<std::vector<std::string>>();
  for (const std::string& n : stepped) {
    ASSERT_TRUE(grads.count(n)) << n;
    EXPECT_LE(testing::relative_error(grads.at(n), c.values("grads/" + n)), 1e-5)
        << "gradient of " << n;
  }
  c.expect_updated(*policy);

  // Three rollouts acting for three steps, as robomimic's get_action (eval mode).
  const int steps = c.at("rollouts").get<int>();
  if (steps == 0) {
    EXPECT_THROW(policy->act_rollout(Tensor<float>::zeros({1, 1, meta.obs_dim()}), {0}),
                 UnsupportedError);
    return;
  }
  for (int env = 0; env < 3; ++env) policy->reset_rollout(env);
  for (int t = 0; t < steps; ++t) {
    const std::string r = "rollout" + std::to_string(t) + "/";
    auto features = Tensor<float>::empty({3, 1, meta.obs_dim()});
    int64_t col = 0;
    for (const auto& [k, d] : kKeys) {
      const Tensor<float> o = c.load(r + "obs/" + k);
      for (int64_t i = 0; i < 3; ++i)
        std::copy_n(o.data() + i * d, d, features.data() + i * meta.obs_dim() + col);
      col += d;
    }
    const Tensor<float> acted = policy->act_rollout(features, {0, 1, 2});
    EXPECT_LE(testing::relative_error(acted.to_vector(), c.values(r + "actions")), 1e-5)
        << "rollout actions at step " << t;
  }
}

TEST(Golden, GlVaeMatchesRobomimic) { check_case("gl/vae"); }
TEST(Golden, GlVaeGmmPriorOverTwoStepsMatchesRobomimic) {
  check_case("gl/vae_gmm_prior_two_steps");
}
TEST(Golden, GlVaeSummedReconstructionMatchesRobomimic) {
  check_case("gl/vae_summed_reconstruction");
}
TEST(Golden, GlMlpMatchesRobomimic) { check_case("gl/mlp"); }
TEST(Golden, GlValidationMatchesRobomimic) { check_case("gl/validate"); }
TEST(Golden, HbcSeparateOverTwoStepsMatchesRobomimic) { check_case("hbc/separate_two_steps"); }
TEST(Golden, HbcCascadeMatchesRobomimic) { check_case("hbc/cascade"); }
TEST(Golden, HbcUnconditionedActorMatchesRobomimic) { check_case("hbc/unconditioned_actor"); }
TEST(Golden, HbcValidationMatchesRobomimic) { check_case("hbc/validate"); }
TEST(Golden, IrisSeparateMatchesRobomimic) { check_case("iris/separate"); }
TEST(Golden, IrisRandomSubgoalsMatchRobomimic) { check_case("iris/random_subgoals"); }
TEST(Golden, IrisValueActorOverTwoStepsMatchesRobomimic) {
  check_case("iris/value_actor_two_steps");
}
TEST(Golden, IrisValidationMatchesRobomimic) { check_case("iris/validate"); }

}  // namespace
}  // namespace mimic::policy
