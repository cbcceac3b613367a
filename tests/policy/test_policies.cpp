// Policies trained on small synthetic problems: losses fall, BC overfits, BC-RNN's rollout step
// equals its sequence forward, state round trips reproduce actions, and on a bimodal toy problem
// Diffusion Policy and IBC recover both modes while BC averages them.
#include <gtest/gtest.h>

#include <cmath>

#include "mimic/policy/bc/bc.hpp"
#include "mimic/policy/bc/bc_rnn.hpp"
#include "mimic/policy/diffusion/diffusion_policy.hpp"
#include "mimic/policy/ibc/ibc.hpp"
#include "support/optim_config.hpp"

namespace mimic::policy {
namespace {

using json = nlohmann::json;

json optim(double lr) { return testing::adam_config(lr); }

ShapeMeta meta(int64_t obs, int64_t act) {
  ShapeMeta m;
  m.obs_shapes["a_pos"] = {obs - 1};
  m.obs_shapes["b_flag"] = {1};
  m.action_dim = act;
  return m;
}

// obs_t uniform in [-1, 1]; action_t = 0.8 * tanh(W obs_t) for a fixed W: learnable by all.
data::Batch regression_batch(int64_t b, int64_t steps, int64_t obs, int64_t act, uint64_t seed) {
  data::Batch batch;
  auto pos = Tensor<float>::empty({b, steps, obs - 1}), flag = Tensor<float>::empty({b, steps, 1});
  auto a = Tensor<float>::empty({b, steps, act});
  for (int64_t i = 0; i < pos.numel(); ++i) pos[i] = float(2 * philox_uniform<double>(seed, i) - 1);
  for (int64_t i = 0; i < flag.numel(); ++i) flag[i] = float(i % 2);
  for (int64_t r = 0; r < b * steps; ++r)
    for (int64_t j = 0; j < act; ++j) {
      double s = 0.3 * flag[r];
      for (int64_t k = 0; k < obs - 1; ++k)
        s += std::sin(double(j + 1) * (k + 1)) * pos[r * (obs - 1) + k];
      a[r * act + j] = float(0.8 * std::tanh(s));
    }
  batch.obs["a_pos"] = pos;
  batch.obs["b_flag"] = flag;
  batch.data["actions"] = a;
  return batch;
}

TEST(Bc, LossFallsAndOverfitsAFewDemonstrations) {
  json cfg = {
      {"algo", {{"actor_layer_dims", {64, 64}}, {"optim_params", {{"policy", optim(3e-3)}}}}},
      {"train", json::object()}};
  Bc<float> bc(meta(4, 2), {}, BcSettings::from_config(cfg), 1, 1);
  data::Batch batch = regression_batch(32, 1, 4, 2, 7);
  const double first = bc.train_on_batch(batch).at("Loss");
  double last = first;
  for (int i = 0; i < 400; ++i) last = bc.train_on_batch(batch).at("Loss");
  EXPECT_LT(last, first * 0.02) << "first " << first << " last " << last;
  // Overfit: actions at the training observations match the demonstrations.
  Tensor<float> feats = gather_features(bc.shape_meta(), {}, batch.obs, 0, 1);
  Tensor<float> a = bc.act(feats.reshape({32, 3 + 1}));
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a[i], batch.data["actions"][i], 0.05);
}

TEST(Bc, GmmHeadLogLikelihoodRises) {
  json algo = {{"actor_layer_dims", {32}},
               {"gmm", {{"enabled", true}, {"num_modes", 3}, {"min_std", 1e-4}}},
               {"optim_params", {{"policy", optim(3e-3)}}}};
  json cfg = {{"algo", algo}, {"train", json::object()}};
  Bc<float> bc(meta(4, 2), {}, BcSettings::from_config(cfg), 2, 1);
  data::Batch batch = regression_batch(64, 1, 4, 2, 9);
  const double first = bc.train_on_batch(batch).at("Log_Likelihood");
  double last = first;
  for (int i = 0; i < 300; ++i) last = bc.train_on_batch(batch).at("Log_Likelihood");
  EXPECT_GT(last, first + 2.0);
}

json rnn_config(bool gmm) {
  json algo = {{"actor_layer_dims", json::array()},
               {"rnn",
                {{"enabled", true},
                 {"horizon", 5},
                 {"hidden_dim", 24},
                 {"rnn_type", "LSTM"},
                 {"num_layers", 2}}},
               {"optim_params", {{"policy", optim(3e-3)}}}};
  if (gmm) algo["gmm"] = {{"enabled", true}, {"num_modes", 3}};
  return {{"algo", algo}, {"train", json::object()}};
}

TEST(BcRnn, LossFallsAndStepwiseRolloutMatchesSequenceForward) {
  BcRnn<float> policy(meta(4, 2), {}, BcRnnSettings::from_config(rnn_config(false)), 3, 1);
  data::Batch batch = regression_batch(16, 5, 4, 2, 11);
  const double first = policy.train_on_batch(batch).at("Loss");
  double last = first;
  for (int i = 0; i < 200; ++i) last = policy.train_on_batch(batch).at("Loss");
  EXPECT_LT(last, first * 0.2);
  // Feeding the steps one at a time with carried state gives the loss-time predictions.
  Tensor<float> feats = gather_features(policy.shape_meta(), {}, batch.obs, 0, 5);
  RnnCarry carry;
  std::vector<Tensor<float>> stepwise;
  for (int64_t t = 0; t < 5; ++t) {
    auto step = Tensor<float>::empty({16, 4});
    for (int64_t i = 0; i < 16; ++i)
      std::copy_n(feats.data() + (i * 5 + t) * 4, 4, step.data() + i * 4);
    stepwise.push_back(policy.act_step(step, carry));
  }
  ASSERT_EQ(carry.h.size(), 2u);
  ASSERT_EQ(carry.c.size(), 2u);
  // Reference: the sequence forward used in training.
  const Tensor<float> seq = policy.act_sequence(feats);
  for (int64_t t = 0; t < 5; ++t)
    for (int64_t i = 0; i < 16; ++i)
      for (int64_t j = 0; j < 2; ++j)
        EXPECT_NEAR(stepwise[size_t(t)][i * 2 + j], seq[(i * 5 + t) * 2 + j], 1e-5);
  // And the trained policy tracks the targets through the sequence.
  double err = 0;
  for (int64_t i = 0; i < 16; ++i)
    for (int64_t j = 0; j < 2; ++j)
      err += std::abs(stepwise[4][i * 2 + j] - batch.data["actions"][(i * 5 + 4) * 2 + j]);
  EXPECT_LT(err / 32, 0.15);
}

TEST(BcRnn, GmmVariantTrains) {
  BcRnn<float> policy(meta(4, 2), {}, BcRnnSettings::from_config(rnn_config(true)), 4, 1);
  data::Batch batch = regression_batch(16, 5, 4, 2, 13);
  const double first = policy.train_on_batch(batch).at("Log_Likelihood");
  double last = first;
  for (int i = 0; i < 150; ++i) last = policy.train_on_batch(batch).at("Log_Likelihood");
  EXPECT_GT(last, first + 1.0);
  RnnCarry carry;
  Tensor<float> a = policy.act_step(Tensor<float>::zeros({3, 4}), carry);
  EXPECT_EQ(a.shape(), (Shape{3, 2}));
}

json dp_config(int64_t to, int64_t ta, int64_t h, bool ddim) {
  json algo = {
      {"horizon", {{"observation_horizon", to}, {"action_horizon", ta}, {"prediction_horizon", h}}},
      {"unet",
       {{"diffusion_step_embed_dim", 16},
        {"down_dims", {16, 32}},
        {"kernel_size", 3},
        {"n_groups", 4}}},
      {"ema", {{"enabled", true}, {"power", 0.75}}},
      {"ddpm",
       {{"enabled", !ddim}, {"num_train_timesteps", 100}, {"num_inference_timesteps", 100}}},
      {"ddim", {{"enabled", ddim}, {"num_train_timesteps", 100}, {"num_inference_timesteps", 10}}},
      {"optim_params", {{"policy", optim(3e-3)}}}};
  return {{"algo", algo}, {"train", json::object()}};
}

// The loss at least halves over 300 steps on a regression batch, and a copy made from the
// policy's state predicts the same chunks bit for bit.
void expect_learns_and_round_trips(const DiffusionPolicySettings& settings) {
  DiffusionPolicy<float> dp(meta(4, 2), {}, settings, 5, 1);
  data::Batch batch = regression_batch(32, 8, 4, 2, 17);
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) first += dp.train_on_batch(batch).at("Loss") / 5;
  for (int i = 0; i < 300; ++i) dp.train_on_batch(batch);
  for (int i = 0; i < 5; ++i) last += dp.train_on_batch(batch).at("Loss") / 5;
  EXPECT_LT(last, first * 0.5) << first << " -> " << last;

