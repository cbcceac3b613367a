#!/usr/bin/env bash
# The GPU verification in one run (issue: the GPU backend), on a GPU machine, from the folder
# tools/build_gpu_carry.sh made on a machine without one (carried as build_gpu/carry). Runs
# every gpu-labelled test (each CUDA kernel against the CPU backend), then compute-sanitizer
# memcheck and racecheck over them, and writes a summary table and the logs to $OUT (or
# ./gpu_check_out), printing the table last. Not yet part of it (the GPU policies and trainer do
# not exist yet): the 10-step training runs per algorithm and the benchmark rows next to PyTorch.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
carry="$root/build_gpu/carry"
out="${OUT:-$root/gpu_check_out}"
mkdir -p "$out"
export LD_LIBRARY_PATH="$carry/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}"
bin="$carry/mimic_test_gpu"
summary="$out/summary.md"
: > "$summary"
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3" >> "$summary"; }
echo "| step | result | detail |" >> "$summary"
echo "|---|---|---|" >> "$summary"

if [ ! -x "$bin" ]; then
  row "carry" "FAILED" "no $bin: run tools/build_gpu_carry.sh and carry build_gpu"
  cat "$summary"
  exit 1
fi
if nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  > "$out/gpu.txt" 2>&1; then
  row "device" "found" "$(head -1 "$out/gpu.txt")"
else
  row "device" "none" "nvidia-smi failed: $(head -1 "$out/gpu.txt")"
fi

# 1. Every gpu test; a skipped test on a GPU machine means no device was found: a failure here.
start=$(date +%s)
timeout 300 "$bin" --gtest_output=xml:"$out/gpu_tests.xml" > "$out/gpu_tests.log" 2>&1
rc=$?
# Per-test result lines end with the test's time, "(N ms)"; the closing summary repeats names.
passed=$(grep -c '^\[       OK \] .* ms)$' "$out/gpu_tests.log")
failed=$(grep -c '^\[  FAILED  \] .* ms)$' "$out/gpu_tests.log")
skipped=$(grep -c '^\[  SKIPPED \] .* ms)$' "$out/gpu_tests.log")
row "gpu tests" "$( [ $rc -eq 0 ] && [ "$skipped" -eq 0 ] && echo PASS || echo FAIL )" \
  "$passed passed, $failed failed, $skipped skipped, rc $rc, $(( $(date +%s) - start )) s"

# 2. compute-sanitizer over the kernel tests (memcheck: out-of-bounds and misaligned accesses;
#    racecheck: shared-memory hazards in the block reductions).
cs="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
for tool in memcheck racecheck; do
  if [ -x "$cs" ]; then
    start=$(date +%s)
    timeout 240 "$cs" --tool "$tool" --error-exitcode 9 "$bin" --gtest_brief=1 \
      > "$out/sanitizer_$tool.log" 2>&1
    rc=$?
    errors=$(grep -m1 -o 'ERROR SUMMARY: [0-9]* error' "$out/sanitizer_$tool.log" || echo "no summary")
    row "compute-sanitizer $tool" "$( [ $rc -eq 0 ] && echo PASS || echo FAIL )" \
      "$errors, rc $rc, $(( $(date +%s) - start )) s"
  else
    row "compute-sanitizer $tool" "SKIP" "compute-sanitizer not found"
  fi
done
row "training runs (10 steps per algorithm vs CPU)" "NOT YET" "the GPU policies are not built yet"
row "benchmark rows vs torch on the GPU" "NOT YET" "the GPU policies are not built yet"

echo
cat "$summary"
grep -q '| FAIL |' "$summary" && exit 1
exit 0
