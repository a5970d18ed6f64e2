/* Softmax and log_softmax backward from the saved output y, one work-item per row, 16 columns at a time (PoCL
 * vectorises a work-item's float16 along its row; a plain loop it vectorised across rows, each load a gather from
 * 16 rows, 2.2x the forward's time at 8192 columns):
 *   gpuact_softmax_bwdy:      dx = y (dy - sum_j dy_j y_j) / T
 *   gpuact_log_softmax_bwdy:  dx = (dy - e^y sum_j dy_j) / T
 * The row sum is accumulated per lane in float-float (each product's error by fma, each addition's by TwoSum) and
 * the lanes added in a fixed order, so long rows keep the contract's bound. The columns past a row's end read as 0,
 * which adds nothing. y and dy rows are y_stride apart, dx rows x_stride; dx is a buffer of its own. gpuact_load16,
 * gpuact_store16 and the rest of the program come from rowwise.cl, before this file in it. */
#include "activation_math.h"

/* hi + lo over the 16 lanes, in a fixed order, as one float. */
static inline float gpuact_lanes_total(float16 hi, float16 lo) {
    float h[16];
    float l[16];
    vstore16(hi, 0, h);
    vstore16(lo, 0, l);
    float sum = 0.0f;
    float err = 0.0f;
    for (int k = 0; k < 16; k++) {
        float e;
        sum = gpuact_two_sum(sum, h[k], &e);
        err += e + l[k];
    }
    return sum + err;
}

#define GPUACT_ROWS_FROM_OUTPUT(NAME, TERM, TERM_LO, DX) \
__kernel void NAME(__global const float *y, __global const float *dy, __global float *dx, ulong rows, ulong cols, \
                   ulong x_stride, ulong y_stride, float temperature) { \
    size_t r = get_global_id(0); \
    if (r < rows) { \
        __global const float *yr = y + r * y_stride; \
        __global const float *dyr = dy + r * y_stride; \
        __global float *dxr = dx + r * x_stride; \
        float16 hi = (float16) 0.0f; \
        float16 lo = (float16) 0.0f; \
        for (ulong j = 0; j < cols; j += 16) { \
            float16 yv = gpuact_load16(yr, j, cols, 0.0f); \
            float16 g = gpuact_load16(dyr, j, cols, 0.0f); \
            float16 term = TERM; \
            float16 t = hi + term; \
            float16 b = t - hi; \
            lo += ((hi - (t - b)) + (term - b)) + (TERM_LO); \
            hi = t; \
        } \
        float s = gpuact_lanes_total(hi, lo); \
        for (ulong j = 0; j < cols; j += 16) { \
            float16 yv = gpuact_load16(yr, j, cols, 0.0f); \
            float16 g = gpuact_load16(dyr, j, cols, 0.0f); \
            gpuact_store16((DX) / temperature, dxr, j, cols); \
        } \
    } \
}

GPUACT_ROWS_FROM_OUTPUT(GPUACT_KERNEL_NAME(softmax, bwdy), g * yv, fma(g, yv, -term), yv * (g - s))
GPUACT_ROWS_FROM_OUTPUT(GPUACT_KERNEL_NAME(log_softmax, bwdy), g, 0.0f, g - exp(yv) * s)
