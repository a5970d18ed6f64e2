#!/usr/bin/env python3
"""How far PyTorch's CPU float32 kernels are from the true values, in the contract's measure.

The CPU-speed targets take PyTorch's time-to-copy ratios as the bar; this says at what accuracy PyTorch reaches
them. For each op it reports the largest distance in ULPs (floats between the result and the correctly rounded
float32 of the true value, computed with mpmath) and the share of inputs past the contract's bound (4 ULP forward,
8 backward), over random float32 inputs uniform in [-6, 6] (the benchmark's range) and a sweep of the negative
tail, where gelu and its derivative are tiny.

    python3 bench/torch_accuracy.py [--samples 4000]
"""
import argparse

import mpmath
import numpy as np
import torch
import torch.nn.functional as F

mpmath.mp.dps = 40


def ordered(values):
    """float32 bits as integers in the order of the floats, so that a difference counts the floats between."""
    bits = np.asarray(values, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)


def ulps(got, true_values):
    rounded = np.array([float(v) for v in true_values], dtype=np.float32)
    return np.abs(ordered(got) - ordered(rounded))


def backward_of(fn):
    def run(x):
        xt = x.clone().requires_grad_(True)
        fn(xt).backward(torch.ones_like(xt))
        return xt.grad
    return run


OPS = {
    # name: (torch function of a float32 tensor, true value of an mpf, bound in ULP)
    "gelu": (F.gelu, lambda v: v * mpmath.ncdf(v), 4),
    "gelu backward": (backward_of(F.gelu), lambda v: mpmath.ncdf(v) + v * mpmath.npdf(v), 8),
    "silu": (F.silu, lambda v: v / (1 + mpmath.exp(-v)), 4),
    "silu backward": (backward_of(F.silu),
                      lambda v: (1 + mpmath.exp(-v) + v * mpmath.exp(-v)) / (1 + mpmath.exp(-v)) ** 2, 8),
    "sigmoid": (torch.sigmoid, lambda v: 1 / (1 + mpmath.exp(-v)), 4),
    "tanh": (torch.tanh, mpmath.tanh, 4),
    "elu": (F.elu, lambda v: v if v > 0 else mpmath.expm1(v), 4),
    "softplus": (F.softplus, lambda v: mpmath.log1p(mpmath.exp(v)), 4),
    "mish": (F.mish, lambda v: v * mpmath.tanh(mpmath.log1p(mpmath.exp(v))), 4),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    uniform = rng.uniform(-6, 6, args.samples).astype(np.float32)
    tail = -np.linspace(2, 12, 201, dtype=np.float32)
    print(f"# torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, float32; "
          f"{args.samples} inputs uniform in [-6, 6], {tail.size} in [-12, -2]")
    print("op,bound_ulp,max_ulp_uniform,share_over_bound_uniform,max_ulp_tail,worst_x")
    for name, (fn, true_of, bound) in OPS.items():
        row = [name, str(bound)]
        worst_x, worst = 0.0, -1
        for inputs in (uniform, tail):
            got = fn(torch.from_numpy(inputs)).detach().numpy()
            distance = ulps(got, [true_of(mpmath.mpf(float(v))) for v in inputs])
            row.append(str(int(distance.max())))
            if inputs is uniform:
                row.append(f"{(distance > bound).mean():.3f}")
            if distance.max() > worst:
                worst, worst_x = int(distance.max()), float(inputs[distance.argmax()])
        print(",".join(row + [f"{worst_x:.4f}"]))


if __name__ == "__main__":
    main()
