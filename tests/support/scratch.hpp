#pragma once
// Scratch folders and small Push-T expert datasets for the training tests.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "mimic/data/robomimic.hpp"
#include "mimic/env/expert_demos.hpp"

namespace mimic::testing {

// An empty folder under the temp directory, unique to this process.
inline std::filesystem::path scratch_dir(const std::string& suite, const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::temp_directory_path() /
      ("mimic_test_" + suite + "_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

// n Push-T expert demos (seeds from 0) in dir/pusht.hdf5, without masks.
inline std::string pusht_demos(const std::filesystem::path& dir, int n = 3) {
  const std::string path = (dir / "pusht.hdf5").string();
  env::ExpertDemos gen = env::generate_expert_demos("pusht", n, 0, false, 1);
  data::RobomimicWriter w(path, gen.env_args);
  for (const auto& d : gen.demos) w.add_demo(d);
  w.finish();
  return path;
}

}  // namespace mimic::testing
