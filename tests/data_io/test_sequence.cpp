// Sample windows against a Python re-implementation of robomimic's and Diffusion Policy's rules
// (tests/reference/make_sequence_fixtures.py), for every seq_length x frame_stack x padding combo.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "mimic/data/sequence.hpp"

namespace mimic {
namespace {

nlohmann::json fixture() {
  std::ifstream in(std::string(MIMIC_TEST_DATA_DIR) + "/sequence_samples.json");
  if (!in) throw IoError("sequence_samples.json: cannot open");
  return nlohmann::json::parse(in);
}

void expect_sample(const data::SampleSteps& s, const nlohmann::json& want,
                   const std::string& where) {
  EXPECT_EQ(s.steps, want["steps"].get<std::vector<int64_t>>()) << where;
  std::vector<int> mask(s.pad_mask.begin(), s.pad_mask.end());
  EXPECT_EQ(mask, want["mask"].get<std::vector<int>>()) << where;
}

TEST(Sequence, RobomimicRulesForEveryCombination) {
  const auto f = fixture();
  int combos = 0;
  for (const auto& c : f["robomimic"]) {
    data::RobomimicSequence seq{c["seq_length"], c["frame_stack"], c["pad_seq_length"],
                                c["pad_frame_stack"]};
    const auto lengths = c["lengths"].get<std::vector<int64_t>>();
    data::SampleIndex index(lengths, [&](size_t d, int64_t len) {
      return seq.samples_in(len, "demo_" + std::to_string(d));
    });
    ASSERT_EQ(index.size(), int64_t(c["samples"].size())) << c.dump().substr(0, 120);
    for (int64_t i = 0; i < index.size(); ++i) {
      const auto [demo, k] = index.locate(i);
      const auto& want = c["samples"][i];
      ASSERT_EQ(demo, want["demo"].get<int64_t>());
      auto s = seq.sample(lengths[demo], k, /*goal_last=*/true);
      EXPECT_EQ(int64_t(s.steps.size()), seq.window());
      EXPECT_EQ(s.goal_step, want["goal"].get<int64_t>());
      expect_sample(s, want, "sample " + std::to_string(i));
    }
    ++combos;
  }
  EXPECT_EQ(combos, 36);
}

TEST(Sequence, DiffusionPolicySampler) {
  const auto f = fixture();
  for (const auto& c : f["diffusion_policy"]) {
    data::DiffusionSequence seq{c["horizon"], c["pad_before"], c["pad_after"]};
    const auto lengths = c["lengths"].get<std::vector<int64_t>>();
    data::SampleIndex index(lengths, [&](size_t, int64_t len) { return seq.samples_in(len); });
    ASSERT_EQ(index.size(), int64_t(c["samples"].size()));
    for (int64_t i = 0; i < index.size(); ++i) {
      const auto [demo, k] = index.locate(i);
      ASSERT_EQ(demo, c["samples"][i]["demo"].get<int64_t>());
      expect_sample(seq.sample(lengths[demo], k), c["samples"][i],
                    "dp sample " + std::to_string(i));
    }
  }
}

TEST(Sequence, TooShortDemoWithoutPaddingIsAnError) {
  data::RobomimicSequence seq{10, 2, false, true};
  try {
    seq.samples_in(5, "demo_7");
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("demo_7"), std::string::npos);
  }
  data::SampleIndex index({3, 4}, [](size_t, int64_t len) { return len; });
  EXPECT_THROW(index.locate(7), ValueError);
  EXPECT_EQ(index.locate(3), (std::pair<int64_t, int64_t>{1, 0}));
}

}  // namespace
}  // namespace mimic
