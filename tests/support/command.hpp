#pragma once
// Runs a shell command as a user would, its stdout and stderr captured together, optionally with
// a per-file size limit (RLIMIT_FSIZE, SIGXFSZ ignored so that writes past it fail with EFBIG).
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <string>

namespace mimic::testing {

struct CommandResult {
  int status = -1;     // exit status; -1 when killed by a signal
  int signal = 0;      // the signal that ended it, if any
  std::string output;  // stdout and stderr
};

inline CommandResult run_command(const std::string& command, uintmax_t file_size_limit = 0) {
  std::array<int, 2> pipe_fds{};
  if (::pipe(pipe_fds.data()) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    ::close(pipe_fds[0]);
    if (file_size_limit > 0) {
      ::signal(SIGXFSZ, SIG_IGN);  // stays ignored across exec
      const rlimit limit{rlim_t(file_size_limit), rlim_t(file_size_limit)};
      ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  CommandResult r;
  std::array<char, 4096> buf;
  for (ssize_t n; (n = ::read(pipe_fds[0], buf.data(), buf.size())) > 0;)
    r.output.append(buf.data(), size_t(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace mimic::testing
