#!/usr/bin/env python3
"""Regenerates DoubleMath.H0..H12: (z + K) erfcx(z) = H(t), t = (z - K) / (z + K), a Chebyshev fit in t.

Usage: python3 fit_erfcx_t.py [K=3] [degree=12]   (needs mpmath)
t runs over [-1, 1) as z runs over [0, inf); the fit covers z in [0, 27], past which gelu and its derivative are 0
or 1 in float. Prints the worst relative error of erfcx = H(t) / (z + K) evaluated in double (Horner), then the
coefficients, lowest degree first.
"""
import random
import sys

import mpmath as mp

mp.mp.dps = 40
K = mp.mpf(sys.argv[1]) if len(sys.argv) > 1 else mp.mpf(3)
degree = int(sys.argv[2]) if len(sys.argv) > 2 else 12
END = 27


def erfcx(z):
    return mp.exp(z * z) * mp.erfc(z)


def h(t):
    z = K * (1 + t) / (1 - t)
    return erfcx(z) * (z + K)


poly = mp.chebyfit(h, [-1, (END - K) / (END + K)], degree + 1)
coefficients = [float(c) for c in poly]  # highest degree first
k = float(K)
random.seed(1)
worst = 0
for i in range(20000):
    z = random.uniform(0, END) if i % 2 else random.uniform(0, 3)
    t = (z - k) / (z + k)
    value = coefficients[0]
    for c in coefficients[1:]:
        value = value * t + c
    worst = max(worst, abs(value / (z + k) / erfcx(mp.mpf(z)) - 1))
print('// K = %s, degree %d, worst relative error in double %s' % (k, degree, mp.nstr(worst, 3)))
for i, c in enumerate(reversed(coefficients)):
    print('    static final double H%d = %r;' % (i, c))
