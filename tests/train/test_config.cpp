// Configs in both directions against fixtures written by robomimic itself
// (tests/reference/make_robomimic_config_fixtures.py): robomimic's defaults and templates, v0.3
// and v0.5, load in mimic; what mimic writes holds only keys robomimic accepts; the v0.5 keys
// with meaning are honoured (action normalization, starting weights, env metadata updates) and
// the rest listed once in the log. Plus the checkpoint manager's naming and rotation rules.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "mimic/config/generate.hpp"
#include "mimic/env/builtin.hpp"
#include "mimic/train/checkpoint_manager.hpp"
#include "mimic/train/trainer.hpp"
#include "support/scratch.hpp"

namespace mimic {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kRobomimic = std::string(MIMIC_TEST_DATA_DIR) + "/robomimic/";

json read_json(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in.good()) << p;
  return json::parse(in);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

// Dotted paths of `written` that robomimic's locked config refuses: keys its defaults lack,
// outside the sections it leaves open (open_keys.json, found by trying robomimic itself).
void refused(const json& written, const json& defaults, const std::vector<std::string>& open,
             const std::string& path, std::vector<std::string>& out) {
  for (const auto& [key, value] : written.items()) {
    const std::string p = path.empty() ? key : path + "." + key;
    if (std::find(open.begin(), open.end(), p) != open.end()) continue;
    if (!defaults.contains(key)) {
      out.push_back(p);
      continue;
    }
    if (value.is_object() && defaults[key].is_object()) refused(value, defaults[key], open, p, out);
  }
}
std::vector<std::string> refused_by(const std::string& version, const json& written) {
  const std::string algo = written.at("algo_name").get<std::string>();
  const json open = read_json(kRobomimic + version + "/open_keys.json");
  const json defaults = read_json(kRobomimic + version + "/" + algo + ".json");
  std::vector<std::string> out;
  refused(written, defaults, open.at("algos").at(algo).at("open_roots"), "", out);
  return out;
}

TEST(Config, BcDefaultsAreRobomimicsInBothSchemas) {
  const json v03 = read_json(kRobomimic + "v0.3/bc.json");
  const json v05 = read_json(kRobomimic + "v0.5/bc.json");
  const json ours = config::default_config("bc");
  EXPECT_EQ(ours, v05) << json::diff(v05, ours).dump(1);
  // Written without the keys v0.5 added (they are at their defaults): exactly robomimic 0.3.0's.
  const json written = config::robomimic_view(ours, policy::builtin_algorithms());
  EXPECT_EQ(written, v03) << json::diff(v03, written).dump(1);
  EXPECT_EQ(config::load_config(v03), ours);
  EXPECT_EQ(config::load_config(v05), ours);
  // A set extension key is written, so it is not lost (robomimic 0.3.0 would refuse it).
  json clipped = ours;
  clipped["train"]["max_grad_norm"] = 1.0;
  EXPECT_EQ(config::robomimic_view(clipped, policy::builtin_algorithms())["train"]["max_grad_norm"],
            1.0);
}

// robomimic's offline RL algorithms mimic has: the same defaults in both schemas.
TEST(Config, OfflineRlAndHierarchicalDefaultsAreRobomimics) {
  for (const char* algo : {"td3_bc", "iql", "bcq", "cql", "gl", "hbc", "iris"}) {
    SCOPED_TRACE(algo);
    const json v03 = read_json(kRobomimic + "v0.3/" + algo + ".json");
    const json v05 = read_json(kRobomimic + "v0.5/" + algo + ".json");
    const json ours = config::default_config(algo);
    EXPECT_EQ(ours, v05) << json::diff(v05, ours).dump(1);
    const json written = config::robomimic_view(ours, policy::builtin_algorithms());
    EXPECT_EQ(written, v03) << json::diff(v03, written).dump(1);
    EXPECT_EQ(config::load_config(v03), ours);
  }
}

TEST(Config, DiffusionPolicyDefaultsFollowRobomimicV05) {
  const json v05 = read_json(kRobomimic + "v0.5/diffusion_policy.json");
  const json ours = config::default_config("diffusion_policy");
  const json written = config::robomimic_view(ours, policy::builtin_algorithms());
  // Only the batch size differs: Diffusion Policy's 256 against robomimic's 100.
  const json diff = json::diff(v05, written);
  ASSERT_EQ(diff.size(), 1u) << diff.dump(1);
  EXPECT_EQ(diff[0]["path"], "/train/batch_size");
  EXPECT_EQ(ours["algo"]["unet"]["cond_predict_scale"], true);  // settable, mimic-only
  json no_scale = {{"algo_name", "diffusion_policy"},
                   {"algo", {{"unet", {{"cond_predict_scale", false}}}}}};
  EXPECT_FALSE(policy::DiffusionPolicySettings::from_config(config::load_config(no_scale))
                   .unet.cond_predict_scale);
  EXPECT_EQ(config::load_config(v05)["train"]["batch_size"], 100);
}

TEST(Config, RobomimicTemplatesLoadUnchanged) {
  int loaded = 0;
  for (const char* version : {"v0.3", "v0.5"})
    for (const auto& f : fs::recursive_directory_iterator(kRobomimic + version + "/templates")) {
      if (f.path().extension() != ".json") continue;
      SCOPED_TRACE(f.path().string());
      const json t = read_json(f.path());
      const std::string algo = t.at("algo_name").get<std::string>();
      const std::string err = error_of([&] { config::load_config(t); });
      if (f.path().filename() == "bc_transformer.json" &&
          f.path().parent_path().filename() == "templates") {
        // robomimic v0.5's own exps template has a key that robomimic itself refuses.
        EXPECT_NE(err.find("experiment.mse"), std::string::npos) << err;
      } else {
        EXPECT_EQ(err, "no error");
        ++loaded;
      }
    }
  // bc, td3_bc, iql, bcq, cql, gl, hbc and iris (v0.3, v0.5), diffusion_policy and
  // bc_transformer (v0.5): every robomimic template
  EXPECT_EQ(loaded, 18);
}

// robomimic 0.3.0's bc template with its transformer or VAE switched on selects those variants.
TEST(Config, RobomimicBcTemplateSelectsTheTransformerAndVaeVariants) {
  const policy::AlgorithmRegistry algos = policy::builtin_algorithms();
  const json t = read_json(kRobomimic + "v0.3/templates/bc.json");
  json vae = t, xf = t;
  vae["algo"]["vae"]["enabled"] = true;
  EXPECT_EQ(algos.of(config::load_config(vae, algos)).name, "bc_vae");
  xf["algo"]["transformer"]["enabled"] = true;
  xf["train"]["frame_stack"] = 10;  // the context (robomimic needs it too)
  EXPECT_EQ(algos.of(config::load_config(xf, algos)).name, "bc_transformer");
  json v05 = read_json(kRobomimic + "v0.5/templates/default_templates/bc_transformer.json");
  EXPECT_EQ(algos.of(config::load_config(v05, algos)).name, "bc_transformer");
}

TEST(Config, WhatMimicWritesLoadsInRobomimic) {
  const policy::AlgorithmRegistry algos = policy::builtin_algorithms();
  int checked = 0;
  for (const auto& c : config::published_configs("/data")) {
    SCOPED_TRACE(c.name);
    const json written = config::robomimic_view(c.config, algos);
    const std::string algo = written["algo_name"];
    if (algo == "bc") {
      EXPECT_EQ(refused_by("v0.3", written), std::vector<std::string>());
      ++checked;
    }
    if (c.name.rfind("diffusion_policy_transformer", 0) == 0) {
      // robomimic has no DP-T: its diffusion_policy schema refuses the transformer section (and
      // DP-T's betas, which differ from robomimic's).
      EXPECT_EQ(refused_by("v0.5", written),
                (std::vector<std::string>{"algo.optim_params.policy.betas", "algo.transformer"}));
    } else if (algo == "bc" || algo == "diffusion_policy") {
      EXPECT_EQ(refused_by("v0.5", written), std::vector<std::string>());
      ++checked;
    }
    EXPECT_EQ(config::load_config(written, algos), c.config);  // and back, unchanged
  }
  // bc, bc_rnn, bc_transformer and bc_vae in both schemas, diffusion_policy in v0.5.
  EXPECT_EQ(checked, 32 + 4);
  // The checker itself fails on what robomimic 0.3.0 refuses.
  json bad = config::default_config("bc");
  bad["train"]["max_grad_norm"] = 1.0;
  EXPECT_EQ(refused_by("v0.3", config::robomimic_view(bad, algos)),
            std::vector<std::string>{"train.max_grad_norm"});
}

TEST(Config, AConfigNestedTooDeepIsRefusedWithoutCrashing) {
  // 100,000 levels under an open section (algo.rnn.kwargs) and at the top: once a crash in the
  // recursive dump() of an error message, or a deep copy into the merged config.
  for (const bool open : {true, false}) {
    json deep = 1;
    for (int i = 0; i < 100000; ++i) {
      json level = json::object();
      level["k"] = std::move(deep);
      deep = std::move(level);
    }
    json c = {{"algo_name", "bc"}};
    if (open)
      c["algo"]["rnn"]["kwargs"]["x"] = std::move(deep);
    else
      c["train"] = std::move(deep);
    EXPECT_NE(error_of([&] { config::load_config(c); }).find("nested more than 64 levels"),
              std::string::npos);
  }
  // Nesting a normal config needs is accepted.
  json ok = {{"algo_name", "bc"}, {"algo", {{"rnn", {{"kwargs", {{"a", {{"b", {{"c", 1}}}}}}}}}}}};
  EXPECT_EQ(error_of([&] { config::load_config(ok); }), "no error");
}

// Width lists in a config replace the defaults rather than extending them (once, BC's
// actor_layer_dims [8] built 1024, 1024, 8).
TEST(Config, ListedWidthsReplaceTheDefaults) {
  using V = std::vector<int64_t>;
  for (const V& dims : {V{8}, V{}, V{16, 4}}) {
    json bc = config::load_config({{"algo_name", "bc"}, {"algo", {{"actor_layer_dims", dims}}}});
    EXPECT_EQ(policy::BcSettings::from_config(bc).layer_dims, dims);
    bc["algo"]["rnn"]["enabled"] = true;
    EXPECT_EQ(policy::BcRnnSettings::from_config(bc).layer_dims, dims);
  }
  const json ibc =
      config::load_config({{"algo_name", "ibc"}, {"algo", {{"energy", {{"layer_dims", {8, 8}}}}}}});
  EXPECT_EQ(policy::IbcSettings::from_config(ibc).layer_dims, (V{8, 8}));
  const json dp = config::load_config(
      {{"algo_name", "diffusion_policy"}, {"algo", {{"unet", {{"down_dims", {8, 16}}}}}}});
  EXPECT_EQ(policy::DiffusionPolicySettings::from_config(dp).unet.down_dims, (V{8, 16}));
  // Lists that need an entry, and entries out of range, are named by their path.
  auto error_with = [](const json& partial) {
    try {
      const json c = config::load_config(partial);
      const std::string name = c.at("algo_name");
      if (name == "ibc") policy::IbcSettings::from_config(c);
      if (name == "diffusion_policy") policy::DiffusionPolicySettings::from_config(c);
      if (name == "bc") policy::BcSettings::from_config(c);
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_with({{"algo_name", "ibc"}, {"algo", {{"energy", {{"layer_dims", V{}}}}}}}),
            "config: 'algo.energy.layer_dims' must list at least 1 value(s), got 0");
  EXPECT_EQ(
      error_with({{"algo_name", "diffusion_policy"}, {"algo", {{"unet", {{"down_dims", V{}}}}}}}),
      "config: 'algo.unet.down_dims' must list at least 1 value(s), got 0");
  EXPECT_EQ(error_with({{"algo_name", "bc"}, {"algo", {{"actor_layer_dims", V{8, 0}}}}}),
            "config: 'algo.actor_layer_dims' must be in [1, 65536], got 0");
}

// Config files that are not JSON, too large or nested too deep: an IoError naming the file and
// what is wrong, without nlohmann's exception tags, and without building the deep value at all.
TEST(Config, ABadConfigFileIsNamedWithItsFault) {
  const fs::path dir = fs::path(::testing::TempDir()) / "bad_config_files";
  fs::create_directories(dir);
  auto file_with = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return (dir / name).string();
  };
  auto expect_io_error = [&](const std::string& path, const std::string& needle) {
    try {
      config::load_config_file(path);
      ADD_FAILURE() << path << ": expected an error";
    } catch (const IoError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find("[json.exception"), std::string::npos) << what;
    }
  };
  expect_io_error(file_with("cut.json", R"({"algo_name": "bc", "train": {)"), "not valid JSON");
  expect_io_error(file_with("trailing.json", R"({"algo_name": "bc"} x)"), "not valid JSON");
  expect_io_error(file_with("deep.json", std::string(100000, '[') + std::string(100000, ']')),
                  "nested more than 64 levels");
  expect_io_error(
      file_with("large.json", "{\"algo_name\": \"bc\", \"pad\": \"" +
                                  std::string(config::kMaxConfigFileBytes, 'x') + "\"}"),
      "bytes, expected at most");
  expect_io_error((dir / "absent.json").string(), "cannot open");
  // Wrong values in a readable file name the file and the path.
  const std::string typed =
      file_with("typed.json", R"({"algo_name": "bc", "train": {"seed": "s"}})");
  EXPECT_NE(
      error_of([&] { config::load_config_file(typed); }).find(typed + ": config: 'train.seed'"),
      std::string::npos)
      << error_of([&] { config::load_config_file(typed); });
}

