// The environment registry: a user's environment registered next to the built-in ones and made
// from robomimic env_args, refused names and env_args, and builtin_envs() / make_env giving the
// same environments as constructing PushT and Lift directly.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "mimic/env/builtin.hpp"
#include "mimic/env/registry.hpp"

namespace mimic::env {
namespace {

// A one-number environment, standing in for a user's own task: x starts at env_kwargs' "start"
// plus the seed and each action adds a[0]; it records the images flag its factory was given.
class TinyEnv : public Env {
 public:
  TinyEnv(double start, int images) : start_(start), images_(images) {}
  std::string name() const override { return "Tiny"; }
  nlohmann::json env_args() const override {
    return {{"env_name", "Tiny"}, {"env_kwargs", {{"start", start_}}}};
  }
  int action_dim() const override { return 1; }
  std::vector<ObsSpec> observation_specs() const override { return {{"x", {1}}}; }
  void reset(uint64_t seed) override { x_ = start_ + double(seed); }
  void reset_to(const std::vector<double>& s) override { x_ = s.at(0); }
  std::vector<double> get_state() const override { return {x_}; }
  StepResult step(const std::vector<float>& a) override {
    x_ += a.at(0);
    return {x_, false, false};
  }
  Observation observe() const override { return {{{"x", {float(x_)}}}, {}}; }
  bool is_success() const override { return false; }
  std::vector<std::string> cameras() const override { return {}; }
  std::vector<uint8_t> render(const std::string&, int, int) override { return {}; }
  int horizon() const override { return 10; }
  int images() const { return images_; }

 private:
  double start_, x_ = 0;
  int images_;
};

EnvFactory tiny_factory() {
  return [](const nlohmann::json& kwargs, int images) -> std::unique_ptr<Env> {
    return std::make_unique<TinyEnv>(kwargs.value("start", 0.0), images);
  };
}

// The message of the ValueError that f throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(EnvRegistry, MakesAUserEnvironmentFromEnvArgs) {
  EnvRegistry reg;
  EXPECT_FALSE(reg.contains("Tiny"));
  reg.add("Tiny", tiny_factory());
  EXPECT_TRUE(reg.contains("Tiny"));
  auto e = reg.make({{"env_name", "Tiny"}, {"env_version", "1"}, {"env_kwargs", {{"start", 5}}}});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name(), "Tiny");
  EXPECT_EQ(dynamic_cast<TinyEnv&>(*e).images(), -1);  // the default: as env_kwargs says
  e->reset(2);
  e->step({0.5f});
  EXPECT_EQ(e->observe().low_dim.at("x"), std::vector<float>{7.5f});
  // env_kwargs may be left out, and the images flag reaches the factory as given.
  auto off = reg.make({{"env_name", "Tiny"}}, 0), on = reg.make({{"env_name", "Tiny"}}, 1);
  EXPECT_EQ(dynamic_cast<TinyEnv&>(*off).images(), 0);
  EXPECT_EQ(dynamic_cast<TinyEnv&>(*on).images(), 1);
  off->reset(0);
  EXPECT_EQ(off->get_state(), std::vector<double>{0.0});
  // A user's registry can start from the built-in one.
  EnvRegistry all = builtin_envs();
  all.add("Tiny", tiny_factory());
  EXPECT_EQ(all.names(), (std::vector<std::string>{"Lift", "PushT", "Tiny"}));
  EXPECT_EQ(all.make({{"env_name", "Tiny"}})->name(), "Tiny");
  EXPECT_FALSE(builtin_envs().contains("Tiny"));  // registries are values, not a global table
}

TEST(EnvRegistry, NamesAreSorted) {
  EnvRegistry reg;
  EXPECT_TRUE(reg.names().empty());
  for (const char* n : {"Zeta", "Alpha", "Mid"}) reg.add(n, tiny_factory());
  EXPECT_EQ(reg.names(), (std::vector<std::string>{"Alpha", "Mid", "Zeta"}));
}

TEST(EnvRegistry, UnknownNameListsTheRegisteredOnes) {
  EnvRegistry reg;
  reg.add("Tiny", tiny_factory());
  reg.add("Other", tiny_factory());
  const std::string msg = error_of([&] { reg.make({{"env_name", "PushT"}}); });
  EXPECT_TRUE(has(msg, "env_args.env_name")) << msg;
  EXPECT_TRUE(has(msg, "'PushT'")) << msg;
  EXPECT_TRUE(has(msg, "Other, Tiny")) << msg;
  EXPECT_TRUE(has(error_of([] { EnvRegistry().make({{"env_name", "X"}}); }), "none"));
  const std::string builtin = error_of([] { make_env({{"env_name", "Can"}}); });
  EXPECT_TRUE(has(builtin, "'Can'") && has(builtin, "Lift, PushT")) << builtin;
}

TEST(EnvRegistry, DuplicateAndEmptyAddsAreRefused) {
  EnvRegistry reg;
  reg.add("Tiny", tiny_factory());
  const std::string msg = error_of([&] {
    reg.add("Tiny", [](const nlohmann::json&, int) -> std::unique_ptr<Env> { return nullptr; });
  });
  EXPECT_TRUE(has(msg, "'Tiny'") && has(msg, "already registered")) << msg;
  EXPECT_NE(reg.make({{"env_name", "Tiny"}}), nullptr);  // the first factory is kept
  EXPECT_TRUE(has(error_of([&] { reg.add("", tiny_factory()); }), "empty"));
  EXPECT_TRUE(has(error_of([&] { reg.add("None", EnvFactory{}); }), "'None'"));
  EXPECT_FALSE(reg.contains("None"));
  EnvRegistry builtin = builtin_envs();
  EXPECT_TRUE(has(error_of([&] { builtin.add("Lift", tiny_factory()); }), "'Lift'"));
}

