// Maxout: y[r, j] = max over p < k of x[r, j*k + p]. A NaN wins (NaN in, NaN out); the backward pass sends dy
// to the first position holding the maximum (or the first NaN).
#pragma once

// The position of the first maximum of piece[0 .. k), and the maximum itself in `max`.
__device__ __forceinline__ int first_max(const float* piece, int k, float& max) {
    int best = 0;
    max = piece[0];
    for (int p = 1; p < k; p++) {
        const float v = piece[p];
        if (max == max && (v > max || v != v)) {
            best = p;
            max = v;
        }
    }
    return best;
}

// Grid-stride over the outputs t = r * outCols + j, carrying (r, j) along: one division per thread, not per output.
template <typename F>
__device__ __forceinline__ void for_each_output(long long rows, long long outCols, F f) {
    if (outCols < 1) return;
    const long long step = global_threads(), step_r = step / outCols, step_j = step % outCols;
    long long t = global_thread(), r = t / outCols, j = t % outCols;
    for (; t < rows * outCols; t += step) {
        f(r, j);
        r += step_r;
        j += step_j;
        if (j >= outCols) {
            j -= outCols;
            r++;
        }
    }
}

GPUACT_KERNEL void __launch_bounds__(256)
GPUACT_KERNEL_NAME(maxout, fwd)(const float* x, float* y, long long rows, long long outCols, int k,
                                long long xStride, long long yStride) {
    for_each_output(rows, outCols, [&](long long r, long long j) {
        float max;
        first_max(x + r * xStride + j * k, k, max);
        y[r * yStride + j] = max;
    });
}

GPUACT_KERNEL void __launch_bounds__(256)
GPUACT_KERNEL_NAME(maxout, bwd)(const float* x, const float* dy, float* dx, long long rows, long long outCols,
                                int k, long long xStride, long long yStride) {
    for_each_output(rows, outCols, [&](long long r, long long j) {
        float max;
        const int best = first_max(x + r * xStride + j * k, k, max);
        const float g = dy[r * yStride + j];
        float* out = dx + r * xStride + j * k;
        for (int p = 0; p < k; p++) out[p] = p == best ? g : 0.0f;
    });
}
