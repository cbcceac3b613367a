"""robomimic 0.3.0 runs what `mimic export --to robomimic` writes.

For each checkpoint of make_robomimic_checkpoint_fixtures.py: `mimic import` it, `mimic export`
the result, load the exported file with torch.load(weights_only=True) and with robomimic's
FileUtils.policy_from_checkpoint (strict state-dict loading), run its RolloutPolicy over the
recorded episode and compare with the actions robomimic gave for the original file (GMM sampling
replaced by mimic's rule and stream, as in the fixture script).

usage: python check_export_in_robomimic.py path/to/mimic
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.distributions as D

import robomimic.utils.file_utils as FileUtils

from make_robomimic_checkpoint_fixtures import CASES, IMAGE, OUT, SEED, sample_with_mimic_stream
from mimic_philox import MimicStream


def main():
    mimic = sys.argv[1]
    expected = json.load(open(os.path.join(OUT, "expected.json")))["cases"]
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        # mimic exports no BC-VAE to robomimic and imports no Gaussian head (refused by name).
        for name in [n for n, c in CASES.items() if not (c.get("vae") or c.get("gaussian"))]:
            ours = os.path.join(tmp, name + ".safetensors")
            back = os.path.join(tmp, name + ".pth")
            subprocess.run([mimic, "import", "--from", "robomimic", os.path.join(OUT, name + ".pth"),
                            "--output", ours], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([mimic, "export", "--to", "robomimic", ours, "--output", back], check=True,
                           stdout=subprocess.DEVNULL)
            torch.load(back, weights_only=True)  # torch's safe loader accepts the file
            policy, _ = FileUtils.policy_from_checkpoint(ckpt_path=back, device=torch.device("cpu"))
            policy.start_episode()
            original = D.MixtureSameFamily.sample
            D.MixtureSameFamily.sample = sample_with_mimic_stream(MimicStream(SEED))
            frames = None
            if "image_key" in expected[name]:  # the episode's camera frames, [step, 3, H, W] bytes
                frames = np.fromfile(os.path.join(OUT, name + "_frames.u8"), dtype=np.uint8)
                frames = frames.reshape(len(expected[name]["episode"]), 3, IMAGE, IMAGE)
            try:
                for t, step in enumerate(expected[name]["episode"]):
                    ob = {k: np.array(v) for k, v in step["obs"].items()}
                    if frames is not None:
                        ob[expected[name]["image_key"]] = frames[t].astype(np.float32) / 255.0
                    got = policy(ob)
                    err = float(np.max(np.abs(got - np.array(step["action"]))))
                    worst = max(worst, err)
                    assert err < 1e-5, (name, err)
            finally:
                D.MixtureSameFamily.sample = original
            print(f"{name}: robomimic loads the export; {len(expected[name]['episode'])} actions match")
    print(f"largest action difference: {worst:.3g}")


if __name__ == "__main__":
    main()
