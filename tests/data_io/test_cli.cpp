// The `mimic` tool's dataset commands, run as a user would.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "mimic/data/robomimic.hpp"

#ifdef MIMIC_CLI
namespace mimic {
namespace {

struct CliResult {
  int status;
  std::string output;
};
CliResult run(const std::string& args) {
  const std::string cmd = std::string(MIMIC_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (p && fgets(buf.data(), buf.size(), p)) out += buf.data();
  const int rc = p ? pclose(p) : -1;
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
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
  CliResult r = run("dataset-info --dataset " + path);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("total demos: 5"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("total samples: 25"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("min 3, max 7"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("20_percent: 2 demos"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("obs/obs: [3, 20]"), std::string::npos) << r.output;
  CliResult filtered = run("dataset-info --dataset " + path + " --filter-key 20_percent");
  EXPECT_NE(filtered.output.find("total demos: 2"), std::string::npos) << filtered.output;
  CliResult outside = run("dataset-info --dataset " + write_dataset("cli_big.hdf5", 2, 4.f));
  EXPECT_EQ(outside.status, 1);
  EXPECT_NE(outside.output.find("outside [-1, 1]"), std::string::npos) << outside.output;
  CliResult missing = run("dataset-info --dataset " + ::testing::TempDir() + "/nope.hdf5");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("nope.hdf5"), std::string::npos) << missing.output;
  EXPECT_EQ(run("dataset-info --datset x").status, 1);  // typo in a flag is an error
}

TEST(Cli, SplitTrainVal) {
  const std::string path = write_dataset("cli_split.hdf5", 10, 1.f);
  CliResult r = run("split-train-val --dataset " + path + " --ratio 0.2 --seed 3");
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
  CliResult again = run("split-train-val --dataset " + path + " --ratio 0.2 --seed 3");
  ASSERT_EQ(again.status, 0);
  CliResult fk = run("split-train-val --dataset " + path + " --filter_key 20_percent --ratio 0.5");
  ASSERT_EQ(fk.status, 0) << fk.output;
  data::RobomimicReader reader(path);
  EXPECT_EQ(reader.mask("20_percent_train").size(), 1u);
  EXPECT_EQ(reader.mask("20_percent_valid").size(), 1u);
  EXPECT_EQ(run("split-train-val --dataset " + path + " --ratio 1.5").status, 1);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp-split"));
}

}  // namespace
}  // namespace mimic
#endif