// Every leaf of every algorithm's default config replaced by a value of each other JSON type
// (and keys added under the open sections): the config loads, or the error is mimic's own and
// names the key's path, never a library's raw text.
void leaf_paths(const json& j, const std::string& path, std::vector<std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) leaf_paths(v, path.empty() ? k : path + "." + k, out);
    return;
  }
  out.push_back(path);
}

TEST(Config, EveryValueOfTheWrongTypeIsNamedByItsPath) {
  const std::vector<json> substitutes = {nullptr,
                                         true,
                                         -1,
                                         0,
                                         2.5,
                                         1e300,
                                         int64_t(1) << 40,
                                         "s",
                                         json::array({1}),
                                         json::array(),
                                         json::object({{"a", 1}})};
  std::vector<std::string> unnamed;
  const policy::AlgorithmRegistry registry = policy::builtin_algorithms();
  for (const policy::AlgorithmSpec& spec : registry.specs()) {
    if (!spec.defaults) continue;
    json defaults = spec.defaults();
    // Small networks keep the builds below quick.
    if (spec.algo_name == "diffusion_policy") {
      defaults["algo"]["unet"]["down_dims"] = {16, 32};
      defaults["algo"]["unet"]["diffusion_step_embed_dim"] = 16;
    } else if (spec.algo_name == "bc") {
      defaults["algo"]["actor_layer_dims"] = {16, 16};
      defaults["algo"]["rnn"]["hidden_dim"] = 16;
    } else if (spec.algo_name == "ibc") {
      defaults["algo"]["energy"]["layer_dims"] = {16, 16};
    } else if (spec.algo_name == "gl" || spec.algo_name == "hbc" || spec.algo_name == "iris") {
      auto small_gl = [](json& a) {
        a["ae"]["planner_layer_dims"] = {16};
        for (const char* k : {"encoder_layer_dims", "decoder_layer_dims", "prior_layer_dims"})
          a["vae"][k] = {16};
      };
      json& a = defaults["algo"];
      if (spec.algo_name == "gl") small_gl(a);
      if (spec.algo_name == "hbc") small_gl(a["planner"]);
      if (spec.algo_name == "iris") {
        small_gl(a["value_planner"]["planner"]);
        json& v = a["value_planner"]["value"];
        v["critic"]["layer_dims"] = {16, 16};
        v["action_sampler"]["actor_layer_dims"] = {16, 16};
        for (const char* k : {"encoder_layer_dims", "decoder_layer_dims", "prior_layer_dims"})
          v["action_sampler"]["vae"][k] = {16};
      }
      if (spec.algo_name != "gl") {
        a["actor"]["actor_layer_dims"] = {16};
        a["actor"]["rnn"]["hidden_dim"] = 16;
      }
    } else if (spec.uses_transitions) {  // offline RL
      defaults["algo"]["critic"]["layer_dims"] = {16, 16};
      defaults["algo"]["actor"]["layer_dims"] = {16, 16};
      if (spec.algo_name == "bcq") {
        auto& sampler = defaults["algo"]["action_sampler"];
        sampler["actor_layer_dims"] = {16, 16};
        for (const char* k : {"encoder_layer_dims", "decoder_layer_dims", "prior_layer_dims"})
          sampler["vae"][k] = {16};
      }
    }
    std::vector<std::string> paths;
    leaf_paths(defaults, "", paths);
    for (const std::string& p : paths) {
      if (p == "algo_name") continue;
      for (const json& v : substitutes) {
        json c = defaults;
        c[config::pointer_of(p)] = v;
        try {
          const json merged = config::load_config(c, registry);
          // Settings the spec accepted build a policy, or fail with mimic's own error.
          if (p.rfind("algo.", 0) == 0 || p.rfind("observation.", 0) == 0) {
            policy::ShapeMeta meta;
            for (const std::string& k : config::RunConfig::from_json(merged).observation.keys())
              meta.obs_shapes[k] = {3};
            meta.action_dim = 2;
            const policy::Normalization norm;
            registry.of(merged).build<float, Cpu>(policy::BuildArgs{merged, meta, norm, 1, 10});
          }
        } catch (const Error& e) {
          const std::string what = e.what();
          // The path itself, or the section it belongs to ("observation.modalities.obs").
          const std::string section = p.substr(0, p.rfind('.'));
          const bool named =
              what.find("'" + p + "'") != std::string::npos ||
              (section.find('.') != std::string::npos && what.find(section) != std::string::npos);
          if (!named || what.find("[json.exception") != std::string::npos)
            unnamed.push_back(spec.name + ": " + p + " = " + v.dump() + " -> " + what);
        } catch (const std::exception& e) {
          unnamed.push_back(spec.name + ": " + p + " = " + v.dump() + " -> (not mimic's) " +
                            e.what());
        }
      }
    }
  }
  EXPECT_TRUE(unnamed.empty()) << unnamed.size() << " unnamed, first ones:\n"
                               << [&] {
                                    std::string s;
                                    for (size_t i = 0; i < unnamed.size() && i < 60; ++i)
                                      s += unnamed[i] + "\n";
                                    return s;
                                  }();
}

