// robomimic's offline RL algorithms against robomimic 0.3.0's own code
// (tests/reference/make_offline_rl_fixture.py): from the same weights (targets included) and
// batches, train_on_batch gives robomimic's logged scalars, each network's gradients at its step,
// and every updated weight and target; then the trained policy acts as robomimic's get_action.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mimic/policy/builtin.hpp"
#include "mimic/policy/core/multi_network_policy.hpp"
#include "support/compare.hpp"
#include "support/golden_training_case.hpp"

namespace mimic::policy {
namespace {

void check_case(const std::string& key) {
  SCOPED_TRACE(key);
  const testing::GoldenTrainingCase c("golden_offline_rl", key);
  ShapeMeta meta;
  meta.obs_shapes["a_pos"] = {3};
  meta.obs_shapes["b_flag"] = {2};
  meta.action_dim = 4;
  const AlgorithmRegistry algos = builtin_algorithms();
  const AlgorithmSpec& spec = algos.at(c.at("algo_name").get<std::string>());
  const nlohmann::json config = with_defaults(spec.defaults(), c.at("config"));
  // The target-policy noise is mimic's Philox stream of this seed (the fixture recomputes it).
  auto built = spec.build<float, Cpu>({config, meta, {}, c.at("seed").get<uint64_t>(), 1});
  auto* policy = dynamic_cast<MultiNetworkPolicy<float>*>(built.get());
  ASSERT_NE(policy, nullptr);
  ASSERT_NO_FATAL_FAILURE(c.load_parameters(*policy));  // weights and targets
  // robomimic's IQL logs no total; mimic adds "Loss" for its trainer.
  c.expect_scalars(c.step(*policy, {"a_pos", "b_flag"}), {"Loss"});
  EXPECT_EQ(policy->state_json()["rng"]["offset"].get<uint64_t>(), c.at("draws").get<uint64_t>());

  // Gradients of the networks that stepped in the last step, as their optimizers saw them.
  const auto stepped = c.at("stepped").get<std::vector<std::string>>();
  int checked = 0;
  for (const auto& net : policy->networks())
    for (const auto& e : net->store().entries()) {
      if (!std::binary_search(stepped.begin(), stepped.end(), e.name)) continue;
      EXPECT_LE(testing::relative_error(net->store().grad(net->store().find(e.name)).to_vector(),
                                        c.values("grads/" + e.name)),
                1e-5)
          << "gradient of " << e.name;
      ++checked;
    }
  EXPECT_EQ(checked, int(stepped.size()));
  // The trained policy acting as rollouts call it (robomimic's get_action in eval mode).
  {
    const Tensor<float> a = c.load("rollout/obs/a_pos"), b = c.load("rollout/obs/b_flag");
    auto features = Tensor<float>::empty({3, 1, 5});
    for (int64_t r = 0; r < 3; ++r) {
      std::copy_n(a.data() + r * 3, 3, features.data() + r * 5);
      std::copy_n(b.data() + r * 2, 2, features.data() + r * 5 + 3);
    }
    const Tensor<float> acted = policy->act_rollout(features, {0, 1, 2});
    EXPECT_LE(testing::relative_error(acted.to_vector(), c.values("rollout/actions")), 1e-5)
        << "rollout actions";
  }
  c.expect_updated(*policy);
}

TEST(Golden, Td3BcActorStepMatchesRobomimic) { check_case("td3_bc/actor_step"); }
TEST(Golden, Td3BcNStepHuberBoundedEnsembleMatchesRobomimic) {
  check_case("td3_bc/nstep_huber_bounds_ensemble3");
}
TEST(Golden, Td3BcDelayedActorOverTwoStepsMatchesRobomimic) { check_case("td3_bc/two_steps"); }
TEST(Golden, Td3BcCriticStartEpochMatchesRobomimic) { check_case("td3_bc/critic_waits"); }
TEST(Golden, Td3BcValidationMatchesRobomimic) { check_case("td3_bc/validate"); }

TEST(Golden, IqlGaussianActorMatchesRobomimic) { check_case("iql/gaussian"); }
TEST(Golden, IqlExpStdClippedHuberEnsembleMatchesRobomimic) {
  check_case("iql/exp_std_clipped_huber_ensemble3");
}
TEST(Golden, IqlFixedStdTanhGaussianMatchesRobomimic) {
  check_case("iql/fixed_std_tanh_unclipped");
}
TEST(Golden, IqlGmmActorMatchesRobomimic) { check_case("iql/gmm"); }
TEST(Golden, IqlTwoStepsMatchRobomimic) { check_case("iql/two_steps"); }
TEST(Golden, IqlValidationMatchesRobomimic) { check_case("iql/validate"); }
TEST(Golden, IqlExpectileOnBothSidesMatchesRobomimic) { check_case("iql/expectile_both_sides"); }

TEST(Golden, BcqVaeSamplerMatchesRobomimic) { check_case("bcq/vae"); }
TEST(Golden, BcqPerturbationActorNStepHuberEnsembleMatchesRobomimic) {
  check_case("bcq/vae_actor_nstep_huber_ensemble3");
}
TEST(Golden, BcqLearnedPriorFrozenEncoderMatchesRobomimic) {
  check_case("bcq/vae_learned_prior_frozen_encoder");
}
TEST(Golden, BcqGmmSamplerMatchesRobomimic) { check_case("bcq/gmm"); }
TEST(Golden, BcqGmmSamplerWithActorOverTwoStepsMatchesRobomimic) {
  check_case("bcq/gmm_actor_two_steps");
}
TEST(Golden, BcqValidationMatchesRobomimic) { check_case("bcq/validate"); }

TEST(Golden, CqlDefaultsMatchRobomimic) { check_case("cql/default"); }
TEST(Golden, CqlFixedWeightsSampledBackupMatchesRobomimic) {
  check_case("cql/fixed_weights_sampled_backup");
}
TEST(Golden, CqlStochasticBackupWithBcStartMatchesRobomimic) {
  check_case("cql/stochastic_backup_bc_start");
}
TEST(Golden, CqlTwoStepsMatchRobomimic) { check_case("cql/two_steps"); }
TEST(Golden, CqlValidationMatchesRobomimic) { check_case("cql/validate"); }

}  // namespace
}  // namespace mimic::policy
