// The `mimic` tool's dataset commands, run as a user would.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mimic/core/file_update.hpp"
#include "mimic/data/robomimic.hpp"
#include "support/limited_disk.hpp"

#ifdef MIMIC_CLI
namespace mimic {
namespace {

using testing::CommandResult;
CommandResult run(const std::string& args) {
  return testing::run_command(std::string(MIMIC_CLI) + " " + args);
}

std::string write_dataset(const std::string& name, int demos, float action_scale) {
  const std::string path = ::testing::TempDir() + "/" + name;
  data::RobomimicWriter w(path, R"({"env_name": "PushT", "type": 2, "env_kwargs": {}})");
  std::vector<std::string> names;
  for (int i = 0; i < demos; ++i) {
    data::Demo d;
    d.name = "demo_" + std::to_string(i);
    d.num_samples = 3 + i;
    d.actions = data::Array::floats(
        {d.num_samples, 2}, std::vector<float>(size_t(d.num_samples * 2), 0.5f * action_scale));
    d.obs["obs"] = data::Array::floats({d.num_samples, 20},
                                       std::vector<float>(size_t(d.num_samples * 20), 1.f));
    w.add_demo(d);
    names.push_back(d.name);
  }
  w.set_mask("20_percent", {"demo_0", "demo_1"});
  w.finish();
  return path;
}

TEST(Cli, DatasetInfo) {
  const std::string path = write_dataset("cli_info.hdf5", 5, 1.f);
  CommandResult r = run("dataset-info --dataset " + path);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("total demos: 5"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("total samples: 25"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("min 3, max 7"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("20_percent: 2 demos"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("obs/obs: [3, 20]"), std::string::npos) << r.output;
  CommandResult filtered = run("dataset-info --dataset " + path + " --filter-key 20_percent");
  EXPECT_NE(filtered.output.find("total demos: 2"), std::string::npos) << filtered.output;
  CommandResult outside = run("dataset-info --dataset " + write_dataset("cli_big.hdf5", 2, 4.f));
  EXPECT_EQ(outside.status, 1);
  EXPECT_NE(outside.output.find("outside [-1, 1]"), std::string::npos) << outside.output;
  CommandResult missing = run("dataset-info --dataset " + ::testing::TempDir() + "/nope.hdf5");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("nope.hdf5"), std::string::npos) << missing.output;
  EXPECT_EQ(run("dataset-info --datset x").status, 1);  // typo in a flag is an error
}

TEST(Cli, SplitTrainVal) {
  const std::string path = write_dataset("cli_split.hdf5", 10, 1.f);
  CommandResult r = run("split-train-val --dataset " + path + " --ratio 0.2 --seed 3");
  ASSERT_EQ(r.status, 0) << r.output;
  {
    data::RobomimicReader reader(path);
    const auto train = reader.mask("train"), valid = reader.mask("valid");
    EXPECT_EQ(train.size(), 8u);
    EXPECT_EQ(valid.size(), 2u);
    for (const auto& v : valid) EXPECT_EQ(std::count(train.begin(), train.end(), v), 0);
    EXPECT_EQ(reader.mask("20_percent").size(), 2u);  // untouched
    EXPECT_EQ(reader.read_demo("demo_9").num_samples, 12);
  }
  CommandResult again = run("split-train-val --dataset " + path + " --ratio 0.2 --seed 3");
  ASSERT_EQ(again.status, 0);
  CommandResult fk =
      run("split-train-val --dataset " + path + " --filter_key 20_percent --ratio 0.5");
  ASSERT_EQ(fk.status, 0) << fk.output;
  data::RobomimicReader reader(path);
  EXPECT_EQ(reader.mask("20_percent_train").size(), 1u);
  EXPECT_EQ(reader.mask("20_percent_valid").size(), 1u);
  EXPECT_EQ(run("split-train-val --dataset " + path + " --ratio 1.5").status, 1);
  for (const auto& e : std::filesystem::directory_iterator(::testing::TempDir()))
    EXPECT_EQ(e.path().string().find("cli_split.hdf5.tmp"), std::string::npos) << e.path();
}

using mimic::testing::file_bytes;
using mimic::testing::LimitedDisk;

// A full disk while writing: a clear error naming the file and the system's reason, exit 1
// (once: "flush failed", then SIGSEGV in HDF5's close at exit), the previous file byte for byte,
// and no temporary file left.
TEST(Cli, GenerateDemosOnAFullDiskKeepsThePreviousFile) {
  LimitedDisk disk(std::filesystem::path(::testing::TempDir()) / "full_generate");
  const std::filesystem::path out = disk.dir() / "demos.hdf5";
  std::filesystem::copy_file(write_dataset("full_generate_prev.hdf5", 3, 1.f), out);
  const std::string before = file_bytes(out);
  disk.leave_free(64 << 10);
  const auto r = disk.run(std::string(MIMIC_CLI) + " generate-demos --env pusht --n 3 --images " +
                          "--output " + out.string());
  EXPECT_EQ(r.signal, 0) << r.output;
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("demos.hdf5"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(disk.full_disk_text()), std::string::npos) << r.output;
  EXPECT_EQ(file_bytes(out), before);
  EXPECT_EQ(disk.files(), std::vector<std::string>{"demos.hdf5"});
}

TEST(Cli, SplitTrainValOnAFullDiskKeepsTheFile) {
  LimitedDisk disk(std::filesystem::path(::testing::TempDir()) / "full_split");
  const std::filesystem::path path = disk.dir() / "demos.hdf5";
  std::filesystem::copy_file(write_dataset("full_split_src.hdf5", 10, 1.f), path);
  const std::string before = file_bytes(path);
  disk.leave_free(before.size() / 2);
  const auto r = disk.run(std::string(MIMIC_CLI) + " split-train-val --dataset " + path.string());
  EXPECT_EQ(r.signal, 0) << r.output;
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(path.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(disk.full_disk_text()), std::string::npos) << r.output;
  EXPECT_EQ(file_bytes(path), before);
  EXPECT_EQ(disk.files(), std::vector<std::string>{"demos.hdf5"});
  disk.make_room();
  EXPECT_EQ(disk.run(std::string(MIMIC_CLI) + " split-train-val --dataset " + path.string()).status,
            0);
}

// Writers of one dataset at once: a second writer in the folder is refused with a clear error
// while the first holds it, and runs started together leave one valid split and no temporary
// file, each either succeeding or reporting the conflict.
TEST(Cli, ConcurrentSplitsAreRefusedNotRaced) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "split_race";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::filesystem::path path = dir / "demos.hdf5";
  std::filesystem::copy_file(write_dataset("split_race_src.hdf5", 20, 1.f), path);
  const std::string split = "split-train-val --dataset " + path.string();
  {
    FileUpdate held(path.string());  // as a running writer holds it
    const CommandResult r = run(split);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("another mimic command is rewriting a file in"), std::string::npos)
        << r.output;
  }
  std::string launch;
  for (int seed = 0; seed < 4; ++seed)
    launch += std::string(MIMIC_CLI) + " " + split + " --ratio 0.25 --seed " +
              std::to_string(seed) + " > " + (dir / ("out" + std::to_string(seed))).string() +
              " 2>&1; echo $? >> " + (dir / "codes").string() + " &\n";
  ASSERT_EQ(std::system(("{\n" + launch + "wait\n}").c_str()), 0);
  std::ifstream codes(dir / "codes");
  int succeeded = 0, n = 0;
  for (int code; codes >> code; ++n) {
    EXPECT_TRUE(code == 0 || code == 1) << code;
    succeeded += code == 0;
  }
  EXPECT_EQ(n, 4);
  EXPECT_GE(succeeded, 1);
  for (int seed = 0; seed < 4; ++seed) {
    const std::string out = file_bytes(dir / ("out" + std::to_string(seed)));
    EXPECT_TRUE(out.find("wrote train") != std::string::npos ||
                out.find("another mimic command is rewriting") != std::string::npos)
        << out;
  }
  data::RobomimicReader reader(path.string());
  std::vector<std::string> all = reader.mask("train"), valid = reader.mask("valid");
  EXPECT_EQ(valid.size(), 5u);
  all.insert(all.end(), valid.begin(), valid.end());
  std::sort(all.begin(), all.end());
  std::vector<std::string> demos = reader.demos();
  std::sort(demos.begin(), demos.end());
  EXPECT_EQ(all, demos);
  for (const auto& e : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

// A robomimic checkpoint imported as a user would, evaluated in mimic's Lift, exported back and
// re-imported; a checkpoint of an algorithm mimic lacks is refused by name; a full disk during
// import or export leaves no partial file.
TEST(Cli, ImportRobomimicCheckpointThenEvaluate) {
  const std::string robomimic = std::string(MIMIC_TEST_DATA_DIR) + "/robomimic_checkpoints/";
  const std::string out = ::testing::TempDir() + "/imported_bc_rnn.safetensors";
  std::filesystem::remove(out);
  CommandResult r = run("import --from robomimic " + robomimic + "bc_rnn.pth --output " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("as bc_rnn, 12 tensors"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("environment Lift"), std::string::npos) << r.output;
  CommandResult e = run("eval --agent " + out + " --n_rollouts 1 --horizon 4 --n_envs 1");
  EXPECT_EQ(e.status, 0) << e.output;
  EXPECT_NE(e.output.find("Lift"), std::string::npos) << e.output;
  const std::string pth = ::testing::TempDir() + "/exported_bc_rnn.pth";
  CommandResult x = run("export --to robomimic " + out + " --output " + pth);
  ASSERT_EQ(x.status, 0) << x.output;
  EXPECT_NE(x.output.find("as robomimic bc, 12 tensors"), std::string::npos) << x.output;
  EXPECT_EQ(run("import --from robomimic " + pth + " --output " + out).status, 0);
  CommandResult bad = run("import --from robomimic " + robomimic + "bad_algo.pth --output " + out);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("'bcq'"), std::string::npos) << bad.output;
  CommandResult other = run("import --from caffe " + robomimic + "bc.pth --output " + out);
  EXPECT_EQ(other.status, 1);
  EXPECT_NE(other.output.find("--from: expected robomimic"), std::string::npos) << other.output;

  LimitedDisk disk(std::filesystem::path(::testing::TempDir()) / "full_import");
  disk.leave_free(4 << 10);
  const auto full =
      disk.run(std::string(MIMIC_CLI) + " import --from robomimic " + robomimic +
               "bc_transformer.pth --output " + (disk.dir() / "bct.safetensors").string());
  EXPECT_EQ(full.signal, 0) << full.output;
  EXPECT_EQ(full.status, 1) << full.output;
  EXPECT_NE(full.output.find("bct.safetensors"), std::string::npos) << full.output;
  EXPECT_TRUE(disk.files().empty()) << full.output;
  disk.make_room();
  const std::string bct = (disk.dir() / "bct.safetensors").string();
  ASSERT_EQ(disk.run(std::string(MIMIC_CLI) + " import --from robomimic " + robomimic +
                     "bc_transformer.pth --output " + bct)
                .status,
            0);
  disk.leave_free(4 << 10);
  const auto full_export = disk.run(std::string(MIMIC_CLI) + " export --to robomimic " + bct +
                                    " --output " + (disk.dir() / "bct.pth").string());
  EXPECT_EQ(full_export.signal, 0) << full_export.output;
  EXPECT_EQ(full_export.status, 1) << full_export.output;
  EXPECT_NE(full_export.output.find("bct.pth"), std::string::npos) << full_export.output;
  EXPECT_EQ(disk.files(), std::vector<std::string>{"bct.safetensors"}) << full_export.output;
}

// A Diffusion Policy workspace checkpoint (DP's own save, tests/reference/
// make_dp_checkpoint_fixture.py) imported as a user would and rolled out in mimic's Push-T, which
// observes DP's 20 keypoint values: the import maps DP's pixel actions to Push-T's [-1, 1].
TEST(Cli, ImportDiffusionPolicyCheckpointThenEvaluateInPushT) {
  const std::string ckpt =
      std::string(MIMIC_TEST_DATA_DIR) + "/diffusion_policy/dp_unet_lowdim.ckpt";
  const std::string out = ::testing::TempDir() + "/imported_dp.safetensors";
  std::filesystem::remove(out);
  CommandResult r = run("import --from diffusion_policy " + ckpt + " --output " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("as diffusion_policy (EMA weights act)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("environment PushT"), std::string::npos) << r.output;
  CommandResult e = run("eval --agent " + out + " --n_rollouts 1 --horizon 16 --n_envs 1");
  EXPECT_EQ(e.status, 0) << e.output;
  EXPECT_NE(e.output.find("PushT"), std::string::npos) << e.output;
  // DP's hybrid image policy on pusht_image runs in Push-T with its camera image.
  const std::string hybrid = ::testing::TempDir() + "/imported_dp_hybrid.safetensors";
  CommandResult h = run("import --from diffusion_policy " + std::string(MIMIC_TEST_DATA_DIR) +
                        "/diffusion_policy/dp_unet_hybrid.ckpt --output " + hybrid);
  ASSERT_EQ(h.status, 0) << h.output;
  EXPECT_NE(h.output.find("environment PushT"), std::string::npos) << h.output;
  CommandResult he = run("eval --agent " + hybrid + " --n_rollouts 1 --horizon 8 --n_envs 1");
  EXPECT_EQ(he.status, 0) << he.output;
  CommandResult robomimic = run("import --from robomimic " + ckpt + " --output " + out);
  EXPECT_EQ(robomimic.status, 1);
  EXPECT_NE(robomimic.output.find("omegaconf.dictconfig.DictConfig' is not allowed"),
            std::string::npos)
      << robomimic.output;
}

// `mimic import --from lerobot FOLDER` whose output names `needles` and Push-T as the
// environment, then one short `mimic eval` rollout of the imported policy in Push-T.
void import_then_evaluate_in_pusht(const std::string& folder, const std::string& out, int horizon,
                                   const std::vector<std::string>& needles) {
  SCOPED_TRACE(folder);
  CommandResult r = run("import --from lerobot " + folder + " --output " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const std::string& n : needles) EXPECT_NE(r.output.find(n), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("environment PushT"), std::string::npos) << r.output;
  CommandResult e = run("eval --agent " + out + " --n_rollouts 1 --horizon " +
                        std::to_string(horizon) + " --n_envs 1");
  EXPECT_EQ(e.status, 0) << e.output;
  EXPECT_NE(e.output.find("PushT"), std::string::npos) << e.output;
}

// A LeRobot diffusion policy trained on gym-pusht's keypoint observation (LeRobot's own
// save_pretrained folder with its train_config.json, tests/reference/make_lerobot_fixture.py)
// imported as a user would and rolled out in mimic's Push-T, which observes the same
// environment_state and agent_pos (and one trained on its image observation, with mimic's camera
// image); a folder without a known environment imports with LeRobot's
// names and no environment, and `eval` says it needs one.
TEST(Cli, ImportLerobotPolicyThenEvaluateInPushT) {
  const std::string dir = std::string(MIMIC_TEST_DATA_DIR) + "/lerobot/";
  const std::string out = ::testing::TempDir() + "/imported_lerobot.safetensors";
  std::filesystem::remove(out);
  ASSERT_NO_FATAL_FAILURE(import_then_evaluate_in_pusht(
      dir + "ddim", out, 16,
      {"LeRobot diffusion as diffusion_policy", "[\"agent_pos\",\"environment_state\"]"}));
  // Trained on gym-pusht's image observation: Push-T with its camera image.
  ASSERT_NO_FATAL_FAILURE(import_then_evaluate_in_pusht(
      dir + "pusht_image", ::testing::TempDir() + "/imported_lerobot_pixels.safetensors", 8,
      {"[\"agent_pos\",\"image\"]"}));

  const std::string plain = ::testing::TempDir() + "/imported_lerobot_ddpm.safetensors";
  CommandResult p = run("import --from lerobot " + dir + "ddpm --output " + plain);
  ASSERT_EQ(p.status, 0) << p.output;
  EXPECT_NE(p.output.find("observation.environment_state"), std::string::npos) << p.output;
  EXPECT_EQ(p.output.find("environment PushT"), std::string::npos) << p.output;
  CommandResult missing = run("import --from lerobot " + dir + "nothing_here --output " + plain);
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("no config.json"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace mimic
#endif
