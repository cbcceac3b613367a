// HDF5 wrappers: round trips of every element type, attributes, strings, chunked + gzip datasets,
// hyperslab reads, and clear errors for bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>

#include "mimic/data/hdf5.hpp"
#include "support/errors.hpp"

namespace mimic {
namespace {

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "/" + name; }

void expect_io_error(const std::function<void()>& f, const std::vector<std::string>& needles) {
  mimic::testing::expect_error<IoError>(f, needles);
}

TEST(Hdf5, RoundTripTypesAttributesAndStrings) {
  const std::string path = temp_path("rt.h5");
  {
    h5::File f(path, h5::File::Mode::kCreate);
    auto data = f.root().create_group("data");
    data.set_attr<int64_t>("total", 42);
    data.set_attr<double>("rate", 0.25);
    data.set_attr_string("env_args", R"({"env_name": "Lift", "type": 1})");
    auto demo = data.create_group("demo_0");
    demo.write<float>("actions", {3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6});
    demo.write<double>("rewards", {3}, std::vector<double>{0, 0.5, 1});
    demo.write<int32_t>("dones", {3}, std::vector<int32_t>{0, 0, 1});
    demo.write<int64_t>("ids", {2}, std::vector<int64_t>{int64_t(1) << 40, -7});
    std::vector<uint8_t> img(5 * 4 * 4 * 3);
    for (size_t i = 0; i < img.size(); ++i) img[i] = uint8_t(i * 7);
    demo.write<uint8_t>("image", {5, 4, 4, 3}, img, {2, 4});  // chunked, gzip
    f.root().create_group("mask").write_strings("train", {"demo_0", "demo_10", "demo_2"});
  }
  h5::File f(path, h5::File::Mode::kReadOnly, /*swmr_read=*/true);
  auto data = f.root().group("data");
  EXPECT_EQ(data.attr<int64_t>("total"), 42);
  EXPECT_EQ(data.attr<double>("rate"), 0.25);
  EXPECT_EQ(data.attr_string("env_args"), R"({"env_name": "Lift", "type": 1})");
  EXPECT_EQ(data.children(), (std::vector<std::string>{"demo_0"}));
  auto demo = data.group("demo_0");
  EXPECT_EQ(demo.children(),
            (std::vector<std::string>{"actions", "dones", "ids", "image", "rewards"}));
  EXPECT_EQ(demo.dataset("actions").shape(), (Shape{3, 2}));
  EXPECT_EQ(demo.dataset("actions").read<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(demo.dataset("actions").read<double>()[5], 6.0);  // converted on read
  EXPECT_EQ(demo.dataset("rewards").read<double>(), (std::vector<double>{0, 0.5, 1}));
  EXPECT_EQ(demo.dataset("dones").read<int32_t>(), (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(demo.dataset("ids").read<int64_t>(), (std::vector<int64_t>{int64_t(1) << 40, -7}));
  auto image = demo.dataset("image");
  std::vector<uint8_t> rows(2 * 48);
  image.read_rows<uint8_t>(2, 4, rows.data());
  for (size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(rows[i], uint8_t((i + 2 * 48) * 7));
  EXPECT_EQ(f.root().group("mask").dataset("train").read_strings(),
            (std::vector<std::string>{"demo_0", "demo_10", "demo_2"}));
  EXPECT_TRUE(f.root().is_group("data"));
  EXPECT_FALSE(demo.is_group("actions"));
}

TEST(Hdf5, ReadsFilesWrittenByH5py) {
  // golden_ops.h5 was written by h5py: its root attribute is a numpy bytes (fixed-length) string.
  h5::File f(std::string(MIMIC_TEST_DATA_DIR) + "/golden_ops.h5", h5::File::Mode::kReadOnly);
  EXPECT_FALSE(f.root().attr_string("torch_version").empty());
  auto g = f.root().group("float64").group("conv1d").group("case0");
  EXPECT_EQ(g.attr<int64_t>("stride"), 1);
  EXPECT_EQ(g.dataset("x").shape().rank, 3);
}

TEST(Hdf5, BadInputGivesClearErrors) {
  const std::string good = temp_path("good.h5");
  {
    h5::File f(good, h5::File::Mode::kCreate);
    std::vector<float> big(100000, 1.f);
    f.root().create_group("data").write<float>("x", {1000, 100}, big);
  }
  expect_io_error([&] { h5::File f(temp_path("missing.h5"), h5::File::Mode::kReadOnly); },
                  {"missing.h5"});
  {  // Truncated copy: half the bytes.
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(temp_path("half.h5"), std::ios::binary)
        .write(bytes.data(), std::streamsize(bytes.size() / 2));
    std::ofstream(temp_path("text.h5")) << "not an hdf5 file";
  }
  expect_io_error(
      [&] {
        h5::File f(temp_path("half.h5"), h5::File::Mode::kReadOnly);
        f.root().group("data").dataset("x").read<float>();
      },
      {"half.h5"});
  expect_io_error([&] { h5::File f(temp_path("text.h5"), h5::File::Mode::kReadOnly); },
                  {"text.h5", "not a readable HDF5"});
  h5::File f(good, h5::File::Mode::kReadOnly);
  auto data = f.root().group("data");
  expect_io_error([&] { data.dataset("y"); }, {"good.h5", "/data", "missing dataset 'y'"});
  expect_io_error([&] { data.group("x"); }, {"/data", "not a group"});
  expect_io_error([&] { data.attr<int64_t>("total"); }, {"/data", "missing attribute 'total'"});
  expect_io_error([&] { data.dataset("x").read_strings(); }, {"/data/x", "string"});
  std::vector<float> out(10);
  expect_io_error([&] { data.dataset("x").read_rows<float>(999, 1001, out.data()); },
                  {"/data/x", "[1000, 100]"});
}

}  // namespace
}  // namespace mimic
