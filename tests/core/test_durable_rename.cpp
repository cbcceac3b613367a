// Moving finished temporary files into place: the old file stays until the rename, and a failed
// move names the destination and the reason and leaves no temporary file behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "mimic/core/durable_rename.hpp"

namespace mimic {
namespace {

namespace fs = std::filesystem;

std::string text_of(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(DurableRename, ReplacesTheFileAndReportsFailuresByName) {
  const fs::path dir =
      fs::temp_directory_path() / ("mimic_test_durable_rename_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path target = dir / "out.json", temp = dir / "out.json.tmp";
  std::ofstream(target) << "old";
  std::ofstream(temp) << "new";
  durable_rename(temp.string(), target.string());
  EXPECT_EQ(text_of(target), "new");
  EXPECT_FALSE(fs::exists(temp));

  // Into a folder that does not exist: an IoError naming the destination, the temporary file
  // removed, nothing else touched.
  std::ofstream(temp) << "newer";
  const fs::path nowhere = dir / "missing" / "out.json";
  try {
    durable_rename(temp.string(), nowhere.string());
    ADD_FAILURE() << "expected an error";
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(nowhere.string()), std::string::npos) << what;
    EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_EQ(text_of(target), "new");

  // A temporary file that was never written is refused the same way.
  EXPECT_THROW(durable_rename((dir / "absent.tmp").string(), target.string()), IoError);
  EXPECT_EQ(text_of(target), "new");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mimic
