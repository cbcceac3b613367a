// Layers: parameter names and counts, initialization, gradient checks through whole modules.
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::random_tensor;

TEST(Layers, PushTUnetHasPublishedParameterCount) {
  nn::ParamStore<float> store;
  nn::UnetConfig cfg;
  cfg.input_dim = 2;
  cfg.global_cond_dim = 40;
  nn::ConditionalUnet1D<float> unet(store, cfg);
  EXPECT_EQ(store.count(), 65783298);
  for (const char* name :
       {"diffusion_step_encoder.1.weight", "down_modules.0.0.blocks.0.block.0.weight",
        "mid_modules.1.cond_encoder.1.bias", "down_modules.1.2.conv.weight",
        "up_modules.1.2.conv.bias", "down_modules.0.0.residual_conv.weight",
        "final_conv.0.block.1.weight", "final_conv.1.bias"})
    EXPECT_TRUE(store.find(name).defined()) << name;
  EXPECT_FALSE(
      store.find("down_modules.2.2.conv.weight").defined());  // the last level keeps its length
}

TEST(Layers, InitializationIsSeededAndFollowsFanIn) {
  nn::ParamStore<double> a, b;
  nn::Mlp<double> ma(a, "mlp", {19, 64, 7}), mb(b, "mlp", {19, 64, 7});
  a.allocate();
  b.allocate();
  a.initialize(3);
  b.initialize(3);
  EXPECT_EQ(a.values().to_vector(), b.values().to_vector());
  auto w = a.value(a.find("mlp.0.weight"));
  const double bound = 1 / std::sqrt(19.0);
  double max_abs = 0;
  for (int64_t i = 0; i < w.numel(); ++i) max_abs = std::max(max_abs, std::abs(w[i]));
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.9 * bound);
  EXPECT_TRUE(a.find("mlp.2.weight").defined());  // Sequential index: ReLU sits at 1
  b.initialize(4);
  EXPECT_NE(a.values().to_vector(), b.values().to_vector());
}

// Gradient check of every parameter of a small UNet (objective: weighted sum of the output).
TEST(GradCheck, ConditionalUnet1D) {
  nn::ParamStore<double> store;
  nn::UnetConfig cfg;
  cfg.input_dim = 2;
  cfg.global_cond_dim = 3;
  cfg.diffusion_step_embed_dim = 8;
  cfg.down_dims = {4, 8};
  cfg.kernel_size = 3;
  cfg.n_groups = 2;
  nn::ConditionalUnet1D<double> unet(store, cfg);
  store.allocate();
  store.initialize(7);
  const auto sample = random_tensor({2, 4, 2}, 1), cond = random_tensor({2, 3}, 2);
  const auto steps = Tensor<double>::from_list({2}, {3, 40});
  const auto weights = random_tensor({2, 4, 2}, 3, 0.5, 1.5);
  auto objective = [&](Tape<double>& tape) {
    auto y = unet(store, tape.constant(sample), tape.constant(steps), tape.leaf(cond));
    return ops::sum(y * tape.constant(weights));
  };
  Tape<double> tape;
  store.zero_grad();
  tape.backward(objective(tape));
  const auto analytic = store.grads().clone();
  const auto& v = store.values();
  double worst = 0;
  std::string worst_name;
  for (const auto& e : store.entries()) {
    for (int64_t j = 0; j < e.shape.numel(); j += 3) {  // every third element keeps it quick
      const int64_t i = e.offset + j;
      const double saved = v[i], eps = 1e-6;
      Tape<double> t1;
      v[i] = saved + eps;
      const double up = objective(t1).value()[0];
      t1.reset();
      v[i] = saved - eps;
      const double down = objective(t1).value()[0];
      v[i] = saved;
      const double numeric = (up - down) / (2 * eps);
      const double err = std::abs(numeric - analytic[i]) / (1e-6 + 1e-5 * std::abs(numeric));
      if (err > worst) {
        worst = err;
        worst_name = e.name;
      }
    }
  }
  EXPECT_LE(worst, 1.0) << "worst parameter: " << worst_name;
}