  DiffusionPolicy<float> copy(meta(4, 2), {}, settings, 99, 1);
  std::map<std::string, Tensor<float>> tensors;
  for (auto& [name, t] : dp.state_tensors()) tensors[name] = t.clone();
  copy.load_state(tensors, dp.state_json());
  Tensor<float> obs = gather_features(dp.shape_meta(), {}, batch.obs, 0, 2);
  Tensor<float> a = dp.predict(obs), b = copy.predict(obs);
  ASSERT_EQ(a.shape(), (Shape{32, 4, 2}));
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a[i], b[i]) << i;
}

TEST(DiffusionPolicy, LossFallsAndStateRoundTripGivesIdenticalActions) {
  expect_learns_and_round_trips(DiffusionPolicySettings::from_config(dp_config(2, 4, 8, true)));
}

TEST(DiffusionPolicy, TransformerDenoiserLearnsAndRoundTripsItsState) {
  json cfg = dp_config(2, 4, 8, true);
  cfg["algo"]["unet"]["enabled"] = false;
  cfg["algo"]["transformer"] = {{"enabled", true},   {"n_layer", 2},      {"n_head", 2},
                                {"n_emb", 16},       {"p_drop_emb", 0.1}, {"p_drop_attn", 0.1},
                                {"n_cond_layers", 0}};
  auto settings = DiffusionPolicySettings::from_config(cfg);
  ASSERT_TRUE(settings.transformer_denoiser);
  // DP's state-dict names, and no UNet.
  DiffusionPolicy<float> dp(meta(4, 2), {}, settings, 5, 1);
  EXPECT_TRUE(dp.params().find("model.decoder.layers.1.multihead_attn.in_proj_weight").defined());
  EXPECT_FALSE(dp.params().find("model.mid_modules.0.blocks.0.block.0.weight").defined());
  expect_learns_and_round_trips(settings);
  // Exactly one denoiser, and only DP-T's low-dim form (observations as memory tokens).
  json both = cfg;
  both["algo"]["unet"]["enabled"] = true;
  EXPECT_THROW(DiffusionPolicySettings::from_config(both), ValueError);
  json inpaint = cfg;
  inpaint["algo"]["transformer"]["obs_as_cond"] = false;
  EXPECT_THROW(DiffusionPolicySettings::from_config(inpaint), UnsupportedError);
  json heads = cfg;
  heads["algo"]["transformer"]["n_head"] = 3;
  EXPECT_THROW(DiffusionPolicySettings::from_config(heads), ValueError);
}

