#!/usr/bin/env python3
"""Regenerates FloatMath.TS0..TS9, tanhshrink's float polynomial next to zero: x - tanh x = x^3 P(x^2), |x| < 1.5.

Usage: python3 fit_tanhshrink.py   (needs mpmath and numpy)
x - tanh x cancels for small x; below 1.5 it is x^3 P(s), s = x^2, P of degree 9 a near-minimax fit of
(x - tanh x) / x^3 in relative error, made by iteratively reweighted least squares on Chebyshev nodes, coefficients
rounded to float. At 1.5 and above x - tanh x loses at most a factor 1.5 to cancellation. Prints the coefficients,
lowest degree first, then the worst error of x^3 P(s) evaluated as ElementwiseKernel's tanhshrink does (x^3 from s
and its rounding error, P by Horner with fmas), in float32 (an fma as its exact double product plus the addend
rounded once), in ULPs.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
f32 = np.float32
EDGE = 1.5
DEGREE = 9


def target(s):
    s = mp.mpf(s)
    if s < mp.mpf("1e-12"):
        return mp.mpf(1) / 3 - 2 * s / 15
    x = mp.sqrt(s)
    return (x - mp.tanh(x)) / x ** 3


def fma(x, y, z):
    return f32(np.float64(x) * np.float64(y) + np.float64(z))


top = EDGE ** 2
nodes = top / 2 + top / 2 * np.cos(np.pi * (np.arange(3000) + 0.5) / 3000)
values = np.array([float(target(t)) for t in nodes])
vander = np.vander(nodes, DEGREE + 1, increasing=True)
weights = 1 / values
for _ in range(40):
    coefficients = np.linalg.lstsq(vander * weights[:, None], values * weights, rcond=None)[0]
    error = np.abs((vander @ coefficients - values) / values)
    weights = weights * (1 + 50 * error / error.max())
c = coefficients.astype(f32)
for i, value in enumerate(c):
    print(f"TS{i} = {float(value)!r}f")

worst = 0
rng = np.random.default_rng(1)
for x in np.concatenate([rng.uniform(0, EDGE, 6000), np.exp(rng.uniform(np.log(1e-6), np.log(EDGE), 2000))]).astype(f32):
    s = f32(x * x)
    p = c[-1]
    for k in range(len(c) - 2, -1, -1):
        p = fma(p, s, c[k])
    cube = fma(x, s, f32(x * fma(x, x, -s)))
    got = f32(cube * p)
    exact = mp.mpf(float(x)) - mp.tanh(mp.mpf(float(x)))
    worst = max(worst, abs(float(got) - float(exact)) / float(np.spacing(f32(exact))))
print(f"worst error of x^3 P(x^2) below {EDGE}: {worst:.3f} ULP")
