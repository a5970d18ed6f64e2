#!/usr/bin/env python3
"""Golden values of every elementwise activation and its derivative, computed with mpmath at 250 digits.

Also writes golden/erfc.csv (z, erfc z) densely over [-6, 27.5], since gelu stands on Reference.erfc.

Reads golden/catalog.json (written from dev.gpuact.Op by dev.gpuact.CatalogExport): the ops, the parameter
settings each is checked at, and the kinks those settings put. Writes golden/elementwise.csv, read by
dev.gpuact.ReferenceTest:
    op,a,b,x,f,df
where a and b are the op's parameters and x the input (all float32 values, printed as the shortest decimal of
that double), and f, df the true values rounded once to double. The formulas are those of ACTIVATIONS.md,
written so that mpmath never cancels (1 - sigma(x) as sigma(-x), 1 - tanh^2 as sech^2), so the only error in
a golden value is its final rounding to double.

Run from the repository root:  python3 java/src/test/python/make_golden.py
"""
import json
import os
import random
import struct

import mpmath
from mpmath import mp, mpf

# x - tanh x at the smallest subnormal x (1.4e-45) is x^3/3: 90 digits below x. 250 digits cover it.
mp.dps = 250

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "resources", "golden")
CATALOG = os.path.join(GOLDEN, "catalog.json")
OUT = os.path.join(GOLDEN, "elementwise.csv")
ERFC_OUT = os.path.join(GOLDEN, "erfc.csv")


def f32(v):
    """v rounded to the nearest float32, as a Python float."""
    return struct.unpack("<f", struct.pack("<f", float(v)))[0]


def bits(v):
    return struct.unpack("<I", struct.pack("<f", v))[0]


def from_bits(b):
    return struct.unpack("<f", struct.pack("<I", b & 0xFFFFFFFF))[0]


def next_up(v, k=1):
    """The float32 k steps above v in the ordered lattice (k may be negative)."""
    b = bits(v)
    signed = b if b < 0x80000000 else -(b & 0x7FFFFFFF)
    s = signed + k
    return from_bits(s if s >= 0 else (-s) | 0x80000000)


def around(v, steps=2):
    """v rounded to float32 and its neighbours up to `steps` away."""
    c = f32(v)
    return [next_up(c, k) for k in range(-steps, steps + 1)]


# ---- the true functions (ACTIVATIONS.md), at mp precision ----------------------------------------------

SELU_LAMBDA = mpf("1.0507009873554804934193349852946")
SELU_ALPHA = mpf("1.6732632423543772848170429916717")
GELU_TANH_C = mpf("0.044715")
SQRT_2_OVER_PI = mpmath.sqrt(2 / mpmath.pi)


def sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def phi(x):
    return mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)


def Phi(x):
    return mpmath.erfc(-x / mpmath.sqrt(2)) / 2


def gelu_tanh_u(x):
    return SQRT_2_OVER_PI * (x + GELU_TANH_C * x ** 3)


def softplus_(x):
    return mpmath.log1p(mpmath.exp(x))


def sign(x):
    return 1 if x > 0 else -1 if x < 0 else 0


def ind(c):
    return mpf(1) if c else mpf(0)


def hardsigmoid_line(x, a, b):
    """alpha x + beta; the float nearest 1/6 (the default slope) stands for 1/6 itself (ACTIVATIONS.md)."""
    if a == f32(1 / 6) and abs(b) < 1e30:
        return (x + 6 * b) / 6
    return a * x + b


def mish_t(x):
    return mpmath.tanh(softplus_(x))


