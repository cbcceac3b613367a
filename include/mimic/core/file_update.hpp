#pragma once
// Rewriting an existing file in place without ever leaving it half-written, and without two
// writers silently overwriting each other: the file is copied to a temporary name unique to this
// writer in the same folder, changed there, and renamed over the original by commit(). While the
// update is open it holds an exclusive lock on the folder (flock on the folder itself, so no
// lock file is left behind), so a second mimic writer in that folder is refused with a clear
// error instead of racing; commit() also refuses when anything else changed the file since the
// copy. An update that is not committed removes its temporary file.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "mimic/core/durable_rename.hpp"
#include "mimic/core/error.hpp"

namespace mimic {

class FileUpdate {
 public:
  explicit FileUpdate(const std::string& path) : path_(path) {
    const std::filesystem::path folder = std::filesystem::absolute(path).parent_path();
    folder_fd_ = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (folder_fd_ < 0) throw IoError(path + ": cannot open its folder (" + errno_text() + ")");
    if (::flock(folder_fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(folder_fd_);
      throw IoError(path + ": another mimic command is rewriting a file in " + folder.string() +
                    "; nothing was changed (run again when it has finished)");
    }
    before_ = identity(path_);
    // The process and a random number: unique across processes and across updates in one.
    temp_ = path + ".tmp-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::random_device{}() & 0xffffff);
    const std::string failure = copy(path_, temp_);
    if (!failure.empty()) {
      std::error_code ec;
      std::filesystem::remove(temp_, ec);
      release();
      throw IoError(path + ": cannot copy it to " + temp_ + " (" + failure + ")");
    }
  }
  ~FileUpdate() {
    if (!committed_) {
      std::error_code ec;
      std::filesystem::remove(temp_, ec);
    }
    release();
  }
  FileUpdate(const FileUpdate&) = delete;
  FileUpdate& operator=(const FileUpdate&) = delete;

  // Where the changes go before commit().
  const std::string& temp_path() const { return temp_; }

  void commit() {
    if (identity(path_) != before_)
      throw IoError(path_ + ": changed by another program while this update ran; nothing was " +
                    "changed (run again)");
    committed_ = true;  // durable_rename removes the temporary file when it fails
    durable_rename(temp_, path_);
  }

 private:
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    bool operator!=(const Identity& o) const {
      return dev != o.dev || ino != o.ino || size != o.size || mtime.tv_sec != o.mtime.tv_sec ||
             mtime.tv_nsec != o.mtime.tv_nsec;
    }
  };
  static std::string errno_text() { return std::strerror(errno); }
  // A plain read/write copy with the file's permissions; "" or the system's reason. (The
  // standard library's copy_file reports a short copy on a full disk as an I/O error.)
  static std::string copy(const std::string& from, const std::string& to) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return errno_text();
    struct stat st {};
    ::fstat(in, &st);
    const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
    if (out < 0) {
      const std::string why = errno_text();
      ::close(in);
      return why;
    }
    std::string why;
    std::vector<char> buf(size_t(1) << 20);
    for (;;) {
      const ssize_t n = ::read(in, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) why = errno_text();
      if (n <= 0) break;
      for (ssize_t done = 0; done < n && why.empty();) {
        const ssize_t w = ::write(out, buf.data() + done, size_t(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) why = errno_text();
        done += std::max<ssize_t>(w, 0);
      }
      if (!why.empty()) break;
    }
    if (::close(out) != 0 && why.empty()) why = errno_text();
    ::close(in);
    return why;
  }
  Identity identity(const std::string& path) const {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      throw IoError(path + ": cannot read (" + errno_text() + ")");
    return {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
  }
  void release() {
    if (folder_fd_ >= 0) ::close(folder_fd_);  // closing drops the lock
    folder_fd_ = -1;
  }

  std::string path_, temp_;
  int folder_fd_ = -1;
  Identity before_;
  bool committed_ = false;
};

}  // namespace mimic
