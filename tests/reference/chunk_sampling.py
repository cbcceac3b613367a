"""What the action-chunk fixture scripts of imported image and diffusion policies share:
- sparse_frozen_encoder: ResNet18's 11.2M weights would make a 45 MB file; its convolutions keep
  0.2% of their entries (random places and values, enough to expose any layout or naming slip),
  which the repository stores compressed; norms, keypoint and feature layers stay dense. The
  encoder is then frozen, as the sparsity would not survive training.
- sample_in_both_precisions: an original's sampler run on the same observations in float32 and
  float64, every torch.randn draw replaced by mimic's Philox noise in the order mimic draws it,
  and how far the float32 actions are from the float64 ones: the floor under any float32
  reimplementation's agreement with the original (DDIM's few steps amplify rounding).
"""
import numpy as np
import torch

from mimic_philox import MimicStream, QueuedRandn


def camera_frames(*lead, size=96):
    """Random camera frames as a dataset holds them: bytes / 255, [*lead, 3, size, size]."""
    return torch.randint(0, 256, (*lead, 3, size, size)).float() / 255.0


def sparse_frozen_encoder(encoder):
    with torch.no_grad():
        for name, p in encoder.named_parameters():
            if p.dim() == 4 and p.numel() > 100000:
                keep = torch.rand(p.shape) < 0.002
                p.copy_(torch.where(keep, torch.randn(p.shape) * 0.5, torch.zeros(p.shape)))
            elif p.dim() == 1:
                p.copy_(torch.rand(p.shape) + 0.5 if name.endswith("weight") else torch.randn(p.shape) * 0.1)
    encoder.requires_grad_(False)


def sample_in_both_precisions(model, seed, observations, blocks, chunk_shape, act):
    """`act(model, obs, dtype)` returns one chunk's actions as a numpy float64 array; it draws
    `blocks` noise tensors of `chunk_shape` per chunk. Returns the float32 actions of every chunk
    and the largest relative float32-vs-float64 difference."""
    randn = QueuedRandn()

    def sample(dtype):  # every chunk in a row: the second chunk's noise follows the first's
        stream = MimicStream(seed)
        torch.set_default_dtype(dtype)
        typed = model.to(dtype)
        out = []
        try:
            for obs in observations:
                noise = stream.normal(blocks * int(np.prod(chunk_shape))).reshape(blocks, *chunk_shape)
                if dtype == torch.float32:
                    noise = noise.astype(np.float32)
                with randn.replacing_torch_randn([torch.from_numpy(noise[i].copy()) for i in range(blocks)]):
                    with torch.no_grad():
                        out.append(act(typed, {k: v.to(dtype) for k, v in obs.items()}, dtype))
        finally:
            torch.set_default_dtype(torch.float32)
        return out

    float32 = sample(torch.float32)
    float64 = sample(torch.float64)
    spread = max(float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) for a, b in zip(float32, float64))
    return float32, spread
