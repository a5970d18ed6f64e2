#!/usr/bin/env python3
"""Regenerates FloatMath.E2..E6, the float polynomial of e^r - 1 on the reduced range |r| <= ln2/2 (every exp).

Usage: python3 fit_expm1.py   (needs mpmath and numpy)
e^r - 1 = r + r^2 P(r), P of degree 4: a near-minimax fit of (e^r - 1 - r) / r^2 weighted by r^2 (the weight its
error has in e^r), made by iteratively reweighted least squares on Chebyshev nodes, coefficients rounded to float.
Prints them, lowest degree first, then the worst error of e^r evaluated as FloatMath.expScaledUp does (Estrin's order,
then 1 + m rounded once), in float32 with fmas (numpy float32, an fma as its exact double product plus the addend
rounded once), over 30000 floats r, in ULPs; Taylor's series to r^7 (six coefficients) gave 0.86 the same way.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
f32 = np.float32
EDGE = float(mp.log(2) / 2) * 1.0005


def target(r):
    r = mp.mpf(r)
    if abs(r) < 1e-8:
        return mp.mpf(1) / 2 + r / 6
    return (mp.e ** r - 1 - r) / r ** 2


def fma(x, y, z):
    return f32(np.float64(x) * np.float64(y) + np.float64(z))


nodes = EDGE * np.cos(np.pi * (np.arange(2000) + 0.5) / 2000)
values = np.array([float(target(t)) for t in nodes])
vander = np.vander(nodes, 5, increasing=True)
weights = nodes ** 2 + 1e-3
for _ in range(60):
    coefficients = np.linalg.lstsq(vander * weights[:, None], values * weights, rcond=None)[0]
    error = np.abs((vander @ coefficients - values) * nodes ** 2)
    weights = weights * (1 + 50 * error / error.max())
    weights /= weights.max()
c = coefficients.astype(f32)
for i, value in enumerate(c):
    print(f"E{i + 2} = {float(value)!r}f")

worst = 0
for r in np.linspace(-EDGE, EDGE, 30001).astype(f32):
    r2 = f32(r * r)
    p = fma(r2, fma(r2, c[4], fma(r, c[3], c[2])), fma(r, c[1], c[0]))
    got = fma(fma(r2, p, r), 1, 1)
    exact = mp.e ** mp.mpf(float(r))
    worst = max(worst, abs(float(got) - float(exact)) / float(np.spacing(f32(exact))))
print(f"worst error of e^r: {worst:.3f} ULP")
