#pragma once
// A folder with little room left, for disk-full tests: a 64 MiB tmpfs mounted on it where this
// process may mount (root), filled by a filler file to leave `free` bytes, so writes fail with
// ENOSPC as on a full disk; elsewhere, commands run with RLIMIT_FSIZE at `free` bytes per file
// (SIGXFSZ ignored), so writes past that size fail with EFBIG. Either way a command that writes
// more than `free` bytes to one file meets a failing write.
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/command.hpp"

namespace mimic::testing {

class LimitedDisk {
 public:
  explicit LimitedDisk(const std::filesystem::path& dir) : dir_(dir) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // MIMIC_TEST_NO_TMPFS=1 tries the size-limit mode where mounting would work.
    mounted_ = !std::getenv("MIMIC_TEST_NO_TMPFS") && ::geteuid() == 0 &&
               ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=64m") == 0;
  }
  ~LimitedDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  LimitedDisk(const LimitedDisk&) = delete;
  LimitedDisk& operator=(const LimitedDisk&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  bool is_tmpfs() const { return mounted_; }
  // The error text a failing write gives in this mode.
  const char* full_disk_text() const {
    return mounted_ ? "No space left on device" : "File too large";
  }

  // From now on, writes beyond `free` bytes fail (see the header comment).
  void leave_free(uintmax_t free) {
    free_ = free;
    if (!mounted_) return;
    const std::filesystem::path filler = dir_ / ".filler";
    std::filesystem::remove(filler);
    const uintmax_t available = std::filesystem::space(dir_).available;
    if (available > free) {
      std::ofstream out(filler, std::ios::binary);
      const std::string block(1 << 16, '\0');
      for (uintmax_t left = available - free; left > 0;) {
        const uintmax_t n = std::min<uintmax_t>(left, block.size());
        out.write(block.data(), std::streamsize(n));
        left -= n;
      }
    }
  }
  // Room again (the filler removed, no size limit).
  void make_room() {
    free_ = 0;
    std::filesystem::remove(dir_ / ".filler");
  }

  // Runs `command` with sh, stdout and stderr captured, under the limit.
  CommandResult run(const std::string& command) const {
    return run_command(command, mounted_ ? 0 : free_);
  }

  // Files in the folder other than the filler, by name.
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_))
      if (e.is_regular_file() && e.path().filename() != ".filler")
        out.push_back(std::filesystem::relative(e.path(), dir_).string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  uintmax_t free_ = 0;
};

inline std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace mimic::testing
