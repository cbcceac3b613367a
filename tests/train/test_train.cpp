// The training pipeline end to end on small expert datasets: configs (robomimic's defaults,
// strict merging), TensorBoard files read by an independent reader, the sequence dataset and
// loader, debug runs of every algorithm, checkpoint round trips and resuming.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "mimic/config/generate.hpp"
#include "mimic/data/loader.hpp"
#include "mimic/env/builtin.hpp"
#include "mimic/env/episode.hpp"
#include "mimic/env/expert_demos.hpp"
#include "mimic/env/lift/expert.hpp"
#include "mimic/log/tensorboard.hpp"
#include "mimic/train/trainer.hpp"
#include "support/errors.hpp"
#include "support/limited_disk.hpp"
#include "support/scratch.hpp"

namespace mimic {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path temp_dir(const std::string& name) { return testing::scratch_dir("train", name); }

// n Lift expert demos (seeds 0..), masks train / valid (last demo valid).
std::string lift_dataset(const fs::path& dir, int n) {
  const std::string path = (dir / "lift.hdf5").string();
  env::LiftEnv e;
  data::RobomimicWriter w(path, e.env_args().dump());
  std::vector<std::string> names;
  for (int i = 0, seed = 0; i < n; ++seed) {
    e.reset(uint64_t(seed));
    env::LiftExpert expert(static_cast<uint64_t>(seed));
    std::vector<std::vector<double>> states;
    std::vector<env::Observation> obs{e.observe()};
    std::vector<std::vector<float>> actions;
    std::vector<double> rewards;
    std::vector<int> dones;
    bool ok = false;
    for (int t = 0; t < 200 && !ok; ++t) {
      states.push_back(e.get_state());
      actions.push_back(expert.act(obs.back()));
      const env::StepResult r = e.step(actions.back());
      obs.push_back(e.observe());
      rewards.push_back(r.reward);
      ok = r.success;
      dones.push_back(ok);
    }
    if (!ok) continue;
    names.push_back("demo_" + std::to_string(i++));
    w.add_demo(env::make_demo(names.back(), states, obs, actions, rewards, dones));
  }
  w.set_mask("train", std::vector<std::string>(names.begin(), names.end() - 1));
  w.set_mask("valid", {names.back()});
  w.finish();
  return path;
}

const std::string& shared_lift_dataset() {
  static const std::string path = lift_dataset(temp_dir("data"), 6);
  return path;
}

// --- configs ---------------------------------------------------------------------------------

TEST(Config, UnknownKeysWrongTypesAndBadValuesNameThePath) {
  auto error_of = [](const json& j) {
    try {
      config::load_config(j);
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  json c = {{"algo_name", "bc"},
            {"algo", {{"optim_params", {{"policy", {{"learning_rate", {{"intial", 1e-3}}}}}}}}}};
  EXPECT_NE(error_of(c).find("algo.optim_params.policy.learning_rate.intial"), std::string::npos);
  c = {{"algo_name", "bc"}, {"train", {{"batch_size", "100"}}}};
  EXPECT_NE(error_of(c).find("'train.batch_size' must be integer, got string"), std::string::npos);
  c = {{"algo_name", "bc"}, {"train", {{"batch_size", 1.5}}}};
  EXPECT_NE(error_of(c).find("train.batch_size"), std::string::npos);
  c = {{"algo_name", "bc"}, {"train", {{"batch_size", 0}}}};
  EXPECT_NE(error_of(c).find("'train.batch_size' must be > 0"), std::string::npos);
  c = {{"algo_name", "bc"}, {"train", {{"hdf5_cache_mode", "disk"}}}};
  EXPECT_NE(error_of(c).find("train.hdf5_cache_mode"), std::string::npos);
  c = {{"algo_name", "sac"}};  // an algorithm neither robomimic nor mimic has
  EXPECT_NE(error_of(c).find("'sac' has no defaults"), std::string::npos);
  // Open sections accept new keys; numbers accept integers.
  c = {{"algo_name", "bc"},
       {"observation", {{"encoder", {{"rgb", {{"core_kwargs", {{"anything", 1}}}}}}}}},
       {"algo", {{"optim_params", {{"policy", {{"learning_rate", {{"initial", 1}}}}}}}}}};
  EXPECT_EQ(error_of(c), "no error");
}

TEST(Config, PublishedConfigsLoadAndCarryThePaperSettings) {
  const auto all = config::published_configs("/data");
  ASSERT_EQ(all.size(), 34u);
  std::set<std::string> names;
  for (const auto& c : all) {
    names.insert(c.name);
    EXPECT_EQ(config::load_config(c.config), c.config) << c.name;
  }
  const json rnn = config::published_configs("/d")[4].config;  // bc_rnn_lift_low_dim
  EXPECT_EQ(rnn["experiment"]["name"], "bc_rnn_lift_low_dim");
  EXPECT_EQ(rnn["train"]["seq_length"], 10);
  EXPECT_EQ(rnn["algo"]["rnn"]["hidden_dim"], 400);
  EXPECT_TRUE(rnn["algo"]["gmm"]["enabled"].get<bool>());
  EXPECT_EQ(rnn["train"]["data"], "/d/lift_low_dim.hdf5");
  EXPECT_TRUE(names.count("diffusion_policy_pusht_image"));
  const json xf = config::published_config("bc_transformer", "lift", "low_dim", "/d");
  EXPECT_EQ(xf["train"]["frame_stack"], 10);
  EXPECT_EQ(xf["algo"]["optim_params"]["policy"]["optimizer_type"], "adamw");
  EXPECT_TRUE(xf["algo"]["transformer"]["enabled"].get<bool>());
  EXPECT_TRUE(xf["algo"]["gmm"]["enabled"].get<bool>());
  const json dpt =
      config::published_config("diffusion_policy_transformer", "pusht", "low_dim", "/d");
  EXPECT_FALSE(dpt["algo"]["unet"]["enabled"].get<bool>());
  EXPECT_EQ(dpt["algo"]["transformer"]["p_drop_attn"], 0.01);
  EXPECT_EQ(dpt["algo"]["optim_params"]["policy"]["regularization"]["L2"], 0.1);
  // robomimic's BCQ and CQL paper settings (low-dim only: offline RL takes no images yet).
  const json bcq = config::published_config("bcq", "lift", "low_dim", "/d");
  EXPECT_EQ(bcq["algo"]["target_tau"], 5e-4);
  EXPECT_EQ(bcq["algo"]["action_sampler"]["vae"]["kl_weight"], 0.05);
  EXPECT_EQ(config::published_config("cql", "pusht", "low_dim", "/d")["train"]["batch_size"], 1024);
  EXPECT_FALSE(names.count("cql_lift_image"));
  // robomimic's HBC and IRIS paper settings, the task's keys in every part's observation section.
  const json hbc = config::published_config("hbc", "lift", "low_dim", "/d");
  EXPECT_EQ(hbc["algo"]["planner"]["vae"]["kl_weight"], 5e-4);
  EXPECT_TRUE(hbc["algo"]["planner"]["vae"]["prior"]["use_gmm"].get<bool>());
  EXPECT_EQ(hbc["algo"]["actor"]["actor_layer_dims"], json::array());
  EXPECT_EQ(hbc["observation"]["planner"]["modalities"]["subgoal"]["low_dim"].size(), 4u);
  EXPECT_FALSE(hbc["observation"].contains("modalities"));
  const json iris = config::published_config("iris", "pusht", "low_dim", "/d");
  EXPECT_EQ(iris["algo"]["value_planner"]["value"]["target_tau"], 5e-4);
  EXPECT_EQ(iris["algo"]["value_planner"]["planner"]["vae"]["latent_dim"], 14);
  EXPECT_EQ(iris["observation"]["value_planner"]["value"]["modalities"]["obs"]["low_dim"],
            json{"obs"});
  EXPECT_FALSE(names.count("hbc_lift_image"));
}

// --- TensorBoard -----------------------------------------------------------------------------

TEST(TensorBoard, Crc32cKnownAnswers) {
  EXPECT_EQ(log::crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(log::crc32c("", 0), 0u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(log::crc32c(zeros.data(), 32), 0x8A9136AAu);  // RFC 3720 test vector
}

TEST(TensorBoard, EventFileParsesWithAnIndependentReader) {
  if (std::system("python3 -c 'pass' > /dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  const fs::path dir = temp_dir("tb");
  std::string path;
  {
    log::EventWriter w(dir.string());
    w.add_scalar("Train/Loss", 0.5, 1);
    w.add_scalar("Train/Loss", 0.25, 2);
    w.add_scalar("Rollout/Success_Rate/Lift", 1.0, 2);
    w.flush();
    path = w.path();
  }
  const std::string out = (dir / "out.txt").string();
  const std::string cmd = "python3 " + std::string(MIMIC_SOURCE_DIR) +
                          "/tests/train/read_tfevents.py '" + path + "' > '" + out + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(),
            "1 Train/Loss 0.5\n2 Train/Loss 0.25\n2 Rollout/Success_Rate/Lift 1.0\nrecords 4\n");
  // A flipped payload byte is caught by the CRC.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-6, std::ios::end);
    f.put('\x7f');
  }
  EXPECT_NE(std::system(cmd.c_str()), 0);
}

// --- dataset and loader ----------------------------------------------------------------------

data::SequenceDatasetOptions lift_options(const std::string& cache) {
  data::SequenceDatasetOptions o;
  o.path = shared_lift_dataset();
  o.obs_keys = {"robot0_eef_pos", "object"};
  o.dataset_keys = {"actions", "rewards"};
  o.seq_length = 10;
  o.frame_stack = 2;
  o.get_pad_mask = true;
  o.goal_mode = "last";
  o.load_next_obs = true;
  o.cache_mode = cache;
  return o;
}

TEST(SequenceDataset, SamplesFollowTheWindowRulesInEveryCacheMode) {
  data::SequenceDataset all(lift_options("all")), low(lift_options("low_dim")),
      none(lift_options("none"));
  ASSERT_EQ(all.size(), none.size());
  data::RobomimicReader r(shared_lift_dataset());
  const data::RobomimicSequence rule{10, 2, true, true};
  std::vector<int64_t> idx(size_t(all.size()));
  std::iota(idx.begin(), idx.end(), int64_t(0));
  data::Batch a = all.make_batch_like(all.size()), b = low.make_batch_like(all.size()),
              c = none.make_batch_like(all.size());
  all.fill(idx.data(), all.size(), a);
  low.fill(idx.data(), all.size(), b);
  none.fill(idx.data(), all.size(), c);
  for (const auto& [k, t] : a.obs) {
    EXPECT_EQ(t.to_vector(), b.obs.at(k).to_vector()) << k;
    EXPECT_EQ(t.to_vector(), c.obs.at(k).to_vector()) << k;
  }
  EXPECT_EQ(a.data.at("actions").to_vector(), c.data.at("actions").to_vector());
  EXPECT_EQ(a.goal_obs.at("object").to_vector(), c.goal_obs.at("object").to_vector());
  // Against the demos read directly with the (fixture-tested) window rule.
  int64_t i = 0;
  for (const std::string& name : all.demos()) {
    const data::Demo d = r.read_demo(name);
    for (int64_t k = 0; k < rule.samples_in(d.num_samples, name); ++k, ++i) {
      const data::SampleSteps s = rule.sample(d.num_samples, k, true);
      ASSERT_EQ(s.steps.size(), 11u);
      for (size_t j = 0; j < s.steps.size(); ++j) {
        for (int q = 0; q < 7; ++q)
          ASSERT_EQ(a.data["actions"][(i * 11 + int64_t(j)) * 7 + q],
                    d.actions.f32[size_t(s.steps[j] * 7 + q)]);
        for (int q = 0; q < 3; ++q)
          ASSERT_EQ(a.obs["robot0_eef_pos"][(i * 11 + int64_t(j)) * 3 + q],
                    d.obs.at("robot0_eef_pos").f32[size_t(s.steps[j] * 3 + q)]);
        ASSERT_EQ(a.pad_mask[i * 11 + int64_t(j)], float(s.pad_mask[j]));
      }
      for (int q = 0; q < 10; ++q)
        ASSERT_EQ(a.goal_obs["object"][i * 10 + q],
                  d.next_obs.at("object").f32[size_t((d.num_samples - 1) * 10 + q)]);
    }
  }
  EXPECT_EQ(i, all.size());
}

TEST(Loader, DeterministicForAnyWorkerCountAndEachSampleOncePerEpoch) {
  data::SequenceDataset ds(lift_options("all"));
  data::Loader one(ds, 16, 7, true, 1), three(ds, 16, 7, true, 3);
  const int64_t per_epoch = one.batches_per_epoch();
  ASSERT_EQ(per_epoch, ds.size() / 16);
  std::multiset<int64_t> seen;
  for (int64_t g = 0; g < per_epoch; ++g)
    for (int64_t v : one.indices_of(g)) seen.insert(v);
  EXPECT_EQ(int64_t(seen.size()), per_epoch * 16);
  EXPECT_EQ(int64_t(std::set<int64_t>(seen.begin(), seen.end()).size()), per_epoch * 16);
  EXPECT_NE(one.indices_of(0), one.indices_of(per_epoch));  // reshuffled next epoch
  for (int64_t g = 0; g < 2 * per_epoch + 3; ++g) {
    const std::vector<float> x = one.next().data.at("actions").to_vector();
    const std::vector<float> y = three.next().data.at("actions").to_vector();
    ASSERT_EQ(x, y) << "batch " << g;
  }
  data::Loader resumed(ds, 16, 7, true, 2);
  resumed.seek(5);
  EXPECT_EQ(resumed.next().obs.at("object").to_vector(), [&] {
    data::Loader fresh(ds, 16, 7, true, 1);
    for (int k = 0; k < 5; ++k) fresh.next();
    return fresh.next().obs.at("object").to_vector();
  }());
}

TEST(SequenceDataset, BadInputGetsClearErrors) {
  data::SequenceDatasetOptions o = lift_options("all");
  o.obs_keys = {"no_such_key"};
  try {
    data::SequenceDataset ds(o);
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("obs/no_such_key"), std::string::npos) << e.what();
  }
  o = lift_options("all");
  o.filter_key = "missing_mask";
  EXPECT_THROW(data::SequenceDataset{o}, Error);
  // NaN in an observation is reported with demo, key and step.
  {
    const fs::path nan_dir = temp_dir("nan");
    data::RobomimicReader r(shared_lift_dataset());
    data::Demo d = r.read_demo("demo_0");
    d.obs.at("object").f32[3 * 10 + 2] = NAN;
    const std::string nan_path = (nan_dir / "nan.hdf5").string();
    data::RobomimicWriter w(nan_path, r.env_args());
    w.add_demo(d);
    w.finish();
    o = lift_options("all");
    o.path = nan_path;
    try {
      data::SequenceDataset ds(o);
      FAIL() << "no error";
    } catch (const ValueError& e) {
      EXPECT_NE(
          std::string(e.what()).find("/data/demo_0/obs/object: non-finite value at step 3, dim 2"),
          std::string::npos)
          << e.what();
    }
  }
  // A truncated copy of the file fails cleanly.
  const fs::path dir = temp_dir("trunc");
  const fs::path cut = dir / "cut.hdf5";
  fs::copy_file(shared_lift_dataset(), cut);
  fs::resize_file(cut, fs::file_size(cut) / 2);
  o = lift_options("all");
  o.path = cut.string();
  EXPECT_THROW(data::SequenceDataset{o}, Error);
}

// --- training runs ---------------------------------------------------------------------------

json small_config(const std::string& algo, const fs::path& out) {
  json c = config::default_config(algo == "bc_rnn" ? "bc" : algo);
  c["train"]["data"] = shared_lift_dataset();
  c["train"]["output_dir"] = out.string();
  c["train"]["batch_size"] = 8;
  c["train"]["num_epochs"] = 4;
  c["train"]["hdf5_filter_key"] = "train";
  c["train"]["hdf5_validation_filter_key"] = "valid";
  c["experiment"]["validate"] = true;
  c["experiment"]["name"] = algo;
  c["experiment"]["epoch_every_n_steps"] = 10;
  for (auto& [group, optim] : c["algo"]["optim_params"].items())
    optim["learning_rate"]["initial"] = 1e-3;  // policy, or critic/actor/vf for offline RL
  c["experiment"]["validation_epoch_every_n_steps"] = 2;
  c["experiment"]["rollout"]["enabled"] = false;
  c["observation"]["modalities"]["obs"]["low_dim"] = {"robot0_eef_pos", "object"};
  if (algo == "bc") c["algo"]["actor_layer_dims"] = {32, 32};
  if (algo == "bc_rnn") {
    c["train"]["seq_length"] = 5;
    c["algo"]["actor_layer_dims"] = json::array();
    c["algo"]["rnn"]["enabled"] = true;
    c["algo"]["rnn"]["hidden_dim"] = 16;
    c["algo"]["gmm"]["enabled"] = true;
  }
  if (algo == "diffusion_policy") {
    c["train"]["seq_length"] = 8;
    c["algo"]["horizon"] = {
        {"observation_horizon", 2}, {"action_horizon", 4}, {"prediction_horizon", 8}};
    c["algo"]["unet"]["down_dims"] = {16, 32};
    c["algo"]["unet"]["diffusion_step_embed_dim"] = 16;
    c["algo"]["unet"]["n_groups"] = 4;
    c["algo"]["optim_params"]["policy"]["learning_rate"]["warmup_steps"] = 3;
  }
  if (algo == "td3_bc" || algo == "iql" || algo == "bcq" || algo == "cql") {
    c["algo"]["critic"]["layer_dims"] = {32, 32};
    c["algo"]["actor"]["layer_dims"] = {32, 32};
  }
  if (algo == "bcq") {
    c["algo"]["actor"]["enabled"] = true;
    for (const char* k : {"encoder_layer_dims", "decoder_layer_dims", "prior_layer_dims"})
      c["algo"]["action_sampler"]["vae"][k] = {32};
  }
  if (algo == "ibc") {
    c["algo"]["energy"]["layer_dims"] = {32, 32};
    c["algo"]["train"]["num_negatives"] = 16;
    c["algo"]["inference"]["num_samples"] = 32;
  }
  return config::load_config(c);
}

std::vector<float> first_actions(policy::Policy<float>& p) {
  env::LiftEnv e;
  e.reset(3);
  policy::PolicyRollout r(p);
  r.reset(0);
  std::vector<env::Observation> h(size_t(p.n_obs_steps()), e.observe());
  return r.act({0}, {h})[0][0];
}

TEST(Trainer, EveryAlgorithmTrainsSavesAndRoundTripsItsCheckpoint) {
  const fs::path out = temp_dir("algos");
  for (const std::string algo : {"bc", "bc_rnn", "diffusion_policy", "ibc"}) {
    SCOPED_TRACE(algo);
    json c = small_config(algo, out);
    c["train"]["num_epochs"] = 6;
    train::TrainOverrides o;
    o.quiet = true;
    const train::TrainSummary s = train::Trainer(c, o).run();
    ASSERT_EQ(s.epoch_losses.size(), 6u);
    // Loss falls: the mean of the last two epochs is below the first epoch's.
    EXPECT_LT((s.epoch_losses[4] + s.epoch_losses[5]) / 2, s.epoch_losses[0]);
    for (const char* f :
         {"config.json", "logs/log.txt", "models/last.safetensors", "models/last_bak.safetensors"})
      EXPECT_TRUE(fs::exists(fs::path(s.run_dir) / f)) << f;
    EXPECT_FALSE(fs::is_empty(fs::path(s.run_dir) / "logs" / "tb"));
    // Reloading the checkpoint gives a policy whose actions are identical to a second reload.
    const policy::Checkpoint ck = policy::load_checkpoint(s.last_checkpoint);
    auto a = policy::policy_from_checkpoint<float>(ck),
         b = policy::policy_from_checkpoint<float>(ck);
    EXPECT_EQ(a->algo_name(), algo);
    EXPECT_EQ(first_actions(*a), first_actions(*b));
    // The weights are stored under their state-dict names.
    EXPECT_TRUE(ck.tensors.count(a->params().entries()[0].name));
  }
}

// `config` trained for 2 of its 4 epochs, then resumed: the same 4 epoch losses as `full`'s.
void expect_resume_continues(json config, const std::vector<double>& full) {
  config["experiment"]["name"] = "part";
  train::TrainOverrides o;
  o.quiet = true;
  o.stop_after_epoch = 2;
  const auto first = train::Trainer(config, o).run().epoch_losses;
  o.stop_after_epoch = 0;
  o.resume = true;
  const auto rest = train::Trainer(config, o).run().epoch_losses;
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(rest.size(), 2u);
  ASSERT_EQ(full.size(), 4u);
  EXPECT_EQ(first[0], full[0]);
  EXPECT_EQ(first[1], full[1]);
  EXPECT_EQ(rest[0], full[2]);
  EXPECT_EQ(rest[1], full[3]);
}

// Offline RL trains several networks: every one of them, their targets, their optimizers and
// the algorithm's counters go into the checkpoint, so a resumed run continues exactly.
TEST(Trainer, OfflineRlTrainsRoundTripsItsCheckpointAndResumesExactly) {
  for (const std::string algo : {"td3_bc", "iql", "bcq", "cql"}) {
    SCOPED_TRACE(algo);
    const fs::path out = temp_dir("offline_" + algo);
    train::TrainOverrides o;
    o.quiet = true;
    json full = small_config(algo, out);
    full["experiment"]["name"] = "full";
    const train::TrainSummary s = train::Trainer(full, o).run();
    ASSERT_EQ(s.epoch_losses.size(), 4u);
    for (double l : s.epoch_losses) EXPECT_TRUE(std::isfinite(l));
    const policy::Checkpoint ck = policy::load_checkpoint(s.last_checkpoint);
    auto a = policy::policy_from_checkpoint<float>(ck),
         b = policy::policy_from_checkpoint<float>(ck);
    EXPECT_EQ(a->algo_name(), algo);
    EXPECT_EQ(first_actions(*a), first_actions(*b));
    for (const char* name : {"critic.0.mlp.0.weight", "critic_target.1.decoder.bias",
                             "actor.mlp.2.bias", "optimizer.exp_avg.critic.1.mlp.0.weight"})
      EXPECT_TRUE(ck.tensors.count(name)) << name;
    EXPECT_EQ(ck.tensors.count("vf.decoder.weight"), algo == "iql" ? 1u : 0u);
    EXPECT_EQ(ck.tensors.count("actor_target.decoder.weight"),
              algo == "td3_bc" || algo == "bcq" ? 1u : 0u);
    EXPECT_EQ(ck.tensors.count("log_cql_weight.param"), algo == "cql" ? 1u : 0u);
    EXPECT_EQ(ck.tensors.count("action_sampler.decoder.action.weight"), algo == "bcq" ? 1u : 0u);

    expect_resume_continues(small_config(algo, out), s.epoch_losses);
  }
}

// GL, HBC and IRIS on Lift: small networks, the planner 3 steps ahead, HBC's and IRIS's actor
// following the planner's subgoal (observation.actor.modalities.goal).
json small_hierarchical_config(const std::string& algo, const fs::path& out) {
  json c = config::default_config(algo);
  c["train"]["data"] = shared_lift_dataset();
  c["train"]["output_dir"] = out.string();
  c["train"]["batch_size"] = 8;
  c["train"]["num_epochs"] = 4;
  c["train"]["seq_length"] = 5;
  c["train"]["hdf5_filter_key"] = "train";
  c["train"]["hdf5_validation_filter_key"] = "valid";
  c["experiment"]["validate"] = true;
  c["experiment"]["name"] = algo;
  c["experiment"]["epoch_every_n_steps"] = 10;
  c["experiment"]["validation_epoch_every_n_steps"] = 2;
  c["experiment"]["rollout"]["enabled"] = algo == "gl";  // GL's are skipped
  const json planner_obs = {"robot0_eef_pos", "object"}, subgoals = {"robot0_eef_pos", "object"};
  auto small_gl = [&](json& a, json& o) {
    a["subgoal_horizon"] = 3;
    a["optim_params"]["goal_network"]["learning_rate"]["initial"] = 1e-3;
    for (const char* k : {"encoder_layer_dims", "decoder_layer_dims", "prior_layer_dims"})
      a["vae"][k] = {32};
    o["modalities"]["obs"]["low_dim"] = planner_obs;
    o["modalities"]["subgoal"]["low_dim"] = subgoals;
  };
  if (algo == "gl") {
    small_gl(c["algo"], c["observation"]);
    return config::load_config(c);
  }
  const bool iris = algo == "iris";
  small_gl(iris ? c["algo"]["value_planner"]["planner"] : c["algo"]["planner"],
           iris ? c["observation"]["value_planner"]["planner"] : c["observation"]["planner"]);
  json& actor = c["algo"]["actor"];
  actor["optim_params"]["policy"]["learning_rate"]["initial"] = 1e-3;
  actor["rnn"]["hidden_dim"] = 16;
  actor["actor_layer_dims"] = json::array();
  c["observation"]["actor"]["modalities"]["obs"]["low_dim"] = {"robot0_eef_pos",
                                                               "robot0_gripper_qpos"};
  c["observation"]["actor"]["modalities"]["goal"]["low_dim"] = subgoals;
  c["algo"]["subgoal_update_interval"] = 3;
  if (iris) {
    json& v = c["algo"]["value_planner"]["value"];
    c["algo"]["value_planner"]["num_samples"] = 8;
    v["critic"]["layer_dims"] = {32, 32};
    v["critic"]["num_action_samples_rollout"] = 10;
    for (const char* k : {"encoder_layer_dims", "decoder_layer_dims", "prior_layer_dims"})
      v["action_sampler"]["vae"][k] = {32};
    c["observation"]["value_planner"]["value"]["modalities"]["obs"]["low_dim"] = {"object"};
  }
  return config::load_config(c);
}

// The hierarchical algorithms train every part on each batch; every part's weights, targets,
// optimizer moments, counters and random stream go into the checkpoint, so a resumed run
// continues exactly. GL predicts subgoals only: its rollouts are skipped, and said so.
TEST(Trainer, HierarchicalTrainsRoundTripsItsCheckpointAndResumesExactly) {
  for (const std::string algo : {"gl", "hbc", "iris"}) {
    SCOPED_TRACE(algo);
    const fs::path out = temp_dir("hierarchical_" + algo);
    train::TrainOverrides o;
    o.quiet = true;
    json full = small_hierarchical_config(algo, out);
    full["experiment"]["name"] = "full";
    const train::TrainSummary s = train::Trainer(full, o).run();
    ASSERT_EQ(s.epoch_losses.size(), 4u);
    for (double l : s.epoch_losses) EXPECT_TRUE(std::isfinite(l));
    EXPECT_LT(s.epoch_losses.back(), s.epoch_losses.front());
    const policy::Checkpoint ck = policy::load_checkpoint(s.last_checkpoint);
    auto a = policy::policy_from_checkpoint<float>(ck),
         b = policy::policy_from_checkpoint<float>(ck);
    EXPECT_EQ(a->algo_name(), algo);
    if (algo == "gl") {
      std::ifstream log_in(s.log_path);
      const std::string log((std::istreambuf_iterator<char>(log_in)), {});
      EXPECT_NE(log.find("gl does not act (it predicts subgoals): experiment.rollout is skipped"),
                std::string::npos)
          << log;
      EXPECT_TRUE(ck.tensors.count("goal_network.decoder.object.weight"));
      EXPECT_THROW(first_actions(*a), UnsupportedError);
    } else {
      const std::string planner = algo == "iris" ? "planner.planner." : "planner.";
      for (const std::string name : {planner + "goal_network.encoder.mlp.0.weight",
                                     planner + "goal_network.decoder.object.weight",
                                     std::string("actor.actor.rnn.weight_ih_l0"),
                                     std::string("actor.optimizer.exp_avg.actor.rnn.weight_ih_l0")})
        EXPECT_TRUE(ck.tensors.count(name)) << name;
      EXPECT_EQ(ck.tensors.count("planner.value_net.critic_target.1.decoder.bias"),
                algo == "iris" ? 1u : 0u);
      // The actor reads its 2 keys and the planner's 13-value subgoal at every step.
      EXPECT_EQ(ck.tensors.at("actor.actor.rnn.weight_ih_l0").shape(), (Shape{64, 3 + 2 + 13}));
      EXPECT_EQ(first_actions(*a), first_actions(*b));
    }

    expect_resume_continues(small_hierarchical_config(algo, out), s.epoch_losses);
  }
}

// Lenient where robomimic is: a mask naming demos that are missing trains on the others and says
// which; strict where its policies need it: actions outside [-1, 1] stop `train` as they stop
// `dataset-info`, unless the config normalizes actions.
TEST(Trainer, StaleMaskWarnsAndActionsOutsideTheUnitRangeAreRefused) {
  const fs::path dir = temp_dir("lenient");
  const fs::path stale = dir / "stale.hdf5";
  fs::copy_file(shared_lift_dataset(), stale);
  {
    h5::File f(stale.string(), h5::File::Mode::kReadWrite);
    auto train_names = f.root().group("mask").dataset("train").read_strings();
    train_names.push_back("demo_999");
    f.root().group("mask").remove("train");
    f.root().group("mask").write_strings("train", train_names);
  }
  json c = small_config("bc", dir);
  c["train"]["data"] = stale.string();
  c["train"]["num_epochs"] = 1;
  train::TrainOverrides o;
  o.quiet = true;
  const train::TrainSummary s = train::Trainer(c, o).run();
  std::ifstream log_in(fs::path(s.run_dir) / "logs" / "log.txt");
  const std::string log((std::istreambuf_iterator<char>(log_in)), {});
  EXPECT_NE(
      log.find("warning: " + stale.string() + ": mask/train names 1 demos not in /data (demo_999)"),
      std::string::npos)
      << log;

  const fs::path wide = dir / "wide.hdf5";
  {
    data::RobomimicReader r(shared_lift_dataset());
    data::RobomimicWriter w(wide.string(), r.env_args());
    for (const auto& name : r.demos()) {
      data::Demo d = r.read_demo(name);
      for (float& a : d.actions.f32) a *= 3.0f;
      w.add_demo(d);
    }
    w.set_mask("train", r.mask("train"));
    w.set_mask("valid", r.mask("valid"));
    w.finish();
  }
  c["train"]["data"] = wide.string();
  try {
    train::Trainer(c, o).run();
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(wide.string() + ": actions lie outside [-1, 1] (min "),
              std::string::npos)
        << e.what();
  }
  c["train"]["action_config"]["actions"]["normalization"] = "min_max";
  EXPECT_NO_THROW(train::Trainer(c, o).run());
}

TEST(Rollouts, SayWhichEnvironmentTheyRunAndWarnOnAnotherVersion) {
  const env::EnvRegistry envs = env::builtin_envs();
  const json robosuite = {{"env_name", "Lift"}, {"env_version", "1.4.1"}, {"type", 1}};
  const auto lines = train::rollout_env_lines(envs, robosuite);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "environment: mimic's Lift (mimic-lift-2)");
  EXPECT_NE(lines[1].find("warning: the dataset's Lift is version '1.4.1', not mimic's"),
            std::string::npos)
      << lines[1];
  const json own = env::PushT().env_args();
  EXPECT_EQ(train::rollout_env_lines(envs, own),
            std::vector<std::string>{"environment: mimic's PushT (mimic-pusht-2)"});
}

TEST(Trainer, ResumingFromLastGivesTheSameLossesAsAnUninterruptedRun) {
  for (const std::string algo : {"bc_rnn", "diffusion_policy"}) {
    SCOPED_TRACE(algo);
    const fs::path out = temp_dir("resume_" + algo);
    train::TrainOverrides o;
    o.quiet = true;
    json full = small_config(algo, out);
    full["experiment"]["name"] = "full";
    const auto whole = train::Trainer(full, o).run().epoch_losses;
    json part = small_config(algo, out);
    part["experiment"]["name"] = "part";
    o.stop_after_epoch = 2;  // as if the process had been killed after epoch 2
    const auto first = train::Trainer(part, o).run().epoch_losses;
    o.stop_after_epoch = 0;
    o.resume = true;
    const auto rest = train::Trainer(part, o).run().epoch_losses;
    ASSERT_EQ(whole.size(), 4u);
    ASSERT_EQ(first.size(), 2u);
    ASSERT_EQ(rest.size(), 2u);
    EXPECT_EQ(first[0], whole[0]);
    EXPECT_EQ(first[1], whole[1]);
    EXPECT_EQ(rest[0], whole[2]);
    EXPECT_EQ(rest[1], whole[3]);
  }
}

// Every state a kill can leave the checkpoint rotation in (it writes last_new completely, then
// renames last -> last_bak and last_new -> last) resumes from the newest complete checkpoint of
// this run, with the losses of an uninterrupted run; a run without one is refused, never
// swapped for an older run of the same name.
TEST(Trainer, ResumeSurvivesAKillAnywhereInTheCheckpointRotation) {
  const fs::path out = temp_dir("resume_rotation");
  train::TrainOverrides o;
  o.quiet = true;
  json full = small_config("bc", out);
  full["experiment"]["name"] = "full";
  const auto whole = train::Trainer(full, o).run().epoch_losses;
  ASSERT_EQ(whole.size(), 4u);
  json part = small_config("bc", out);
  part["experiment"]["name"] = "part";
  o.stop_after_epoch = 2;
  train::Trainer(part, o).run();
  o.stop_after_epoch = 0;
  o.resume = true;
  // Resumes a copy of the stopped run after `damage`; returns the losses of the epochs it ran.
  auto resume_after = [&](const std::string& name,
                          const std::function<void(const fs::path&)>& damage,
                          std::string* log = nullptr) {
    fs::copy(out / "part", out / name, fs::copy_options::recursive);
    const train::RunFolder run = train::find_resumable_run(out, name);
    damage(run.models);
    json c = part;
    c["experiment"]["name"] = name;
    const train::TrainSummary s = train::Trainer(c, o).run();
    if (log) {
      std::ifstream in(s.log_path);
      std::stringstream ss;
      ss << in.rdbuf();
      *log = ss.str();
    }
    return s.epoch_losses;
  };
  // Killed between the two renames: last_bak (epoch 1) and last_new (epoch 2), no last.
  std::string log;
  auto rest = resume_after(
      "between_renames",
      [](const fs::path& m) { fs::rename(m / "last.safetensors", m / "last_new.safetensors"); },
      &log);
  EXPECT_EQ(rest, std::vector<double>(whole.begin() + 2, whole.end()));
  EXPECT_NE(log.find("last_new.safetensors (epoch 2)"), std::string::npos) << log;
  // Killed while writing last_new: its temporary file is left beside a complete last.
  bool tmp_removed = false;
  rest = resume_after("while_writing", [&](const fs::path& m) {
    std::ofstream(m / "last_new.safetensors.tmp-4242") << "half a checkpoint";
  });
  EXPECT_EQ(rest, std::vector<double>(whole.begin() + 2, whole.end()));
  tmp_removed = !fs::exists(train::find_resumable_run(out, "while_writing").models /
                            "last_new.safetensors.tmp-4242");
  EXPECT_TRUE(tmp_removed);
  // last gone and last_new truncated (a full disk, then a kill): last_bak, epoch 1, and the log
  // says what it skipped.
  rest = resume_after(
      "only_backup",
      [](const fs::path& m) {
        fs::remove(m / "last.safetensors");
        std::ofstream(m / "last_new.safetensors") << "truncated";
      },
      &log);
  EXPECT_EQ(rest, std::vector<double>(whole.begin() + 1, whole.end()));
  EXPECT_NE(log.find("last_bak.safetensors (epoch 1)"), std::string::npos) << log;
  EXPECT_NE(log.find("skipped last_new.safetensors"), std::string::npos) << log;
  // The newest run of the name has no checkpoint at all (killed in its first epoch) while an
  // older one does: refused, naming the newest folder.
  fs::copy(out / "part", out / "newest_empty", fs::copy_options::recursive);
  const fs::path old_run = train::find_resumable_run(out, "newest_empty").root;
  const fs::path fresh = old_run.parent_path() / (old_run.filename().string() + "_1");
  fs::create_directories(fresh / "models");
  json c = part;
  c["experiment"]["name"] = "newest_empty";
  try {
    train::Trainer(c, o).run();
    ADD_FAILURE() << "resumed although the newest run has no checkpoint";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(fresh.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no complete checkpoint"), std::string::npos) << e.what();
  }
}

// Runs started at once with the same name never share a run folder.
TEST(RunFolder, ConcurrentRunsOfOneNameGetTheirOwnFolders) {
  const fs::path out = temp_dir("run_folders");
  std::vector<std::string> roots(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < roots.size(); ++i)
    threads.emplace_back(
        [&, i] { roots[i] = train::create_run_folder(out, "same").root.string(); });
  for (auto& t : threads) t.join();
  std::sort(roots.begin(), roots.end());
  EXPECT_EQ(std::unique(roots.begin(), roots.end()), roots.end());
  // Newest first by creation order: _10 comes after _9.
  EXPECT_TRUE(train::run_folder_before("20261202090000_9", "20261202090000_10"));
  EXPECT_TRUE(train::run_folder_before("20261202090000", "20261202090000_1"));
  EXPECT_FALSE(train::run_folder_before("20261202090001", "20261202090000_3"));
}

TEST(Trainer, DebugRunWithRolloutsAndVideoThroughTheCli) {
  const fs::path out = temp_dir("cli");
  const std::string cmd = std::string(MIMIC_CLI) + " train --algo bc --dataset " +
                          shared_lift_dataset() + " --output_dir " + out.string() + " --debug > " +
                          (out / "log.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out / "log.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string log = ss.str();
  EXPECT_NE(log.find("Rollout Epoch 2"), std::string::npos) << log;
  EXPECT_NE(log.find("video: "), std::string::npos) << log;
  const std::string video = log.substr(
      log.find("video: ") + 7, log.find(".mp4", log.find("video: ")) - log.find("video: ") - 3);
  EXPECT_TRUE(fs::exists(video)) << video;
  const std::string ckpt = log.substr(log.find("last checkpoint: ") + 17,
                                      log.find(".safetensors", log.find("last checkpoint: ")) + 12 -
                                          log.find("last checkpoint: ") - 17);
  const std::string eval = std::string(MIMIC_CLI) + " eval --agent " + ckpt +
                           " --n_rollouts 2 --horizon 5 --dataset_path " +
                           (out / "rollouts.hdf5").string() + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(eval.c_str()), 0);
  data::RobomimicReader r((out / "rollouts.hdf5").string());
  ASSERT_EQ(r.demos().size(), 2u);
  EXPECT_EQ(r.num_samples("demo_0"), 5);
}

TEST(Checkpoint, DamagedFilesGiveClearErrors) {
  const fs::path dir = temp_dir("ckpt");
  json c = small_config("bc", dir);
  c["train"]["num_epochs"] = 1;
  train::TrainOverrides o;
  o.quiet = true;
  const auto s = train::Trainer(c, o).run();
  const fs::path cut = dir / "cut.safetensors";
  fs::copy_file(s.last_checkpoint, cut);
  fs::resize_file(cut, fs::file_size(cut) - 100);
  EXPECT_THROW(policy::load_checkpoint(cut.string()), IoError);
  EXPECT_THROW(policy::load_checkpoint((dir / "missing.safetensors").string()), IoError);
  // Metadata that is not what it claims: the file, the key and what was expected.
  const nn::SafetensorsFile good = nn::read_safetensors(s.last_checkpoint);
  const json meta = json::parse(good.metadata.at("mimic"));
  auto with_meta = [&](const std::string& name, const std::string& text) {
    const std::string path = (dir / name).string();
    nn::write_safetensors(path, good.tensors, {{"mimic", text}});
    return path;
  };
  auto changed = [&](const char* key, const json& value) {
    json m = meta;
    if (value.is_null())
      m.erase(key);
    else
      m[key] = value;
    return m.dump();
  };
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {with_meta("text.safetensors", "{\"config\": "), {"checkpoint metadata: not valid JSON"}},
      {with_meta("list.safetensors", "[1]"), {"not a JSON object"}},
      {with_meta("format.safetensors", changed("format", "other")),
       {"'format' is \"other\"", "expected \"mimic-checkpoint\""}},
      {with_meta("noformat.safetensors", changed("format", nullptr)), {"'format' is null"}},
      {with_meta("newer.safetensors", changed("format_version", 2)),
       {"'format_version' is 2", "expected 1 to 1"}},
      {with_meta("noconfig.safetensors", changed("config", nullptr)), {"has no 'config'"}},
      {with_meta("numconfig.safetensors", changed("config", 3)), {"must be JSON objects"}},
  };
  for (const auto& [path, needles] : cases) {
    std::vector<std::string> all = needles;
    all.push_back(path);
    mimic::testing::expect_error<IoError>([&] { policy::load_checkpoint(path); }, all);
  }
  EXPECT_NO_THROW(policy::load_checkpoint(with_meta("same.safetensors", meta.dump())));
  // A config that asks for a network larger than any machine's memory (12 layers of 65536: 47
  // billion parameters) is refused by its size before anything is allocated.
  json huge = meta;
  huge["config"]["algo"]["actor_layer_dims"] = std::vector<int>(12, 65536);
  const std::string huge_path = with_meta("huge.safetensors", huge.dump());
  mimic::testing::expect_error<IoError>(
      [&] { policy::policy_from_checkpoint(policy::load_checkpoint(huge_path), huge_path); },
      {huge_path, "checkpoint config does not load", "parameters", "more than this machine's"});
}

}  // namespace
}  // namespace mimic

