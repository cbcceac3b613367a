#pragma once
// A progress line for loops: on a terminal one line redrawn in place
//   Epoch 3/10 [#########...........] 45/100 loss 0.0312 | 12.4 it/s | ETA 00:04
// and otherwise a plain line every 25% to the run log (so log files stay readable).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "mimic/log/run_log.hpp"

namespace mimic::log {

inline std::string format_duration(double seconds) {
  const long s = long(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

class ProgressBar {
 public:
  // log == nullptr: silent.
  ProgressBar(std::string label, int64_t total, RunLog* log)
      : label_(std::move(label)),
        total_(total),
        log_(log),
        tty_(log && isatty(STDERR_FILENO)),
        start_(std::chrono::steady_clock::now()) {}

  std::string text(int64_t done, double loss) const {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = secs > 0 ? double(done) / secs : 0;
    const int width = 20, filled = total_ > 0 ? int(width * done / total_) : width;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s [%s%s] %lld/%lld loss %.4g | %.1f it/s | ETA %s",
                  label_.c_str(), std::string(size_t(filled), '#').c_str(),
                  std::string(size_t(width - filled), '.').c_str(), (long long)done,
                  (long long)total_, loss, rate,
                  format_duration(rate > 0 ? double(total_ - done) / rate : 0).c_str());
    return buf;
  }
  void update(int64_t done, double loss) {
    if (!log_) return;
    if (tty_) {
      std::fprintf(stderr, "\r%s", text(done, loss).c_str());
      std::fflush(stderr);
    } else if (total_ >= 4 && done % (total_ / 4) == 0 && done < total_) {
      log_->line(text(done, loss));
    }
    last_done_ = done;
    last_loss_ = loss;
  }
  void finish() {
    if (!log_) return;
    if (tty_)
      std::fprintf(stderr, "\r%s\n", text(last_done_, last_loss_).c_str());
    else
      log_->line(text(last_done_, last_loss_));
  }

 private:
  std::string label_;
  int64_t total_;
  RunLog* log_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  int64_t last_done_ = 0;
  double last_loss_ = 0;
};

}  // namespace mimic::log
