#pragma once
// The run's text log: every line goes to logs/log.txt (robomimic's terminal_output_to_txt) and,
// unless quiet, to stdout. Epoch summaries are printed as robomimic prints them: a title line and
// the scalars as JSON with sorted keys.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/core/error.hpp"

namespace mimic::log {

class RunLog {
 public:
  RunLog(const std::string& path, bool echo) : path_(path), echo_(echo), out_(path, std::ios::app) {
    if (!out_) throw IoError(path + ": cannot open the log file");
  }
  void line(const std::string& text) {
    std::lock_guard<std::mutex> lock(m_);
    out_ << text << '\n';
    out_.flush();
    if (echo_) std::cout << text << std::endl;
  }
  // "Train Epoch 5" followed by {"Loss": 0.0312, ...} with 4 decimals.
  void epoch(const std::string& kind, int64_t epoch, const nlohmann::json& scalars) {
    nlohmann::ordered_json rounded;
    for (const auto& [k, v] : scalars.items())  // nlohmann::json keeps keys sorted
      rounded[k] = v.is_number() ? nlohmann::ordered_json(std::round(v.get<double>() * 1e4) / 1e4)
                                 : nlohmann::ordered_json(v);
    line(kind + " Epoch " + std::to_string(epoch) + "\n" + rounded.dump(4));
  }
  bool echo() const { return echo_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool echo_;
  std::ofstream out_;
  std::mutex m_;
};

// Resident memory of this process in MB (VmRSS of /proc/self/status), 0 when unavailable.
inline double system_ram_mb() {
  std::ifstream f("/proc/self/status");
  std::string key;
  while (f >> key) {
    if (key == "VmRSS:") {
      double kb = 0;
      f >> kb;
      return kb / 1024.0;
    }
    std::getline(f, key);
  }
  return 0;
}

}  // namespace mimic::log
