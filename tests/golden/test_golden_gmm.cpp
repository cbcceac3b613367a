// The GMM action head's log-likelihood and its gradients against torch.distributions
// (MixtureSameFamily of Independent Normals), fixture by tests/reference/make_gmm_fixture.py.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "mimic/mimic.hpp"

namespace mimic {
namespace {

TEST(GoldenGmm, LogProbAndGradientsMatchTorchDistributions) {
  std::ifstream in(std::string(MIMIC_TEST_DATA_DIR) + "/golden_gmm.json");
  ASSERT_TRUE(in) << "golden_gmm.json missing";
  const auto f = nlohmann::json::parse(in);
  const int64_t b = f["B"], k = f["K"], a = f["A"];
  auto tensor = [&](const char* key, const Shape& s) {
    return Tensor<double>::from_vector(s, f[key].get<std::vector<double>>());
  };
  Tape<double> tape;
  Var<double> means = tape.leaf(tensor("means", {b, k, a}));
  Var<double> scales = tape.leaf(tensor("scales", {b, k, a}));
  Var<double> logits = tape.leaf(tensor("logits", {b, k}));
  Var<double> actions = tape.constant(tensor("actions", {b, a}));
  Var<double> logp = loss::gmm_log_prob(means, scales, logits, actions);
  const auto want = f["log_prob"].get<std::vector<double>>();
  const auto got = logp.value().to_vector();
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-10 * (1 + std::abs(want[i])));
  tape.backward(ops::sum(logp * tape.constant(tensor("weights", {b}))));
  auto expect_grad = [&](Var<double> v, const char* key) {
    const auto g = v.grad().to_vector(), w = f[key].get<std::vector<double>>();
    ASSERT_EQ(g.size(), w.size());
    for (size_t i = 0; i < w.size(); ++i)
      EXPECT_NEAR(g[i], w[i], 1e-9 * (1 + std::abs(w[i]))) << key << " " << i;
  };
  expect_grad(means, "grad_means");
  expect_grad(scales, "grad_scales");
  expect_grad(logits, "grad_logits");
}

}  // namespace
}  // namespace mimic
