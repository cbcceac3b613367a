#pragma once
// `mimic dataset-info` and `mimic split-train-val`.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>

#include "commands/flags.hpp"
#include "mimic/core/file_update.hpp"
#include "mimic/data/robomimic.hpp"

namespace mimic::cli {

// Demos of the whole file or of a filter key.
inline std::vector<std::string> selected_demos(const data::RobomimicReader& r,
                                               const std::string& filter_key) {
  if (filter_key.empty()) return r.demos();
  const data::MaskDemos m = r.read_mask(filter_key);
  if (!m.missing.empty()) std::cerr << "warning: " << r.mask_warning(filter_key, m) << "\n";
  return m.demos;
}

// Prints a summary; returns 1 (and says why) when actions leave [-1, 1].
inline int dataset_info(const Flags& flags) {
  flags.check_known({"dataset", "filter_key", "verbose"});
  const std::string path = flags.require("dataset");
  const std::string fk = flags.get("filter_key");
  data::RobomimicReader r(path);
  const auto demos = selected_demos(r, fk);
  std::vector<int64_t> lengths;
  float amin = INFINITY, amax = -INFINITY;
  int64_t action_dim = 0;
  for (const auto& d : demos) {
    const data::Demo demo = r.read_demo(d, false, false);
    lengths.push_back(demo.num_samples);
    action_dim = demo.actions.shape.rank == 2 ? demo.actions.shape[1] : 0;
    for (float a : demo.actions.f32) amin = std::min(amin, a), amax = std::max(amax, a);
  }
  double mean = 0, var = 0;
  for (int64_t l : lengths) mean += double(l);
  mean /= std::max<size_t>(1, lengths.size());
  for (int64_t l : lengths) var += (l - mean) * (l - mean);
  const double std = std::sqrt(var / std::max<size_t>(1, lengths.size()));
  int64_t total = 0;
  for (int64_t l : lengths) total += l;
  std::cout << "dataset: " << path << (fk.empty() ? "" : " (filter key " + fk + ")") << "\n";
  std::cout << "total demos: " << demos.size() << "\ntotal samples: " << total << "\n";
  if (!lengths.empty())
    std::cout << "trajectory length: mean " << mean << ", std " << std << ", min "
              << *std::min_element(lengths.begin(), lengths.end()) << ", max "
              << *std::max_element(lengths.begin(), lengths.end()) << "\n";
  std::cout << "action dim: " << action_dim << ", action min " << amin << ", max " << amax << "\n";
  std::cout << "filter keys:\n";
  for (const auto& k : r.filter_keys())
    std::cout << "  " << k << ": " << r.mask(k).size() << " demos\n";
  std::cout << "env_args: " << r.env_args() << "\n";
  if (!demos.empty()) {
    const data::Demo d0 = r.read_demo(demos.front(), true, true);
    std::cout << "structure of " << d0.name << " (num_samples " << d0.num_samples << "):\n";
    auto line = [](const std::string& k, const data::Array& a) {
      if (a.shape.rank)
        std::cout << "    " << k << ": " << a.shape.str()
                  << (!a.u8.empty()   ? " uint8"
                      : a.f64.empty() ? " float"
                                      : " double")
                  << "\n";
    };
    line("actions", d0.actions);
    line("rewards", d0.rewards);
    line("dones", d0.dones);
    line("states", d0.states);
    for (const auto& [k, a] : d0.obs) line("obs/" + k, a);
    for (const auto& [k, a] : d0.next_obs) line("next_obs/" + k, a);
  }
  if (amin < -1.0f || amax > 1.0f) {
    std::cerr << "error: " << data::actions_outside_unit_range(path, amin, amax) << "\n";
    return 1;
  }
  return 0;
}

// Writes mask/train and mask/valid (or <fk>_train, <fk>_valid) into a copy of the file, renamed
// over the original (FileUpdate), so an interrupted run never leaves a half-written dataset and
// concurrent runs are refused rather than racing.
inline int split_train_val(const Flags& flags) {
  flags.check_known({"dataset", "filter_key", "ratio", "seed"});
  const std::string path = flags.require("dataset");
  const std::string fk = flags.get("filter_key");
  const double ratio = flags.number("ratio", 0.1);
  if (!(ratio >= 0 && ratio < 1))
    throw ValueError("--ratio must be in [0, 1), got " + flags.get("ratio"));
  std::vector<std::string> demos;
  {
    data::RobomimicReader r(path);
    demos = selected_demos(r, fk);
  }
  const size_t num_valid = static_cast<size_t>(ratio * double(demos.size()));
  std::vector<uint8_t> is_valid(demos.size(), 0);
  for (size_t i = 0; i < num_valid; ++i) is_valid[i] = 1;
  std::mt19937_64 rng(static_cast<uint64_t>(flags.number("seed", 0)));
  std::shuffle(is_valid.begin(), is_valid.end(), rng);
  std::vector<std::string> train, valid;
  for (size_t i = 0; i < demos.size(); ++i) (is_valid[i] ? valid : train).push_back(demos[i]);
  const std::string train_key = fk.empty() ? "train" : fk + "_train";
  const std::string valid_key = fk.empty() ? "valid" : fk + "_valid";
  FileUpdate update(path);
  {
    h5::File f(update.temp_path(), h5::File::Mode::kReadWrite);
    {
      h5::Group root = f.root();
      h5::Group mask = root.exists("mask") ? root.group("mask") : root.create_group("mask");
      for (const auto& k : {train_key, valid_key})
        if (mask.exists(k)) mask.remove(k);
      mask.write_strings(train_key, train);
      mask.write_strings(valid_key, valid);
    }
    f.close();  // throws when the writes did not reach the disk
  }
  update.commit();
  std::cout << "wrote " << train_key << " (" << train.size() << " demos) and " << valid_key << " ("
            << valid.size() << " demos) to " << path << "\n";
  return 0;
}

}  // namespace mimic::cli
