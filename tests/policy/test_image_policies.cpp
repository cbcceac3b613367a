// Policies with rgb observations: an image BC policy overfits a few demonstrations through its
// ResNet18 + SpatialSoftmax encoder, BC-RNN and Diffusion Policy (GroupNorm encoder, crops, EMA)
// train on image batches and reproduce their actions from saved state, and rollout observations
// become the same rows as dataset batches.
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
constexpr int64_t kSide = 40;  // small images keep the test fast: the trunk ends at 2x2

json optim(double lr) { return testing::adam_config(lr); }

ShapeMeta image_meta() {
  ShapeMeta m;
  m.obs_shapes["agent_pos"] = {2};
  m.obs_shapes["image"] = {3, kSide, kSide};
  m.rgb_keys = {"image"};
  m.action_dim = 2;
  return m;
}

json encoder(bool crop) {
  json rgb = {
      {"core_class", "VisualCore"},
      {"core_kwargs",
       {{"feature_dimension", 32},
        {"backbone_class", "ResNet18Conv"},
        {"pool_class", "SpatialSoftmax"},
        {"pool_kwargs", {{"num_kp", 16}}}}},
      {"obs_randomizer_class", crop ? json("CropRandomizer") : json(nullptr)},
      {"obs_randomizer_kwargs", {{"crop_height", 36}, {"crop_width", 36}, {"num_crops", 1}}}};
  return {{"encoder", {{"rgb", rgb}}}};
}

// A bright 8x8 square on a dark image at a per-sample position; the action is the square's
// centre in [-0.8, 0.8]. agent_pos is noise, so only the image explains the action.
data::Batch square_batch(int64_t b, int64_t steps, uint64_t seed) {
  data::Batch batch;
  auto img = Tensor<float>::zeros({b, steps, 3, kSide, kSide});
  auto pos = Tensor<float>::empty({b, steps, 2});
  auto act = Tensor<float>::empty({b, steps, 2});
  for (int64_t i = 0; i < b; ++i)
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t r = i * steps + t;
      const int64_t top = int64_t(philox_uniform<double>(seed, uint64_t(4 * r)) * (kSide - 8));
      const int64_t left = int64_t(philox_uniform<double>(seed, uint64_t(4 * r + 1)) * (kSide - 8));
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = top; y < top + 8; ++y)
          for (int64_t x = left; x < left + 8; ++x)
            img[((r * 3 + c) * kSide + y) * kSide + x] = c == 0 ? 1.f : 0.7f;
      pos[2 * r] = float(philox_uniform<double>(seed, uint64_t(4 * r + 2)));
      pos[2 * r + 1] = float(philox_uniform<double>(seed, uint64_t(4 * r + 3)));
      act[2 * r] = float(0.8 * (2.0 * (left + 4) / kSide - 1.0));
      act[2 * r + 1] = float(0.8 * (2.0 * (top + 4) / kSide - 1.0));
    }
  batch.obs["image"] = img;
  batch.obs["agent_pos"] = pos;
  batch.data["actions"] = act;
  return batch;
}

TEST(ImageBc, OverfitsAFewDemonstrations) {
  json cfg = {
      {"algo", {{"actor_layer_dims", {128, 128}}, {"optim_params", {{"policy", optim(1e-3)}}}}},
      {"train", json::object()},
      {"observation", encoder(false)}};
  Bc<float> bc(image_meta(), {}, BcSettings::from_config(cfg), 1, 1);
  // ResNet18 trunk (11,176,512 with BatchNorm affine) + 1x1 conv to 16 keypoints + Linear(32, 32)
  // + MLP (32 + 2 -> 128 -> 128) + head (128 -> 2), plus BatchNorm running statistics.
  EXPECT_EQ(bc.feature_dim(), 34);
  EXPECT_TRUE(bc.params().find("encoder.image.backbone.layer4.1.bn2.running_var").defined());
  data::Batch batch = square_batch(8, 1, 3);
  const double first = bc.train_on_batch(batch).at("Loss");
  double last = first;
  for (int i = 0; i < 150; ++i) last = bc.train_on_batch(batch).at("Loss");
  EXPECT_LT(last, first * 0.05) << first << " -> " << last;
  // Evaluation mode (BatchNorm running statistics) still reproduces the demonstrations.
  Tensor<float> rows = gather_features(bc.shape_meta(), {}, batch.obs, 0, 1);
  Tensor<float> a = bc.act(rows.reshape({8, bc.shape_meta().obs_dim()}));
  double err = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    err = std::max(err, double(std::abs(a[i] - batch.data["actions"][i])));
  EXPECT_LT(err, 0.15);
}

