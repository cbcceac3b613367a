#pragma once
// MP4 (H.264) video writing by piping raw RGB frames into the ffmpeg program. The file appears
// under its final name only when close() succeeds: frames go to a temporary sibling that is renamed
// at the end, so an interrupted run never leaves a truncated video under the real name.
//
// Cost: a 96 x 96 frame is 27 KB through the pipe; x264 at its default preset encodes such frames
// at thousands per second, so rollout videos cost little next to rendering.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "mimic/core/durable_rename.hpp"
#include "mimic/core/error.hpp"

namespace mimic::env {

class VideoWriter {
 public:
  // width x height RGB frames (rows top-down) at fps frames per second. Odd sizes are padded by
  // one pixel, since H.264 in yuv420p needs even dimensions.
  VideoWriter(std::string path, int width, int height, int fps = 20, std::string ffmpeg = "ffmpeg")
      : path_(std::move(path)), width_(width), height_(height) {
    if (width <= 0 || height <= 0 || fps <= 0)
      throw ValueError("VideoWriter: " + path_ + ": bad size " + std::to_string(width) + "x" +
                       std::to_string(height) + " or fps " + std::to_string(fps));
    const std::filesystem::path folder = std::filesystem::absolute(path_).parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec))
      throw IoError("VideoWriter: " + path_ + ": the folder " + folder.string() +
                    " does not exist");
    // Process id and this writer's address: unique among the writers alive at once, with no
    // counter shared across the program.
    tmp_ = path_ + ".part-" + std::to_string(getpid()) + "-" +
           std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".mp4";
    const std::string cmd =
        quote(ffmpeg) + " -hide_banner -loglevel error -y -f rawvideo -pix_fmt rgb24 -s " +
        std::to_string(width) + "x" + std::to_string(height) + " -r " + std::to_string(fps) +
        " -i - -an -vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2' -c:v libx264 "
        "-pix_fmt yuv420p -movflags +faststart -f mp4 " +
        quote(tmp_);
    pipe_ = popen(cmd.c_str(), "w");
    if (!pipe_)
      throw IoError("VideoWriter: " + path_ + ": could not start ffmpeg (" + std::to_string(errno) +
                    ")");
    setvbuf(pipe_, nullptr, _IONBF, 0);  // every write reaches the pipe under write_all's mask
  }
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;
  ~VideoWriter() {
    try {
      close();
    } catch (...) {
      // A destructor cannot report; close() explicitly to see errors.
    }
  }

  int width() const { return width_; }
  int height() const { return height_; }
  int frames() const { return frames_; }
  const std::string& path() const { return path_; }

  // One frame of width * height * 3 bytes.
  void add_frame(const uint8_t* rgb) {
    if (!pipe_) throw IoError("VideoWriter: " + path_ + ": add_frame after close");
    const size_t n = static_cast<size_t>(width_) * height_ * 3;
    if (!write_all(rgb, n)) {
      failed_ = true;
      throw IoError("VideoWriter: " + path_ +
                    ": ffmpeg stopped accepting frames (is ffmpeg "
                    "installed with libx264?)");
    }
    ++frames_;
  }
  void add_frame(const std::vector<uint8_t>& rgb) {
    const size_t n = static_cast<size_t>(width_) * height_ * 3;
    if (rgb.size() != n)
      throw ValueError("VideoWriter: " + path_ + ": frame has " + std::to_string(rgb.size()) +
                       " bytes, expected " + std::to_string(width_) + "x" +
                       std::to_string(height_) + "x3 = " + std::to_string(n));
    add_frame(rgb.data());
  }

  // Finishes the stream and moves the file to its final name. Idempotent.
  void close() {
    if (!pipe_) return;
    const int status = pclose(pipe_);
    pipe_ = nullptr;
    std::error_code ec;
    if (failed_ || status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::filesystem::remove(tmp_, ec);
      throw IoError("VideoWriter: " + path_ + ": ffmpeg failed (exit status " +
                    std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
    }
    durable_rename(tmp_, path_);
  }

 private:
  static std::string quote(const std::string& s) {  // single-quoted for /bin/sh
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  }

  // Writes with SIGPIPE blocked on this thread, so a dead ffmpeg gives an error, not a kill.
  bool write_all(const uint8_t* p, size_t n) {
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigset_t pending_before;
    sigpending(&pending_before);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    const bool ok = std::fwrite(p, 1, n, pipe_) == n;
    if (!ok && !sigismember(&pending_before, SIGPIPE)) {
      const timespec zero{0, 0};
      sigtimedwait(&pipe_set, nullptr, &zero);  // consume the SIGPIPE this write raised
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return ok;
  }

  std::string path_, tmp_;
  int width_, height_;
  int frames_ = 0;
  bool failed_ = false;
  FILE* pipe_ = nullptr;
};

}  // namespace mimic::env
