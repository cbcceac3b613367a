#!/usr/bin/env bash
# Peak resident memory (max RSS) of a Diffusion Policy training run at batch 256 with the PushT
# UNet (65.8M parameters, AdamW, EMA): `mimic train` on a small Push-T dataset for 4 steps, against
# the same training step in PyTorch (bench/reference/torch_rows.py unet_train_b256, >= 4 steps).
# Both numbers are whole-process peaks, libraries included.
#   bash bench/peak_memory.sh [PYTHON]     (default /usr/bin/python3: Debian's python3-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-/usr/bin/python3}
MIMIC=${MIMIC:-build/tools/mimic}
[ -x "$MIMIC" ] || { echo "build the mimic tool first (bash tools/test.sh builds it)"; exit 1; }
export OMP_NUM_THREADS=2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$MIMIC" generate-demos --env pusht --n 10 --output "$TMP/pusht.hdf5" > /dev/null 2>&1
cat > "$TMP/config.json" << 'JSON'
{
  "algo_name": "diffusion_policy",
  "experiment": {"name": "peak_memory", "epoch_every_n_steps": 4, "validate": false,
                 "rollout": {"enabled": false}, "save": {"enabled": false}},
  "train": {"batch_size": 256, "num_epochs": 1, "seq_length": 16, "hdf5_cache_mode": "all"},
  "observation": {"modalities": {"obs": {"low_dim": ["obs"]}}}
}
JSON
/usr/bin/time -f "%M" -o "$TMP/mimic.kb" "$MIMIC" train --config "$TMP/config.json" \
  --dataset "$TMP/pusht.hdf5" --output_dir "$TMP/runs" > "$TMP/mimic.log" 2>&1
/usr/bin/time -f "%M" -o "$TMP/torch.kb" "$PY" bench/reference/torch_rows.py \
  --rows unet_train_b256 --repeats 4 > "$TMP/torch.json"
mimic_mb=$(( $(tail -1 "$TMP/mimic.kb") / 1024 ))
torch_mb=$(( $(tail -1 "$TMP/torch.kb") / 1024 ))
torch_version=$("$PY" -c "import torch; print(torch.__version__)")
echo "peak RSS, Diffusion Policy training at batch 256 (PushT UNet):"
echo "  mimic train        ${mimic_mb} MiB"
echo "  PyTorch ${torch_version}  ${torch_mb} MiB"
