// An algorithm registered from outside the library: a linear policy with its own config section,
// trained through the normal trainer and through the CLI's train command, with rollouts, and
// reloaded from its checkpoint. Nothing in include/mimic knows its name.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "commands/train.hpp"
#include "mimic/env/builtin.hpp"
#include "mimic/loss/losses.hpp"
#include "mimic/nn/linear.hpp"
#include "mimic/policy/builtin.hpp"
#include "mimic/train/trainer.hpp"
#include "support/scratch.hpp"

namespace mimic {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The user's algorithm: actions = W * features + b, trained with MSE (scaled by algo.loss_scale).
template <class T, class D>
class LinearPolicy : public policy::Policy<T, D> {
 public:
  LinearPolicy(const policy::BuildArgs& a)
      : policy::Policy<T, D>("linear", a.meta, a.norm, a.seed),
        scale_(a.config.at("algo").at("loss_scale").get<double>()),
        linear_(this->store_, "actor.linear", a.meta.obs_dim(), a.meta.action_dim) {
    this->finish_setup(policy::OptimizerSettings::from_config(a.config), a.schedule_units);
  }
  Tensor<float> act_rollout(const Tensor<float>& features, const std::vector<int>&) override {
    this->tape_.reset();
    auto guard = this->tape_.no_grad();
    const Tensor<float> x = this->last_step(features);
    Tensor<float> a =
        policy::download(linear_(this->store_, policy::upload(this->tape_, x)).value());
    return a.reshape({features.dim(0), 1, this->meta_.action_dim});
  }

 protected:
  Var<T, D> compute_loss(const data::Batch& batch, Tape<T, D>& tape, bool,
                         policy::Scalars& s) override {
    const policy::ShapeMeta& m = this->meta_;
    Tensor<float> obs = policy::gather_features(m, this->norm_.obs, batch.obs, 0, 1);
    Tensor<float> act = policy::gather_actions(this->norm_.action, batch.data.at("actions"), 0, 1);
    const int64_t b = obs.dim(0);
    Var<T, D> pred = linear_(this->store_, policy::upload(tape, obs.reshape({b, m.obs_dim()})));
    Var<T, D> l = ops::mul_scalar(
        loss::mse(pred, policy::upload(tape, act.reshape({b, m.action_dim}))), scale_);
    s["Loss"] = double(l.value().to_vector()[0]);
    return l;
  }

