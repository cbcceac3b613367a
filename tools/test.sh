#!/usr/bin/env bash
# Builds mimic (Release, build/) and runs the whole test suite, then installs the package and
# builds a consumer project against it. Installs missing Debian packages first.
#   bash tools/test.sh               the suite
#   bash tools/test.sh --sanitize    the suite under ASan + UBSan (build_sanitize/)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/install_deps.sh

# ASan + UBSan settings shared by the full sanitizer suite and the parser check below.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS="suppressions=$root/tools/sanitizer/lsan.supp"
export UBSAN_OPTIONS=print_stacktrace=1
configure_sanitize() {
  cmake -S . -B build_sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMIMIC_SANITIZE=ON \
    -DMIMIC_WITH_CUDA=OFF -DMIMIC_BUILD_BENCH=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
}

# --sanitize: the suite built with AddressSanitizer and UBSan (build_sanitize/, no CUDA, no
# install check); ctest arguments after it pass through (e.g. -L cpu, -R 'Fuzz|Robomimic').
if [ "${1:-}" = "--sanitize" ]; then
  shift
  configure_sanitize
  cmake --build build_sanitize -j "$(nproc)"
  ctest --test-dir build_sanitize --output-on-failure -j "$(nproc)" --timeout 3600 "$@"
  echo "mimic: all tests passed under ASan + UBSan"
  exit 0
fi

jobs="$(nproc)"
cuda_args=()
if [ -z "${CUDACXX:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda_args+=("-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc")
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache "${cuda_args[@]}"
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 900

# The parsers of every untrusted file (configs, checkpoints, robomimic HDF5) under ASan + UBSan:
# the committed fuzz corpora replayed by a sanitizer build of that one test binary (the whole
# suite under sanitizers takes over an hour on 2 cores: --sanitize).
configure_sanitize
cmake --build build_sanitize -j "$jobs" --target mimic_test_fuzz_replay
./build_sanitize/tests/fuzz/mimic_test_fuzz_replay

# The installed package must work from someone else's project.
rm -rf build/install build/consumer
cmake --install build --prefix build/install > /dev/null
cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$root/build/install"
cmake --build build/consumer
./build/consumer/mimic_consumer
./build/consumer/mimic_consumer_train
echo "mimic: all tests passed"
