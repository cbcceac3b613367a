// robomimic's BC variants on small synthetic problems. BC-Transformer: the loss falls and the
// policy reproduces the demonstrations from a context of observations, future-action targets are
// the current-step targets shifted, a state round trip gives identical actions. BC-VAE: it learns
// with every prior, acts by decoding prior samples, and round-trips its state. Bad settings and
// inputs of both are refused by name.
#include <gtest/gtest.h>

#include <cmath>

#include "mimic/policy/bc/bc_transformer.hpp"
#include "mimic/policy/bc/bc_vae.hpp"
#include "mimic/policy/bc/spec.hpp"
#include "support/optim_config.hpp"

namespace mimic::policy {
namespace {

using json = nlohmann::json;

ShapeMeta meta2() {
  ShapeMeta m;
  m.obs_shapes["a_pos"] = {3};
  m.obs_shapes["b_flag"] = {1};
  m.action_dim = 2;
  return m;
}

json transformer_config(json transformer, double dropout = 0.0) {
  const json small = {{"enabled", true},
                      {"embed_dim", 32},
                      {"num_layers", 2},
                      {"num_heads", 4},
                      {"emb_dropout", dropout},
                      {"attn_dropout", dropout},
                      {"block_output_dropout", dropout}};
  for (const auto& [k, v] : small.items())
    if (!transformer.contains(k)) transformer[k] = v;
  return {
      {"algo",
       {{"optim_params", {{"policy", testing::adam_config(1e-3)}}}, {"transformer", transformer}}},
      {"train", {{"frame_stack", transformer.value("context_length", 10)}}}};
}

// Steps of observations in [-1, 1]; the action at step t depends on the observations at t and
// t - 1, so only a policy that looks back can reproduce it.
data::Batch context_batch(int64_t b, int64_t steps, uint64_t seed) {
  data::Batch batch;
  auto pos = Tensor<float>::empty({b, steps, 3}), flag = Tensor<float>::empty({b, steps, 1});
  auto a = Tensor<float>::zeros({b, steps, 2});
  for (int64_t i = 0; i < pos.numel(); ++i) pos[i] = float(2 * philox_uniform<double>(seed, i) - 1);
  for (int64_t i = 0; i < flag.numel(); ++i) flag[i] = float((i / 3) % 2);
  for (int64_t i = 0; i < b; ++i)
    for (int64_t t = 1; t < steps; ++t) {
      const float* now = pos.data() + (i * steps + t) * 3;
      const float* before = now - 3;
      a[(i * steps + t) * 2] = 0.8f * std::tanh(now[0] - before[1]);
      a[(i * steps + t) * 2 + 1] = 0.8f * std::tanh(0.5f * now[2] + before[0]);
    }
  batch.obs["a_pos"] = pos;
  batch.obs["b_flag"] = flag;
  batch.data["actions"] = a;
  return batch;
}

std::string error_of(const json& cfg) {
  try {
    BcTransformerSettings::from_config(cfg);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

TEST(BcTransformer, LearnsFromContextAndStateRoundTripGivesIdenticalActions) {
  const auto s =
      BcTransformerSettings::from_config(transformer_config({{"context_length", 3}}, 0.1));
  EXPECT_EQ(s.window_steps(), 3);
  BcTransformer<float> policy(meta2(), {}, s, 3, 1);
  EXPECT_EQ(policy.n_obs_steps(), 3);
  const data::Batch batch = context_batch(48, 3, 11);
  const double first = policy.train_on_batch(batch).at("Loss");
  double last = first;
  for (int i = 0; i < 400; ++i) last = policy.train_on_batch(batch).at("Loss");
  EXPECT_LT(last, first * 0.05) << first << " -> " << last;

  const Tensor<float> feats = gather_features(policy.shape_meta(), {}, batch.obs, 0, 3);
  const Tensor<float> a = policy.act(feats);
  ASSERT_EQ(a.shape(), (Shape{48, 2}));
  double mean_error = 0, max_error = 0;
  for (int64_t i = 0; i < 48; ++i)
    for (int64_t j = 0; j < 2; ++j) {
      const double e = std::abs(a[i * 2 + j] - batch.data.at("actions")[(i * 3 + 2) * 2 + j]);
      mean_error += e / 96;
      max_error = std::max(max_error, e);
    }
  EXPECT_LT(mean_error, 0.05);
  EXPECT_LT(max_error, 0.25);

  BcTransformer<float> copy(meta2(), {}, s, 99, 1);
  std::map<std::string, Tensor<float>> tensors;
  for (auto& [name, t] : policy.state_tensors()) tensors[name] = t.clone();
  copy.load_state(tensors, policy.state_json());
  const Tensor<float> b = copy.act(feats);
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a[i], b[i]) << i;
  const Tensor<float> r = copy.act_rollout(feats, std::vector<int>(48, 0));
  ASSERT_EQ(r.shape(), (Shape{48, 1, 2}));
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(r[i], a[i]) << i;
}

TEST(BcTransformer, FutureActionTargetsAreTheCurrentStepsOn) {
  // pred_future_acs supervises actions h-1 .. 2h-2 of a 2h-1 window from the first h
  // observations; the same loss as supervising every step of a window shifted by h - 1.
  const int64_t h = 3;
  const auto future = BcTransformerSettings::from_config(transformer_config(
      {{"context_length", h}, {"supervise_all_steps", true}, {"pred_future_acs", true}}));
  const auto all = BcTransformerSettings::from_config(
      transformer_config({{"context_length", h}, {"supervise_all_steps", true}}));
  EXPECT_EQ(future.window_steps(), 2 * h - 1);
  BcTransformer<float> a(meta2(), {}, future, 5, 1), b(meta2(), {}, all, 5, 1);
  const data::Batch wide = context_batch(8, 2 * h - 1, 21);
  data::Batch shifted;
  for (const auto& [k, v] : wide.obs) shifted.obs[k] = v;
  const Tensor<float>& acts = wide.data.at("actions");
  auto moved = Tensor<float>::zeros({8, h, 2});
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t t = 0; t < h; ++t)
      for (int64_t j = 0; j < 2; ++j)
        moved[(i * h + t) * 2 + j] = acts[(i * (2 * h - 1) + t + h - 1) * 2 + j];
  shifted.data["actions"] = moved;
  const double la = a.validate_on_batch(wide).at("Loss"),
               lb = b.validate_on_batch(shifted).at("Loss");
  EXPECT_GT(la, 0);
  EXPECT_DOUBLE_EQ(la, lb);
}

TEST(BcTransformer, BadSettingsAndInputsAreRefusedByName) {
  EXPECT_NE(error_of(transformer_config({{"num_heads", 5}})).find("algo.transformer.num_heads"),
            std::string::npos);
  EXPECT_NE(error_of(transformer_config({{"attn_dropout", 1.0}})).find("attn_dropout"),
            std::string::npos);
  EXPECT_NE(error_of(transformer_config({{"activation", "relu"}})).find("activation"),
            std::string::npos);
  EXPECT_NE(error_of(transformer_config({{"pred_future_acs", true}})).find("supervise_all_steps"),
            std::string::npos);
  json gauss = transformer_config(json::object());
  gauss["algo"]["gaussian"] = {{"enabled", true}};
  EXPECT_NE(error_of(gauss).find("algo.gaussian.enabled"), std::string::npos);
  // The spec refuses a transformer combined with an RNN, and windows shorter than the context.
  json both = transformer_config(json::object());
  both["algo"]["rnn"] = {{"enabled", true}};
  both["train"]["frame_stack"] = 1;
  EXPECT_ANY_THROW(bc_transformer_spec().validate(with_defaults(bc_defaults(), both)));
  EXPECT_EQ(bc_transformer_spec().window_steps(
                with_defaults(bc_defaults(), transformer_config({{"context_length", 7}}))),
            7);

  BcTransformer<float> policy(
      meta2(), {}, BcTransformerSettings::from_config(transformer_config({{"context_length", 3}})),
      1, 1);
  try {
    policy.act(Tensor<float>::zeros({2, 2, 4}));
    ADD_FAILURE() << "a 2-step context was accepted";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[B, 3, obs_dim]"), std::string::npos) << e.what();
  }
}

json vae_config(json prior, json vae = json::object()) {
  vae["enabled"] = true;
  vae["prior"] = std::move(prior);
  for (const char* k : {"encoder_layer_dims", "decoder_layer_dims", "prior_layer_dims"})
    if (!vae.contains(k)) vae[k] = {64, 64};
  return {{"algo", {{"optim_params", {{"policy", testing::adam_config(1e-3)}}}, {"vae", vae}}},
          {"train", json::object()}};
}

std::string vae_error_of(const json& cfg) {
  try {
    BcVaeSettings::from_config(cfg);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

TEST(BcVae, LearnsWithEveryPriorAndRoundTripsItsState) {
  const std::vector<json> priors = {
      json::object(),
      {{"learn", true}},
      {{"learn", true}, {"is_conditioned", true}, {"use_gmm", true}, {"gmm_learn_weights", true}},
      {{"learn", true}, {"use_categorical", true}, {"categorical_gumbel_softmax_hard", true}},
      {{"use_categorical", true}}};
  // One step whose action is a function of its observation.
  data::Batch one = context_batch(64, 1, 31);
  Tensor<float>& acts = one.data.at("actions");
  const Tensor<float>& pos = one.obs.at("a_pos");
  for (int64_t i = 0; i < 64; ++i) {
    acts[i * 2] = 0.8f * std::tanh(pos[i * 3] - pos[i * 3 + 1]);
    acts[i * 2 + 1] = 0.8f * std::tanh(0.5f * pos[i * 3 + 2] + one.obs.at("b_flag")[i]);
  }
  for (const json& prior : priors) {
    SCOPED_TRACE(prior.dump());
    const auto s = BcVaeSettings::from_config(vae_config(prior, {{"kl_weight", 0.1}}));
    BcVae<float> policy(meta2(), {}, s, 4, 1);
    const double first = policy.train_on_batch(one).at("Reconstruction_Loss");
    double last = first;
    for (int i = 0; i < 300; ++i) last = policy.train_on_batch(one).at("Reconstruction_Loss");
    EXPECT_LT(last, first * 0.3) << first << " -> " << last;
    const Tensor<float> feats =
        gather_features(policy.shape_meta(), {}, one.obs, 0, 1).reshape({64, 4});
    BcVae<float> copy(meta2(), {}, s, 99, 1);
    std::map<std::string, Tensor<float>> tensors;
    for (auto& [name, t] : policy.state_tensors()) tensors[name] = t.clone();
    copy.load_state(tensors, policy.state_json());  // the random stream too
    const Tensor<float> a = policy.act(feats), b = copy.act(feats);
    ASSERT_EQ(a.shape(), (Shape{64, 2}));
    double mean_error = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
      ASSERT_EQ(a[i], b[i]) << i;
      ASSERT_TRUE(std::isfinite(a[i]) && std::abs(a[i]) <= 1.0f) << a[i];
      mean_error += std::abs(a[i] - acts[i]) / double(a.numel());
    }
    EXPECT_LT(mean_error, 0.2);
  }
}

TEST(BcVae, BadSettingsAreRefusedByName) {
  EXPECT_NE(vae_error_of(vae_config({{"use_gmm", true}})).find("algo.vae.prior.use_gmm"),
            std::string::npos);
  EXPECT_NE(vae_error_of(vae_config({{"is_conditioned", true}})).find("is_conditioned"),
            std::string::npos);
  EXPECT_NE(
      vae_error_of(vae_config({{"learn", true}, {"use_gmm", true}, {"use_categorical", true}}))
          .find("exclusive"),
      std::string::npos);
  EXPECT_NE(vae_error_of(vae_config(json::object(), {{"encoder_layer_dims", json::array()}}))
                .find("algo.vae.encoder_layer_dims"),
            std::string::npos);
  EXPECT_NE(vae_error_of(vae_config(json::object(), {{"latent_clip", -1}})).find("latent_clip"),
            std::string::npos);
  // The spec refuses a VAE together with a GMM head (robomimic would train the GMM instead).
  json gmm = vae_config(json::object());
  gmm["algo"]["gmm"] = {{"enabled", true}};
  try {
    bc_vae_spec().validate(with_defaults(bc_defaults(), gmm));
    ADD_FAILURE() << "a VAE with a GMM head was accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("algo.vae.enabled"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mimic::policy
