#!/usr/bin/env bash
# The GPU verification in one run (issue: the GPU backend), on a GPU machine, from the folder
# tools/build_gpu_carry.sh made on a machine without one (carried as build_gpu/carry):
#   1. every CUDA op test (each kernel and op, forward and backward, against the CPU backend);
#   2. the training runs: 10 steps of every built-in algorithm, low-dim and image, on the GPU and
#      the CPU from the same seed and batches (losses within 1e-4), inference after them, and
#      checkpoints moved between devices;
#   3. compute-sanitizer memcheck over the op tests and racecheck over the block reductions;
#   4. the benchmark rows: mimic_bench_gpu next to bench/reference/torch_rows.py on the same GPU,
#      eager and with torch.compile, with the issue's targets.
# Writes a summary table and every log to $OUT (or ./gpu_check_out) and prints the table last.
# Steps that would start after 7 minutes are skipped (and say so) to stay within 8.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
carry="$root/build_gpu/carry"
out="${OUT:-$root/gpu_check_out}"
mkdir -p "$out"
export LD_LIBRARY_PATH="$carry/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}"
bin="$carry/mimic_test_gpu"
bench="$carry/mimic_bench_gpu"
summary="$out/summary.md"
t_begin=$(date +%s)
: > "$summary"
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3" >> "$summary"; }
in_time() { [ $(( $(date +%s) - t_begin )) -lt 420 ]; }
echo "| step | result | detail |" >> "$summary"
echo "|---|---|---|" >> "$summary"

if [ ! -x "$bin" ] || [ ! -x "$bench" ]; then
  row "carry" "FAILED" "no $bin or $bench: run tools/build_gpu_carry.sh and carry build_gpu"
  cat "$summary"
  exit 1
fi
if nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  > "$out/gpu.txt" 2>&1; then
  row "device" "found" "$(head -1 "$out/gpu.txt")"
else
  row "device" "none" "nvidia-smi failed: $(head -1 "$out/gpu.txt")"
fi

# Runs a gtest selection; a skipped test on a GPU machine means no device was found: a failure.
gtest_row() {  # name filter log timeout
  local start rc passed failed skipped
  start=$(date +%s)
  timeout "$4" "$bin" --gtest_filter="$2" > "$out/$3" 2>&1
  rc=$?
  # Per-test result lines end with the test's time, "(N ms)"; the closing summary repeats names.
  passed=$(grep -c '^\[       OK \] .* ms)$' "$out/$3")
  failed=$(grep -c '^\[  FAILED  \] .* ms)$' "$out/$3")
  skipped=$(grep -c '^\[  SKIPPED \] .* ms)$' "$out/$3")
  row "$1" "$( [ $rc -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$passed" -gt 0 ] && echo PASS || echo FAIL )" \
    "$passed passed, $failed failed, $skipped skipped, rc $rc, $(( $(date +%s) - start )) s"
}

# 1. The op tests.
gtest_row "gpu op tests" '-CudaTraining.*:CudaPlacement.*' gpu_op_tests.log 150

# 2. The training runs, one table row per algorithm from the test's "[ training ]" lines.
if in_time; then
  gtest_row "training runs and checkpoints (GPU vs CPU)" 'CudaTraining.*:CudaPlacement.*' \
    gpu_training.log 180
  grep '^\[ training \]' "$out/gpu_training.log" | sed 's/^\[ training \] //' |
    while IFS='|' read -r name loss act ms; do
      row "train 10 steps: ${name% }" "$(echo "$loss" | awk '{ print ($4 + 0 < 1e-4) ? "PASS" : "FAIL" }')" \
        "${loss# },${act},${ms}"
    done
else
  row "training runs" "SKIP" "out of time"
fi

# 3. compute-sanitizer (memcheck: out-of-bounds and misaligned accesses over the op tests;
#    racecheck: shared-memory hazards in the block reductions).
cs="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
for spec in "memcheck:-CudaTraining.*:CudaPlacement.*:150" \
            "racecheck:CudaOptim.*:CudaSoftmax.*:CudaNorm.*:Cuda.Reductions:90"; do
  tool="${spec%%:*}"
  rest="${spec#*:}"
  limit="${rest##*:}"
  filter="${rest%:*}"
  if [ ! -x "$cs" ]; then
    row "compute-sanitizer $tool" "SKIP" "compute-sanitizer not found"
  elif ! in_time; then
    row "compute-sanitizer $tool" "SKIP" "out of time"
  else
    start=$(date +%s)
    timeout "$limit" "$cs" --tool "$tool" --error-exitcode 9 "$bin" --gtest_brief=1 \
      --gtest_filter="$filter" > "$out/sanitizer_$tool.log" 2>&1
    rc=$?
    errors=$(grep -m1 -o 'ERROR SUMMARY: [0-9]* error' "$out/sanitizer_$tool.log" || echo "no summary")
    row "compute-sanitizer $tool" "$( [ $rc -eq 0 ] && echo PASS || echo FAIL )" \
      "$errors, rc $rc, $(( $(date +%s) - start )) s"
  fi
done

# 4. Benchmark rows: mimic, then torch eager, then torch compiled, on this GPU.
py="$(command -v python3 || true)"
if in_time; then
  timeout 120 "$bench" > "$out/bench_mimic.json" 2> "$out/bench_mimic.log"
  rc=$?
  row "mimic_bench_gpu" "$( [ $rc -eq 0 ] && echo ran || echo FAIL )" "rc $rc"
fi
if [ -n "$py" ] && in_time; then
  (cd "$root" && timeout 120 "$py" bench/reference/torch_rows.py --device cuda \
    > "$out/bench_torch_eager.json" 2> "$out/bench_torch_eager.log")
  row "torch eager rows" "$( [ -s "$out/bench_torch_eager.json" ] && echo ran || echo FAIL )" \
    "$(tail -1 "$out/bench_torch_eager.log" | cut -c1-120)"
fi
if [ -n "$py" ] && in_time; then
  (cd "$root" && timeout 120 "$py" bench/reference/torch_rows.py --device cuda --compile \
    --rows dp_chunk_ddim10_b1,unet_train_b256,bcrnn_train_b100,resnet18_train_b16_84 \
    > "$out/bench_torch_compiled.json" 2> "$out/bench_torch_compiled.log")
  row "torch compiled rows" "$( [ -s "$out/bench_torch_compiled.json" ] && echo ran || echo "FAIL or timed out" )" \
    "see bench_torch_compiled.log"
fi
if [ -n "$py" ] && [ -s "$out/bench_mimic.json" ]; then
  "$py" "$root/tools/gpu_bench_table.py" "$out" >> "$summary" 2> "$out/bench_table.log" ||
    row "bench table" "FAIL" "$(tail -1 "$out/bench_table.log")"
fi
row "total" "" "$(( $(date +%s) - t_begin )) s"

echo
cat "$summary"
grep -q '| FAIL' "$summary" && exit 1
exit 0
