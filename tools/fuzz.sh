#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time from its
# committed seeds (tests/fuzz/corpus/<target>). New interesting inputs gather in
# build_fuzz/corpus/<target>, not in the tree; a crashing input is written to
# build_fuzz/findings/<target>/ and the script fails. To keep a finding fixed, fix it, then copy
# the input into tests/fuzz/corpus/<target>/ so the suite replays it (FuzzCorpus.*).
#   bash tools/fuzz.sh [seconds per target, default 600] [target ...]   targets: config checkpoint robomimic torch
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config checkpoint robomimic torch)
bash tools/install_deps.sh
if ! command -v clang++ > /dev/null || ! dpkg-query -W libclang-rt-dev > /dev/null 2>&1; then
  echo "mimic fuzz: installing clang and libclang-rt-dev (libFuzzer)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends \
    clang libclang-rt-dev
fi
cxx="$(command -v clang++)"
cc="$(command -v clang)"
cmake -S . -B build_fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DMIMIC_WITH_CUDA=OFF \
  -DMIMIC_FUZZ=ON -DMIMIC_SANITIZE=ON -DMIMIC_BUILD_BENCH=OFF -DMIMIC_BUILD_EXAMPLES=OFF \
  -DMIMIC_BUILD_TOOLS=OFF > /dev/null
cmake --build build_fuzz --target "${targets[@]/#/fuzz_}"
status=0
for t in "${targets[@]}"; do
  mkdir -p "build_fuzz/corpus/$t" "build_fuzz/findings/$t"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
  echo "mimic fuzz: $t for ${seconds}s"
  if ! UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    "build_fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="build_fuzz/findings/$t/" "${dict[@]}" \
    "build_fuzz/corpus/$t" "tests/fuzz/corpus/$t" 2> "build_fuzz/fuzz_$t.log"; then
    status=1
    echo "mimic fuzz: $t FOUND A PROBLEM: build_fuzz/findings/$t/ (log build_fuzz/fuzz_$t.log)" >&2
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" \
    "build_fuzz/fuzz_$t.log" || tail -5 "build_fuzz/fuzz_$t.log"
done
exit $status
