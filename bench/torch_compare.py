#!/usr/bin/env python3
"""PyTorch's own CUDA timings for the ops gpuact implements, to read next to `gpuact bench --backend cuda`.

Prints CSV: kind,op,rows,cols,elements,ms,gb_per_s. Times are medians of CUDA-event timed repetitions, out of
place (y = f(x)), fp32. gb_per_s counts one read and one write per element; the `copy` rows (a device-to-device
copy of the same size) are the bandwidth limit to compare against.

    python3 bench/torch_compare.py [--reps 50] [--device cuda:0]
"""
import argparse
import statistics

import torch
import torch.nn.functional as F

ELEMENTWISE = {
    "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu, "mish": F.mish,
    "softplus": F.softplus, "elu": F.elu, "leaky_relu": F.leaky_relu, "hardswish": F.hardswish,
    "logsigmoid": F.logsigmoid,
}
ELEMENTWISE_SIZES = [1 << 24, 1 << 28]
SOFTMAX_ELEMENTS = 1 << 26
SOFTMAX_COLS = [32, 128, 512, 1024, 4096, 8192, 32768, 65536, 262144]


def median_ms(fn, reps):
    fn()  # warm-up: kernel selection and caches
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def row(kind, op, rows, cols, ms):
    elements = rows * cols
    print(f"{kind},{op},{rows},{cols},{elements},{ms:.4f},{2 * 4 * elements / ms / 1e6:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"# {torch.cuda.get_device_name(device)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    print("kind,op,rows,cols,elements,ms,gb_per_s")
    for n in ELEMENTWISE_SIZES:
        x = torch.randn(n, device=device)
        y = torch.empty_like(x)
        row("copy", "copy", 1, n, median_ms(lambda: y.copy_(x), args.reps))
        for name, fn in ELEMENTWISE.items():
            row("elementwise", name, 1, n, median_ms(lambda: fn(x), args.reps))
        del x, y
    for cols in SOFTMAX_COLS:
        rows = SOFTMAX_ELEMENTS // cols
        x = torch.randn(rows, cols, device=device)
        row("rowwise", "softmax", rows, cols, median_ms(lambda: torch.softmax(x, dim=1), args.reps))
        row("rowwise", "log_softmax", rows, cols, median_ms(lambda: torch.log_softmax(x, dim=1), args.reps))
        del x


if __name__ == "__main__":
    main()
