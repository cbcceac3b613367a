// Optimizers, clipping, EMA and learning-rate schedules against torch (golden_optim.json) and the
// published formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mimic/mimic.hpp"
#include "mimic/policy/core/optimizer.hpp"

namespace mimic {
namespace {

nlohmann::json load_fixture() {
  std::ifstream in(std::string(MIMIC_TEST_DATA_DIR) + "/golden_optim.json");
  if (!in) throw IoError("golden_optim.json: cannot open");
  return nlohmann::json::parse(in);
}

struct OneParam {
  nn::ParamStore<double> store;
  nn::ParamId id;
  explicit OneParam(const std::vector<double>& p0) {
    id = store.declare("p", {int64_t(p0.size())});
    store.allocate();
    store.value(id).copy_from(Tensor<double>::from_vector({int64_t(p0.size())}, p0));
  }
  void set_grad(const std::vector<double>& g) {
    store.grad(id).copy_from(Tensor<double>::from_vector({int64_t(g.size())}, g));
  }
};

void expect_close(const std::vector<double>& a, const std::vector<double>& b, double tol,
                  const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], b[i], tol * (1 + std::abs(b[i]))) << what << " [" << i << "]";
}

TEST(Optim, AdamAndAdamWMatchTorch) {
  const auto f = load_fixture();
  for (const char* name : {"adam", "adamw"}) {
    const auto& c = f[name];
    OneParam m(f["p0"].get<std::vector<double>>());
    optim::AdamOptions o{c["lr"],  c["betas"][0],     c["betas"][1],
                         c["eps"], c["weight_decay"], std::string(name) == "adamw"};
    optim::Adam<double> opt(m.store, o);
    for (size_t s = 0; s < f["grads"].size(); ++s) {
      m.set_grad(f["grads"][s].get<std::vector<double>>());
      opt.step();
      expect_close(m.store.value(m.id).to_vector(), c["trajectory"][s].get<std::vector<double>>(),
                   1e-12, std::string(name) + " step " + std::to_string(s));
    }
  }
}

TEST(Optim, SgdMomentumMatchesTorch) {
  const auto f = load_fixture();
  const auto& c = f["sgd"];
  OneParam m(f["p0"].get<std::vector<double>>());
  optim::Sgd<double> opt(m.store, c["lr"], c["momentum"], c["weight_decay"]);
  for (size_t s = 0; s < f["grads"].size(); ++s) {
    m.set_grad(f["grads"][s].get<std::vector<double>>());
    opt.step();
    expect_close(m.store.value(m.id).to_vector(), c["trajectory"][s].get<std::vector<double>>(),
                 1e-12, "sgd step " + std::to_string(s));
  }
}

TEST(Optim, FloatAdamTracksDouble) {
  const auto f = load_fixture();
  const auto p0 = f["p0"].get<std::vector<double>>();
  nn::ParamStore<float> store;
  auto id = store.declare("p", {int64_t(p0.size())});
  store.allocate();
  for (size_t i = 0; i < p0.size(); ++i) store.value(id)[i] = float(p0[i]);
  optim::Adam<float> opt(store, {1e-2, 0.9, 0.999, 1e-8, 0.1, false});
  for (size_t s = 0; s < f["grads"].size(); ++s) {
    for (size_t i = 0; i < p0.size(); ++i)
      store.grad(id)[i] = float(f["grads"][s][i].get<double>());
    opt.step();
  }
  const auto want = f["adam"]["trajectory"].back().get<std::vector<double>>();
  for (size_t i = 0; i < p0.size(); ++i)
    EXPECT_NEAR(store.value(id)[i], want[i], 1e-6 * (1 + std::abs(want[i])));
}

TEST(Optim, ClipGradNormMatchesTorch) {
  const auto c = load_fixture()["clip"];
  OneParam m(std::vector<double>(7, 0.0));
  m.set_grad(c["grad"].get<std::vector<double>>());
  const double norm = optim::clip_grad_norm(m.store, c["max_norm"].get<double>());
  EXPECT_NEAR(norm, c["norm"].get<double>(), 1e-12);
  expect_close(m.store.grad(m.id).to_vector(), c["clipped"].get<std::vector<double>>(), 1e-12,
               "clipped");
  EXPECT_NEAR(optim::grad_norm(m.store), 1.5, 1e-5);
}

TEST(Optim, FrozenParametersAreNotUpdated) {
  nn::ParamStore<double> store;
  auto a = store.declare("a", {3});
  auto b = store.declare("b", {3}, nn::Init::ones(), /*trainable=*/false);
  store.allocate();
  store.initialize(0);
  store.grads().fill(1.0);
  optim::Adam<double> opt(store, {0.1, 0.9, 0.999, 1e-8, 0.0, true});
  opt.step();
  EXPECT_EQ(store.value(b).to_vector(), (std::vector<double>{1, 1, 1}));
  EXPECT_NEAR(store.value(a)[0], -0.1, 1e-9);
}

