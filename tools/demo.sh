#!/usr/bin/env bash
# The main job in one command on a fresh Debian machine: install what is missing, build the
# `mimic` tool, generate Push-T expert demonstrations, train a Diffusion Policy sized for a CPU,
# evaluate it over 50 seeded rollouts with a video, and print a report.
#   bash tools/demo.sh            (about 15 minutes on 2 cores)
# Environment: DEMO_OUT (output folder, default demo_output), DEMO_DEMOS (demos, default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${DEMO_OUT:-$ROOT/demo_output}
DEMOS=${DEMO_DEMOS:-200}
START=$(date +%s)
stamp() { echo "[demo $(( $(date +%s) - START ))s] $*"; }

stamp "installing missing packages"
bash tools/install_deps.sh
stamp "building the mimic tool"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
LAUNCHER=""
command -v ccache > /dev/null && LAUNCHER="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DMIMIC_BUILD_TESTS=OFF \
  -DMIMIC_BUILD_BENCH=OFF -DMIMIC_BUILD_EXAMPLES=OFF -DMIMIC_WITH_CUDA=OFF $LAUNCHER > /dev/null
ninja -C build-demo mimic_cli
MIMIC=$ROOT/build-demo/tools/mimic
mkdir -p "$OUT/data"

DATA=$OUT/data/pusht_${DEMOS}.hdf5
if [ ! -f "$DATA" ]; then
  stamp "generating $DEMOS Push-T expert demonstrations"
  "$MIMIC" generate-demos --env pusht --n "$DEMOS" --output "$DATA" --seed 0
fi
"$MIMIC" dataset-info --dataset "$DATA" | head -6

stamp "training a Diffusion Policy (config tools/configs/demo_diffusion_policy_pusht.json)"
"$MIMIC" train --config tools/configs/demo_diffusion_policy_pusht.json --dataset "$DATA" \
  --output_dir "$OUT/runs" | tee "$OUT/train.txt"
RUN=$(sed -n 's/^run folder: //p' "$OUT/train.txt" | tail -1)
CKPT=$RUN/models/last.safetensors

stamp "evaluating on 50 test seeds (100000..100049)"
VIDEO=$OUT/pusht_eval.mp4
"$MIMIC" eval --agent "$CKPT" --n_rollouts 50 --seed 100000 --video_path "$VIDEO" \
  --video_skip 2 | tee "$OUT/eval.txt"

SCORE=$(grep -o '"Mean_Score": [0-9.e-]*' "$OUT/eval.txt" | awk '{print $2}')
SUCCESS=$(grep -o '"Success_Rate": [0-9.e-]*' "$OUT/eval.txt" | awk '{print $2}')
ELAPSED=$(( $(date +%s) - START ))
cat > "$OUT/report.md" <<REPORT
# mimic demo report

- task: Push-T (low-dim), $DEMOS expert demonstrations: $DATA
- policy: Diffusion Policy, UNet 64-128-256, DDIM 10 steps, EMA (config tools/configs/demo_diffusion_policy_pusht.json)
- evaluation: 50 rollouts, seeds 100000..100049, 300 steps max
- mean score (mean of per-episode max coverage reward): $SCORE
- success rate (coverage > 0.95): $SUCCESS
- wall time of the whole demo: ${ELAPSED} s
- run folder: $RUN
- log: $RUN/logs/log.txt
- TensorBoard: $RUN/logs/tb
- checkpoint: $CKPT
- video: $VIDEO
REPORT
echo
cat "$OUT/report.md"