TEST(Config, UnknownKeysInTheNewSchemaAreStillErrors) {
  json c = {{"algo_name", "bc"}, {"experiment", {{"ckpt_pth", "x"}}}};
  EXPECT_NE(error_of([&] { config::load_config(c); }).find("experiment.ckpt_pth"),
            std::string::npos);
  c = {{"algo_name", "bc"}, {"train", {{"action_keys", {"actions", "gripper"}}}}};
  EXPECT_NE(error_of([&] { config::load_config(c); }).find("train.action_keys"), std::string::npos);
  c = {{"algo_name", "bc"},
       {"train", {{"action_config", {{"actions", {{"normalization", "l2"}}}}}}}};
  EXPECT_NE(error_of([&] { config::load_config(c); }).find("train.action_config.actions"),
            std::string::npos);
  c = {{"algo_name", "bc"}, {"experiment", {{"env_meta_update_dict", {{"env_kwargs", {}}}}}}};
  EXPECT_EQ(error_of([&] { config::load_config(c); }), "no error");  // an open section
  EXPECT_EQ(
      train::rollout_env_args({{"env_name", "Lift"}, {"env_kwargs", {{"horizon", 5}}}},
                              {{"env_kwargs", {{"use_camera_obs", true}}}}),
      json({{"env_name", "Lift"}, {"env_kwargs", {{"horizon", 5}, {"use_camera_obs", true}}}}));
}

