#!/usr/bin/env bash
# mimic vs PyTorch on the CPU, side by side: the same computations, 2 threads on both sides,
# alternating mimic_bench and bench/reference/torch_rows.py for ROUNDS rounds; prints median
# times and the ratio mimic / PyTorch per row and writes bench/results/latest.json.
#   bash bench/compare_pytorch.sh [PYTHON]     (PYTHON: an interpreter with torch and torchvision,
#                                               robomimic==0.3.0 for bc_transformer_train_b100,
#                                               and Diffusion Policy's git mirror (DP_GIT_DIR) for
#                                               dpt_chunk_ddim10_b1;
#                                               default /usr/bin/python3, i.e. Debian's
#                                               python3-torch and python3-torchvision)
#   ROWS="resnet18_train_b16_84 dp_image_chunk_b1" bash bench/compare_pytorch.sh   (a subset;
#   bench/results/latest.json then holds only those rows)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-/usr/bin/python3}
ROUNDS=${ROUNDS:-3}
BENCH=${BENCH:-build/bench/mimic_bench}
[ -x "$BENCH" ] || { echo "build mimic_bench first (bash tools/test.sh builds it)"; exit 1; }
export OMP_NUM_THREADS=2
declare -A BM=(
  [unet_train_b256]='BM_UnetTrainStep/256'
  [unet_denoise_b1]='BM_UnetDenoise/1/'
  [dp_chunk_ddim10_b1]='BM_DpChunkDdim10/1'
  [dpt_chunk_ddim10_b1]='BM_DptChunkDdim10/1'
  [bc_train_b100]='BM_BcTrainStep/100'
  [bcrnn_train_b100]='BM_LstmTrainStep'
  [bc_transformer_train_b100]='BM_BcTransformerTrainStep/100'
  [bcrnn_step_b1]='BM_BcRnnStep/1'
  [ibc_dfo_b1]='BM_IbcDfo/1'
  [resnet18_train_b16_84]='BM_ResNet18Train/16'
  [dp_image_chunk_b1]='BM_DpImageChunk/1'
)
ALL_ROWS=(unet_train_b256 unet_denoise_b1 dp_chunk_ddim10_b1 dpt_chunk_ddim10_b1 bc_train_b100 bcrnn_train_b100 bcrnn_step_b1
  bc_transformer_train_b100 ibc_dfo_b1 resnet18_train_b16_84 dp_image_chunk_b1)
read -r -a ROWS <<< "${ROWS:-${ALL_ROWS[*]}}"  # ROWS="a b" runs a subset
TMP=$(mktemp -d)
for r in $(seq 1 "$ROUNDS"); do
  for row in "${ROWS[@]}"; do
    "$BENCH" --benchmark_filter="${BM[$row]}" --benchmark_format=json --benchmark_min_time=1 \
      > "$TMP/mimic_${row}_$r.json" 2> /dev/null
    "$PY" bench/reference/torch_rows.py --rows "$row" > "$TMP/torch_${row}_$r.json"
  done
done
"$PY" - "$TMP" "$ROUNDS" "${ROWS[@]}" << 'PYEOF'
import json, os, statistics, sys, platform
tmp, rounds, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
units = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
out, torch_version = [], None
for row in rows:
    m, t = [], []
    for r in range(1, rounds + 1):
        b = json.load(open(os.path.join(tmp, "mimic_%s_%d.json" % (row, r))))["benchmarks"][0]
        m.append(b["real_time"] * units[b["time_unit"]])
        tj = json.load(open(os.path.join(tmp, "torch_%s_%d.json" % (row, r))))
        t.append(tj[row])
        torch_version = tj["_torch"]
    mm, tm = statistics.median(m), statistics.median(t)
    out.append({"name": row, "mimic_ms": round(mm, 4), "pytorch_ms": round(tm, 4), "ratio": round(mm / tm, 3)})
print("%-20s %12s %12s %8s" % ("row", "mimic ms", "torch ms", "ratio"))
for o in out:
    print("%-20s %12.3f %12.3f %8.3f" % (o["name"], o["mimic_ms"], o["pytorch_ms"], o["ratio"]))
print("torch %s, 2 threads, %s" % (torch_version, platform.processor() or platform.machine()))
os.makedirs("bench/results", exist_ok=True)
json.dump(out, open("bench/results/latest.json", "w"), indent=2)
PYEOF
rm -rf "$TMP"