TEST(GradCheck, MlpAndLayers) {
  nn::ParamStore<double> store;
  nn::Mlp<double> mlp(store, "", {3, 5, 2}, nn::Activation::kMish, true);
  nn::LayerNorm<double> ln(store, "ln", Shape{2});
  store.allocate();
  store.initialize(1);
  testing::expect_gradients_match("mlp_layer_norm",
                                  [&](testing::TapeD&, const std::vector<testing::VarD>& v) {
                                    return ln(store, mlp(store, v[0]));
                                  },
                                  {random_tensor({4, 3}, 5)});
}

TEST(Layers, ShapeErrorsNameTheModule) {
  nn::ParamStore<float> store;
  nn::UnetConfig cfg;
  cfg.global_cond_dim = 4;
  cfg.down_dims = {8, 16};
  cfg.n_groups = 4;
  cfg.diffusion_step_embed_dim = 8;
  nn::ConditionalUnet1D<float> unet(store, cfg);
  store.allocate();
  Tape<float> tape;
  auto t = tape.constant(Tensor<float>::zeros({2}));
  auto c = tape.constant(Tensor<float>::zeros({2, 4}));
  EXPECT_THROW(unet(store, tape.constant(Tensor<float>::zeros({2, 8, 3})), t, c), ShapeError);
  EXPECT_THROW(unet(store, tape.constant(Tensor<float>::zeros({2, 7, 2})), t, c), ShapeError);
  EXPECT_THROW(unet(store, tape.constant(Tensor<float>::zeros({2, 8, 2})), t,
                    tape.constant(Tensor<float>::zeros({2, 5}))),
               ShapeError);
  EXPECT_THROW(nn::GroupNorm<float>(store, "gn", 3, 8), ValueError);
}

}  // namespace
}  // namespace mimic

namespace mimic {
namespace {

TEST(GradCheck, LstmAndGru) {
  for (bool lstm : {true, false}) {
    nn::ParamStore<double> store;
    auto rnn = lstm ? nn::make_lstm(store, "rnn", 3, 4, 2) : nn::make_gru(store, "rnn", 3, 4, 2);
    store.allocate();
    store.initialize(11);
    testing::expect_gradients_match(lstm ? "lstm" : "gru",
                                    [&](testing::TapeD&, const std::vector<testing::VarD>& v) {
                                      auto first = rnn(store, ops::slice(v[0], 1, 0, 2));
                                      auto second = rnn(store, ops::slice(v[0], 1, 2, 3),
                                                        first.state);  // carried state
                                      return ops::concat({first.output, second.output}, 1);
                                    },
                                    {random_tensor({2, 3, 3}, 1)});
  }
}

TEST(Layers, RnnCarriedStateEqualsOneLongCall) {
  nn::ParamStore<double> store;
  auto lstm = nn::make_lstm(store, "", 3, 5, 2);
  store.allocate();
  store.initialize(2);
  Tape<double> tape;
  auto x = random_tensor({2, 6, 3}, 4);
  auto whole = lstm(store, tape.constant(x)).output.value().to_vector();
  nn::RnnState<double, Cpu> state;
  std::vector<double> stepped;
  for (int t = 0; t < 6; ++t) {
    auto r = lstm(store, ops::slice(tape.constant(x), 1, t, t + 1), state);
    state = r.state;
    auto v = r.output.value().to_vector();
    stepped.insert(stepped.end(), v.begin(), v.end());
  }
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 6; ++t)
      for (int h = 0; h < 5; ++h)
        EXPECT_NEAR(stepped[(t * 2 + b) * 5 + h], whole[(b * 6 + t) * 5 + h], 1e-14);
}

TEST(GradCheck, GmmHead) {
  nn::ParamStore<double> store;
  nn::GmmHead<double> head(store, "gmm", 4, 2, 3);
  store.allocate();
  store.initialize(5);
  testing::expect_gradients_match("gmm_head",
                                  [&](testing::TapeD& t, const std::vector<testing::VarD>& v) {
                                    auto p = head(store, v[0]);
                                    return head.log_prob(p, t.constant(Tensor<double>::from_list(
                                                                {2, 2}, {0.1, -0.3, 0.5, 0.2})));
                                  },
                                  {random_tensor({2, 4}, 6)});
}

TEST(Layers, GmmSamplingFollowsModes) {
  nn::ParamStore<double> store;
  nn::GmmHead<double> head(store, "gmm", 1, 1, 2);
  store.allocate();
  // Means tanh(+-2), equal logits; low-noise eval -> samples sit at the two means.
  store.value(store.find("gmm.mean.bias")).copy_from(Tensor<double>::from_list({2}, {2, -2}));
  Tape<double> tape;
  auto p = head(store, tape.constant(Tensor<double>::zeros({4000, 1})), true);
  PhiloxStream rng{9, 0};
  auto a = nn::sample_gmm(p, rng);
  int high = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    ASSERT_NEAR(std::abs(a[i]), std::tanh(2.0), 1e-3);
    high += a[i] > 0;
  }
  EXPECT_NEAR(high / 4000.0, 0.5, 0.03);
}

}  // namespace
}  // namespace mimic

