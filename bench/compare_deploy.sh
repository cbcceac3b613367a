#!/usr/bin/env bash
# The deployment rows side by side: mimic, PyTorch eager and ONNX Runtime (the same networks
# exported from PyTorch with torch.onnx), 2 threads each, alternating for ROUNDS rounds; prints
# median times and mimic's ratio to the faster of the two; writes bench/results/deploy_latest.json.
#   bash bench/compare_deploy.sh PYTHON     (PYTHON: an interpreter with torch, onnx, onnxscript
#                                            and onnxruntime from PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:?usage: bash bench/compare_deploy.sh PYTHON}
ROUNDS=${ROUNDS:-3}
BENCH=${BENCH:-build/bench/mimic_bench}
[ -x "$BENCH" ] || { echo "build mimic_bench first (bash tools/test.sh builds it)"; exit 1; }
export OMP_NUM_THREADS=2
declare -A BM=(
  [unet_denoise_b1]='BM_UnetDenoise/1/'
  [dp_chunk_ddim10_b1]='BM_DpChunkDdim10/1'
  [bcrnn_step_b1]='BM_BcRnnStep/1'
)
ROWS=(unet_denoise_b1 dp_chunk_ddim10_b1 bcrnn_step_b1)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for r in $(seq 1 "$ROUNDS"); do
  for row in "${ROWS[@]}"; do
    "$BENCH" --benchmark_filter="${BM[$row]}" --benchmark_format=json --benchmark_min_time=1 \
      > "$TMP/mimic_${row}_$r.json" 2> /dev/null
    "$PY" bench/reference/torch_rows.py --rows "$row" > "$TMP/torch_${row}_$r.json" 2> /dev/null
    "$PY" bench/reference/onnx_rows.py --rows "$row" > "$TMP/onnx_${row}_$r.json" 2> /dev/null
  done
done
"$PY" - "$TMP" "$ROUNDS" "${ROWS[@]}" << 'PYEOF'
import json, os, platform, statistics, sys
tmp, rounds, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
units = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
out, versions = [], {}
for row in rows:
    m, t, o = [], [], []
    for r in range(1, rounds + 1):
        b = json.load(open(os.path.join(tmp, "mimic_%s_%d.json" % (row, r))))["benchmarks"][0]
        m.append(b["real_time"] * units[b["time_unit"]])
        tj = json.load(open(os.path.join(tmp, "torch_%s_%d.json" % (row, r))))
        oj = json.load(open(os.path.join(tmp, "onnx_%s_%d.json" % (row, r))))
        t.append(tj[row])
        o.append(oj[row])
        versions = {"torch": tj["_torch"], "onnxruntime": oj["_onnxruntime"]}
    mm, tm, om = statistics.median(m), statistics.median(t), statistics.median(o)
    out.append({"name": row, "mimic_ms": round(mm, 4), "pytorch_ms": round(tm, 4),
                "onnxruntime_ms": round(om, 4), "ratio_to_faster": round(mm / min(tm, om), 3)})
print("%-20s %10s %10s %10s %10s" % ("row", "mimic ms", "torch ms", "ort ms", "ratio"))
for r in out:
    print("%-20s %10.3f %10.3f %10.3f %10.3f" % (r["name"], r["mimic_ms"], r["pytorch_ms"],
                                                 r["onnxruntime_ms"], r["ratio_to_faster"]))
print("torch %s, onnxruntime %s, 2 threads, %s" % (versions["torch"], versions["onnxruntime"],
                                                   platform.processor() or platform.machine()))
os.makedirs("bench/results", exist_ok=True)
json.dump({"rows": out, "versions": versions}, open("bench/results/deploy_latest.json", "w"), indent=2)
PYEOF