namespace mimic {
namespace {

// The tool's output, prefixed with "FAILED " when it exits non-zero.
std::string run_cli(const std::string& args) {
  const testing::CommandResult r = testing::run_command(std::string(MIMIC_CLI) + " " + args);
  return (r.status == 0 ? "" : "FAILED ") + r.output;
}

// robomimic's mixed-quality idea: expert, noisy and very noisy demonstrators, the last kept
// even when they fail, with rewards and robomimic's quality filter keys.
TEST(Cli, GenerateDemosMixedQualityWritesTiersAndQualityFilterKeys) {
  const fs::path dir = temp_dir("cli_mixed");
  const std::string path = (dir / "mixed.hdf5").string();
  const std::string out =
      run_cli("generate-demos --env lift --n 7 --quality mixed --seed 5 --output " + path);
  ASSERT_EQ(out.rfind("FAILED", 0), std::string::npos) << out;
  EXPECT_NE(out.find("better 2, okay 2, worse 3"), std::string::npos) << out;
  data::RobomimicReader r(path);
  ASSERT_EQ(r.demos().size(), 7u);
  const auto better = r.mask("better"), okay = r.mask("okay"), worse = r.mask("worse");
  EXPECT_EQ(better, (std::vector<std::string>{"demo_0", "demo_1"}));
  EXPECT_EQ(okay, (std::vector<std::string>{"demo_2", "demo_3"}));
  EXPECT_EQ(worse, (std::vector<std::string>{"demo_4", "demo_5", "demo_6"}));
  EXPECT_EQ(r.mask("okay_better").size(), 4u);
  EXPECT_EQ(r.mask("worse_better").size(), 5u);
  EXPECT_EQ(r.mask("worse_okay").size(), 5u);
  EXPECT_EQ(r.mask("train").size() + r.mask("valid").size(), 7u);
  auto succeeded = [&](const std::string& name) {
    const data::Demo d = r.read_demo(name);
    EXPECT_EQ(d.rewards.rows(), d.num_samples);
    EXPECT_EQ(d.dones.rows(), d.num_samples);
    double best = 0;
    for (int64_t t = 0; t < d.num_samples; ++t) best = std::max(best, d.rewards.row(t)[0]);
    return best > 0;
  };
  for (const auto& n : better) EXPECT_TRUE(succeeded(n)) << n;
  for (const auto& n : okay) EXPECT_TRUE(succeeded(n)) << n;
  // The noisy tiers are not the expert: the same seeds' expert episodes act differently.
  const data::Demo noisy = r.read_demo("demo_2");
  auto e = env::make_env(json::parse(r.env_args()), 0);
  const env::ExpertEpisode clean = env::run_expert(*e, "lift", 5 + 1000000);
  ASSERT_TRUE(clean.success);
  const size_t a = size_t(noisy.actions.row_width());
  EXPECT_NE(
      std::vector<float>(noisy.actions.f32.begin(), noisy.actions.f32.begin() + long(a)),
      std::vector<float>(clean.demo.actions.f32.begin(), clean.demo.actions.f32.begin() + long(a)));
  for (float a : noisy.actions.f32) EXPECT_TRUE(a >= -1 && a <= 1);
  EXPECT_NE(run_cli("generate-demos --env lift --n 2 --quality mixed --output " + path)
                .find("--n must be >= 3"),
            std::string::npos);
}

TEST(Cli, GenerateDemosWritesTheRobomimicSchemaAndPlaybackReplaysIt) {
  const fs::path dir = temp_dir("cli_demos");
  const std::string lift = (dir / "lift.hdf5").string(), pusht = (dir / "pusht.hdf5").string();
  std::string out = run_cli("generate-demos --env lift --n 4 --output " + lift + " --seed 3");
  ASSERT_EQ(out.rfind("FAILED", 0), std::string::npos) << out;
  out = run_cli("generate-demos --env pusht --n 2 --output " + pusht);
  ASSERT_EQ(out.rfind("FAILED", 0), std::string::npos) << out;
  for (const std::string& path : {lift, pusht}) {
    data::RobomimicReader r(path);
    const auto env_args = json::parse(r.env_args());
    EXPECT_TRUE(env_args.contains("env_name"));
    int64_t total = 0;
    for (const auto& name : r.demos()) {
      const data::Demo d = r.read_demo(name);
      total += d.num_samples;
      EXPECT_EQ(d.states.rows(), d.num_samples);
      EXPECT_EQ(d.rewards.rows(), d.num_samples);
      EXPECT_EQ(d.dones.f32.back(), 1.f);
      EXPECT_FALSE(d.obs.empty());
      EXPECT_EQ(d.obs.size(), d.next_obs.size());
      for (float a : d.actions.f32) EXPECT_TRUE(a >= -1 && a <= 1);
      // Resetting the simulator to a stored state reproduces the stored observation.
      auto e = env::make_env(env_args, 0);
      const int64_t t = d.num_samples / 2;
      e->reset_to(d.states.row(t));
      const env::Observation o = e->observe();
      for (const auto& [k, a] : d.obs) {
        const int64_t w = a.shape[1];
        for (int64_t j = 0; j < w; ++j)
          EXPECT_NEAR(o.low_dim.at(k)[size_t(j)], a.f32[size_t(t * w + j)], 1e-3) << k;
      }
    }
    EXPECT_EQ(r.total(), total);
    const auto train = r.mask("train"), valid = r.mask("valid");
    EXPECT_EQ(train.size() + valid.size(), r.demos().size());
    EXPECT_GE(valid.size(), 1u);
  }
  // Playback: one frame per stored state, and re-executed actions stay close to the states.
  const std::string video = (dir / "replay.mp4").string();
  out = run_cli("playback --dataset " + pusht + " --video_path " + video + " --n 1 --use-actions");
  ASSERT_EQ(out.rfind("FAILED", 0), std::string::npos) << out;
  const double drift = std::stod(out.substr(out.find("max state drift over 1 demos: ") + 30));
  // States are stored in double, as robomimic stores them, and the simulator is deterministic:
  // the re-executed actions retrace the stored states exactly (with float32 states the drift
  // was a few pixels).
  EXPECT_EQ(drift, 0.0) << out;
  // The same for Lift, replayed in the scene its demos' model_file describes.
  out = run_cli("playback --dataset " + lift + " --n 4 --use-actions");
  ASSERT_EQ(out.rfind("FAILED", 0), std::string::npos) << out;
  EXPECT_NE(out.find("scene: the demo's model_file"), std::string::npos) << out;
  EXPECT_EQ(std::stod(out.substr(out.find("max state drift over 4 demos: ") + 30)), 0.0) << out;
  data::RobomimicReader r(pusht);
  const int64_t frames = r.num_samples(r.demos()[0]);
  const std::string probe =
      "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
      "stream=nb_read_frames -of csv=p=0 '" +
      video + "' > '" + (dir / "n.txt").string() + "'";
  if (std::system("ffprobe -version > /dev/null 2>&1") == 0) {
    ASSERT_EQ(std::system(probe.c_str()), 0);
    std::ifstream in(dir / "n.txt");
    int64_t n = 0;
    in >> n;
    EXPECT_EQ(n, frames);
  }
  // A robosuite Lift demo: without its mesh files playback says so and replays its actions in
  // mimic's Lift. The drift is the largest difference of any state value, joint velocities
  // (rad/s) included: 0.61 on this demo, positions within 2 mm (tests/env).
  out = run_cli("playback --dataset " + std::string(MIMIC_TEST_DATA_DIR) +
                "/lift/robosuite_lift.hdf5 --n 1 --use-actions --assets " +
                (dir / "no_assets").string());
  EXPECT_NE(out.find("demo_1: scene: mimic's Lift scene"), std::string::npos) << out;
  EXPECT_NE(out.find("no_assets/"), std::string::npos) << out;
  EXPECT_LT(std::stod(out.substr(out.find("max state drift over 1 demos: ") + 30)), 1.0) << out;
  // A demo with 0 samples (robomimic writes them for empty episodes) and one whose number
  // overflows int64: playback replays the rest and says so (it crashed on the first, and the
  // second failed as "error: stoll").
  {
    const std::string odd = (dir / "odd_demos.hdf5").string();
    data::RobomimicReader src(pusht);
    data::Demo keep = src.read_demo(src.demos()[0], false, false), empty = keep;
    empty.name = "demo_99999999999999999999999";
    empty.num_samples = 0;
    for (data::Array* a : {&empty.actions, &empty.rewards, &empty.dones, &empty.states}) {
      if (a->shape.rank == 0) continue;
      a->shape.dims[0] = 0;
      a->f32.clear();
      a->f64.clear();
    }
    for (auto* m : {&empty.obs, &empty.next_obs})
      for (auto& [k, a] : *m) {
        a.shape.dims[0] = 0;
        a.f32.clear();
      }
    data::Demo zero = empty;
    zero.name = "demo_7";
    {
      data::RobomimicWriter w(odd, src.env_args());
      w.add_demo(keep);
      w.add_demo(zero);
      w.add_demo(empty);
      w.finish();
    }
    for (const std::string mode : {"", " --use-actions"}) {
      const std::string text = run_cli("playback --dataset " + odd + " --n 5" + mode);
      EXPECT_EQ(text.rfind("FAILED", 0), std::string::npos) << text;
      EXPECT_NE(text.find("demo_7: 0 samples, nothing to replay"), std::string::npos) << text;
      EXPECT_NE(text.find(empty.name + ": 0 samples"), std::string::npos) << text;
      EXPECT_NE(text.find(keep.name + ": "), std::string::npos) << text;
    }
  }
  // Bad input: unknown env, a missing file.
  EXPECT_NE(run_cli("generate-demos --env cartpole --n 1 --output x.hdf5").find("pusht or lift"),
            std::string::npos);
  EXPECT_EQ(run_cli("playback --dataset " + (dir / "missing.hdf5").string()).rfind("FAILED", 0),
            0u);
}

// A real `mimic train` process killed with SIGKILL at many moments (dataset loading, epochs,
// checkpoint writes and rotations), then resumed until it finishes: the final weights are
// bit-identical to an uninterrupted run's.
std::map<std::string, std::vector<float>> final_weights(const fs::path& runs,
                                                        const std::string& name) {
  const train::RunFolder run = train::find_resumable_run(runs, name);
  const policy::Checkpoint ck = policy::load_checkpoint(run.last_checkpoint().string());
  EXPECT_EQ(ck.meta.at("trainer").at("epoch"), 12) << run.root;
  std::map<std::string, std::vector<float>> out;
  for (const auto& [k, t] : ck.tensors) out[k] = t.to_vector();
  return out;
}

TEST(Cli, TrainKilledAnywhereResumesToTheSameWeights) {
  const fs::path dir = temp_dir("sigkill");
  json c = small_config("bc", dir / "runs");
  // Long enough (about a second of training, 12 checkpoint rotations) for kills to land inside.
  c["train"]["num_epochs"] = 12;
  c["train"]["batch_size"] = 32;
  c["experiment"]["epoch_every_n_steps"] = 60;
  c["experiment"]["save"]["every_n_epochs"] = 1;
  c["algo"]["actor_layer_dims"] = {256, 256};
  const fs::path cfg = dir / "config.json";
  std::ofstream(cfg) << c.dump();
  const auto command = [&](const std::string& name, bool resume) {
    return std::string(MIMIC_CLI) + " train --config " + cfg.string() + " --name " + name +
           (resume ? " --resume" : "") + " > /dev/null 2>&1";
  };
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(std::system(command("uninterrupted", false).c_str()), 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto reference = final_weights(dir / "runs", "uninterrupted");
  ASSERT_FALSE(reference.empty());
  // Whether a run of `name` has written its first checkpoint (models/last of the folder --resume
  // would continue).
  const auto has_checkpoint = [&](const std::string& name) {
    try {
      std::error_code ec;
      return fs::exists(train::find_resumable_run(dir / "runs", name).last_checkpoint(), ec);
    } catch (const IoError&) {
      return false;  // no run folder yet
    }
  };
  const int kills = 9;
  int mid_run = 0, before_first_checkpoint = 0;
  for (int k = 1; k <= kills; ++k) {
    const std::string name = "killed_" + std::to_string(k);
    SCOPED_TRACE(name);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", ("exec " + command(name, false)).c_str(), (char*)nullptr);
      _exit(127);
    }
    int status = 0;
    bool exited = false;
    if (k % 2 == 0) {
      // Even kills wait for the first checkpoint, then land a little later: mid-run however slow
      // the machine is (beside another test under ctest -j2 a run can take several times the
      // uninterrupted one's time, and kills by the clock alone then all land before it).
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::duration<double>(20 * seconds + 60);
      while (!has_checkpoint(name) && std::chrono::steady_clock::now() < deadline &&
             !(exited = waitpid(pid, &status, WNOHANG) == pid))
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds * 0.02 * k));
    } else {
      // Odd kills land at fractions of the uninterrupted run's time: dataset loading, epochs,
      // checkpoint writes and rotations.
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds * k / (kills + 1)));
    }
    if (!exited) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    // Resume until done; a run killed before its first checkpoint is refused and starts again.
    const fs::path folder = dir / "runs" / name;
    if (fs::exists(folder)) {
      try {
        const train::ResumePoint at =
            train::resume_checkpoint(train::find_resumable_run(dir / "runs", name));
        mid_run += at.epoch < 12;
      } catch (const IoError&) {
        ++before_first_checkpoint;
      }
    }
    bool done = false;
    for (int attempt = 0; attempt < 3 && !done; ++attempt)
      done = std::system(command(name, true).c_str()) == 0 ||
             std::system(command(name, false).c_str()) == 0;
    ASSERT_TRUE(done);
    const auto weights = final_weights(dir / "runs", name);
    ASSERT_EQ(weights.size(), reference.size());
    for (const auto& [key, v] : reference) EXPECT_EQ(weights.at(key), v) << key;
  }
  // The kills must have landed inside training for the test to mean anything.
  EXPECT_GE(mid_run, 2) << "killed before the first checkpoint: " << before_first_checkpoint;
}

