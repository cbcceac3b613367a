#pragma once
// Moving a finished temporary file over its final name so that a power loss cannot leave a
// renamed but empty file: the file's data is flushed to the disk (fsync) before the rename, and
// the folder entry after it. Without the first fsync, ext4 and xfs may commit the rename before
// the data, and a crash then leaves a zero-length "complete" checkpoint.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "mimic/core/error.hpp"

namespace mimic {

// fsync of a file or folder by path; "" on success, else the system's reason.
inline std::string sync_path(const std::string& path, bool folder = false) {
  const int fd = ::open(path.c_str(), (folder ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  const bool ok = ::fsync(fd) == 0 || errno == EINVAL;  // EINVAL: a file system without fsync
  const std::string why = ok ? "" : std::strerror(errno);
  ::close(fd);
  return why;
}

// Renames `temp` (written and closed) over `path`, durably; on failure removes `temp` and throws
// an IoError naming `path` and the reason. The previous `path`, if any, stays until the rename.
inline void durable_rename(const std::string& temp, const std::string& path) {
  std::string why = sync_path(temp);
  if (why.empty() && std::rename(temp.c_str(), path.c_str()) != 0) why = std::strerror(errno);
  if (!why.empty()) {
    std::remove(temp.c_str());
    throw IoError(path + ": cannot move " + temp + " into place (" + why + ")");
  }
  const std::filesystem::path folder = std::filesystem::absolute(path).parent_path();
  sync_path(folder.string(), true);  // the rename itself; a failure here loses nothing written
}

// Makes earlier renames inside `folder` durable.
inline void sync_folder(const std::filesystem::path& folder) { sync_path(folder.string(), true); }

}  // namespace mimic
