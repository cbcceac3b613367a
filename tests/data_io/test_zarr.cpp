// The zarr v2 reader (include/mimic/data/zarr.hpp) against a store numpy / zarr wrote
// (tests/reference/make_dp_zarr_fixture.py), `mimic convert --from dp-zarr` through its library
// function, and the errors for malformed stores.
#ifdef MIMIC_TEST_ZARR
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "commands/convert.hpp"
#include "mimic/data/diffusion_policy_split.hpp"
#include "mimic/data/robomimic.hpp"
#include "mimic/data/zarr.hpp"
#include "mimic/env/pusht/env.hpp"
#include "support/errors.hpp"
#include "support/scratch.hpp"

namespace mimic {
namespace {

namespace fs = std::filesystem;
using data::zarr::Array;

const fs::path kStore = fs::path(MIMIC_TEST_DATA_DIR) / "dp_zarr" / "pusht_tiny.zarr";

nlohmann::json expected() {
  std::ifstream in(fs::path(MIMIC_TEST_DATA_DIR) / "dp_zarr" / "expected.json");
  return nlohmann::json::parse(in);
}

std::vector<float> flat(const nlohmann::json& rows) {
  std::vector<float> v;
  for (const auto& r : rows)
    for (const auto& x : r) v.push_back(static_cast<float>(x.get<double>()));
  return v;
}

using mimic::testing::expect_error;

// A writable copy of the fixture store.
fs::path store_copy(const std::string& name) {
  const fs::path dir = testing::scratch_dir("zarr", name);
  fs::copy(kStore, dir / "s.zarr", fs::copy_options::recursive);
  return dir / "s.zarr";
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}
void write_bytes(const fs::path& p, const void* data, size_t n) {
  std::ofstream(p, std::ios::binary).write(static_cast<const char*>(data), std::streamsize(n));
}

// Replaces meta/episode_ends by an uncompressed <i8 array with these values.
void write_episode_ends(const fs::path& store, const std::vector<int64_t>& ends) {
  const fs::path dir = store / "meta" / "episode_ends";
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_text(dir / ".zarray", nlohmann::json{{"zarr_format", 2},
                                             {"shape", {ends.size()}},
                                             {"chunks", {ends.size()}},
                                             {"dtype", "<i8"},
                                             {"compressor", nullptr},
                                             {"fill_value", 0},
                                             {"order", "C"},
                                             {"filters", nullptr}}
                                  .dump());
  write_bytes(dir / "0", ends.data(), ends.size() * sizeof(int64_t));
}

TEST(ZarrReader, ReadsEveryArrayOfTheFixtureExactly) {
  const auto ex = expected();
  const int64_t n = ex["n"].get<int64_t>();
  const Array state(kStore / "data" / "state"), kp(kStore / "data" / "keypoint"),
      action(kStore / "data" / "action"), ends(kStore / "meta" / "episode_ends"),
      img(kStore / "data" / "img");
  EXPECT_EQ(state.shape(), (std::vector<int64_t>{n, 5}));
  EXPECT_EQ(kp.shape(), (std::vector<int64_t>{n, 9, 2}));
  EXPECT_EQ(img.shape(), (std::vector<int64_t>{n, 96, 96, 3}));
  EXPECT_LT(state.chunks()[0], n);  // several chunks, one partial
  EXPECT_NE(n % state.chunks()[0], 0);
  EXPECT_EQ(state.read<float>(), flat(ex["state"]));
  EXPECT_EQ(kp.read<float>(), flat(ex["keypoint"]));
  EXPECT_EQ(action.read<float>(), flat(ex["action"]));
  EXPECT_EQ(ends.read<int64_t>(), ex["episode_ends"].get<std::vector<int64_t>>());
  const std::vector<float> px = img.read<float>();
  ASSERT_EQ(int64_t(px.size()), n * 96 * 96 * 3);
  const size_t frame = 96 * 96 * 3;
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (size_t k = 0; k < frame; ++k) s += px[size_t(i) * frame + k];
    EXPECT_EQ(s, ex["img_frame_sums"][size_t(i)].get<double>()) << "frame " << i;
  }
  for (const auto& smp : ex["img_samples"]) {
    const size_t at =
        ((smp[0].get<size_t>() * 96 + smp[1].get<size_t>()) * 96 + smp[2].get<size_t>()) * 3 +
        smp[3].get<size_t>();
    EXPECT_EQ(px[at], float(smp[4].get<double>()));
  }
  // A band of rows across chunk boundaries equals the same rows of the whole array.
  const std::vector<float> band = img.read<float>(3, 8);
  EXPECT_TRUE(std::equal(band.begin(), band.end(), px.begin() + 3 * long(frame)));
  const std::vector<float> sband = state.read<float>(3, 9), sall = state.read<float>();
  EXPECT_TRUE(std::equal(sband.begin(), sband.end(), sall.begin() + 15));
  expect_error([&] { (void)state.read<int64_t>(); }, {"state/.zarray", "integer dtype"});
  expect_error([&] { (void)state.read<float>(2, n + 1); }, {"state", "outside"});
}

TEST(ZarrReader, UncompressedSlashSeparatorMissingChunksAndDtypes) {
  const fs::path dir = testing::scratch_dir("zarr", "raw") / "a";
  fs::create_directories(dir / "0");
  fs::create_directories(dir / "2");
  // shape [5, 3] in chunks [2, 2] of <i4: chunk rows 0-1, 2-3, 4 (edge, stored full size) and
  // columns 0-1, 2 (edge). Chunks 1/0 and 1/1 are missing: fill_value 7.
  write_text(dir / ".zarray", R"({"zarr_format": 2, "shape": [5, 3], "chunks": [2, 2],
    "dtype": "<i4", "compressor": null, "fill_value": 7, "order": "C", "filters": null,
    "dimension_separator": "/"})");
  auto chunk = [&](const std::string& name, std::vector<int32_t> v) {
    write_bytes(dir / name, v.data(), v.size() * 4);
  };
  chunk("0/0", {0, 1, 10, 11});
  chunk("0/1", {2, -1, 12, -1});
  chunk("2/0", {40, 41, -5, -5});
  chunk("2/1", {42, -1, -5, -5});
  const Array a(dir);
  EXPECT_EQ(a.read<int64_t>(),
            (std::vector<int64_t>{0, 1, 2, 10, 11, 12, 7, 7, 7, 7, 7, 7, 40, 41, 42}));
  EXPECT_EQ(a.read<float>(1, 3), (std::vector<float>{10, 11, 12, 7, 7, 7}));
  // <f8 and |u1, one chunk each, rank 1 and 3.
  const fs::path f8 = dir.parent_path() / "f8", u1 = dir.parent_path() / "u1";
  fs::create_directories(f8);
  fs::create_directories(u1);
  write_text(f8 / ".zarray", R"({"zarr_format": 2, "shape": [3], "chunks": [4], "dtype": "<f8",
    "compressor": null, "fill_value": "NaN", "order": "C", "filters": null})");
  const double d[4] = {0.5, -2.25, 1e300, 0};
  write_bytes(f8 / "0", d, sizeof d);
  EXPECT_EQ(Array(f8).read<double>(), (std::vector<double>{0.5, -2.25, 1e300}));
  write_text(u1 / ".zarray", R"({"zarr_format": 2, "shape": [2, 1, 2], "chunks": [1, 1, 2],
    "dtype": "|u1", "compressor": null, "fill_value": 0, "order": "C", "filters": null})");
  const uint8_t b[2] = {255, 3};
  write_bytes(u1 / "1.0.0", b, 2);
  EXPECT_EQ(Array(u1).read<uint8_t>(), (std::vector<uint8_t>{0, 0, 255, 3}));
  EXPECT_EQ(Array(u1).read<float>(), (std::vector<float>{0, 0, 255, 3}));
}

