#!/usr/bin/env python3
"""PyTorch's CPU kernels on the ops of the CPU-speed targets, with an array copy of the same size in the same run.

Prints CSV: op,elements,ms,copy_ms,ratio_to_copy,paired (the median of each repetition's own ratio). Medians of
wall-clock repetitions, out of place, float32, at the thread count given (default 2, the development machine's
cores); each repetition times the copy and then the op, so that both see the same load (as
dev.gpuact.bench.OpTimes does). The ratios are what gpuact's CPU paths are held to (bench/RESULTS.md). Backward
ops are the kernels autograd runs: sigmoid and tanh from the saved output y, relu through threshold_backward on y,
silu and gelu from x; "from x" rows recompute f'(x) as gpuact's backward from x does.

    python3 bench/torch_cpu_compare.py [--threads 2] [--reps 15]
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

N = 1 << 24


def elapsed_ms(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def paired_medians(fn, copy, reps):
    """Median milliseconds of fn and of the copy, timed alternately, and the median of each repetition's ratio."""
    fn()
    copy()
    copies, times = [], []
    for _ in range(reps):
        copies.append(elapsed_ms(copy))
        times.append(elapsed_ms(fn))
    paired = statistics.median(t / c for t, c in zip(times, copies))
    return statistics.median(times), statistics.median(copies), paired


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(N)
    dy = torch.randn(N)
    out = torch.empty_like(x)
    y_sigmoid, y_tanh, y_relu = torch.sigmoid(x), torch.tanh(x), F.relu(x)
    aten = torch.ops.aten

    # Every op writes into a preallocated output, as gpuact's calls do: a fresh 64 MiB tensor per call would time
    # the kernel's page faults, not the kernel.
    def sigmoid_from_x():
        aten.sigmoid.out(x, out=out)
        return aten.sigmoid_backward.grad_input(dy, out, grad_input=out)

    def tanh_from_x():
        aten.tanh.out(x, out=out)
        return aten.tanh_backward.grad_input(dy, out, grad_input=out)

    ops = {
        "copy": lambda: out.copy_(x),
        "relu": lambda: torch.clamp_min(x, 0, out=out),
        "sigmoid": lambda: aten.sigmoid.out(x, out=out),
        "tanh": lambda: aten.tanh.out(x, out=out),
        "gelu": lambda: aten.gelu.out(x, out=out),
        "silu": lambda: aten.silu.out(x, out=out),
        "mish": lambda: aten.mish.out(x, out=out),
        "softplus": lambda: aten.softplus.out(x, 1, 20, out=out),
        "elu": lambda: aten.elu.out(x, 1, 1, 1, out=out),
        "relu_bwd_from_y": lambda: aten.threshold_backward.grad_input(dy, y_relu, 0, grad_input=out),
        "sigmoid_bwd_from_y": lambda: aten.sigmoid_backward.grad_input(dy, y_sigmoid, grad_input=out),
        "tanh_bwd_from_y": lambda: aten.tanh_backward.grad_input(dy, y_tanh, grad_input=out),
        "sigmoid_bwd_from_x": sigmoid_from_x,
        "tanh_bwd_from_x": tanh_from_x,
        "silu_bwd": lambda: aten.silu_backward.grad_input(dy, x, grad_input=out),
        "gelu_bwd": lambda: aten.gelu_backward.grad_input(dy, x, grad_input=out),
    }
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, {N} float32 elements, "
          f"{torch.backends.cpu.get_cpu_capability()}")
    print("op,elements,ms,copy_ms,ratio_to_copy,paired")
    copy = ops.pop("copy")
    for name, fn in ops.items():
        ms, copy_ms, paired = paired_medians(fn, copy, args.reps)
        print(f"{name},{N},{ms:.3f},{copy_ms:.3f},{ms / copy_ms:.2f},{paired:.2f}")
    for cols in (1024, 8192):
        logits = torch.randn(N // cols, cols)
        probs = torch.empty_like(logits)
        for name, fn in (("softmax", aten._softmax.out), ("log_softmax", aten._log_softmax.out)):
            ms, copy_ms, paired = paired_medians(lambda: fn(logits, 1, False, out=probs), copy, args.reps)
            print(f"{name}:{cols},{N},{ms:.3f},{copy_ms:.3f},{ms / copy_ms:.2f},{paired:.2f}")


if __name__ == "__main__":
    main()