// Observation carries no information; the demonstrated action is +0.6 or -0.6 (1-D).
data::Batch bimodal_batch(int64_t b, int64_t steps, uint64_t seed) {
  data::Batch batch;
  batch.obs["a_pos"] = Tensor<float>::zeros({b, steps, 1});
  batch.obs["b_flag"] = Tensor<float>::zeros({b, steps, 1});
  auto a = Tensor<float>::empty({b, steps, 1});
  for (int64_t i = 0; i < b; ++i) {
    const float mode = philox_uniform<double>(seed, uint64_t(i)) < 0.5 ? 0.6f : -0.6f;
    for (int64_t t = 0; t < steps; ++t) a[i * steps + t] = mode;
  }
  batch.data["actions"] = a;
  return batch;
}

// Fractions of predictions near +0.6 and near -0.6.
std::pair<double, double> mode_fractions(const Tensor<float>& a) {
  double plus = 0, minus = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    plus += std::abs(a[i] - 0.6f) < 0.15;
    minus += std::abs(a[i] + 0.6f) < 0.15;
  }
  return {plus / double(a.numel()), minus / double(a.numel())};
}

TEST(Bimodal, BcAveragesWhileDiffusionPolicyAndIbcRecoverBothModes) {
  json bc_cfg = {
      {"algo", {{"actor_layer_dims", {32, 32}}, {"optim_params", {{"policy", optim(3e-3)}}}}},
      {"train", json::object()}};
  Bc<float> bc(meta(2, 1), {}, BcSettings::from_config(bc_cfg), 6, 1);
  DiffusionPolicy<float> dp(meta(2, 1), {},
                            DiffusionPolicySettings::from_config(dp_config(1, 4, 4, false)), 7, 1);
  json ibc_algo = {{"horizon", {{"observation_horizon", 1}, {"action_horizon", 1}}},
                   {"energy", {{"layer_dims", {64, 64}}, {"dropout", 0.0}}},
                   {"train", {{"num_negatives", 64}}},
                   {"inference", {{"method", "dfo"}, {"num_samples", 256}, {"iterations", 3}}},
                   {"optim_params", {{"policy", optim(1e-3)}}}};
  Ibc<float> ibc(meta(2, 1), {},
                 IbcSettings::from_config({{"algo", ibc_algo}, {"train", json::object()}}), 8, 1);
  for (int i = 0; i < 300; ++i) {
    data::Batch batch = bimodal_batch(64, 4, uint64_t(100 + i));
    bc.train_on_batch(batch);
    dp.train_on_batch(batch);
    ibc.train_on_batch(batch);
  }
  const auto zeros = Tensor<float>::zeros({200, 1, 2});
  const Tensor<float> a_bc = bc.act(zeros.reshape({200, 2}));
  for (int64_t i = 0; i < a_bc.numel(); ++i)
    EXPECT_LT(std::abs(a_bc[i]), 0.25) << "BC should average";
  const auto [dp_plus, dp_minus] = mode_fractions(dp.predict(zeros));
  EXPECT_GT(dp_plus, 0.2);
  EXPECT_GT(dp_minus, 0.2);
  EXPECT_GT(dp_plus + dp_minus, 0.8);
  // IBC's inference returns the lowest-energy sample, so a single observation maps to one mode at
  // a time; the learned distribution softmax(-E) must hold both modes and little in between.
  const auto [ibc_plus, ibc_minus] = mode_fractions(ibc.predict(zeros));
  EXPECT_GT(ibc_plus + ibc_minus, 0.8);
  std::vector<float> grid(201);
  for (int i = 0; i <= 200; ++i) grid[size_t(i)] = float(i - 100) / 100.f;
  const std::vector<float> e = ibc.energies(Tensor<float>::zeros({1, 1, 2}), grid, 201);
  const float lo = *std::min_element(e.begin(), e.end());
  double total = 0, plus = 0, minus = 0, middle = 0;
  for (int i = 0; i <= 200; ++i) {
    const double p = std::exp(double(lo - e[size_t(i)]));
    total += p;
    plus += std::abs(grid[size_t(i)] - 0.6f) < 0.15f ? p : 0;
    minus += std::abs(grid[size_t(i)] + 0.6f) < 0.15f ? p : 0;
    middle += std::abs(grid[size_t(i)]) < 0.2f ? p : 0;
  }
  EXPECT_GT(plus / total, 0.2);
  EXPECT_GT(minus / total, 0.2);
  EXPECT_LT(middle / total, 0.05);
}

