"""mimic's random stream (include/mimic/core/philox.hpp) in numpy, for the reference scripts that
hand mimic's noise to the originals' formulas: Philox4x32-10, PhiloxStream's offsets,
philox_normal (Box-Muller in double) and philox_uniform<double> (53 bits).
"""
import numpy as np


def philox_u32(seed, idx):
    """Value idx (uint64 array) of stream `seed`: lane idx % 4 of block idx / 4."""
    m = np.uint64(0xFFFFFFFF)
    counter = idx >> np.uint64(2)
    c0, c1 = counter & m, counter >> np.uint64(32)
    c2, c3 = np.zeros_like(c0), np.zeros_like(c0)
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0, p1 = np.uint64(0xD2511F53) * c0, np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0), p1 & m, ((p0 >> np.uint64(32)) ^ c3 ^ k1), p0 & m
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & m, (k1 + np.uint64(0xBB67AE85)) & m
    lanes = np.stack([c0, c1, c2, c3])
    return lanes[(idx & np.uint64(3)).astype(np.int64), np.arange(idx.size)]


class MimicStream:
    """PhiloxStream{seed, offset}: each draw of n values takes elements [offset, offset + n)."""

    def __init__(self, seed):
        self.seed, self.offset = seed, 0

    def _take(self, n):
        i = np.arange(self.offset, self.offset + n, dtype=np.uint64)
        self.offset += n
        return i

    def normal(self, n):  # philox_normal<double>, Box-Muller from values 2i and 2i + 1
        i = self._take(n)
        a, b = philox_u32(self.seed, 2 * i).astype(np.float64), philox_u32(self.seed, 2 * i + np.uint64(1)).astype(np.float64)
        u1, u2 = (a + 1.0) / 4294967296.0, b / 4294967296.0
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(6.283185307179586 * u2)

    def uniform(self, n):  # philox_uniform<double>: 53 bits from values 2i and 2i + 1
        i = self._take(n)
        hi, lo = philox_u32(self.seed, 2 * i), philox_u32(self.seed, 2 * i + np.uint64(1))
        return (((hi << np.uint64(32)) | lo) >> np.uint64(11)).astype(np.float64) / 9007199254740992.0


class QueuedRandn:
    """Stands in for torch.randn while a sampler runs: hands out the queued blocks of mimic's
    noise in order, each checked against the shape asked for, and says when the sampler draws
    more or fewer blocks than mimic does.

        noise = QueuedRandn()
        with noise.replacing_torch_randn(blocks):  # a list of tensors
            actions = policy.predict_action(obs)
    """

    def __init__(self):
        self.queue = []

    def __call__(self, *size, **kw):
        import torch
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)) else size
        shape = tuple(kw.pop("size", shape))
        assert self.queue, "more draws than mimic makes"
        block = self.queue.pop(0)
        assert tuple(block.shape) == shape, (block.shape, shape)
        return block.to(kw.get("dtype") or torch.float32)

    def replacing_torch_randn(self, blocks):
        import contextlib

        import torch

        @contextlib.contextmanager
        def scope():
            self.queue[:] = list(blocks)
            real = torch.randn
            torch.randn = self
            try:
                yield
            finally:
                torch.randn = real
            assert not self.queue, "mimic draws more noise than the original used"
        return scope()
