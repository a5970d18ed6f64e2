// Softmax and log_softmax backward from the saved output y, one warp per row:
//   gpuact_softmax_bwdy:      dx = y (dy - sum_j dy_j y_j) / T
//   gpuact_log_softmax_bwdy:  dx = (dy - e^y sum_j dy_j) / T
// Each lane sums its strided columns in float-float (fma for a product's error, TwoSum for an addition's); the
// lanes combine by xor butterfly, whose pairwise TwoSum is exact and so order-free: every lane ends with the
// same bits. y and dy rows are y_stride apart, dx rows x_stride.
#pragma once

__device__ __forceinline__ void ff_add(float& hi, float& lo, float v_hi, float v_lo) {
    float err;
    hi = gpuact_two_sum(hi, v_hi, &err);
    lo += err + v_lo;
}

template <bool LOG>
__device__ __forceinline__ void softmax_bwdy_row(const float* y, const float* dy, float* dx, long long rows,
                                                 long long cols, long long x_stride, long long y_stride, float t) {
    const long long row = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (row >= rows) {
        return;  // whole warps leave together: rows are per warp
    }
    const float* yr = y + row * y_stride;
    const float* dyr = dy + row * y_stride;
    float* dxr = dx + row * x_stride;
    float hi = 0.0f, lo = 0.0f;
    for (long long j = lane; j < cols; j += 32) {
        float term = LOG ? dyr[j] : dyr[j] * yr[j];
        ff_add(hi, lo, term, LOG ? 0.0f : fmaf(dyr[j], yr[j], -term));
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        float other_hi = __shfl_xor_sync(0xffffffffu, hi, offset);
        float other_lo = __shfl_xor_sync(0xffffffffu, lo, offset);
        ff_add(hi, lo, other_hi, other_lo);
    }
    const float s = hi + lo;
    for (long long j = lane; j < cols; j += 32) {
        dxr[j] = (LOG ? dyr[j] - expf(yr[j]) * s : yr[j] * (dyr[j] - s)) / t;
    }
}

GPUACT_KERNEL void __launch_bounds__(256) GPUACT_KERNEL_NAME(softmax, bwdy)(const float* y, const float* dy, float* dx,
                                                                          long long rows, long long cols,
                                                                          long long x_stride, long long y_stride,
                                                                          float temperature) {
    softmax_bwdy_row<false>(y, dy, dx, rows, cols, x_stride, y_stride, temperature);
}

GPUACT_KERNEL void __launch_bounds__(256) GPUACT_KERNEL_NAME(log_softmax, bwdy)(const float* y, const float* dy,
                                                                              float* dx, long long rows, long long cols,
                                                                              long long x_stride, long long y_stride,
                                                                              float temperature) {
    softmax_bwdy_row<true>(y, dy, dx, rows, cols, x_stride, y_stride, temperature);
}