TEST(ZarrConvert, DiffusionPolicyStoreToRobomimic) {
  const auto ex = expected();
  const fs::path dir = testing::scratch_dir("zarr", "convert");
  const std::string out = (dir / "pusht.hdf5").string();
  const cli::DpZarrSummary s = cli::convert_dp_zarr(kStore.string(), out);
  const auto ends = ex["episode_ends"].get<std::vector<int64_t>>();
  EXPECT_EQ(s.episodes, int64_t(ends.size()));
  EXPECT_EQ(s.steps, ends.back());
  EXPECT_TRUE(s.images);
  const std::vector<float> state = flat(ex["state"]), kp = flat(ex["keypoint"]),
                           action = flat(ex["action"]);
  data::RobomimicReader r(out);
  ASSERT_EQ(r.demos().size(), ends.size());
  EXPECT_EQ(r.total(), ends.back());
  EXPECT_EQ(r.mask("all").size(), ends.size());
  // Diffusion Policy's split (checked against numpy in test_dp_split.cpp): one validation
  // episode of this small store, the others trained on.
  const std::vector<bool> train = data::diffusion_policy_train_mask(int64_t(ends.size()));
  std::vector<std::string> dp_train, dp_valid;
  for (size_t e = 0; e < ends.size(); ++e)
    (train[e] ? dp_train : dp_valid).push_back("demo_" + std::to_string(e));
  EXPECT_EQ(r.mask("dp_train"), dp_train);
  EXPECT_EQ(r.mask("dp_valid"), dp_valid);
  EXPECT_EQ(dp_valid.size(), 1u);
  EXPECT_EQ(s.dp_train, int64_t(ends.size()) - 1);
  EXPECT_EQ(nlohmann::json::parse(r.env_args())["env_name"], "PushT");
  env::PushT pusht;
  int64_t begin = 0;
  int successes = 0;
  for (size_t e = 0; e < ends.size(); ++e) {
    const data::Demo d = r.read_demo("demo_" + std::to_string(e), true, true);
    const int64_t t_len = ends[e] - begin;
    ASSERT_EQ(d.num_samples, t_len);
    ASSERT_EQ(d.obs.at("obs").shape, (Shape{t_len, 20}));
    ASSERT_EQ(d.obs.at("image").shape, (Shape{t_len, 96, 96, 3}));
    ASSERT_EQ(d.states.shape, (Shape{t_len, env::pusht::kStateSize}));
    for (int64_t t = 0; t < t_len; ++t) {
      const size_t i = size_t(begin + t), tt = size_t(t);
      for (size_t k = 0; k < 2; ++k) {
        const float a = d.actions.f32[tt * 2 + k];
        EXPECT_GE(a, -1.0f);
        EXPECT_LE(a, 1.0f);
        EXPECT_EQ(a, float(double(action[i * 2 + k]) / 512.0 * 2.0 - 1.0));
        EXPECT_EQ(d.obs.at("agent_pos").f32[tt * 2 + k], state[i * 5 + k]);
        EXPECT_EQ(d.obs.at("obs").f32[tt * 20 + 18 + k], state[i * 5 + k]);
      }
      for (size_t k = 0; k < 18; ++k) EXPECT_EQ(d.obs.at("obs").f32[tt * 20 + k], kp[i * 18 + k]);
      const size_t nx = size_t(std::min(t + 1, t_len - 1));
      for (size_t k = 0; k < 20; ++k)
        EXPECT_EQ(d.next_obs.at("obs").f32[tt * 20 + k], d.obs.at("obs").f32[nx * 20 + k]);
      // The state resets mimic's Push-T to DP's block and agent pose.
      pusht.reset_to(d.states.row(long(tt)));
      EXPECT_EQ(float(pusht.block_pose().x), state[i * 5 + 2]);
      EXPECT_EQ(float(pusht.block_pose().y), state[i * 5 + 3]);
      EXPECT_EQ(float(pusht.block_pose().theta), state[i * 5 + 4]);
      EXPECT_EQ(float(pusht.agent_pos().x), state[i * 5 + 0]);
      EXPECT_EQ(float(pusht.agent_pos().y), state[i * 5 + 1]);
      // ... whose own `obs` observation is the stored one (keypoints from the same pose).
      const std::vector<float> o = pusht.observe().low_dim.at("obs");
      for (size_t k = 0; k < 20; ++k) EXPECT_NEAR(o[k], d.obs.at("obs").f32[tt * 20 + k], 1e-3);
      // Reward and done after the action: the pose of the next step (the last step: its own).
      const size_t j = size_t(begin) + nx;
      const double cov = env::pusht::coverage(
          {double(state[j * 5 + 2]), double(state[j * 5 + 3]), double(state[j * 5 + 4])});
      EXPECT_EQ(d.rewards.f32[tt], float(env::pusht::reward_from_coverage(cov)));
      const bool done = env::pusht::success_from_coverage(cov) || t + 1 == t_len;
      EXPECT_EQ(d.dones.f32[tt], done ? 1.0f : 0.0f);
      successes += env::pusht::success_from_coverage(cov);
      // Pixels: the float values 0..255 as uint8.
      EXPECT_EQ(d.obs.at("image").u8[tt * 96 * 96 * 3], uint8_t(255));
    }
    begin = ends[e];
  }
  EXPECT_GT(successes, 0);  // the fixture's last episode reaches the goal
}