json small_bc(const fs::path& dir, const std::string& data, const std::string& name) {
  json c = config::default_config("bc");
  c["experiment"]["name"] = name;
  c["experiment"]["epoch_every_n_steps"] = 4;
  c["experiment"]["rollout"]["enabled"] = false;
  c["train"]["data"] = data;
  c["train"]["output_dir"] = (dir / "runs").string();
  c["train"]["num_epochs"] = 1;
  c["train"]["batch_size"] = 8;
  c["algo"]["actor_layer_dims"] = {16};
  c["observation"]["modalities"]["obs"]["low_dim"] = {"obs"};
  return c;
}

TEST(Config, V05KeysWithMeaningAreHonoured) {
  const fs::path dir = testing::scratch_dir("config", "v05");
  const std::string data = testing::pusht_demos(dir);
  train::TrainOverrides o;
  o.quiet = true;

  // action_config: robomimic v0.5's min_max maps each action dim's [min, max] into [-1, 1].
  json a = small_bc(dir, data, "min_max");
  a["train"]["action_config"]["actions"]["normalization"] = "min_max";
  a["train"]["hdf5_use_swmr"] = false;  // a key without effect in mimic
  const train::TrainSummary sa = train::Trainer(config::load_config(a), o).run();
  const policy::Checkpoint ca = policy::load_checkpoint(sa.last_checkpoint);
  const auto action = ca.meta["policy"]["normalization"]["action"];
  ASSERT_TRUE(action.is_object()) << ca.meta["policy"]["normalization"].dump();
  data::RobomimicReader reader(data);
  double lo = 1e9, hi = -1e9;
  for (const auto& name : reader.demos()) {
    const auto d = reader.read_demo(name);
    for (int64_t r = 0; r < d.num_samples; ++r) {
      lo = std::min<double>(lo, d.actions.f32[size_t(r * 2)]);
      hi = std::max<double>(hi, d.actions.f32[size_t(r * 2)]);
    }
  }
  const auto stats = policy::stats_from_json(action);
  EXPECT_NEAR(stats.normalize(lo, 0), -0.999999, 1e-9);
  EXPECT_NEAR(stats.normalize(hi, 0), 0.999999, 1e-9);
  std::ifstream log(sa.log_path);
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("config keys with no effect in mimic: train.hdf5_use_swmr"),
            std::string::npos)
      << text.str();
  // train.cuda (robomimic's default, true) with a registry that has no CUDA builders: the run
  // says once, with the reason, that it trains on the CPU.
  const std::string fallback =
      "train.cuda asks for CUDA, running on the CPU: this program has no "
      "CUDA build of 'bc'";
  EXPECT_NE(text.str().find(fallback), std::string::npos) << text.str();
  EXPECT_EQ(text.str().find(fallback), text.str().rfind(fallback)) << "said more than once";
  // The run folder's config.json is written as robomimic reads it, and loads back.
  const json written = read_json(fs::path(sa.run_dir) / "config.json");
  EXPECT_EQ(written["train"]["action_config"]["actions"]["normalization"], "min_max");
  EXPECT_FALSE(written["experiment"].contains("ckpt_path"));  // unset extension key
  EXPECT_EQ(refused_by("v0.5", written), std::vector<std::string>());
  EXPECT_EQ(config::load_config(written)["train"], config::load_config(a)["train"]);

  // ckpt_path: a new run starts from those weights (with a learning rate too small to move them).
  json b = small_bc(dir, data, "warm");
  b["experiment"]["ckpt_path"] = sa.last_checkpoint;
  b["algo"]["optim_params"]["policy"]["learning_rate"]["initial"] = 1e-30;
  b["train"]["action_config"]["actions"]["normalization"] = "min_max";
  const train::TrainSummary sb = train::Trainer(config::load_config(b), o).run();
  const policy::Checkpoint cb = policy::load_checkpoint(sb.last_checkpoint);
  const std::string w = "actor.mlp.0.weight";
  ASSERT_TRUE(ca.tensors.count(w)) << "no tensor " << w;
  EXPECT_EQ(cb.tensors.at(w).to_vector(), ca.tensors.at(w).to_vector());
  b["experiment"]["ckpt_path"] = (dir / "missing.safetensors").string();
  EXPECT_THROW(train::Trainer(config::load_config(b), o).run(), IoError);
  fs::remove_all(dir);
}

