// The robomimic schema: writer round trip (atomic), demo ordering, masks, and validation errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "mimic/data/robomimic.hpp"
#include "mimic/data/sequence_dataset.hpp"
#include "support/errors.hpp"

namespace mimic {
namespace {

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "/" + name; }

data::Demo make_demo(const std::string& name, int64_t n, bool image = false) {
  data::Demo d;
  d.name = name;
  d.num_samples = n;
  std::vector<float> a(n * 7), o(n * 3), r(n, 0.f), done(n, 0.f);
  for (int64_t i = 0; i < n * 7; ++i) a[i] = std::sin(float(i)) * 0.9f;
  for (int64_t i = 0; i < n * 3; ++i) o[i] = float(i);
  r[n - 1] = done[n - 1] = 1;
  d.actions = data::Array::floats({n, 7}, a);
  d.rewards = data::Array::floats({n}, r);
  d.dones = data::Array::floats({n}, done);
  d.states = data::Array::floats({n, 3}, o);
  d.obs["robot0_eef_pos"] = data::Array::floats({n, 3}, o);
  d.next_obs["robot0_eef_pos"] = data::Array::floats({n, 3}, o);
  if (image)
    d.obs["agentview_image"] = data::Array::pixels({n, 4, 4, 3}, std::vector<uint8_t>(n * 48, 9));
  return d;
}

using mimic::testing::expect_error;

TEST(Robomimic, WriteReadRoundTripInDemoOrder) {
  const std::string path = temp_path("rt_robomimic.hdf5");
  std::filesystem::remove(path);
  {
    data::RobomimicWriter w(path, R"({"env_name": "Lift", "type": 1, "env_kwargs": {}})");
    for (const char* n : {"demo_10", "demo_2", "demo_1"}) w.add_demo(make_demo(n, 5, true));
    w.set_mask("train", {"demo_10", "demo_1"});
    w.set_mask("valid", {"demo_2"});
    EXPECT_FALSE(std::filesystem::exists(path));  // nothing visible before finish()
    w.finish();
  }
  data::RobomimicReader r(path);
  EXPECT_EQ(r.demos(), (std::vector<std::string>{"demo_1", "demo_2", "demo_10"}));
  EXPECT_EQ(r.total(), 15);
  EXPECT_NE(r.env_args().find("Lift"), std::string::npos);
  EXPECT_EQ(r.filter_keys(), (std::vector<std::string>{"train", "valid"}));
  EXPECT_EQ(r.mask("train"), (std::vector<std::string>{"demo_1", "demo_10"}));
  auto d = r.read_demo("demo_10");
  auto ref = make_demo("demo_10", 5, true);
  EXPECT_EQ(d.actions.f32, ref.actions.f32);
  EXPECT_EQ(d.obs.at("agentview_image").u8, ref.obs.at("agentview_image").u8);
  EXPECT_EQ(d.obs.at("agentview_image").shape, (Shape{5, 4, 4, 3}));
  EXPECT_EQ(d.next_obs.at("robot0_eef_pos").f32, ref.next_obs.at("robot0_eef_pos").f32);
  EXPECT_EQ(r.read_demo("demo_10", false, false).obs.count("agentview_image"), 0u);
  // States written as float32 read back as the same values, in double.
  EXPECT_TRUE(d.states.f32.empty());
  EXPECT_EQ(d.states.row(2),
            std::vector<double>(ref.states.f32.begin() + 6, ref.states.f32.begin() + 9));
}

// Simulator states are float64 in robomimic's files (robosuite's qpos, qvel): written and read
// in double, to the last bit, so a replay starts exactly where the recording was.
TEST(Robomimic, StatesKeepDoublePrecision) {
  const std::string path = temp_path("double_states.hdf5");
  data::Demo d = make_demo("demo_0", 3);
  const std::vector<double> states = {0.1,  1.0 / 3.0, 1.0 + 1e-12, -2.5e-300,          7.0,
                                      M_PI, 1e300,     -0.0,        123456789.123456789};
  d.states = data::Array::doubles({3, 3}, states);
  {
    data::RobomimicWriter w(path, "{}");
    w.add_demo(d);
    w.finish();
  }
  const data::Demo back = data::RobomimicReader(path).read_demo("demo_0");
  EXPECT_EQ(back.states.f64, states);
  EXPECT_EQ(back.states.shape, (Shape{3, 3}));
  EXPECT_EQ(back.states.row(1), (std::vector<double>{-2.5e-300, 7.0, M_PI}));
}

TEST(Robomimic, AbandonedWriterLeavesExistingFileUntouched) {
  const std::string path = temp_path("keep.hdf5");
  {
    data::RobomimicWriter w(path, "{}");
    w.add_demo(make_demo("demo_0", 3));
    w.finish();
  }
  {
    data::RobomimicWriter w(path, "{}");
    w.add_demo(make_demo("demo_0", 4));
    w.add_demo(make_demo("demo_1", 4));
    // destroyed without finish(), as when generation is interrupted
  }
  data::RobomimicReader r(path);
  EXPECT_EQ(r.demos().size(), 1u);
  EXPECT_EQ(r.num_samples("demo_0"), 3);
  for (const auto& entry : std::filesystem::directory_iterator(::testing::TempDir()))
    EXPECT_EQ(entry.path().string().find("keep.hdf5.tmp"), std::string::npos) << entry.path();
}

TEST(Robomimic, BadFilesGiveClearErrors) {
  const std::string path = temp_path("bad_robomimic.hdf5");
  {
    data::RobomimicWriter w(path, "{}");
    auto nan = make_demo("demo_0", 4);
    nan.actions.f32[2 * 7 + 5] = NAN;
    w.add_demo(nan);
    auto wrong_rank = make_demo("demo_1", 4);
    wrong_rank.obs["object"] = data::Array::floats({4}, {1, 2, 3, 4});
    w.add_demo(wrong_rank);
    w.add_demo(make_demo("demo_2", 4));
    w.add_demo(make_demo("demo_3", 4));
    w.set_mask("train", {"demo_0"});
    w.finish();
  }
  {  // Damage it the way broken files look: no num_samples, short actions, a stale mask.
    h5::File f(path, h5::File::Mode::kReadWrite);
    auto data = f.root().group("data");
    H5Adelete(data.group("demo_2").id(), "num_samples");
    auto d3 = data.group("demo_3");
    d3.remove("actions");
    d3.write<float>("actions", {3, 7}, std::vector<float>(21, 0.f));
    f.root().group("mask").write_strings("stale", {"demo_0", "demo_99"});
  }
  data::RobomimicReader r(path);
  expect_error([&] { r.read_demo("demo_0"); },
               {"bad_robomimic.hdf5", "demo_0/actions", "step 2", "dim 5"});
  expect_error([&] { r.read_demo("demo_1"); }, {"/data/demo_1/obs/object", "rank"});
  expect_error([&] { r.read_demo("demo_2"); }, {"/data/demo_2", "num_samples"});
  expect_error([&] { r.read_demo("demo_3"); }, {"/data/demo_3/actions", "4 rows", "[3, 7]"});
  // A mask naming demos that are not in /data is used without them (as robomimic does), and the
  // missing names are reported.
  EXPECT_EQ(r.mask("stale"), std::vector<std::string>{"demo_0"});
  const data::MaskDemos stale = r.read_mask("stale");
  EXPECT_EQ(stale.missing, std::vector<std::string>{"demo_99"});
  const std::string warning = r.mask_warning("stale", stale);
  for (const char* part :
       {"bad_robomimic.hdf5", "mask/stale", "1 demos not in /data", "demo_99", "using its other 1"})
    EXPECT_NE(warning.find(part), std::string::npos) << warning;
  EXPECT_EQ(r.mask_warning("train", r.read_mask("train")), "");
  expect_error([&] { r.mask("nope"); }, {"/mask", "nope"});
  expect_error([&] { r.read_demo("demo_7"); }, {"/data", "demo_7"});
  {  // Truncated copy.
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(temp_path("trunc.hdf5"), std::ios::binary)
        .write(bytes.data(), std::streamsize(bytes.size() / 3));
  }
  expect_error(
      [&] {
        data::RobomimicReader t(temp_path("trunc.hdf5"));
        for (const auto& d : t.demos()) t.read_demo(d);
      },
      {"trunc.hdf5"});
  data::RobomimicWriter w(temp_path("w.hdf5"), "{}");
  auto bad = make_demo("demo_0", 4);
  bad.num_samples = 5;
  expect_error([&] { w.add_demo(bad); }, {"demo_0", "num_samples is 5"});
  expect_error([&] { w.set_mask("train", {"demo_4"}); }, {"demo_4"});
}

// A demo that disagrees with the others is named, not whichever demo happened to differ from the
// first one (the bad demo here is demo_0, the first).
TEST(Robomimic, TheOddDemoIsNamedNotTheFirst) {
  for (const bool actions : {true, false}) {
    const std::string path = temp_path(actions ? "odd_actions.hdf5" : "odd_obs.hdf5");
    {
      data::RobomimicWriter w(path, "{}");
      for (const char* n : {"demo_0", "demo_1", "demo_2", "demo_3"}) {
        data::Demo d = make_demo(n, 4);
        if (std::string(n) == "demo_0") {
          if (actions)
            d.actions = data::Array::floats({4, 6}, std::vector<float>(24, 0.f));
          else
            d.obs["robot0_eef_pos"] = data::Array::floats({4, 2}, std::vector<float>(8, 0.f));
        }
        w.add_demo(d);
      }
      w.finish();
    }
    data::SequenceDatasetOptions o;
    o.path = path;
    o.obs_keys = {"robot0_eef_pos"};
    expect_error<ShapeError>(
        [&] { data::SequenceDataset ds(o); },
        actions ? std::vector<std::string>{"/data/demo_0/actions: 6 dims", "3 other demos have 7"}
                : std::vector<std::string>{"/data/demo_0/obs/robot0_eef_pos: per-step shape [2]",
                                           "3 other demos have [3]"});
  }
}

// Headers that declare more than the file holds (dims of 2^40 rows with nothing stored, dims
// whose product overflows) and env_args that are not JSON: errors naming the dataset or the
// attribute, before anything allocates what the header claims.
TEST(Robomimic, DamagedHeadersAreRefusedBeforeAllocating) {
  const std::string path = temp_path("huge_dims.hdf5");
  {
    data::RobomimicWriter w(path, "{not json");
    w.add_demo(make_demo("demo_0", 4));
    w.add_demo(make_demo("demo_1", 4));
    w.finish();
  }
  {
    h5::File f(path, h5::File::Mode::kReadWrite);
    auto data = f.root().group("data");
    const std::vector<std::vector<hsize_t>> dims = {{hsize_t(1) << 40, 7},
                                                    {hsize_t(1) << 40, hsize_t(1) << 20}};
    for (size_t i = 0; i < dims.size(); ++i) {
      auto demo = data.group("demo_" + std::to_string(i));
      demo.remove("actions");
      const hsize_t chunk[2] = {64, 7};
      hid_t space = H5Screate_simple(2, dims[i].data(), nullptr);
      hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
      H5Pset_chunk(plist, 2, chunk);
      hid_t d = H5Dcreate2(demo.id(), "actions", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, plist,
                           H5P_DEFAULT);
      ASSERT_GE(d, 0);
      H5Dclose(d), H5Pclose(plist), H5Sclose(space);
    }
  }
  data::RobomimicReader r(path);
  expect_error<IoError>(
      [&] { r.read_demo("demo_0"); },
      {"huge_dims.hdf5", "/data/demo_0/actions", "declares 30786325577728 bytes", "stores 0"});
  expect_error<IoError>([&] { r.read_demo("demo_1"); },
                        {"huge_dims.hdf5", "/data/demo_1/actions", "exceeds 2^48"});
  try {
    r.env_args_json();
    ADD_FAILURE() << "expected an error";
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("huge_dims.hdf5: attribute /data env_args: not valid JSON"),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find("[json.exception"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace mimic
