// Maxout: y[r, j] = max over p < k of x[r, j*k + p]. A NaN wins (NaN in, NaN out); the backward pass sends dy
// to the first position holding the maximum (or the first NaN).
#pragma once

__device__ __forceinline__ int first_max(const float* piece, int k) {
    int best = 0;
    for (int p = 1; p < k; p++) {
        const float v = piece[p], m = piece[best];
        if (m == m && (v > m || v != v)) best = p;
    }
    return best;
}

GPUACT_KERNEL void __launch_bounds__(256)
gpuact_maxout_fwd(const float* x, float* y, long long rows, long long outCols, int k, long long xStride,
                  long long yStride) {
    for (long long t = global_thread(); t < rows * outCols; t += global_threads()) {
        const long long r = t / outCols, j = t % outCols;
        const float* piece = x + r * xStride + j * k;
        y[r * yStride + j] = piece[first_max(piece, k)];
    }
}

GPUACT_KERNEL void __launch_bounds__(256)
gpuact_maxout_bwd(const float* x, const float* dy, float* dx, long long rows, long long outCols, int k,
                  long long xStride, long long yStride) {
    for (long long t = global_thread(); t < rows * outCols; t += global_threads()) {
        const long long r = t / outCols, j = t % outCols;
        const float* piece = x + r * xStride + j * k;
        const int best = first_max(piece, k);
        const float g = dy[r * yStride + j];
        float* out = dx + r * xStride + j * k;
        for (int p = 0; p < k; p++) out[p] = p == best ? g : 0.0f;
    }
}