# name -> (f(x, a, b), f'(x, a, b))
OPS = {
    "identity": (lambda x, a, b: x, lambda x, a, b: mpf(1)),
    "step": (lambda x, a, b: ind(x > 0), lambda x, a, b: mpf(0)),
    "abs": (lambda x, a, b: abs(x), lambda x, a, b: mpf(sign(x))),
    "square": (lambda x, a, b: x * x, lambda x, a, b: 2 * x),
    "sigmoid": (lambda x, a, b: sigmoid(x), lambda x, a, b: sigmoid(x) * sigmoid(-x)),
    "tanh": (lambda x, a, b: mpmath.tanh(x), lambda x, a, b: mpmath.sech(x) ** 2),
    "relu": (lambda x, a, b: max(mpf(0), x), lambda x, a, b: ind(x > 0)),
    "relu6": (lambda x, a, b: min(max(mpf(0), x), mpf(6)), lambda x, a, b: ind(0 < x < 6)),
    "leaky_relu": (lambda x, a, b: x if x > 0 else a * x, lambda x, a, b: mpf(1) if x > 0 else a),
    "prelu": (lambda x, a, b: x if x > 0 else a * x, lambda x, a, b: mpf(1) if x > 0 else a),
    "elu": (lambda x, a, b: x if x > 0 else a * mpmath.expm1(x),
            lambda x, a, b: mpf(1) if x > 0 else a * mpmath.exp(x)),
    "selu": (lambda x, a, b: SELU_LAMBDA * (x if x > 0 else SELU_ALPHA * mpmath.expm1(x)),
             lambda x, a, b: SELU_LAMBDA if x > 0 else SELU_LAMBDA * SELU_ALPHA * mpmath.exp(x)),
    "celu": (lambda x, a, b: max(mpf(0), x) + min(mpf(0), a * mpmath.expm1(x / a)),
             lambda x, a, b: mpf(1) if x > 0 else mpmath.exp(x / a)),
    "gelu": (lambda x, a, b: x * Phi(x), lambda x, a, b: Phi(x) + x * phi(x)),
    # 1 + tanh u = 2 sigma(2u), 1 - tanh^2 u = sech^2 u
    "gelu_tanh": (lambda x, a, b: x * sigmoid(2 * gelu_tanh_u(x)),
                  lambda x, a, b: sigmoid(2 * gelu_tanh_u(x))
                  + x / 2 * mpmath.sech(gelu_tanh_u(x)) ** 2 * SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * x * x)),
    "silu": (lambda x, a, b: x * sigmoid(x), lambda x, a, b: sigmoid(x) * (1 + x * sigmoid(-x))),
    "swish": (lambda x, a, b: x * sigmoid(a * x),
              lambda x, a, b: sigmoid(a * x) + a * x * sigmoid(a * x) * sigmoid(-a * x)),
    "mish": (lambda x, a, b: x * mish_t(x),
             lambda x, a, b: mish_t(x) + x * mpmath.sech(softplus_(x)) ** 2 * sigmoid(x)),
    "softplus": (lambda x, a, b: x if a * x > b else softplus_(a * x) / a,
                 lambda x, a, b: mpf(1) if a * x > b else sigmoid(a * x)),
    "softsign": (lambda x, a, b: x / (1 + abs(x)), lambda x, a, b: 1 / (1 + abs(x)) ** 2),
    "logsigmoid": (lambda x, a, b: -softplus_(-x), lambda x, a, b: sigmoid(-x)),
    "hardtanh": (lambda x, a, b: min(max(x, a), b), lambda x, a, b: ind(a < x < b)),
    "hardsigmoid": (lambda x, a, b: min(max(hardsigmoid_line(x, a, b), mpf(0)), mpf(1)),
                    lambda x, a, b: a if 0 < hardsigmoid_line(x, a, b) < 1 else mpf(0)),
    "hardswish": (lambda x, a, b: x * min(max(x / 6 + mpf(1) / 2, mpf(0)), mpf(1)),
                  lambda x, a, b: mpf(0) if x < -3 else mpf(1) if x > 3 else x / 3 + mpf(1) / 2),
    "tanhshrink": (lambda x, a, b: x - mpmath.tanh(x), lambda x, a, b: mpmath.tanh(x) ** 2),
    "softshrink": (lambda x, a, b: x - a if x > a else x + a if x < -a else mpf(0),
                   lambda x, a, b: ind(abs(x) > a)),
    "hardshrink": (lambda x, a, b: x if abs(x) > a else mpf(0), lambda x, a, b: ind(abs(x) > a)),
    "threshold": (lambda x, a, b: x if x > a else b, lambda x, a, b: ind(x > a)),
    "ricker": (lambda x, a, b: (1 - x * x) * mpmath.exp(-x * x / 2),
               lambda x, a, b: (x ** 3 - 3 * x) * mpmath.exp(-x * x / 2)),
}

def derivative_root(op, a, b, guess):
    """The float32 nearest a zero of f' (an ill-conditioned spot for any float computation)."""
    return f32(mpmath.findroot(lambda t: OPS[op][1](t, mpf(a), mpf(b)), guess))


def common_points(rng):
    xs = set()
    for k in range(-30, 31):
        xs.update([f32(10.0 ** k), -f32(10.0 ** k)])
    for b in (1, 2, 0x100, 0x7FFFFF, 0x800000):  # subnormals and the smallest normal
        xs.update([from_bits(b), -from_bits(b)])
    xs.update([3.4028234663852886e38, -3.4028234663852886e38, 0.0])
    for c in (1, 3, 6, 3 ** 0.5):
        xs.update(around(c, 1))
        xs.update(around(-c, 1))
    xs.update(around(0.0, 2))
    xs.update(f32(rng.uniform(-20, 20)) for _ in range(16))
    return xs


def near_zero():
    """Tiny and small magnitudes where log1p / x - tanh x style formulas must not cancel."""
    return {s * f32(2.0 ** -k) for k in range(1, 60, 3) for s in (1, -1)} | set(around(0.125, 2)) | set(around(-0.125, 2))