TEST(ImageBcRnn, TrainsAndRestoresItsStateExactly) {
  json cfg = {{"algo",
               {{"actor_layer_dims", json::array()},
                {"rnn", {{"enabled", true}, {"horizon", 3}, {"hidden_dim", 32}, {"num_layers", 2}}},
                {"optim_params", {{"policy", optim(1e-3)}}}}},
              {"train", json::object()},
              {"observation", encoder(true)}};
  const auto settings = BcRnnSettings::from_config(cfg);
  BcRnn<float> policy(image_meta(), {}, settings, 2, 1);
  data::Batch batch = square_batch(4, 3, 5);
  double first = 0, last = 0;
  for (int i = 0; i < 3; ++i) first += policy.train_on_batch(batch).at("Loss") / 3;
  for (int i = 0; i < 40; ++i) policy.train_on_batch(batch);
  for (int i = 0; i < 3; ++i) last += policy.train_on_batch(batch).at("Loss") / 3;
  EXPECT_LT(last, first * 0.7) << first << " -> " << last;

  BcRnn<float> copy(image_meta(), {}, settings, 77, 1);
  std::map<std::string, Tensor<float>> tensors;
  for (auto& [name, t] : policy.state_tensors()) tensors[name] = t.clone();
  copy.load_state(tensors, policy.state_json());
  Tensor<float> rows = gather_features(policy.shape_meta(), {}, batch.obs, 0, 3);
  Tensor<float> a = policy.act_sequence(rows), b = copy.act_sequence(rows);
  ASSERT_EQ(a.shape(), (Shape{4, 3, 2}));
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a[i], b[i]) << i;
}

TEST(ImageDiffusionPolicy, GroupNormEncoderTrainsWithEmaAndPredicts) {
  json algo = {
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 2}, {"prediction_horizon", 4}}},
      {"unet",
       {{"diffusion_step_embed_dim", 16},
        {"down_dims", {16, 32}},
        {"kernel_size", 3},
        {"n_groups", 4}}},
      {"ema", {{"enabled", true}, {"power", 0.75}}},
      {"ddpm", {{"enabled", false}}},
      {"ddim", {{"enabled", true}, {"num_train_timesteps", 50}, {"num_inference_timesteps", 5}}},
      {"optim_params", {{"policy", optim(1e-3)}}}};
  json cfg = {{"algo", algo}, {"train", json::object()}, {"observation", encoder(true)}};
  const auto settings = DiffusionPolicySettings::from_config(cfg);
  DiffusionPolicy<float> dp(image_meta(), {}, settings, 3, 1);
  const auto& params = dp.params();
  EXPECT_TRUE(params.find("encoder.image.backbone.bn1.weight").defined());
  EXPECT_FALSE(params.find("encoder.image.backbone.bn1.running_mean").defined());  // GroupNorm
  data::Batch batch = square_batch(4, 4, 7);
  double first = 0, last = 0;
  for (int i = 0; i < 3; ++i) first += dp.train_on_batch(batch).at("Loss") / 3;
  for (int i = 0; i < 30; ++i) dp.train_on_batch(batch);
  for (int i = 0; i < 3; ++i) last += dp.train_on_batch(batch).at("Loss") / 3;
  EXPECT_LT(last, first) << first << " -> " << last;
  EXPECT_GT(dp.ema()->steps(), 30);

  DiffusionPolicy<float> copy(image_meta(), {}, settings, 99, 1);
  std::map<std::string, Tensor<float>> tensors;
  for (auto& [name, t] : dp.state_tensors()) tensors[name] = t.clone();
  copy.load_state(tensors, dp.state_json());
  Tensor<float> rows = gather_features(dp.shape_meta(), {}, batch.obs, 0, 2);
  Tensor<float> a = dp.predict(rows), b = copy.predict(rows);
  ASSERT_EQ(a.shape(), (Shape{4, 2, 2}));
  for (int64_t i = 0; i < a.numel(); ++i) {
    ASSERT_TRUE(std::isfinite(a[i]));
    ASSERT_EQ(a[i], b[i]) << i;
  }
}

TEST(ImagePolicies, RolloutObservationsMatchDatasetRows) {
  const ShapeMeta m = image_meta();
  env::Observation o;
  o.low_dim["agent_pos"] = {0.25f, -0.5f};
  std::vector<uint8_t> hwc(size_t(kSide * kSide * 3));
  for (size_t i = 0; i < hwc.size(); ++i) hwc[i] = uint8_t((i * 37) % 256);
  o.images["image"] = hwc;
  data::AffineStats stats{{0.0, 1.0}, {2.0, 4.0}};  // low-dim block only
  std::vector<float> row(size_t(m.obs_dim()));
  observation_features(m, stats, o, row.data());
  EXPECT_FLOAT_EQ(row[0], 0.125f);
  EXPECT_FLOAT_EQ(row[1], -0.375f);
  // Pixel (y=1, x=2), channel 2 sits at CHW offset 2*H*W + 1*W + 2 after the low-dim block.
  EXPECT_FLOAT_EQ(row[size_t(2 + 2 * kSide * kSide + kSide + 2)],
                  float(hwc[size_t((kSide + 2) * 3 + 2)]) / 255.f);
  o.images.clear();
  EXPECT_THROW(observation_features(m, stats, o, row.data()), ValueError);
  // IBC's energy MLP takes no images.
  json ibc = {{"algo", {{"optim_params", {{"policy", optim(1e-3)}}}}}, {"train", json::object()}};
  EXPECT_THROW(Ibc<float>(m, {}, IbcSettings::from_config(ibc), 1, 1), UnsupportedError);
}

}  // namespace
}  // namespace mimic::policy