namespace mimic {
namespace {

TEST(GradCheck, ConditionalUnet1DLocalCond) {
  nn::ParamStore<double> store;
  nn::UnetConfig cfg;
  cfg.input_dim = 2;
  cfg.local_cond_dim = 3;
  cfg.diffusion_step_embed_dim = 8;
  cfg.down_dims = {4, 8};
  cfg.kernel_size = 3;
  cfg.n_groups = 2;
  nn::ConditionalUnet1D<double> unet(store, cfg);
  store.allocate();
  store.initialize(8);
  EXPECT_TRUE(store.find("local_cond_encoder.1.blocks.0.block.0.weight").defined());
  const auto steps = Tensor<double>::from_list({2}, {3, 40});
  testing::expect_gradients_match("unet_local_cond",
                                  [&](testing::TapeD& t, const std::vector<testing::VarD>& v) {
                                    return unet(store, v[0], t.constant(steps), testing::VarD{},
                                                v[1]);
                                  },
                                  {random_tensor({2, 4, 2}, 1), random_tensor({2, 4, 3}, 2)});
  Tape<double> tape;
  EXPECT_THROW(unet(store, tape.constant(random_tensor({2, 4, 2}, 1)), tape.constant(steps)),
               ShapeError);
}

}  // namespace
}  // namespace mimic

namespace mimic {
namespace {

TEST(Layers, DropoutLayerTrainsWithAMaskAndIsTheIdentityInEvaluation) {
  Tape<double> tape;
  auto x = Tensor<double>::full({4, 256}, 1.0);
  nn::Dropout drop(0.25);
  PhiloxStream rng{7, 0};
  const Tensor<double> y = drop(tape.constant(x), rng, true).value();
  int64_t zeros = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    ASSERT_TRUE(y[i] == 0.0 || std::abs(y[i] - 1.0 / 0.75) < 1e-12) << y[i];
    zeros += y[i] == 0.0;
  }
  EXPECT_NEAR(double(zeros) / double(y.numel()), 0.25, 0.05);
  EXPECT_EQ(rng.offset, uint64_t(y.numel()));  // the stream advanced by one draw per element
  const Tensor<double> z = drop(tape.constant(x), rng, false).value();
  EXPECT_EQ(z.to_vector(), x.to_vector());
  EXPECT_THROW(nn::Dropout(1.0), ValueError);
}

}  // namespace
}  // namespace mimic
