#pragma once
// A file of the fuzzer's bytes for readers that take a path: in /dev/shm where it exists (no disk
// traffic at thousands of inputs a second), named by the process so parallel fuzzers do not meet.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace mimic::fuzz {

inline std::string scratch_path(const std::string& name) {
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::is_directory("/dev/shm", ec)
                                        ? std::filesystem::path("/dev/shm")
                                        : std::filesystem::temp_directory_path();
  return (dir / ("mimic_fuzz_" + std::to_string(::getpid()) + "_" + name)).string();
}

inline std::string scratch_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_path(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

}  // namespace mimic::fuzz