def op_points(op, a, b, kinks):
    """The points of the op's math (cancellation zones, zeros of f', underflow) and its settings' kinks."""
    xs = set()
    for k in kinks:
        xs.update(around(k, 2))
    if op in ("gelu", "gelu_tanh"):
        xs.update(f32(-v / 4) for v in range(20, 57))  # -5 .. -14, the cancellation zone of 1 + erf
        xs.update(f32(v) for v in (-20, -26, -27, -38, -39, -40))  # toward underflow
        xs.update(around(derivative_root(op, a, b, -0.75), 2))
        xs.update(around(-2 * 2 ** 0.5, 2))  # erfc's switch from series to continued fraction
        xs.update(around(2 * 2 ** 0.5, 2))
    if op in ("silu", "swish", "mish"):
        beta = a if op == "swish" else 1
        guess = -1.1924 if op == "mish" else -1.2785 / beta
        xs.update(around(derivative_root(op, a, b, guess), 2))
        xs.update(f32(v) for v in (-20, -40, -80, -100))
    if op in ("softplus", "logsigmoid", "tanhshrink", "sigmoid", "tanh", "elu", "selu", "celu", "mish", "silu"):
        xs |= near_zero()
    if op == "ricker":
        for c in (1, 3 ** 0.5):
            for s in (1, -1):
                xs.update(around(s * c, 3))
                xs.update(f32(s * c * (1 + 2.0 ** -k)) for k in (8, 12, 16, 20))
        xs.update(f32(v) for v in (37, 38, -38.5))
    if op == "hardswish":
        xs.update(around(-3, 3))
        xs.update(f32(-3 + 2.0 ** -k) for k in range(4, 22, 3))
        xs.update(around(3, 2))
    if op in ("leaky_relu", "prelu", "relu", "elu", "celu", "selu", "step", "abs"):
        xs.update(around(0.0, 3))
    if op in ("elu", "celu"):
        xs.update(f32(-a * v) for v in (0.5, 5, 30, 100))
    if op == "relu6":
        xs.update(around(6, 2))
    if op == "softplus":
        xs.update(f32(v / a) for v in (-30, -100, -700, -800))
    return xs


def to_double(v):
    return float(v)  # mpf -> nearest double (0 or inf outside the range)


def catalog():
    """The elementwise and channel-wise ops of golden/catalog.json, which must be those of OPS."""
    with open(CATALOG) as f:
        ops = json.load(f)["ops"]
    ids = [op["id"] for op in ops]
    if sorted(ids) != sorted(OPS):
        raise AssertionError("catalog.json lists %s but OPS has %s" % (sorted(ids), sorted(OPS)))
    return ops


def main():
    rng = random.Random(20240613)
    base = common_points(rng)
    rows = []
    for entry in catalog():
        op = entry["id"]
        f, df = OPS[op]
        for setting in entry["settings"]:
            a, b = f32(setting["a"]), f32(setting["b"])
            for x in sorted(base | op_points(op, a, b, setting["kinks"])):
                if op == "softplus" and (a * x > b) != (mpf(a) * mpf(x) > mpf(b)):
                    raise AssertionError("softplus threshold test must be exact")
                mx, ma, mb = mpf(x), mpf(a), mpf(b)
                rows.append((op, a, b, x, to_double(f(mx, ma, mb)), to_double(df(mx, ma, mb))))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as out:
        out.write("# generated by java/src/test/python/make_golden.py (mpmath %s, %d digits); do not edit\n"
                  % (mpmath.__version__, mp.dps))
        out.write("op,a,b,x,f,df\n")
        for op, a, b, x, y, dy in rows:
            out.write("%s,%r,%r,%r,%r,%r\n" % (op, a, b, x, y, dy))
    print("wrote %d rows to %s" % (len(rows), os.path.normpath(OUT)))
    write_erfc(rng)


def write_erfc(rng):
    """erfc at every 1/64 of [-6, 27.5], around the series/continued-fraction switch at 2, and at random z."""
    zs = {i / 64 for i in range(-6 * 64, int(27.5 * 64) + 1)}
    zs |= {2 + k * 2.0 ** -40 for k in range(-4, 5)}
    zs |= {rng.uniform(-6, 27.5) for _ in range(1000)}
    with open(ERFC_OUT, "w") as out:
        out.write("# generated by java/src/test/python/make_golden.py (mpmath %s, %d digits); do not edit\n"
                  % (mpmath.__version__, mp.dps))
        out.write("z,erfc\n")
        for z in sorted(zs):
            out.write("%r,%r\n" % (z, to_double(mpmath.erfc(mpf(z)))))
    print("wrote %d rows to %s" % (len(zs), os.path.normpath(ERFC_OUT)))


if __name__ == "__main__":
    main()
