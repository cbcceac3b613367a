// robomimic's BC variants against robomimic 0.3.0's own code (tests/reference/
// make_bc_transformer_fixture.py and make_bc_vae_fixture.py): from the same weights and batch,
// one train_on_batch gives robomimic's loss terms, gradient norm, gradients and updated weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mimic/policy/bc/bc_transformer.hpp"
#include "mimic/policy/bc/bc_vae.hpp"
#include "support/compare.hpp"
#include "support/h5_fixture.hpp"

namespace mimic::policy {
namespace {

const std::string kDir = MIMIC_TEST_DATA_DIR;

// fixture: golden_<fixture>.{json,h5}; case: one group of it.
template <class P, class Settings>
void check_train_step(const std::string& fixture, const std::string& name) {
  SCOPED_TRACE(fixture + " " + name);
  std::ifstream in(kDir + "/golden_" + fixture + ".json");
  const nlohmann::json all = nlohmann::json::parse(in);
  const nlohmann::json& c = all.at(name);
  testing::H5Fixture f(kDir + "/golden_" + fixture + ".h5");
  auto load = [&](const std::string& key) {
    Shape s;
    std::vector<float> v = f.read<float>("/" + name + "/" + key, &s);
    return Tensor<float>::from_vector(s, v);
  };
  ShapeMeta meta;
  meta.obs_shapes["a_pos"] = {3};
  meta.obs_shapes["b_flag"] = {2};
  meta.action_dim = 4;
  // The VAE's noise is mimic's Philox stream of this seed (the fixture recomputes it).
  P policy(meta, {}, Settings::from_config(c.at("config")), c.value("seed", uint64_t(1)), 1);

  std::vector<std::string> names = policy.weight_names();
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names, c.at("parameters").get<std::vector<std::string>>());
  std::map<std::string, Tensor<float>> weights;
  for (const auto& n : names) weights[n] = load("params/" + n);
  policy.load_weights(weights);

  data::Batch batch;
  for (const char* key : {"a_pos", "b_flag"}) batch.obs[key] = load(std::string("obs/") + key);
  batch.data["actions"] = load("actions");
  const Scalars got = policy.train_on_batch(batch);
  for (const auto& [key, want] : c.at("scalars").items()) {
    ASSERT_TRUE(got.count(key)) << key;
    const double w = want.template get<double>();
    EXPECT_NEAR(got.at(key), w, 1e-5 * std::max(1.0, std::abs(w))) << key;
  }
  const auto& store = policy.params();
  for (const auto& n : names) {
    const nn::ParamId id = store.find(n);
    const std::string p = "/" + name + "/";
    EXPECT_LE(testing::relative_error(store.grad(id).to_vector(), f.read<double>(p + "grads/" + n)),
              1e-5)
        << "gradient of " << n;
    EXPECT_LE(
        testing::relative_error(store.value(id).to_vector(), f.read<double>(p + "updated/" + n)),
        1e-5)
        << "updated " << n;
  }
}

void check_transformer(const std::string& name) {
  check_train_step<BcTransformer<float>, BcTransformerSettings>("bc_transformer", name);
}
void check_vae(const std::string& name) {
  check_train_step<BcVae<float>, BcVaeSettings>("bc_vae", name);
}

TEST(Golden, BcTransformerMatchesRobomimic) { check_transformer("l2_last"); }
TEST(Golden, BcTransformerGmmGegluAdamwMatchesRobomimic) { check_transformer("gmm_all"); }
TEST(Golden, BcTransformerSinusoidalAllStepsMatchesRobomimic) {
  check_transformer("l2_all_sinusoidal");
}

TEST(Golden, BcVaeNormalPriorMatchesRobomimic) { check_vae("normal_prior"); }
TEST(Golden, BcVaeLearnedGaussianPriorMatchesRobomimic) { check_vae("learned_gaussian_sum"); }
TEST(Golden, BcVaeConditionedGmmPriorMatchesRobomimic) { check_vae("gmm_conditioned_weights"); }
TEST(Golden, BcVaeUniformGmmPriorMatchesRobomimic) { check_vae("gmm_uniform"); }
TEST(Golden, BcVaeCategoricalLearnedHardMatchesRobomimic) { check_vae("categorical_learned_hard"); }
TEST(Golden, BcVaeCategoricalUniformMatchesRobomimic) { check_vae("categorical_uniform"); }

}  // namespace
}  // namespace mimic::policy