// A full disk at a checkpoint write: a clear error naming the checkpoint and the system's reason,
// exit 1, `last` as it was (and loadable), no temporary file; with room again the run resumes.
TEST(Cli, TrainOnAFullDiskKeepsTheLastCheckpoint) {
  const fs::path dir = temp_dir("full_train");
  mimic::testing::LimitedDisk disk(dir / "disk");
  json c = small_config("bc", disk.dir() / "runs");
  c["train"]["num_epochs"] = 2;
  c["experiment"]["save"]["every_n_epochs"] = 1;
  c["algo"]["actor_layer_dims"] = {64, 64};  // checkpoints of about 80 KB
  std::ofstream(dir / "two.json") << c.dump();
  c["train"]["num_epochs"] = 4;
  std::ofstream(dir / "four.json") << c.dump();
  const auto train = [&](const char* config, bool resume) {
    return disk.run(std::string(MIMIC_CLI) + " train --config " + (dir / config).string() +
                    " --name full" + (resume ? " --resume" : ""));
  };
  const auto first = train("two.json", false);
  ASSERT_EQ(first.status, 0) << first.output;
  const fs::path last = train::find_resumable_run(disk.dir() / "runs", "full").last_checkpoint();
  const std::string before = mimic::testing::file_bytes(last);
  disk.leave_free(24 << 10);
  const auto full = train("four.json", true);
  EXPECT_EQ(full.signal, 0) << full.output;
  EXPECT_EQ(full.status, 1) << full.output;
  EXPECT_NE(full.output.find(".safetensors"), std::string::npos) << full.output;
  EXPECT_NE(full.output.find(disk.full_disk_text()), std::string::npos) << full.output;
  EXPECT_EQ(mimic::testing::file_bytes(last), before);
  EXPECT_NO_THROW(policy::load_checkpoint(last.string()));
  for (const std::string& f : disk.files()) EXPECT_EQ(f.find(".tmp"), std::string::npos) << f;
  disk.make_room();
  const auto resumed = train("four.json", true);
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(train::resume_checkpoint(train::find_resumable_run(disk.dir() / "runs", "full")).epoch,
            4);
}

