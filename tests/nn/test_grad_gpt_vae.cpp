// Finite-difference gradients in double through robomimic's GPT backbone (GELU and GEGLU, with
// dropout on a fixed stream) and through the conditional VAE's loss for every prior (soft Gumbel
// samples). Values against robomimic itself: tests/golden/test_golden_bc_variants.cpp.
#include "mimic/nn/gpt.hpp"
#include "mimic/nn/vae.hpp"
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;
using testing::TapeD;
using testing::VarD;
using Vars = std::vector<VarD>;

void check_gpt(const char* name, bool geglu, double dropout) {
  nn::ParamStore<double> store;
  nn::GptSettings s;
  s.embed_dim = 8;
  s.context_length = 4;
  s.num_layers = 2;
  s.num_heads = 2;
  s.attn_dropout = s.block_output_dropout = dropout;
  s.geglu = geglu;
  nn::GptBackbone<double> gpt(store, "gpt", s);
  store.allocate();
  store.initialize(3);
  expect_gradients_match(name,
                         [&](TapeD&, const Vars& v) {
                           PhiloxStream rng{11, 0};  // the same masks at every evaluation
                           return gpt(store, v[0], rng, dropout > 0);
                         },
                         {random_tensor({2, 4, 8}, 1)});
}

TEST(GradCheck, GptBackboneGelu) { check_gpt("gpt_gelu", false, 0.0); }
TEST(GradCheck, GptBackboneGegluWithDropout) { check_gpt("gpt_geglu_dropout", true, 0.2); }

void check_vae(const char* name, nn::VaeSettings s) {
  s.encoder_dims = {7, 6};
  s.decoder_dims = {6};
  s.prior_dims = {5};
  s.gmm_modes = 3;
  s.categorical_dim = 3;
  nn::ParamStore<double> store;
  nn::ConditionalVae<double> vae(store, "vae", 3, 4, s);
  store.allocate();
  store.initialize(5);
  expect_gradients_match(name,
                         [&](TapeD&, const Vars& v) {
                           PhiloxStream rng{13, 0};  // the same noise at every evaluation
                           return ops::reshape(vae.loss(store, v[0], v[1], rng, 0.7).total,
                                               Shape{1});
                         },
                         {random_tensor({5, 3}, 2, -0.9, 0.9), random_tensor({5, 4}, 3)});
}

TEST(GradCheck, VaeLossNormalPrior) { check_vae("vae_normal", {}); }
TEST(GradCheck, VaeLossLearnedConditionedGaussianPriorSummed) {
  nn::VaeSettings s;
  s.prior_learn = s.prior_conditioned = s.reconstruction_sum = true;
  check_vae("vae_learned_gaussian", s);
}
TEST(GradCheck, VaeLossGmmPriorWithLearnedWeights) {
  nn::VaeSettings s;
  s.prior_learn = s.use_gmm = s.gmm_learn_weights = true;
  check_vae("vae_gmm", s);
}
TEST(GradCheck, VaeLossConditionedUniformGmmPrior) {
  nn::VaeSettings s;
  s.prior_learn = s.prior_conditioned = s.use_gmm = true;
  check_vae("vae_gmm_conditioned", s);
}
TEST(GradCheck, VaeLossCategoricalLearnedPrior) {
  nn::VaeSettings s;
  s.use_categorical = s.prior_learn = true;
  s.latent_dim = 2;
  check_vae("vae_categorical", s);
}
// (The hard Gumbel-softmax is a straight-through estimator, not a derivative: its gradient is the
// soft sample's by design, so no finite difference can check it; the golden test holds it to
// torch's.)

}  // namespace
}  // namespace mimic