TEST(ZarrConvert, LowDimStoreWithoutImages) {
  const fs::path store = store_copy("lowdim");
  fs::remove_all(store / "data" / "img");
  const std::string out = (store.parent_path() / "low.hdf5").string();
  const cli::DpZarrSummary s = cli::convert_dp_zarr(store.string(), out);
  EXPECT_FALSE(s.images);
  data::RobomimicReader r(out);
  EXPECT_EQ(r.read_demo("demo_0", true, true).obs.count("image"), 0u);
}

TEST(ZarrErrors, BadStoresNameTheFile) {
  const std::string out_name = "out.hdf5";
  auto convert = [&](const fs::path& store) {
    return [store, out_name] {
      cli::convert_dp_zarr(store.string(), (store.parent_path() / out_name).string());
    };
  };
  {
    const fs::path s = store_copy("no_zarray");
    fs::remove(s / "data" / "action" / ".zarray");
    expect_error(convert(s), {(s / "data" / "action" / ".zarray").string(), "missing"});
  }
  {
    const fs::path s = store_copy("bad_json");
    write_text(s / "data" / "state" / ".zarray", "{\"zarr_format\": 2, \"shape\": [");
    expect_error(convert(s), {(s / "data" / "state" / ".zarray").string(), "JSON"});
  }
  {
    const fs::path s = store_copy("truncated");
    const fs::path c = s / "data" / "state" / "1.0";
    fs::resize_file(c, fs::file_size(c) / 2);
    expect_error(convert(s), {c.string(), "truncated"});
    fs::resize_file(c, 5);  // shorter than a header
    expect_error(convert(s), {c.string(), "Blosc header"});
  }
  {
    const fs::path s = store_copy("corrupt");
    const fs::path c = s / "data" / "keypoint" / "0.0.0";
    const std::vector<char> bytes(size_t(fs::file_size(c)), char(0xAB));
    write_bytes(c, bytes.data(), bytes.size());
    expect_error(convert(s), {c.string()});
  }
  {
    // Flipped bytes anywhere in a chunk: an error naming the chunk or other values, never a crash.
    const fs::path s = store_copy("flips");
    const fs::path c = s / "data" / "img" / "3.0.0.0";
    const std::vector<char> good = data::zarr::read_file_bytes(c);
    for (size_t at = 0; at < good.size(); at += std::max<size_t>(1, good.size() / 97)) {
      std::vector<char> bad = good;
      bad[at] = char(~bad[at]);
      write_bytes(c, bad.data(), bad.size());
      try {
        (void)Array(s / "data" / "img").read<float>(6, 8);
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(c.string()), std::string::npos) << e.what();
      }
    }
  }
  {
    const fs::path s = store_copy("dtype");
    const fs::path z = s / "data" / "state" / ".zarray";
    auto j = nlohmann::json::parse(data::zarr::read_file_bytes(z));
    j["dtype"] = ">f4";
    write_text(z, j.dump());
    expect_error(convert(s), {z.string(), "unsupported dtype", "\">f4\""});
    j["dtype"] = "<f4";
    j["order"] = "F";
    write_text(z, j.dump());
    expect_error(convert(s), {z.string(), "order"});
    j["order"] = "C";
    j["compressor"] = {{"id", "zstd"}, {"level", 1}};
    write_text(z, j.dump());
    expect_error(convert(s), {z.string(), "unsupported compressor"});
    j["compressor"] = {{"id", "blosc"}, {"cname", "lz4"}, {"clevel", 5}, {"shuffle", 1}};
    j["filters"] = {{{"id", "delta"}, {"dtype", "<f4"}}};
    write_text(z, j.dump());
    expect_error(convert(s), {z.string(), "filters"});
    j["filters"] = nullptr;
    j["chunks"] = {3, 5};  // the stored chunks hold 4 rows: the decompressed size is wrong
    write_text(z, j.dump());
    expect_error(convert(s), {(s / "data" / "state" / "0.0").string(), "decompressed bytes"});
  }
  {
    const fs::path s = store_copy("no_ends");
    fs::remove_all(s / "meta" / "episode_ends");
    expect_error(convert(s), {(s / "meta" / "episode_ends" / ".zarray").string()});
  }
  {
    const fs::path s = store_copy("ends_order");
    write_episode_ends(s, {5, 4, 19});
    expect_error(convert(s), {(s / "meta" / "episode_ends").string(), "increasing"});
    write_episode_ends(s, {5, 13, 25});
    expect_error(convert(s), {(s / "meta" / "episode_ends").string(), "beyond"});
    write_episode_ends(s, {0, 13});
    expect_error(convert(s), {(s / "meta" / "episode_ends").string(), "increasing"});
    // Reading the hand-written array itself works.
    write_episode_ends(s, {5, 13, 19});
    EXPECT_NO_THROW(convert(s)());
  }
  {
    const fs::path s = store_copy("shape");
    const fs::path z = s / "data" / "action" / ".zarray";
    auto j = nlohmann::json::parse(data::zarr::read_file_bytes(z));
    j["shape"] = {19, 3};
    j["chunks"] = {8, 3};
    write_text(z, j.dump());
    expect_error(convert(s), {z.string(), "expected [19, 2]"});
  }
  {
    const fs::path s = store_copy("pixels");
    const fs::path dir = s / "data" / "img";
    auto j = nlohmann::json::parse(data::zarr::read_file_bytes(dir / ".zarray"));
    fs::remove(dir / "0.0.0.0");  // missing chunk: fill_value
    j["fill_value"] = 300.0;
    write_text(dir / ".zarray", j.dump());
    expect_error(convert(s), {dir.string(), "[0, 255]"});
    // The failure came after the writer had started: nothing is left behind.
    for (const auto& f : fs::directory_iterator(s.parent_path()))
      EXPECT_EQ(f.path().filename(), "s.zarr") << f.path();
  }
}

}  // namespace
}  // namespace mimic
#endif  // MIMIC_TEST_ZARR
