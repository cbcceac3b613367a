// libFuzzer's entry point for one target, chosen at compile time (tests/fuzz/CMakeLists.txt).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return mimic::fuzz::MIMIC_FUZZ_TARGET(data, size);
}