TEST(Cli, GenerateDemosWithImages) {
  const fs::path dir = temp_dir("cli_images");
  const std::string path = (dir / "lift_img.hdf5").string();
  const std::string out = run_cli("generate-demos --env lift --n 1 --images --output " + path);
  ASSERT_EQ(out.rfind("FAILED", 0), std::string::npos) << out;
  data::RobomimicReader r(path);
  const data::Demo d = r.read_demo("demo_0");
  ASSERT_TRUE(d.obs.count("agentview_image"));
  ASSERT_TRUE(d.obs.count("robot0_eye_in_hand_image"));
  EXPECT_EQ(d.obs.at("agentview_image").shape, (Shape{d.num_samples, 84, 84, 3}));
}

// Image policies end to end: a Push-T dataset with 96x96 images, image Diffusion Policy
// (GroupNorm encoder, 84x84 crops, EMA) and image BC-RNN (BatchNorm encoder) train from the
// low_dim cache mode (images read per batch), roll out with rendered camera observations and
// reload from their checkpoints.
TEST(Trainer, ImagePoliciesTrainAndRollOutFromRenderedImages) {
  const fs::path dir = temp_dir("images_e2e");
  const std::string path = (dir / "pusht_img.hdf5").string();
  const std::string gen = run_cli("generate-demos --env pusht --n 2 --images --output " + path);
  ASSERT_EQ(gen.rfind("FAILED", 0), std::string::npos) << gen;
  {
    data::RobomimicReader r(path);
    EXPECT_EQ(r.read_demo("demo_0").obs.at("image").shape.dims[1], 96);
  }
  for (const std::string algo : {"diffusion_policy", "bc_rnn"}) {
    SCOPED_TRACE(algo);
    json c = config::published_config(algo, "pusht", "image", dir.string());
    c["train"]["data"] = path;
    c["train"]["output_dir"] = (dir / "runs").string();
    c["train"]["batch_size"] = 2;
    c["train"]["num_epochs"] = 2;
    c["train"]["hdf5_filter_key"] = nullptr;
    c["train"]["hdf5_validation_filter_key"] = nullptr;
    c["experiment"]["epoch_every_n_steps"] = 2;
    c["experiment"]["rollout"] = {{"enabled", true}, {"n", 1},
                                  {"horizon", 3},    {"rate", 2},
                                  {"warmstart", 0},  {"terminate_on_success", true}};
    c["experiment"]["render_video"] = false;
    if (algo == "diffusion_policy") {
      c["algo"]["unet"]["down_dims"] = {16, 32};
      c["algo"]["unet"]["diffusion_step_embed_dim"] = 16;
      c["algo"]["unet"]["n_groups"] = 4;
      c["algo"]["ddpm"]["num_inference_timesteps"] = 4;
    } else {
      c["train"]["seq_length"] = 3;
      c["algo"]["rnn"]["hidden_dim"] = 16;
    }
    c = config::load_config(c);
    train::TrainOverrides o;
    o.quiet = true;
    const train::TrainSummary s =
        train::Trainer(c, o, policy::builtin_algorithms(), env::builtin_envs()).run();
    ASSERT_EQ(s.epoch_losses.size(), 2u);
    for (double l : s.epoch_losses) EXPECT_TRUE(std::isfinite(l));
    const policy::Checkpoint ck = policy::load_checkpoint(s.last_checkpoint);
    auto p = policy::policy_from_checkpoint<float>(ck);
    EXPECT_EQ(p->shape_meta().rgb_keys, (std::set<std::string>{"image"}));
    EXPECT_TRUE(ck.tensors.count("encoder.image.backbone.conv1.weight"));
    // A rollout observation rendered by the environment goes through the encoder.
    auto e = env::make_env(json::parse(data::RobomimicReader(path).env_args()), 1);
    e->reset(5);
    policy::PolicyRollout r(*p);
    r.reset(0);
    std::vector<env::Observation> h(size_t(p->n_obs_steps()), e->observe());
    const auto actions = r.act({0}, {h});
    ASSERT_FALSE(actions[0].empty());
    for (float v : actions[0][0]) EXPECT_TRUE(std::isfinite(v));
  }
}

TEST(Cli, GenerateConfigsWritesLoadableFiles) {
  const fs::path dir = temp_dir("cli_configs");
  const std::string out =
      run_cli("generate-configs --output_dir " + (dir / "c").string() + " --dataset_dir /data");
  ASSERT_EQ(out.rfind("FAILED", 0), std::string::npos) << out;
  int n = 0;
  for (const auto& f : fs::directory_iterator(dir / "c")) {
    EXPECT_NO_THROW(config::load_config_file(f.path().string())) << f.path();
    ++n;
  }
  EXPECT_EQ(n, 34);  // 26 imitation configs; BCQ, CQL, HBC and IRIS for Lift and Push-T (low-dim)
}

}  // namespace
}  // namespace mimic