TEST(Ema, DecayScheduleAndUpdate) {
  nn::ParamStore<double> store;
  auto w = store.declare("w", {2});
  auto frozen = store.declare("frozen", {1}, nn::Init::zeros(), false);
  store.allocate();
  optim::Ema<double> ema(store, {/*update_after_step=*/2, 1.0, 0.75, 0.0, 0.9999});
  EXPECT_EQ(ema.decay_at(0), 0.0);
  EXPECT_EQ(ema.decay_at(3), 0.0);  // step' = 0
  EXPECT_NEAR(ema.decay_at(4), 1 - std::pow(2.0, -0.75), 1e-15);
  EXPECT_NEAR(ema.decay_at(103), 1 - std::pow(101.0, -0.75), 1e-15);
  EXPECT_EQ(ema.decay_at(int64_t(1) << 40), 0.9999);
  for (int s = 0; s < 4; ++s) {
    store.value(w).fill(double(s));
    store.value(frozen).fill(10.0 + s);
    ema.update();  // decays 0,0,0,0 -> the average equals the latest values
  }
  EXPECT_EQ(ema.averaged()[0], 3.0);
  store.value(w).fill(7.0);
  store.value(frozen).fill(42.0);
  ema.update();  // step 4: decay = 1 - 2^-0.75
  const double d = 1 - std::pow(2.0, -0.75);
  EXPECT_NEAR(ema.averaged()[0], d * 3 + (1 - d) * 7, 1e-12);
  EXPECT_EQ(ema.averaged()[store.entries()[1].offset], 42.0);  // frozen: copied
  nn::ParamStore<double> target;
  target.declare("w", {2});
  target.declare("frozen", {1});
  target.allocate();
  ema.copy_to(target);
  EXPECT_NEAR(target.values()[1], d * 3 + (1 - d) * 7, 1e-12);
}

TEST(LrSchedule, Shapes) {
  optim::LrSchedule cos;
  cos.kind = optim::LrSchedule::kCosine;
  cos.base_lr = 1e-4;
  cos.warmup_steps = 500;
  cos.total_steps = 10500;
  EXPECT_EQ(cos.at(0), 0.0);
  EXPECT_NEAR(cos.at(250), 0.5e-4, 1e-18);
  EXPECT_NEAR(cos.at(500), 1e-4, 1e-18);
  EXPECT_NEAR(cos.at(5500), 0.5e-4, 1e-15);
  EXPECT_NEAR(cos.at(10500), 0.0, 1e-18);
  optim::LrSchedule ms;
  ms.kind = optim::LrSchedule::kMultiStep;
  ms.base_lr = 1.0;
  ms.milestones = {10, 20};
  ms.decay_factor = 0.5;
  EXPECT_EQ(ms.at(9), 1.0);
  EXPECT_EQ(ms.at(10), 0.5);
  EXPECT_EQ(ms.at(25), 0.25);
  optim::LrSchedule lin;
  lin.kind = optim::LrSchedule::kLinear;
  lin.base_lr = 2.0;
  lin.total_steps = 4;
  lin.end_factor = 0.5;
  EXPECT_EQ(lin.at(2), 1.5);
  EXPECT_EQ(lin.at(100), 1.0);
  EXPECT_THROW(optim::LrSchedule::kind_from_name("exponential"), ValueError);
}

// robomimic's "linear" schedule (BC-Transformer's published one): torch's LinearLR from 1 to
// decay_factor over epoch_schedule[0] epochs, independent of the run's length; no epoch_schedule
// means a constant rate; more than one end epoch is refused by name.
TEST(LrSchedule, LinearIsRobomimicsLinearLrOverItsEndEpoch) {
  nn::ParamStore<float> store;
  store.declare("w", {2});
  store.allocate();
  const nlohmann::json p = {{"optimizer_type", "adamw"},
                            {"learning_rate",
                             {{"initial", 1e-4},
                              {"decay_factor", 0.1},
                              {"epoch_schedule", {100}},
                              {"scheduler_type", "linear"}}}};
  policy::PolicyOptimizer<float> opt(store, policy::OptimizerSettings::from_json(p), 30);
  for (int epoch = 0; epoch <= 150; ++epoch) {
    const double want = 1e-4 * (1.0 + (0.1 - 1.0) * std::min(epoch, 100) / 100.0);
    EXPECT_NEAR(opt.learning_rate(), want, 1e-15) << epoch;
    opt.end_epoch();
  }
  nlohmann::json flat = p;
  flat["learning_rate"]["epoch_schedule"] = nlohmann::json::array();
  policy::PolicyOptimizer<float> constant(store, policy::OptimizerSettings::from_json(flat), 30);
  for (int epoch = 0; epoch < 40; ++epoch) constant.end_epoch();
  EXPECT_EQ(constant.learning_rate(), 1e-4);
  nlohmann::json two = p;
  two["learning_rate"]["epoch_schedule"] = {10, 20};
  EXPECT_THROW(
      {
        try {
          policy::OptimizerSettings::from_json(two);
        } catch (const ValueError& e) {
          EXPECT_NE(
              std::string(e.what()).find("algo.optim_params.policy.learning_rate.epoch_schedule"),
              std::string::npos)
              << e.what();
          throw;
        }
      },
      ValueError);
}

}  // namespace
}  // namespace mimic
