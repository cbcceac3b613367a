// Normalization statistics against numpy (tests/reference/make_normalization_fixtures.py), and
// invertibility.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "mimic/data/normalize.hpp"

namespace mimic {
namespace {

nlohmann::json fixture() {
  std::ifstream in(std::string(MIMIC_TEST_DATA_DIR) + "/normalization.json");
  if (!in) throw IoError("normalization.json: cannot open");
  return nlohmann::json::parse(in);
}

std::vector<float> flatten(const nlohmann::json& rows) {
  std::vector<float> out;
  for (const auto& r : rows)
    for (const auto& v : r) out.push_back(v.get<float>());
  return out;
}

void expect_close(const std::vector<double>& a, const nlohmann::json& b, const std::string& what) {
  const auto want = b.get<std::vector<double>>();
  ASSERT_EQ(a.size(), want.size()) << what;
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], want[i], 1e-6 * (1 + std::abs(want[i]))) << what << " " << i;
}

TEST(Normalize, RobomimicObsStatsMergeAcrossDemos) {
  const auto f = fixture();
  data::MomentStats total;
  for (const auto& demo : f["demos"]) {
    const auto v = flatten(demo);
    total.merge(data::MomentStats::from_rows(v.data(), int64_t(demo.size()), 4));
  }
  const auto a = data::obs_normalization(total);
  expect_close(a.offset, f["obs_offset"], "offset");
  expect_close(a.scale, f["obs_scale"], "scale");
  EXPECT_NEAR(a.unnormalize(a.normalize(3.5, 1), 1), 3.5, 1e-12);
}

TEST(Normalize, ActionStatsAndLimits) {
  const auto f = fixture();
  const auto act = flatten(f["actions"]);
  const int64_t rows = int64_t(f["actions"].size());
  auto mm = data::action_normalization(data::ActionNormalization::kMinMax, act.data(), rows, 4);
  expect_close(mm.offset, f["minmax_offset"], "min_max offset");
  expect_close(mm.scale, f["minmax_scale"], "min_max scale");
  auto g = data::action_normalization(data::ActionNormalization::kGaussian, act.data(), rows, 4);
  expect_close(g.offset, f["gaussian_offset"], "gaussian offset");
  expect_close(g.scale, f["gaussian_scale"], "gaussian scale");
  auto lim = data::LimitsNormalizer::fit(act.data(), rows, 4);
  expect_close(lim.scale, f["limits_scale"], "limits scale");
  expect_close(lim.offset, f["limits_offset"], "limits offset");
  // Every action maps into [-1, 1] and back.
  for (int64_t r = 0; r < rows; ++r)
    for (size_t d = 0; d < 4; ++d) {
      const double x = act[r * 4 + d];
      const double y = mm.normalize(x, d), z = lim.normalize(x, d);
      ASSERT_LE(std::abs(y), 0.999999 + 1e-9);
      ASSERT_LE(std::abs(z), 1 + 1e-9);
      ASSERT_NEAR(mm.unnormalize(y, d), x, 1e-9);
      ASSERT_NEAR(lim.unnormalize(z, d), x, 1e-9);
    }
  EXPECT_EQ(lim.normalize(0.25, 2), 0.0);  // the constant dim maps to 0
  EXPECT_EQ(data::LimitsNormalizer::image().normalize(1.0, 0), 1.0);
  EXPECT_THROW(data::action_normalization_from_name("l2"), ValueError);
}

}  // namespace
}  // namespace mimic
