// Diffusion Policy's TransformerForDiffusion against DP's own module (tests/reference/
// make_dpt_fixture.py, float64 PyTorch): outputs, input and condition gradients and every
// parameter gradient for the observation-memory (MLP or encoder layers), time-only and
// encoder-only forms, in float and double; DP's weight-decay groups; and one DP-T training step
// of Diffusion Policy's own policy.
#include <gtest/gtest.h>

#include <cmath>

#include "mimic/mimic.hpp"
#include "mimic/nn/transformer_for_diffusion.hpp"
#include "mimic/policy/diffusion/diffusion_policy.hpp"
#include "support/compare.hpp"
#include "support/h5_fixture.hpp"

namespace mimic {
namespace {

template <class T>
void check_dpt(const std::string& name, double tol) {
  SCOPED_TRACE(name);
  testing::H5Fixture f(std::string(MIMIC_TEST_DATA_DIR) + "/golden_dpt.h5");
  const std::string g = "/" + name + "/";
  nn::TransformerForDiffusionConfig c;
  c.input_dim = c.output_dim = 2;
  c.horizon = 6;
  c.n_obs_steps = 3;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_emb = 16;
  c.p_drop_emb = c.p_drop_attn = 0;
  c.cond_dim = f.attr_int(g, "cond_dim");
  c.n_cond_layers = f.attr_int(g, "n_cond_layers");
  c.causal_attn = f.attr_int(g, "causal_attn") != 0;
  c.time_as_cond = f.attr_int(g, "time_as_cond") != 0;
  nn::ParamStore<T> store;
  nn::TransformerForDiffusion<T> model(store, "model", c);
  store.allocate();
  int64_t decayed = 0;
  for (const auto& e : store.entries()) {
    ASSERT_TRUE(f.exists(g + "params/" + e.name)) << "DP has no parameter " << e.name;
    Shape s;
    auto v = f.read<T>(g + "params/" + e.name, &s);
    ASSERT_EQ(s, e.shape) << e.name;
    store.value(store.find(e.name)).copy_from(Tensor<T>::from_vector(s, v));
    EXPECT_EQ(nn::TransformerForDiffusion<T>::decays(e.name),
              f.attr_int(g + "params/" + e.name, "decay") != 0)
        << "weight decay of " << e.name;
    decayed += nn::TransformerForDiffusion<T>::decays(e.name);
  }
  EXPECT_GT(decayed, 0);
  auto load = [&](const std::string& key) {
    Shape s;
    auto v = f.read<T>(g + key, &s);
    return Tensor<T>::from_vector(s, v);
  };
  Tape<T> tape;
  Var<T> sample = tape.leaf(load("sample")), cond;
  if (c.cond_dim > 0) cond = tape.leaf(load("cond"));
  PhiloxStream rng{1, 0};
  Var<T> y = model(store, sample, tape.constant(load("timesteps")), cond, rng, true);
  tape.backward(ops::sum(y * tape.constant(load("weights"))));
  EXPECT_LE(testing::relative_error(y.value().to_vector(), f.read<double>(g + "y")), tol) << "y";
  EXPECT_LE(testing::relative_error(sample.grad().to_vector(), f.read<double>(g + "grad_sample")),
            tol)
      << "sample gradient";
  if (c.cond_dim > 0) {
    EXPECT_LE(testing::relative_error(cond.grad().to_vector(), f.read<double>(g + "grad_cond")),
              tol)
        << "cond gradient";
  }
  for (const auto& e : store.entries()) {
    const std::vector<T> got = store.grad(store.find(e.name)).to_vector();
    const std::vector<double> want = f.read<double>(g + "grads/" + e.name);
    double scale = 0, worst = 0;
    for (double v : want) scale = std::max(scale, std::abs(v));
    if (scale < 1e-15) {  // zero in exact arithmetic (a softmax over one memory token); torch
      for (T v : got) worst = std::max(worst, std::abs(double(v)));  // leaves rounding noise
      EXPECT_LE(worst, 1e-6) << e.name << " should have no gradient";
      continue;
    }
    EXPECT_LE(testing::relative_error(got, want), tol) << e.name;
  }
}

void check_both(const std::string& name) {
  check_dpt<float>(name, 1e-5);
  check_dpt<double>(name, 1e-10);
}

TEST(Golden, TransformerForDiffusionObservationMemoryMlp) { check_both("obs_cond_mlp"); }
TEST(Golden, TransformerForDiffusionObservationMemoryEncoder) { check_both("obs_cond_encoder"); }
TEST(Golden, TransformerForDiffusionTimeOnlyMemory) { check_both("time_only"); }
TEST(Golden, TransformerForDiffusionEncoderOnly) { check_both("bert"); }

// One DP-T training step against Diffusion Policy's DiffusionTransformerLowdimPolicy with AdamW
// over get_optim_groups (the fixture hands mimic's noise and timesteps to DP's compute_loss).
TEST(Golden, DiffusionTransformerTrainingStepMatchesDiffusionPolicy) {
  testing::H5Fixture f(std::string(MIMIC_TEST_DATA_DIR) + "/golden_dpt.h5");
  const std::string g = "/policy_step/";
  using json = nlohmann::json;
  const json optim = {{"optimizer_type", "adamw"},
                      {"betas", {0.9, 0.95}},
                      {"learning_rate",
                       {{"initial", 1e-3},
                        {"scheduler_type", "multistep"},
                        {"epoch_schedule", json::array()},
                        {"step_every_batch", true},
                        {"warmup_steps", 0}}},
                      {"regularization", {{"L2", 0.1}}}};
  const json cfg = {
      {"algo",
       {{"optim_params", {{"policy", optim}}},
        {"horizon", {{"observation_horizon", 3}, {"action_horizon", 3}, {"prediction_horizon", 6}}},
        {"unet", {{"enabled", false}}},
        {"transformer",
         {{"enabled", true},
          {"n_layer", 2},
          {"n_head", 2},
          {"n_emb", 16},
          {"p_drop_emb", 0.0},
          {"p_drop_attn", 0.0}}},
        {"ema", {{"enabled", false}}}}},
      {"train", json::object()}};
  policy::ShapeMeta meta;
  meta.obs_shapes["obs"] = {5};
  meta.action_dim = 2;
  policy::DiffusionPolicy<float> dp(meta, {}, policy::DiffusionPolicySettings::from_config(cfg),
                                    uint64_t(f.attr_int(g, "seed")), 1);
  auto load = [&](const std::string& key) {
    Shape s;
    auto v = f.read<float>(g + key, &s);
    return Tensor<float>::from_vector(s, v);
  };
  std::map<std::string, Tensor<float>> weights;
  for (const auto& n : dp.weight_names()) {
    ASSERT_TRUE(f.exists(g + "params/" + n)) << "DP has no parameter " << n;
    weights[n] = load("params/" + n);
  }
  dp.load_weights(weights);
  data::Batch batch;
  batch.obs["obs"] = load("obs");
  batch.data["actions"] = load("actions");
  const double loss = dp.train_on_batch(batch).at("Loss");
  EXPECT_NEAR(loss, f.read<double>(g + "loss")[0], 1e-5 * std::abs(loss));
  const auto& store = dp.params();
  for (const auto& e : store.entries()) {
    EXPECT_LE(testing::relative_error(store.grad(store.find(e.name)).to_vector(),
                                      f.read<double>(g + "grads/" + e.name)),
              1e-5)
        << "gradient of " << e.name;
    std::vector<float> got = store.value(store.find(e.name)).to_vector();
    std::vector<double> want = f.read<double>(g + "updated/" + e.name);
    const std::string suffix = "in_proj_bias";
    if (e.name.size() > suffix.size() &&
        e.name.compare(e.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      // The key bias shifts every score of a query alike, so softmax makes its gradient zero;
      // both sides hold rounding noise there, which Adam's first step scales to +-lr. Its update
      // is held to that bound and the query and value biases to the reference.
      const size_t e3 = got.size() / 3;
      const std::vector<float> before = weights.at(e.name).to_vector();
      for (size_t i = e3; i < 2 * e3; ++i) {
        EXPECT_LE(std::abs(got[i] - before[i]), 1.01e-3) << e.name << " " << i;
        got[i] = float(want[i]);
      }
    }
    EXPECT_LE(testing::relative_error(got, want), 1e-5) << "updated " << e.name;
  }
}

}  // namespace
}  // namespace mimic
