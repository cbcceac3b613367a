#pragma once
// robomimic's run folder: <output_dir>/<experiment name>/<YYYYmmddHHMMSS>/ with config.json,
// logs/log.txt, logs/tb/, models/ and videos/. Resuming continues the newest run folder of the
// experiment from its newest complete checkpoint (last, last_new or last_bak), never another run.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "mimic/core/durable_rename.hpp"
#include "mimic/core/error.hpp"

namespace mimic::train {

struct RunFolder {
  std::filesystem::path root, logs, tb, models, videos;

  static RunFolder at(const std::filesystem::path& root) {
    return {root, root / "logs", root / "logs" / "tb", root / "models", root / "videos"};
  }
  std::filesystem::path last_checkpoint() const { return models / "last.safetensors"; }
  std::filesystem::path last_backup() const { return models / "last_bak.safetensors"; }
  // The next `last`, written completely before the rotation renames it into place.
  std::filesystem::path next_checkpoint() const { return models / "last_new.safetensors"; }
};

inline std::string timestamp_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

// A new run folder. The folder itself is created by one mkdir that fails if it exists, so runs
// started at the same moment never share one: the later ones take the suffixes _1, _2, ...
inline RunFolder create_run_folder(const std::filesystem::path& output_dir,
                                   const std::string& name) {
  namespace fs = std::filesystem;
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw ValueError("experiment.name: '" + name + "' is not a valid folder name");
  const fs::path base = output_dir / name;
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) throw IoError(base.string() + ": cannot create folder: " + ec.message());
  const std::string stamp = timestamp_now();
  fs::path root = base / stamp;
  for (int i = 1;; ++i) {
    if (fs::create_directory(root, ec)) break;  // false (no error): someone else has it
    if (ec) throw IoError(root.string() + ": cannot create folder: " + ec.message());
    if (i > 10000) throw IoError(base.string() + ": no free run folder name for " + stamp);
    root = base / (stamp + "_" + std::to_string(i));
  }
  RunFolder f = RunFolder::at(root);
  for (const fs::path& p : {f.logs, f.tb, f.models, f.videos}) {
    fs::create_directories(p, ec);
    if (ec) throw IoError(p.string() + ": cannot create folder: " + ec.message());
  }
  return f;
}

// Run folder names in creation order: the timestamp, then the numeric suffix (_2 before _10).
inline bool run_folder_before(const std::string& a, const std::string& b) {
  const auto split = [](const std::string& s) {
    const size_t u = s.find('_');
    long suffix = -1;
    if (u != std::string::npos) {
      suffix = 0;
      for (size_t i = u + 1; i < s.size() && i < u + 10; ++i)
        suffix = s[i] >= '0' && s[i] <= '9' ? suffix * 10 + (s[i] - '0') : suffix;
    }
    return std::make_pair(s.substr(0, u), suffix);
  };
  return split(a) < split(b);
}

// The newest run folder of an experiment, for --resume (whatever it holds: resume_checkpoint
// then says whether it can continue).
inline RunFolder find_resumable_run(const std::filesystem::path& output_dir,
                                    const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path base = output_dir / name;
  fs::path newest;
  std::error_code ec;
  if (fs::is_directory(base, ec))
    for (const auto& entry : fs::directory_iterator(base, ec))
      if (entry.is_directory() && fs::is_directory(entry.path() / "models") &&
          (newest.empty() ||
           run_folder_before(newest.filename().string(), entry.path().filename().string())))
        newest = entry.path();
  if (newest.empty()) throw IoError(base.string() + ": no run folder of this experiment to resume");
  return RunFolder::at(newest);
}

// Writes text atomically (temporary file, then rename).
inline void write_text_atomic(const std::filesystem::path& path, const std::string& text) {
  const std::string tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) {
      const std::string why = errno ? std::strerror(errno) : "disk full?";
      out.close();
      std::remove(tmp.c_str());
      throw IoError(path.string() + ": write failed (" + why + ")");
    }
  }
  durable_rename(tmp, path.string());
}

}  // namespace mimic::train