TEST(Ibc, LangevinAndConstantNoiseInferenceFindLowEnergyActions) {
  json algo = {{"horizon", {{"observation_horizon", 1}, {"action_horizon", 1}}},
               {"energy", {{"layer_dims", {64, 64}}, {"dropout", 0.0}}},
               {"train", {{"num_negatives", 64}}},
               {"inference", {{"method", "langevin"}, {"num_samples", 64}, {"langevin_steps", 30}}},
               {"optim_params", {{"policy", optim(1e-3)}}}};
  json cfg = {{"algo", algo}, {"train", json::object()}};
  Ibc<float> langevin(meta(4, 2), {}, IbcSettings::from_config(cfg), 9, 1);
  cfg["algo"]["inference"] = {{"method", "dfo_constant"}, {"num_samples", 256}, {"iterations", 3}};
  Ibc<float> constant(meta(4, 2), {}, IbcSettings::from_config(cfg), 9, 1);
  data::Batch batch = regression_batch(64, 1, 4, 2, 21);
  double first = 0, last = 0;
  for (int i = 0; i < 400; ++i) {
    const double l = langevin.train_on_batch(batch).at("Loss");
    constant.train_on_batch(batch);
    if (i == 0) first = l;
    last = l;
  }
  EXPECT_LT(last, first * 0.7);
  Tensor<float> obs = gather_features(langevin.shape_meta(), {}, batch.obs, 0, 1);
  for (Ibc<float>* p : {&langevin, &constant}) {
    Tensor<float> a = p->predict(obs);
    double err = 0;
    for (int64_t i = 0; i < a.numel(); ++i) err += std::abs(a[i] - batch.data["actions"][i]);
    EXPECT_LT(err / double(a.numel()), 0.2) << p->settings().method;
  }
}

}  // namespace
}  // namespace mimic::policy
