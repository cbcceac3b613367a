#pragma once
// How many threads a policy call should use given what else the machine is running.
//
// Why: a parallel region of n threads ends at a barrier that waits for its slowest thread. When
// another process holds a core, the thread scheduled there runs only when the kernel gives it a
// time slice (milliseconds), so every barrier can cost a slice. A batch-1 UNet denoise passes
// hundreds of barriers: measured beside other training processes on 2 cores it took 924 ms
// instead of 22 ms. One thread never waits for another, so it only loses its share of a core.
// The count of runnable tasks comes from the kernel (/proc/loadavg's "running/total" field),
// read with plain system calls into a stack buffer: no allocation, a few microseconds.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#if defined(__linux__)
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "mimic/backend/cpu/parallel.hpp"

namespace mimic::deploy {

// Parses the "running/total" field (the fourth) of a /proc/loadavg line: the tasks runnable right
// now, the caller included. -1 when the text has no such field.
inline int runnable_tasks_in_loadavg(const char* text) {
  const char* p = text;
  for (int field = 0; field < 3; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return -1;
    while (*p == ' ') ++p;
  }
  if (*p < '0' || *p > '9') return -1;
  int n = 0;
  for (; *p >= '0' && *p <= '9'; ++p) n = n * 10 + (*p - '0');
  return *p == '/' ? n : -1;
}

// Tasks runnable on this machine right now (the caller included); -1 where the system does not
// say.
inline int runnable_tasks() {
#if defined(__linux__)
  const int fd = ::open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[128];
  const ssize_t n = ::read(fd, text, sizeof(text) - 1);
  ::close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  return runnable_tasks_in_loadavg(text);
#else
  return -1;
#endif
}

// Cores this process may run on.
inline int usable_cores() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? int(n) : 1;
#else
  return 1;
#endif
}

// Threads for the next call: as many of `max_threads` as there are cores that the other
// runnable tasks leave free, at least one. `runnable` counts the caller itself; unknown (< 0)
// leaves max_threads.
inline int threads_for_free_cores(int max_threads, int cores, int runnable) {
  max_threads = std::max(1, max_threads);
  if (runnable < 0) return max_threads;
  const int others = std::max(0, runnable - 1);
  return std::clamp(cores - others, 1, max_threads);
}

// Whether the calling thread runs ahead of normal tasks (real-time scheduling or a negative nice
// value, as priority.hpp sets): the scheduler then gives it cores that normal tasks hold, so their
// being runnable leaves it all its threads.
inline bool runs_ahead_of_normal_tasks() {
#if defined(__linux__)
  const int policy = sched_getscheduler(0);
  if (policy == SCHED_FIFO || policy == SCHED_RR) return true;
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, 0);
  return errno == 0 && nice < 0;
#else
  return false;
#endif
}

// Sets the thread count of this thread's next parallel regions (cpu::max_threads() reads it).
inline void use_threads(int n) {
#if defined(_OPENMP)
  omp_set_num_threads(std::max(1, n));
#else
  (void)n;
#endif
}

}  // namespace mimic::deploy
