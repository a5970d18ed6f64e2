#!/usr/bin/env python3
"""Regenerates FloatMath.TAIL_H0..TAIL_H11, the float polynomial behind gelu's Gaussian tail a Phi(-a).

Usage: python3 fit_gaussian_tail.py [degree=11]   (needs mpmath, numpy and scipy)

a Phi(-a) = e^(-a^2/2) w g(a), w = a / (a + K), K = 3/2, g = (a + K) erfcx(a / sqrt 2) / 2. g lies in [0.44, 0.75]
over a in [0, 15] (past which gelu and gelu' are 0, x or 1 in float) and is smooth in t = 2w - 1, so it is taken as
1/2 + H(t), H a Chebyshev fit made with mpmath: w g = w/2 + w H is then one fma whose rounding and w's are most of
the error, H's own error counting at a third of its size at most. e^(-a^2/2) is exp's 2^q (1 + m) with a^2's low
part in the reduced argument, and the product folds into exp's last fma: 2^q (1 + m) p = fma(m, 2^q p, 2^q p).

Prints the coefficients, highest degree first as Horner's rule takes them, then the worst errors of gelu and gelu'
evaluated the way FloatMath and VectorMath do, in float32 with fmas (numpy float32, an fma as its exact double
product plus the addend rounded once), against scipy's double erfc: forward in ULPs, backward in ULPs of the terms'
scale Phi(x) + |x| phi(x) as the conformance suite reads it.
"""
import sys

import mpmath as mp
import numpy as np
from scipy.special import erfc

mp.mp.dps = 40
f32 = np.float32
F = np.float64
END = 15
K = f32(1.5)
degree = int(sys.argv[1]) if len(sys.argv) > 1 else 11


def g_of_t(t):
    w = (1 + t) / 2
    a = mp.mpf(float(K)) * w / (1 - w)
    return (a + mp.mpf(float(K))) * mp.erfc(a / mp.sqrt(2)) * mp.exp(a * a / 2) / 2 - mp.mpf(1) / 2


coefficients = [f32(float(c)) for c in mp.chebyfit(g_of_t, [-1, 2 * END / (END + float(K)) - 1], degree + 1)]


def fma(x, y, z):
    return f32(F(x) * F(y) + F(z))


# FloatMath's exp constants
LOG2E = f32(1.44269504088896341)
LN2_HI = f32(float.fromhex('0x1.62e400p-1'))
LN2_LO = f32(np.log(2) - F(LN2_HI))
SHIFT = f32(float.fromhex('0x1.8p23'))
E2, E3, E4, E5, E6 = [f32(v) for v in (0.5, 0.166665181517601, 0.04166620224714279, 0.008368910290300846,
                                       0.0013950802385807037)]
INV_SQRT_2PI = f32(1 / np.sqrt(2 * np.pi))
UP = f32(2.0 ** 64)
DOWN = f32(2.0 ** -64)


def half_square_exp(a):
    """e^(-a^2/2) as (m, 2^(q + 64)) with the scaled 2^q (1 + m)."""
    square = f32(a * a)
    low = fma(a, a, -square)
    x = f32(-0.5) * square
    shifted = fma(x, LOG2E, SHIFT)
    q = f32(shifted - SHIFT)
    r = f32(fma(q, -LN2_LO, fma(q, -LN2_HI, x)) + f32(-0.5) * low)
    scale = ((shifted.view(np.int32) - SHIFT.view(np.int32) + 127 + 64) << 23).astype(np.int32).view(f32)
    r2 = f32(r * r)
    p = fma(r2, fma(r2, E6, fma(r, E5, E4)), fma(r, E3, E2))
    return fma(r2, p, r), scale


def polynomial(w):
    t = fma(w, f32(2), f32(-1))
    h = np.full_like(t, coefficients[0])
    for c in coefficients[1:]:
        h = fma(h, t, c)
    return h


def gelu(x):
    a = np.minimum(np.abs(x), f32(END))
    w = f32(a / f32(a + K))
    p = fma(w, polynomial(w), f32(0.5) * w)
    m, scale = half_square_exp(a)
    scaled = f32(scale * p)
    return f32(np.where(x > 0, x, f32(0)) - f32(fma(m, scaled, scaled) * DOWN))


def gelu_derivative(x):
    a = np.minimum(np.abs(x), f32(END))
    d = f32(a + K)
    v = f32(f32(1) / d)
    ratio = fma(polynomial(f32(a / d)), v, f32(0.5) * v)
    m, scale = half_square_exp(a)
    density = f32(scale * INV_SQRT_2PI)
    density = fma(m, density, density)
    tail = f32(scale * ratio)
    tail = fma(m, tail, tail)
    return f32(np.where(x < 0, fma(-a, density, tail), fma(a, density, f32(UP - tail))) * DOWN)


rng = np.random.default_rng(1)
x = np.concatenate([rng.uniform(-END, END, 1_000_000), rng.uniform(-3, 3, 1_000_000), rng.uniform(-1e-3, 1e-3, 100_000),
                    rng.uniform(-7, -5.8, 200_000), rng.uniform(-1.35, -1.2, 200_000),
                    rng.uniform(-0.8, -0.7, 200_000)]).astype(f32)
x = x[np.abs(x) >= 2.0 ** -90]
X = F(x)
cdf = erfc(-X / np.sqrt(2)) / 2
pdf = np.exp(-X * X / 2) / np.sqrt(2 * np.pi)
forward = np.abs(F(gelu(x)) - X * cdf) / np.spacing(np.abs(X * cdf).astype(f32)).astype(F)
backward = np.abs(F(gelu_derivative(x)) - (cdf + X * pdf)) / np.spacing((cdf + np.abs(X) * pdf).astype(f32)).astype(F)
print('// K = %s, degree %d: gelu within %.2f ULP (worst at x = %r), gelu\' within %.2f (at %r) over %d floats'
      % (float(K), degree, forward.max(), float(x[forward.argmax()]), backward.max(), float(x[backward.argmax()]),
         len(x)))
for i, c in enumerate(coefficients):
    print('    static final float TAIL_H%d = %rf;' % (degree - i, float(c)))
