#pragma once
// --resume: the newest complete checkpoint of a run folder. The checkpoint rotation
// (checkpoint_manager.hpp) leaves a complete `last`, or a complete `last_bak` and `last_new`, at
// every moment, so a run killed anywhere continues from the newest of those that loads; files
// a killed writer left half-written (`*.tmp-<pid>`) are removed first.
#include <filesystem>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/policy/core/checkpoint.hpp"
#include "mimic/train/run_folder.hpp"

namespace mimic::train {

struct ResumePoint {
  std::string path;
  policy::Checkpoint checkpoint;
  int64_t epoch = 0;
  std::vector<std::string> skipped;  // candidates that exist but do not load, with the reason
};

inline ResumePoint resume_checkpoint(const RunFolder& run) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run.models, ec))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos)
      fs::remove(entry.path(), ec);
  ResumePoint best;
  best.epoch = -1;
  for (const fs::path& p : {run.last_checkpoint(), run.next_checkpoint(), run.last_backup()}) {
    if (!fs::exists(p, ec)) continue;
    try {
      policy::Checkpoint ck = policy::load_checkpoint(p.string());
      const int64_t epoch = ck.meta.at("trainer").at("epoch").get<int64_t>();
      if (epoch > best.epoch) {
        best.path = p.string();
        best.checkpoint = std::move(ck);
        best.epoch = epoch;
      }
    } catch (const std::exception& e) {
      best.skipped.push_back(p.filename().string() + " (" + e.what() + ")");
    }
  }
  if (best.epoch < 0) {
    std::string why;
    for (const auto& s : best.skipped) why += "; " + s;
    throw IoError(run.root.string() +
                  ": the newest run of this experiment has no complete checkpoint to resume "
                  "(models/last, last_new and last_bak.safetensors are missing or damaged" +
                  why + "); start it again without --resume");
  }
  return best;
}

}  // namespace mimic::train
