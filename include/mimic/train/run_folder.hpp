#pragma once
// robomimic's run folder: <output_dir>/<experiment name>/<YYYYmmddHHMMSS>/ with config.json,
// logs/log.txt, logs/tb/, models/ and videos/. Resuming reuses the newest run folder of the
// experiment that holds models/last.safetensors.
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/core/error.hpp"

namespace mimic::train {

struct RunFolder {
  std::filesystem::path root, logs, tb, models, videos;

  static RunFolder at(const std::filesystem::path& root) {
    return {root, root / "logs", root / "logs" / "tb", root / "models", root / "videos"};
  }
  std::filesystem::path last_checkpoint() const { return models / "last.safetensors"; }
  std::filesystem::path last_backup() const { return models / "last_bak.safetensors"; }
};

inline std::string timestamp_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

// A new run folder (a second run within the same second gets a suffix).
inline RunFolder create_run_folder(const std::filesystem::path& output_dir,
                                   const std::string& name) {
  namespace fs = std::filesystem;
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw ValueError("experiment.name: '" + name + "' is not a valid folder name");
  const fs::path base = output_dir / name;
  std::string stamp = timestamp_now();
  fs::path root = base / stamp;
  for (int i = 1; fs::exists(root); ++i) root = base / (stamp + "_" + std::to_string(i));
  RunFolder f = RunFolder::at(root);
  std::error_code ec;
  for (const fs::path& p : {f.logs, f.tb, f.models, f.videos}) {
    fs::create_directories(p, ec);
    if (ec) throw IoError(p.string() + ": cannot create folder: " + ec.message());
  }
  return f;
}

// The newest run folder of an experiment with a last checkpoint, for --resume.
inline RunFolder find_resumable_run(const std::filesystem::path& output_dir,
                                    const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path base = output_dir / name;
  fs::path best;
  if (fs::is_directory(base))
    for (const auto& entry : fs::directory_iterator(base))
      if (entry.is_directory() && fs::exists(entry.path() / "models" / "last.safetensors") &&
          (best.empty() || entry.path().filename() > best.filename()))
        best = entry.path();
  if (best.empty())
    throw IoError(base.string() + ": no run folder with models/last.safetensors to resume");
  return RunFolder::at(best);
}

// Writes text atomically (temporary file, then rename).
inline void write_text_atomic(const std::filesystem::path& path, const std::string& text) {
  const std::string tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) throw IoError(path.string() + ": write failed");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace mimic::train
