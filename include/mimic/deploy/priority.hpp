#pragma once
// Scheduling for a control thread. A robot's computer is never idle, so its control loop asks
// the kernel to run it ahead of other work: real-time FIFO scheduling where the process may
// (root or CAP_SYS_NICE, as robot controllers run), else a lower nice value, else nothing. Call it
// before the policy's first call: the worker threads OpenMP starts then inherit it.
#include <cerrno>
#include <cstring>
#include <string>
#if defined(__linux__)
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#endif

namespace mimic::deploy {

enum class Priority { kNormal, kNice, kRealtime };

inline const char* priority_name(Priority p) {
  switch (p) {
    case Priority::kNormal:
      return "normal";
    case Priority::kNice:
      return "nice";
    case Priority::kRealtime:
      return "realtime";
  }
  return "?";
}

// Raises the calling thread's priority as far as `wanted` and the process's rights allow and says
// what it got ("SCHED_FIFO priority 40", "nice -10", "normal (...: why)"). Realtime also locks
// the process's memory so that page faults do not stall the loop.
inline std::string raise_priority(Priority wanted) {
  std::string why;
#if defined(__linux__)
  if (wanted == Priority::kRealtime) {
    sched_param p{};
    p.sched_priority = 40;  // below the kernel's threaded interrupt handlers (50)
    if (sched_setscheduler(0, SCHED_FIFO, &p) == 0) {
      const bool locked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
      return std::string("SCHED_FIFO priority 40") + (locked ? ", memory locked" : "");
    }
    why = std::string("SCHED_FIFO refused: ") + std::strerror(errno) + "; ";
  }
  if (wanted != Priority::kNormal) {
    if (setpriority(PRIO_PROCESS, 0, -10) == 0) return why + "nice -10";
    why += std::string("nice -10 refused: ") + std::strerror(errno);
  }
#else
  if (wanted != Priority::kNormal) why = "priorities are only set on Linux";
#endif
  return why.empty() ? "normal" : "normal (" + why + ")";
}

}  // namespace mimic::deploy