 private:
  double scale_;
  nn::Linear<T, D> linear_;
};

policy::AlgorithmSpec linear_spec() {
  policy::AlgorithmSpec s;
  s.name = "linear";
  s.algo_name = "linear";
  s.defaults = [] {
    json c = config::shared_defaults("linear");
    c["algo"] = {{"loss_scale", 1.0},
                 {"optim_params",
                  {{"policy",
                    {{"optimizer_type", "adam"},
                     {"learning_rate",
                      {{"initial", 1e-2},
                       {"decay_factor", 0.1},
                       {"epoch_schedule", json::array()},
                       {"scheduler_type", "multistep"}}},
                     {"regularization", {{"L2", 0.0}}}}}}}};
    return c;
  };
  s.validate = [](const json& c) {
    config::require(c["algo"]["loss_scale"].get<double>() > 0, "algo.loss_scale", "must be > 0",
                    c["algo"]["loss_scale"]);
  };
  s.set_builder<float, Cpu>(
      [](const policy::BuildArgs& a) -> std::unique_ptr<policy::Policy<float>> {
        return std::make_unique<LinearPolicy<float, Cpu>>(a);
      });
  return s;
}

// Captures std::cout for its lifetime (restored even when the code under test throws).
struct CoutCapture {
  std::stringstream text;
  std::streambuf* old = std::cout.rdbuf(text.rdbuf());
  ~CoutCapture() { std::cout.rdbuf(old); }
};

json linear_config(const fs::path& dir, const std::string& data) {
  return {{"algo_name", "linear"},
          {"algo", {{"loss_scale", 2.0}}},
          {"experiment",
           {{"name", "linear"},
            {"epoch_every_n_steps", 5},
            {"rollout", {{"n", 2}, {"horizon", 5}, {"rate", 2}}},
            {"render_video", false}}},
          {"train",
           {{"data", data},
            {"output_dir", (dir / "runs").string()},
            {"batch_size", 16},
            {"num_epochs", 2}}},
          {"observation", {{"modalities", {{"obs", {{"low_dim", {"obs"}}}}}}}}};
}

TEST(Registry, AUserAlgorithmTrainsThroughTheTrainerAndTheCliAndReloads) {
  policy::AlgorithmRegistry algos = policy::builtin_algorithms();
  algos.add(linear_spec());
  const fs::path dir = testing::scratch_dir("registry", "user");
  const std::string data = testing::pusht_demos(dir);
  const json c = config::load_config(linear_config(dir, data), algos);
  EXPECT_EQ(c["algo"]["loss_scale"], 2.0);
  EXPECT_EQ(c["train"]["seq_length"], 1);  // shared defaults filled in

  train::TrainOverrides o;
  o.quiet = true;
  const train::TrainSummary s = train::Trainer(c, o, algos, env::builtin_envs()).run();
  ASSERT_EQ(s.epoch_losses.size(), 2u);
  EXPECT_LT(s.epoch_losses[1], s.epoch_losses[0]);
  ASSERT_FALSE(s.last_rollout.is_null());  // rolled out through the environment registry
  EXPECT_EQ(s.last_rollout["Horizon"], 5.0);

  // The checkpoint reloads through the registry into the same policy type and actions.
  const policy::Checkpoint ck = policy::load_checkpoint(s.last_checkpoint);
  auto a = policy::policy_from_checkpoint<float>(ck, s.last_checkpoint, algos);
  auto b = policy::policy_from_checkpoint<float>(ck, s.last_checkpoint, algos);
  EXPECT_NE((dynamic_cast<LinearPolicy<float, Cpu>*>(a.get())), nullptr);
  std::vector<float> row(20);
  for (size_t i = 0; i < row.size(); ++i) row[i] = 0.05f * float(i);
  const auto x = Tensor<float>::from_vector({1, 1, 20}, row);
  EXPECT_EQ(a->act_rollout(x, {0}).to_vector(), b->act_rollout(x, {0}).to_vector());
  // Without the registration the algorithm is unknown, and the error says which are known.
  try {
    policy::policy_from_checkpoint<float>(ck, s.last_checkpoint);
    ADD_FAILURE() << "loaded without the registration";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'linear' has no defaults"), std::string::npos)
        << e.what();
  }
  // A bad value is refused by the algorithm's own validation, naming the key.
  json bad = linear_config(dir, data);
  bad["algo"]["loss_scale"] = -1.0;
  try {
    config::load_config(bad, algos);
    ADD_FAILURE() << "accepted loss_scale -1";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("algo.loss_scale"), std::string::npos);
  }

  // The CLI's train command with the same registries: a config file, --debug off, rollouts on.
  const fs::path cfg = dir / "linear.json";
  std::ofstream(cfg) << linear_config(dir, data).dump(2);
  cli::Flags flags({"--config", cfg.string(), "--name", "from_cli"}, {"debug", "resume"});
  std::string out;
  {
    CoutCapture capture;
    EXPECT_EQ(cli::train(flags, algos, env::builtin_envs()), 0);
    out = capture.text.str();
  }
  EXPECT_NE(out.find("from_cli"), std::string::npos) << out;
  EXPECT_NE(out.find("last rollout:"), std::string::npos) << out;
  // eval through the CLI's command on that checkpoint.
  const size_t at = out.find("last checkpoint: ") + 17;
  const std::string last = out.substr(at, out.find('\n', at) - at);
  cli::Flags eval_flags({"--agent", last, "--n_rollouts", "2", "--horizon", "3"}, {});
  {
    CoutCapture capture;
    EXPECT_EQ(cli::eval(eval_flags, algos, env::builtin_envs()), 0);
    out = capture.text.str();
  }
  EXPECT_NE(out.find("\"Horizon\": 3"), std::string::npos) << out;
  fs::remove_all(dir);
}

TEST(Registry, RefusesDuplicatesAndSpecsWithoutDefaults) {
  policy::AlgorithmRegistry algos = policy::builtin_algorithms();
  EXPECT_THROW(algos.add(policy::bc_spec()), ValueError);
  policy::AlgorithmSpec s;
  s.name = "no_defaults";
  s.algo_name = "no_defaults";
  EXPECT_THROW(algos.add(s), ValueError);
  // Variants share their algo_name's defaults and are chosen by the config.
  json c = config::default_config("bc", algos);
  EXPECT_EQ(algos.of(c).name, "bc");
  c["algo"]["rnn"]["enabled"] = true;
  EXPECT_EQ(algos.of(c).name, "bc_rnn");
  EXPECT_EQ(algos.at("diffusion_policy").normalization, policy::NormalizationRule::kLimits);
  EXPECT_FALSE((algos.at("ibc").builds<double, Cpu>()));
  EXPECT_TRUE((algos.at("ibc").builds<float, Cpu>()));
}

}  // namespace
}  // namespace mimic
