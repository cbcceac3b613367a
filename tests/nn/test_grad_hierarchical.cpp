// Finite-difference gradients in double through GL's subgoal VAE (robomimic's VAE over several
// observation keys: one unsquashed decoder head per key, the reconstruction error averaged per
// key and then over the keys, or summed over everything). Values against robomimic itself:
// tests/golden/test_golden_hierarchical.cpp.
#include "mimic/nn/vae.hpp"
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;
using testing::TapeD;
using testing::VarD;
using Vars = std::vector<VarD>;

void check_subgoal_vae(const char* name, nn::VaeSettings s) {
  s.encoder_dims = {7, 6};
  s.decoder_dims = {6};
  s.prior_dims = {5};
  s.gmm_modes = 3;
  nn::ParamStore<double> store;
  // Subgoal keys of widths 3 and 2 (a per-key mean differs from the mean over all 5 values).
  nn::ConditionalVae<double> vae(store, "goal_network", {{"a_pos", 3, false}, {"b_flag", 2, false}},
                                 4, s);
  store.allocate();
  store.initialize(8);
  expect_gradients_match(name,
                         [&](TapeD&, const Vars& v) {
                           PhiloxStream rng{17, 0};  // the same noise at every evaluation
                           return ops::reshape(vae.loss(store, v[0], v[1], rng, 1.0).total,
                                               Shape{1});
                         },
                         {random_tensor({5, 5}, 2, -1.5, 1.5), random_tensor({5, 4}, 3)});
}

TEST(GradCheck, SubgoalVaePerKeyReconstruction) { check_subgoal_vae("subgoal_vae_mean", {}); }
TEST(GradCheck, SubgoalVaeSummedReconstructionGmmPrior) {
  nn::VaeSettings s;
  s.reconstruction_sum = true;
  s.prior_learn = s.prior_conditioned = s.use_gmm = s.gmm_learn_weights = true;
  s.kl_weight = 0.3;
  check_subgoal_vae("subgoal_vae_sum_gmm", s);
}

}  // namespace
}  // namespace mimic