TEST(CheckpointManager, FollowsRobomimicsNamingAndKeepsLastAndLastBak) {
  const fs::path dir = testing::scratch_dir("config", "manager");
  train::RunFolder run = train::RunFolder::at(dir);
  fs::create_directories(run.models);
  config::SaveConfig save;
  save.every_n_epochs = 3;
  save.epochs = {2};
  save.on_best_validation = true;
  std::vector<std::string> written;
  auto write = [&](const std::string& p) {
    written.push_back(fs::path(p).filename().string());
    std::ofstream(p) << written.size();
  };
  train::CheckpointManager m(run, save);
  m.validation(0.5);  // epoch 1: best validation
  EXPECT_EQ(m.finish_epoch(1, 0, write).epoch_checkpoint,
            (run.models / "model_epoch_1_best_validation_0.5000.safetensors").string());
  m.validation(0.7);              // epoch 2: not better, but listed in save.epochs
  m.rollout("PushT", 3.0, 0.25);  // best success rate (on by default), return not kept
  const auto saved2 = m.finish_epoch(2, 0, write);
  EXPECT_EQ(fs::path(saved2.epoch_checkpoint).filename(),
            "model_epoch_2_PushT_success_0.25.safetensors");
  EXPECT_TRUE(saved2.best);
  m.validation(0.6);              // epoch 3: periodic only
  m.rollout("PushT", 1.0, 0.25);  // no improvement
  const auto saved3 = m.finish_epoch(3, 0, write);
  EXPECT_EQ(fs::path(saved3.epoch_checkpoint).filename(), "model_epoch_3.safetensors");
  EXPECT_FALSE(saved3.best);
  EXPECT_EQ(m.finish_epoch(4, 0, write).epoch_checkpoint, "");  // nothing but last
  EXPECT_EQ(m.best()["valid_loss"], 0.5);
  EXPECT_EQ(m.best()["success_rate"], 0.25);
  EXPECT_EQ(m.best()["return"], 3.0);
  // last is rewritten every epoch; the one before survives as last_bak.
  EXPECT_EQ(std::count(written.begin(), written.end(), "last_new.safetensors"), 4);
  std::ifstream last(run.last_checkpoint()), bak(run.last_backup());
  int l = 0, b = 0;
  last >> l;
  bak >> b;
  EXPECT_EQ(l, int(written.size()));
  EXPECT_LT(b, l);
  // every_n_seconds saves when that much time has passed since the last timed save.
  config::SaveConfig timed;
  timed.every_n_epochs = 0;
  timed.on_best_rollout_success_rate = false;
  timed.every_n_seconds = 10.0;
  train::CheckpointManager t(run, timed);
  EXPECT_EQ(t.finish_epoch(1, 5, write).epoch_checkpoint, "");
  EXPECT_NE(t.finish_epoch(2, 11, write).epoch_checkpoint, "");
  EXPECT_EQ(t.finish_epoch(3, 15, write).epoch_checkpoint, "");
  // Saving off: only last.
  config::SaveConfig off;
  off.enabled = false;
  train::CheckpointManager n(run, off);
  n.validation(0.1);
  EXPECT_EQ(n.finish_epoch(50, 0, write).epoch_checkpoint, "");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mimic
