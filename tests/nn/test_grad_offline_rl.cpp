// Finite-difference gradients in double through the networks of mimic's offline RL algorithms:
// robomimic's stochastic actors' log-likelihoods (Gaussian with softplus or exp scale, fixed std,
// tanh-wrapped; GMM) and the bounded value network. Values against robomimic itself:
// tests/golden/test_golden_offline_rl.cpp.
#include "mimic/policy/offline/mlp_network.hpp"
#include "mimic/policy/offline/stochastic_actor.hpp"
#include "support/gradcheck.hpp"

namespace mimic {
namespace {

using testing::expect_gradients_match;
using testing::random_tensor;
using testing::TapeD;
using testing::VarD;
using Vars = std::vector<VarD>;

void check_actor(const char* name, policy::StochasticActorSettings s) {
  s.init_last_fc_weight = 0;  // PyTorch's default initialization: scales away from the clamps
  nn::ParamStore<double> store;
  policy::StochasticActor<double> actor(store, "actor", 5, 3, {7, 6}, s);
  store.allocate();
  store.initialize(9);
  expect_gradients_match(name,
                         [&](TapeD&, const Vars& v) {
                           return ops::reshape(ops::mean(actor.log_prob(store, v[0], v[1])),
                                               Shape{1});
                         },
                         {random_tensor({4, 5}, 2), random_tensor({4, 3}, 3, -0.8, 0.8)});
}

TEST(GradCheck, GaussianActorSoftplusScale) { check_actor("gaussian_softplus", {}); }
TEST(GradCheck, GaussianActorExpScale) {
  policy::StochasticActorSettings s;
  s.std_activation = "exp";
  check_actor("gaussian_exp", s);
}
TEST(GradCheck, GaussianActorFixedStdTanhWrapped) {
  policy::StochasticActorSettings s;
  s.fixed_std = s.use_tanh = true;
  check_actor("gaussian_fixed_tanh", s);
}
TEST(GradCheck, GmmActor) {
  policy::StochasticActorSettings s;
  s.gmm = true;
  s.num_modes = 3;
  check_actor("gmm_actor", s);
}

TEST(GradCheck, BoundedActionValueNetwork) {
  nn::ParamStore<double> store;
  policy::ValueNetwork<double> q(store, "critic", 5, 3, {7, 6}, {true, -2.0, 3.0});
  store.allocate();
  store.initialize(4);
  expect_gradients_match(
      "bounded_q",
      [&](TapeD&, const Vars& v) { return ops::reshape(ops::sum(q(store, v[0], v[1])), Shape{1}); },
      {random_tensor({4, 5}, 5), random_tensor({4, 3}, 6)});
}

}  // namespace
}  // namespace mimic
