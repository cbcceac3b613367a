// safetensors files that break the format's rules are refused with the file and the tensor or key
// named; files that keep them (any tensor order, padding, empty and scalar tensors) load.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "mimic/nn/safetensors.hpp"
#include "support/errors.hpp"

namespace mimic {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) / ("mimic_safetensors_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// A file of the given header text (its length in front, little-endian) and `data_bytes` bytes.
std::string write_raw(const fs::path& dir, const std::string& name, const std::string& header,
                      uint64_t data_bytes) {
  const std::string path = (dir / name).string();
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(char(n >> (8 * i)));
  out << header << std::string(data_bytes, '\x01');
  return path;
}

void expect_refused(const std::string& path, const std::vector<std::string>& needles) {
  std::vector<std::string> all = needles;
  all.push_back(path);
  testing::expect_error<IoError>([&] { nn::read_safetensors(path); }, all);
}

TEST(SafetensorsFormat, ValidFilesInAnyOrderWithPaddingEmptyAndScalarTensorsLoad) {
  const fs::path dir = scratch("valid");
  // Listed out of data order, an empty tensor, a scalar, padding spaces after the object.
  const std::string header =
      R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
      R"("__metadata__":{"k":"v"},"empty":{"dtype":"I64","shape":[0,3],"data_offsets":[12,12]},)"
      R"("a":{"dtype":"U8","shape":[],"data_offsets":[3,4]},"c":{"dtype":"BF16","shape":[1],)"
      R"("data_offsets":[1,3]},"d":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}})"
      "    ";
  const nn::SafetensorsFile f = nn::read_safetensors(write_raw(dir, "ok.safetensors", header, 12));
  ASSERT_EQ(f.tensors.size(), 5u);
  EXPECT_EQ(f.tensors.at("b").bytes.size(), 8u);
  EXPECT_EQ(f.tensors.at("empty").shape, (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(f.tensors.at("a").shape.empty());
  EXPECT_EQ(f.metadata.at("k"), "v");
  // No tensors, no data: a valid file.
  EXPECT_TRUE(nn::read_safetensors(write_raw(dir, "none.safetensors", "{}", 0)).tensors.empty());
}

TEST(SafetensorsFormat, FilesBreakingTheFormatRulesAreRefusedNamingTensorOrKey) {
  const fs::path dir = scratch("bad");
  auto t = [](const std::string& name, const std::string& dtype, const std::string& shape,
              const std::string& offsets) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
           ",\"data_offsets\":" + offsets + "}";
  };
  const auto bad = [&](const std::string& file, const std::string& header, uint64_t data,
                       const std::vector<std::string>& needles) {
    SCOPED_TRACE(file);
    expect_refused(write_raw(dir, file + ".safetensors", header, data), needles);
  };
  // Offsets that leave a gap, overlap, or leave trailing bytes.
  bad("gap", "{" + t("x", "F32", "[1]", "[0,4]") + "," + t("y", "F32", "[1]", "[8,12]") + "}", 12,
      {"'y' starts at byte 8", "'x' ends at byte 4"});
  bad("overlap", "{" + t("x", "F32", "[2]", "[0,8]") + "," + t("y", "F32", "[1]", "[4,8]") + "}", 8,
      {"'y' starts at byte 4"});
  bad("not_at_zero", "{" + t("x", "F32", "[1]", "[4,8]") + "}", 8, {"'x' starts at byte 4"});
  bad("trailing", "{" + t("x", "F32", "[1]", "[0,4]") + "}", 9, {"trailing bytes"});
  bad("data_without_tensors", "{}", 4, {"cover 0 bytes", "holds 4"});
  bad("beyond_the_file", "{" + t("x", "F32", "[4]", "[0,16]") + "}", 8, {"truncated"});
  // Sizes that do not fit the dtype and shape, or overflow.
  bad("size", "{" + t("x", "F32", "[3]", "[0,8]") + "}", 8, {"'x'", "need 12 bytes"});
  bad("reversed", "{" + t("x", "U8", "[0]", "[4,0]") + "}", 4, {"'x' spans bytes [4, 0)"});
  bad("overflow", "{" + t("x", "F64", "[4294967296,4294967296]", "[0,0]") + "}", 0,
      {"'x'", "overflows"});
  // Types the format does not allow.
  bad("dtype", "{" + t("x", "F33", "[1]", "[0,4]") + "}", 4, {"'x'", "\"F33\"", "does not define"});
  bad("negative", "{" + t("x", "F32", "[-1]", "[0,4]") + "}", 4, {"'x'", "shape", "non-negative"});
  bad("float_shape", "{" + t("x", "F32", "[1.5]", "[0,4]") + "}", 4, {"'x'", "shape"});
  bad("offsets_arity", "{" + t("x", "F32", "[1]", "[0,4,4]") + "}", 4, {"'x'", "[begin, end]"});
  bad("missing_field", R"({"x":{"dtype":"F32","shape":[1]}})", 4, {"'x'", "data_offsets"});
  bad("not_object", R"({"x":[1,2]})", 0, {"'x'", "must be an object"});
  bad("metadata_number", R"({"__metadata__":{"epoch":3}})", 0,
      {"__metadata__ 'epoch'", "must be a string", "number"});
  bad("metadata_array", R"({"__metadata__":["a"]})", 0, {"__metadata__", "object of strings"});
  // Structure: duplicates, nesting, the header's own form.
  bad("duplicate", "{" + t("x", "U8", "[1]", "[0,1]") + "," + t("x", "U8", "[1]", "[1,2]") + "}", 2,
      {"names 'x' twice"});
  bad("deep", R"({"x":{"dtype":"U8","shape":[[[1]]],"data_offsets":[0,1]}})", 1, {"nests deeper"});
  bad("not_brace", " {}", 0, {"does not start with '{'"});
  bad("array", "[]", 0, {"does not start with '{'"});
  bad("json", "{\"x\":", 0, {"not valid JSON", "parse error"});
  bad("utf8", "{\"\xff\":{}}", 0, {"not valid JSON"});
  // The library's raw exception tag never reaches the message.
  try {
    nn::read_safetensors(write_raw(dir, "tag.safetensors", "{\"x\":", 0));
  } catch (const IoError& e) {
    EXPECT_EQ(std::string(e.what()).find("[json.exception"), std::string::npos) << e.what();
  }
}

TEST(SafetensorsFormat, HeaderLengthsBeyondTheFileOrTheLimitAreRefusedBeforeReading) {
  const fs::path dir = scratch("length");
  const std::string short_file = (dir / "short.safetensors").string();
  std::ofstream(short_file, std::ios::binary) << "\x05\x00\x00";
  expect_refused(short_file, {"no header length"});
  const std::string beyond = write_raw(dir, "beyond.safetensors", "{}", 0);
  {
    std::fstream f(beyond, std::ios::binary | std::ios::in | std::ios::out);
    f.put('\x10');  // claims 16 header bytes, the file holds 2
  }
  expect_refused(beyond, {"header length 16 exceeds the file"});
  // A header bomb: a sparse file larger than the limit, whose length field claims all of it.
  const std::string bomb = (dir / "bomb.safetensors").string();
  {
    std::ofstream out(bomb, std::ios::binary);
    const uint64_t n = nn::kMaxSafetensorsHeaderBytes + 1;
    for (int i = 0; i < 8; ++i) out.put(char(n >> (8 * i)));
  }
  fs::resize_file(bomb, nn::kMaxSafetensorsHeaderBytes + 16);
  expect_refused(bomb, {"exceeds the format's limit"});
}

TEST(SafetensorsFormat, FilesMimicWritesKeepTheRules) {
  const fs::path dir = scratch("written");
  std::map<std::string, nn::SafetensorsTensor> tensors;
  tensors["w"] = {"F32", {2, 3}, std::vector<char>(24, 1)};
  tensors["a"] = {"F64", {}, std::vector<char>(8, 2)};
  tensors["z"] = {"U8", {0}, {}};
  const std::string path = (dir / "w.safetensors").string();
  nn::write_safetensors(path, tensors, {{"mimic", "{}"}});
  const nn::SafetensorsFile f = nn::read_safetensors(path);
  EXPECT_EQ(f.tensors.at("w").bytes, tensors["w"].bytes);
  EXPECT_EQ(f.tensors.at("a").bytes, tensors["a"].bytes);
  EXPECT_EQ(f.tensors.at("z").bytes.size(), 0u);
  EXPECT_EQ(fs::file_size(path) % 8, 0u);  // header padded to keep the data aligned
}

}  // namespace
}  // namespace mimic