TEST(EnvRegistry, BadEnvArgsGiveClearErrors) {
  const EnvRegistry reg = builtin_envs();
  for (const nlohmann::json& bad :
       {nlohmann::json::array({"PushT"}), nlohmann::json("PushT"), nlohmann::json(),
        nlohmann::json::object(), nlohmann::json{{"env_kwargs", nlohmann::json::object()}},
        nlohmann::json{{"env_name", 3}}, nlohmann::json{{"env_name", nullptr}}}) {
    const std::string msg = error_of([&] { reg.make(bad); });
    EXPECT_TRUE(has(msg, "env_args") && has(msg, "string 'env_name'")) << bad.dump() << ": " << msg;
    EXPECT_TRUE(has(msg, bad.dump())) << msg;  // the offending value is shown
    EXPECT_EQ(error_of([&] { make_env(bad); }), msg);
  }
  const std::string kw = error_of([&] {
    reg.make({{"env_name", "PushT"}, {"env_kwargs", {1, 2}}});
  });
  EXPECT_TRUE(has(kw, "env_args.env_kwargs") && has(kw, "object")) << kw;
  const std::string im = error_of([&] { reg.make({{"env_name", "PushT"}}, 2); });
  EXPECT_TRUE(has(im, "images") && has(im, "2")) << im;
  // A factory that returns nothing is reported, not handed on.
  EnvRegistry null_reg;
  null_reg.add("Null", [](const nlohmann::json&, int) -> std::unique_ptr<Env> { return nullptr; });
  EXPECT_TRUE(has(error_of([&] { null_reg.make({{"env_name", "Null"}}); }), "'Null'"));
}

// Resets both to `seed`, then steps both with the same actions, comparing every observation and
// state bit for bit.
void expect_same_rollout(Env& a, Env& b, uint64_t seed, const std::vector<float>& action) {
  a.reset(seed);
  b.reset(seed);
  ASSERT_EQ(a.get_state(), b.get_state());
  for (int t = 0; t < 5; ++t) {
    ASSERT_EQ(a.observe().low_dim, b.observe().low_dim) << "step " << t;
    a.step(action);
    b.step(action);
    ASSERT_EQ(a.get_state(), b.get_state()) << "step " << t;
  }
}

TEST(BuiltinEnvs, RegistersPushTAndLift) {
  const EnvRegistry reg = builtin_envs();
  EXPECT_EQ(reg.names(), (std::vector<std::string>{"Lift", "PushT"}));
}

TEST(BuiltinEnvs, PushTMatchesDirectConstruction) {
  const EnvRegistry reg = builtin_envs();
  auto made = reg.make({{"env_name", "PushT"}, {"env_kwargs", {{"horizon", 123}}}});
  PushTConfig cfg;
  cfg.horizon = 123;
  PushT direct(cfg);
  EXPECT_EQ(made->name(), "PushT");
  EXPECT_EQ(made->horizon(), 123);
  EXPECT_EQ(made->env_args(), direct.env_args());
  expect_same_rollout(*made, direct, 4, {0.3f, -0.2f});
  // The env_args an environment reports make the same environment again, as a dataset does.
  auto again = make_env(direct.env_args());
  EXPECT_EQ(again->env_args(), direct.env_args());
  expect_same_rollout(*again, direct, 9, {-0.5f, 0.5f});
  // images: 0 and 1 override env_kwargs, -1 keeps them (specs only: rendering needs OSMesa).
  // Push-T's low-dim keys: obs, agent_pos, environment_state; images add one.
  const nlohmann::json with_images = {{"env_name", "PushT"}, {"env_kwargs", {{"images", true}}}};
  EXPECT_EQ(reg.make(with_images)->observation_specs().size(), 4u);
  EXPECT_EQ(reg.make(with_images, 0)->observation_specs().size(), 3u);
  EXPECT_EQ(reg.make({{"env_name", "PushT"}}, 1)->observation_specs().size(), 4u);
}

TEST(BuiltinEnvs, LiftMatchesDirectConstruction) {
  auto made = builtin_envs().make({{"env_name", "Lift"}, {"env_kwargs", {{"horizon", 50}}}});
  LiftConfig cfg;
  cfg.horizon = 50;
  LiftEnv direct(cfg);
  EXPECT_EQ(made->name(), "Lift");
  EXPECT_EQ(made->horizon(), 50);
  EXPECT_EQ(made->env_args(), direct.env_args());
  expect_same_rollout(*made, direct, 3, {0.2f, -0.1f, 0.3f, 0.0f, 0.0f, 0.1f, -1.0f});
  auto again = make_env(direct.env_args());
  expect_same_rollout(*again, direct, 11, {0.0f, 0.2f, -0.3f, 0.1f, 0.0f, 0.0f, 1.0f});
  // robosuite's kwargs: use_camera_obs and camera_heights, overridden by images >= 0.
  const nlohmann::json cams = {{"env_name", "Lift"},
                               {"env_kwargs", {{"use_camera_obs", true}, {"camera_heights", 64}}}};
  const auto specs = make_env(cams)->observation_specs();
  ASSERT_EQ(specs.size(), 11u);
  EXPECT_EQ(specs.back().shape, (std::vector<int64_t>{64, 64, 3}));
  EXPECT_EQ(make_env(cams, 0)->observation_specs().size(), 9u);
}

}  // namespace
}  // namespace mimic::env
