#pragma once
// The machine's physical memory, for refusing requests that could never fit before they are
// made: Linux overcommits, so a 100 GiB allocation "succeeds" and the first pass that touches it
// summons the OOM killer instead of an error.
#include <cstdint>
#include <cstdio>
#include <string>
#if defined(__unix__)
#include <unistd.h>
#endif

namespace mimic {

// Bytes of physical memory; 0 where the system does not say.
inline uint64_t physical_memory_bytes() {
#if defined(__unix__)
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) return uint64_t(pages) * uint64_t(page);
#endif
  return 0;
}

// "12.3 GiB"
inline std::string gibibytes(double bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f GiB", bytes / double(uint64_t(1) << 30));
  return text;
}

}  // namespace mimic
