// Every input of the committed corpora (seeds, and each input a fuzzer ever crashed on) through
// its target: the run must end without a crash, an escaped exception or an abort, so that what a
// fuzzer once found stays fixed. New findings go in corpus/<target>/ (tools/fuzz.sh says how).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/targets.hpp"

namespace mimic {
namespace {

namespace fs = std::filesystem;

// Replays corpus/<name>/* in name order; returns how many inputs ran.
size_t replay(const std::string& name, int (*target)(const uint8_t*, size_t)) {
  std::vector<fs::path> inputs;
  for (const auto& e : fs::directory_iterator(fs::path(MIMIC_FUZZ_CORPUS_DIR) / name))
    if (e.is_regular_file()) inputs.push_back(e.path());
  std::sort(inputs.begin(), inputs.end());
  for (const fs::path& p : inputs) {
    std::ifstream in(p, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(p.string());
    EXPECT_EQ(target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
  }
  return inputs.size();
}

TEST(FuzzCorpus, ConfigInputsReplayCleanly) {
  EXPECT_GE(replay("config", fuzz::config_input), 10u);
}
TEST(FuzzCorpus, CheckpointInputsReplayCleanly) {
  EXPECT_GE(replay("checkpoint", fuzz::checkpoint_input), 5u);
}
TEST(FuzzCorpus, RobomimicInputsReplayCleanly) {
  EXPECT_GE(replay("robomimic", fuzz::robomimic_input), 10u);
}
TEST(FuzzCorpus, TorchInputsReplayCleanly) { EXPECT_GE(replay("torch", fuzz::torch_input), 6u); }

}  // namespace
}  // namespace mimic
