#!/usr/bin/env python3
"""Regenerates FloatMath.R0..R10, the float fit of the Mills ratio R(a) = Phi(-a) / phi(a) (gelu's tail).

Usage: python3 fit_mills_ratio.py [degree=10]   (needs mpmath and numpy)
(a + K) R(a) = 1 + P(t), t = (a - T) / (a + T), T = 3, K = sqrt(2/pi) rounded to float (so P is about 0 at a = 0
and as a grows: 1 + P stays near 1 and its float Horner sum is relatively accurate). P is a Chebyshev fit in t over
a in [0, 15], past which gelu and its derivative are 0 or 1 in float. Prints the worst error of R evaluated the way
FloatMath.millsRatio does (Estrin's order), in float32 with fmas (numpy float32, an fma as its exact double product plus the addend
rounded once), over 20000 floats a, in ULPs; then the coefficients, lowest degree first.
"""
import random
import sys

import mpmath as mp
import numpy as np

mp.mp.dps = 40
END = 15
T = 3.0
f32 = np.float32
K = f32(mp.sqrt(2 / mp.pi))
degree = int(sys.argv[1]) if len(sys.argv) > 1 else 10


def mills_ratio(a):
    a = mp.mpf(a)
    return mp.exp(a * a / 2) * mp.erfc(a / mp.sqrt(2)) / 2 * mp.sqrt(2 * mp.pi)


def p_of_t(t):
    a = T * (1 + t) / (1 - t)
    return mills_ratio(a) * (a + mp.mpf(float(K))) - 1


coefficients = [f32(float(c)) for c in mp.chebyfit(p_of_t, [-1, (END - T) / (END + T)], degree + 1)]


def fma(a, b, c):
    return f32(float(a) * float(b) + float(c))


def float_mills_ratio(a):
    """FloatMath.millsRatio step by step."""
    r = f32(1) / f32(a + f32(T))
    t = f32(f32(a - f32(T)) * r)
    t = fma(r, fma(t, -a, fma(f32(t + 1), -f32(T), a)), t)
    r_ = list(reversed(coefficients))  # lowest degree first, R0..R10, in Estrin's order as FloatMath
    t2 = f32(t * t)
    t4 = f32(t2 * t2)
    low = fma(fma(r_[3], t, r_[2]), t2, fma(r_[1], t, r_[0]))
    middle = fma(fma(r_[7], t, r_[6]), t2, fma(r_[5], t, r_[4]))
    high = fma(r_[10], t2, fma(r_[9], t, r_[8]))
    p = fma(high, f32(t4 * t4), fma(middle, t4, low))
    d = f32(a + K)
    back = f32(d - a)
    d_lo = f32(f32(a - f32(d - back)) + f32(K - back))
    inverse = f32(1) / d
    q = fma(p, inverse, inverse)
    residual = fma(-q, d_lo, f32(fma(-q, d, f32(1)) + p))
    return fma(residual, inverse, q)


random.seed(1)
worst = 0
for i in range(20000):
    a = f32(random.uniform(0, END) if i % 2 else random.uniform(0, 3))
    exact = mills_ratio(float(a))
    ulp = float(np.spacing(f32(abs(float(exact)))))
    worst = max(worst, abs(float(float_mills_ratio(a)) - float(exact)) / ulp)
print('// T = %s, K = %r, degree %d, worst error of the float evaluation %.2f ULP' % (T, float(K), degree, worst))
for i, c in enumerate(reversed(coefficients)):
    print('    static final float R%d = %rf;' % (i, float(c)))
