/* Softmax and log_softmax backward from the saved output y, one work-item per row (a plain loop along the row):
 *   gpuact_softmax_bwdy:      dx = y (dy - sum_j dy_j y_j) / T
 *   gpuact_log_softmax_bwdy:  dx = (dy - e^y sum_j dy_j) / T
 * The row sum is accumulated in float-float (each product's error by fma, each addition's by TwoSum), so long
 * rows keep the contract's bound. y and dy rows are y_stride apart, dx rows x_stride; dx is a buffer of its own. */
#include "activation_math.h"

#define GPUACT_ROWS_FROM_OUTPUT(NAME, TERM, TERM_LO, DX) \
__kernel void NAME(__global const float *y, __global const float *dy, __global float *dx, ulong rows, ulong cols, \
                   ulong x_stride, ulong y_stride, float temperature) { \
    size_t r = get_global_id(0); \
    if (r < rows) { \
        __global const float *yr = y + r * y_stride; \
        __global const float *dyr = dy + r * y_stride; \
        __global float *dxr = dx + r * x_stride; \
        float hi = 0.0f; \
        float lo = 0.0f; \
        for (ulong j = 0; j < cols; j++) { \
            float term = TERM; \
            float err; \
            hi = gpuact_two_sum(hi, term, &err); \
            lo += err + (TERM_LO); \
        } \
        float s = hi + lo; \
        for (ulong j = 0; j < cols; j++) { \
            dxr[j] = (DX) / temperature; \
        } \
    } \
}

GPUACT_ROWS_FROM_OUTPUT(GPUACT_KERNEL_NAME(softmax, bwdy), dyr[j] * yr[j], gpuact_fmaf(dyr[j], yr[j], -term),
                        yr[j] * (dyr[j] - s))
GPUACT_ROWS_FROM_OUTPUT(GPUACT_KERNEL_NAME(log_softmax, bwdy), dyr[j], 0.0f, dyr[j] - gpuact_expf(yr[j]) * s)
