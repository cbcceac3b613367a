"""Fits the polynomial Q of fn::gelu_parts_fast (include/mimic/ops/functors.hpp):
erfc(z) = exp(-z^2) Q(t), t = 1 / (1 + z / 2), z in [0, 10], so t in [1/6, 1].

Least squares in relative error on 4000 Chebyshev nodes of t, then a check of GELU in float32
arithmetic against double. Prints the coefficients, highest degree first (Horner order).
Run: python tests/reference/fit_gelu_erfc.py  (needs numpy)
"""
import math

import numpy as np

DEGREE = 10
f32 = np.float32


def fit():
    k = np.arange(4000)
    lo, hi = 1.0 / 6.0, 1.0
    t = 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(np.pi * (k + 0.5) / len(k))
    z = 2.0 * (1.0 / t - 1.0)
    q = np.array([math.erfc(v) * math.exp(v * v) for v in z])
    vander = np.vander(t, DEGREE + 1)
    return np.linalg.lstsq(vander / q[:, None], np.ones_like(q), rcond=None)[0].astype(f32)


def gelu_float(x, coef):
    z_exact = np.abs(x.astype(np.float64)) / math.sqrt(2.0)  # z + z_low, as the fmas keep it
    z = np.minimum(z_exact.astype(f32), f32(10))
    t = (f32(1) / (f32(1) + f32(0.5) * z)).astype(f32)
    q = np.zeros_like(t)
    for c in coef:
        q = (q * t + c).astype(f32)
    zz = (z * z).astype(f32)
    zz_error = (np.minimum(z_exact, 10.0) ** 2 - zz).astype(f32)  # the fmas' correction
    gauss = (np.exp(-zz.astype(np.float64)).astype(f32) * (f32(1) - zz_error)).astype(f32)
    erfc = (gauss * q).astype(f32)
    cdf2 = np.where(x < 0, erfc, f32(2) - erfc).astype(f32)
    return (f32(0.5) * x * cdf2).astype(f32)


def main():
    coef = fit()
    print("coefficients:", ", ".join(repr(float(c)) for c in coef))
    x = np.linspace(-9, 9, 400001).astype(f32)
    ref = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64)])
    nonzero = np.abs(ref) > 1e-30
    rel = np.abs(gelu_float(x, coef) - ref)[nonzero] / np.abs(ref[nonzero])
    print(f"GELU in float32: max relative error {rel.max():.3g} over [-9, 9]")


if __name__ == "__main__":
    main()
