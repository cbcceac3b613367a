// numpy's default_rng (core/numpy_generator.hpp) and Diffusion Policy's train/validation split
// (data/diffusion_policy_split.hpp) against what numpy computed
// (tests/reference/make_dp_split_fixture.py -> tests/data/dp_zarr/dp_split.json).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/core/numpy_generator.hpp"
#include "mimic/data/diffusion_policy_split.hpp"
#include "support/errors.hpp"

namespace mimic {
namespace {

nlohmann::json fixture() {
  std::ifstream in(std::filesystem::path(MIMIC_TEST_DATA_DIR) / "dp_zarr" / "dp_split.json");
  return nlohmann::json::parse(in);
}

uint64_t big(const nlohmann::json& text) { return std::stoull(text.get<std::string>()); }

TEST(NumpyGenerator, DrawsWhatNumpysDefaultRngDraws) {
  const auto f = fixture();
  for (const auto& c : f["raw"]) {
    SCOPED_TRACE(c["seed"].get<std::string>());
    NumpyGenerator g(big(c["seed"]));
    for (const auto& v : c["uint64"]) EXPECT_EQ(g.next_uint64(), big(v));
  }
  NumpyGenerator g32(42);
  for (const auto& v : f["uint32_seed42"]) EXPECT_EQ(g32.next_uint32(), big(v));
  for (const auto& c : f["bounded_seed7"]) {
    SCOPED_TRACE(c["high"].get<std::string>());
    NumpyGenerator g(7);
    for (const auto& v : c["values"]) EXPECT_EQ(g.bounded(big(c["high"]) - 1), big(v));
  }
  for (const auto& c : f["choice"]) {
    const int64_t n = c["n"], size = c["size"];
    SCOPED_TRACE("choice(" + std::to_string(n) + ", " + std::to_string(size) + ")");
    NumpyGenerator g(c["seed"].get<uint64_t>());
    EXPECT_EQ(g.choice_without_replacement(n, size), c["values"].get<std::vector<int64_t>>());
  }
  NumpyGenerator g(0);
  testing::expect_error<ValueError>([&] { g.choice_without_replacement(3, 4); },
                                    {"cannot take 4 distinct values from 3"});
}

TEST(DiffusionPolicySplit, PicksTheEpisodesDiffusionPolicyPicks) {
  for (const auto& c : fixture()["dp_split"]) {
    data::DiffusionPolicySplitSettings s;
    s.val_ratio = c["val_ratio"];
    s.max_train_episodes = c["max_train_episodes"];
    s.seed = c["seed"];
    const int64_t n = c["episodes"];
    SCOPED_TRACE(std::to_string(n) + " episodes, val_ratio " + std::to_string(s.val_ratio));
    const std::vector<bool> train = data::diffusion_policy_train_mask(n, s);
    std::vector<int64_t> picked;
    for (int64_t i = 0; i < n; ++i)
      if (train[size_t(i)]) picked.push_back(i);
    EXPECT_EQ(picked, c["train"].get<std::vector<int64_t>>());
  }
  testing::expect_error<ValueError>([] { data::diffusion_policy_train_mask(0); },
                                    {"at least 1 episode, got 0"});
  data::DiffusionPolicySplitSettings bad;
  bad.val_ratio = 1.5;
  testing::expect_error<ValueError>([&] { data::diffusion_policy_train_mask(10, bad); },
                                    {"val_ratio must be in [0, 1], got 1.5"});
}

}  // namespace
}  // namespace mimic
