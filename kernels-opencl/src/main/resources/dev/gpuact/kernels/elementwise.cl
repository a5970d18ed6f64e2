/* Elementwise kernels, generated from activations.def: one kernel per op, direction and shape, so the op is a
 * compile-time choice and the per-element code has no switch. The host picks the shape per device
 * (dev.gpuact.opencl.ElementwiseShape):
 *   gpuact_<id>_fwd, _bwd              one element per work-item: a GPU's coalesced launch;
 *   gpuact_<id>_fwd_strip, _bwd_strip  GPUACT_STRIP consecutive elements per work-item, on a CPU device: the strip
 *                                      loop becomes vector code and the work-group count (PoCL's per-group cost)
 *                                      drops by GPUACT_STRIP, which takes cheap ops to the copy limit.
 * gpuact_<id>_bwdy and _bwdy_strip take the saved output y in place of x (the ops of GPUACT_FROM_OUTPUT_OPS).
 * x and y (dy and dx) may be the same buffer: each element is read before it is written, by the same item.
 * The elements are stored as GPUACT_STORAGE (float, half or bfloat16, storage.h; float unless the build says
 * -DGPUACT_STORAGE=...) and computed in float: the host builds this file once more per 16-bit type it meets. */
#include "activation_math.h"
#include "storage.h"

#ifndef GPUACT_STORAGE
#define GPUACT_STORAGE float
#endif
#define GPUACT_STORAGE_T GPUACT_CAT(GPUACT_STORAGE_T_, GPUACT_STORAGE)
#define GPUACT_LOAD(p, i) GPUACT_CAT(GPUACT_LOAD_, GPUACT_STORAGE)(p, i)
#define GPUACT_STORE(p, i, v) GPUACT_CAT(GPUACT_STORE_, GPUACT_STORAGE)(p, i, v)

#define GPUACT_ITEM_ELEMENTS(i, n, BODY) { \
    size_t i = get_global_id(0); \
    if (i < (n)) { \
        BODY \
    } \
}

/* The loop of a whole strip has a constant trip count, so the compiler vectorises it; only the last item of the
 * range can hold a partial strip. */
#define GPUACT_STRIP_ELEMENTS(i, n, BODY) { \
    size_t gpuact_first = get_global_id(0) * GPUACT_STRIP; \
    if (gpuact_first + GPUACT_STRIP <= (n)) { \
        for (size_t i = gpuact_first; i < gpuact_first + GPUACT_STRIP; i++) { \
            BODY \
        } \
    } else { \
        for (size_t i = gpuact_first; i < (n); i++) { \
            BODY \
        } \
    } \
}

#define GPUACT_ELEMENTWISE_KERNELS(NAME, FORWARD, BACKWARD, ELEMENTS) \
__kernel void FORWARD(__global const GPUACT_STORAGE_T *x, __global GPUACT_STORAGE_T *y, ulong n, float a, float b) { \
    ELEMENTS(i, n, GPUACT_STORE(y, i, gpuact_fwd_##NAME(GPUACT_LOAD(x, i), a, b));) \
} \
__kernel void BACKWARD(__global const GPUACT_STORAGE_T *x, __global const GPUACT_STORAGE_T *dy, \
                       __global GPUACT_STORAGE_T *dx, ulong n, float a, float b) { \
    ELEMENTS(i, n, GPUACT_STORE(dx, i, gpuact_bwd_##NAME(GPUACT_LOAD(x, i), GPUACT_LOAD(dy, i), a, b));) \
}

#define GPUACT_OP(NAME, id) \
    GPUACT_ELEMENTWISE_KERNELS(NAME, GPUACT_KERNEL_NAME_OF(id##_fwd), GPUACT_KERNEL_NAME_OF(id##_bwd), \
                               GPUACT_ITEM_ELEMENTS) \
    GPUACT_ELEMENTWISE_KERNELS(NAME, GPUACT_KERNEL_NAME_OF(id##_fwd_strip), GPUACT_KERNEL_NAME_OF(id##_bwd_strip), \
                               GPUACT_STRIP_ELEMENTS)
#include "activations.def"
#undef GPUACT_OP

/* Backward from the saved output: gpuact_<id>_bwdy and _bwdy_strip, dx = dy * f'(y), for GPUACT_FROM_OUTPUT_OPS. */
#define GPUACT_FROM_OUTPUT_KERNELS(NAME, KERNEL, ELEMENTS) \
__kernel void KERNEL(__global const GPUACT_STORAGE_T *y, __global const GPUACT_STORAGE_T *dy, \
                     __global GPUACT_STORAGE_T *dx, ulong n, float a, float b) { \
    ELEMENTS(i, n, GPUACT_STORE(dx, i, gpuact_bwdy_##NAME(GPUACT_LOAD(y, i), GPUACT_LOAD(dy, i), a, b));) \
}
#define GPUACT_FROM_OUTPUT(NAME, id) \
    GPUACT_FROM_OUTPUT_KERNELS(NAME, GPUACT_KERNEL_NAME_OF(id##_bwdy), GPUACT_ITEM_ELEMENTS) \
    GPUACT_FROM_OUTPUT_KERNELS(NAME, GPUACT_KERNEL_NAME_OF(id##_bwdy_strip), GPUACT_STRIP_ELEMENTS)
GPUACT_FROM_OUTPUT_OPS(GPUACT_FROM_OUTPUT)
#undef GPUACT_FROM_OUTPUT

/* PReLU: leaky_relu with the slope of channel (i / inner) % channels. */
__kernel void GPUACT_KERNEL_NAME(prelu, fwd)(__global const float *x, __global const float *weight, __global float *y,
                                             ulong n, ulong channels, ulong inner) {
    size_t i = get_global_id(0);
    if (i < n) {
        y[i] = gpuact_fwd_LEAKY_RELU(x[i], weight[(i / inner) % channels], 0.0f);
    }
}

__kernel void GPUACT_KERNEL_NAME(prelu, bwd)(__global const float *x, __global const float *weight,
                                             __global const float *dy, __global float *dx, ulong n, ulong channels,
                                             ulong inner) {
    size_t i = get_global_id(0);
    if (i < n) {
        dx[i] = gpuact_bwd_LEAKY_RELU(x[i], dy[i], weight[(i / inner) % channels], 0.0f);
    }
}

/* dweight is a sum whose terms cancel (dy has either sign), so it is accumulated in float-float: every product's
 * rounding error (fma) and every addition's (TwoSum) is kept in a low word, and partials travel as hi, lo pairs. */
static inline void gpuact_ff_add(float *hi, float *lo, float v_hi, float v_lo) {
    float err;
    *hi = gpuact_two_sum(*hi, v_hi, &err);
    *lo += err + v_lo;
}

/* Stage 1 of a per-channel sum (PReLU's dweight, the bias gradient): work-group g sums chunk (g % chunks) of
 * channel (g / chunks). The channel's j-th element is x[(c + (j / inner) * channels) * inner + j % inner]; each
 * work-item adds a fixed stride of j, then a fixed local tree combines them: the same split and order on every
 * call, no atomics. TERM(i, c, OP) adds element i's terms into (hi, lo) with gpuact_ff_add. partial holds a hi, lo
 * pair per work-group. Expands to statements at kernel scope (the __local arrays must be declared there). */
#define GPUACT_CHANNEL_PARTIAL_SUM(partial, n, channels, inner, chunks, chunk_len, TERM, OP) \
    __local float part_hi[GPUACT_WG]; \
    __local float part_lo[GPUACT_WG]; \
    size_t lid = get_local_id(0); \
    ulong g = get_group_id(0); \
    ulong c = g / (chunks); \
    ulong begin = (g % (chunks)) * (chunk_len); \
    float hi = 0.0f; \
    float lo = 0.0f; \
    ulong last_block = ((n) - 1) / (inner); \
    for (ulong j = begin + lid; j < begin + (chunk_len); j += GPUACT_WG) { \
        /* The block is compared before it is multiplied by inner: for an inner near 2^63, block * inner wraps \
         * around 2^64 and would land on another channel's elements. */ \
        ulong block = c + (j / (inner)) * (channels); \
        if (block > last_block) { \
            break; /* j only grows, and so does i */ \
        } \
        ulong i = block * (inner) + j % (inner); \
        if (i >= (n)) { \
            break; \
        } \
        TERM(i, c, OP) \
    } \
    part_hi[lid] = hi; \
    part_lo[lid] = lo; \
    for (uint span = GPUACT_WG / 2; span > 0; span >>= 1) { \
        barrier(CLK_LOCAL_MEM_FENCE); \
        if (lid < span) { \
            float h = part_hi[lid]; \
            float l = part_lo[lid]; \
            gpuact_ff_add(&h, &l, part_hi[lid + span], part_lo[lid + span]); \
            part_hi[lid] = h; \
            part_lo[lid] = l; \
        } \
    } \
    if (lid == 0) { \
        (partial)[2 * g] = part_hi[0]; \
        (partial)[2 * g + 1] = part_lo[0]; \
    }

/* dweight, stage 1: x > 0 adds nothing; NaN in x or dy propagates. */
#define GPUACT_PRELU_DWEIGHT_TERM(i, c, OP) { \
    float v = x[i]; \
    if (!(v > 0.0f)) { \
        float p = dy[i] * v; \
        gpuact_ff_add(&hi, &lo, p, gpuact_fmaf(dy[i], v, -p)); \
    } \
}
__kernel void GPUACT_KERNEL_NAME(prelu, dweight_partial)(__global const float *x, __global const float *dy,
                                                         __global float *partial, ulong n, ulong channels,
                                                         ulong inner, ulong chunks, ulong chunk_len) {
    GPUACT_CHANNEL_PARTIAL_SUM(partial, n, channels, inner, chunks, chunk_len, GPUACT_PRELU_DWEIGHT_TERM, PRELU)
}

/* dweight, stage 2: channel c adds its chunks in order (the bias gradient's stage 2 too). */
__kernel void GPUACT_KERNEL_NAME(prelu, dweight_finish)(__global const float *partial, __global float *dweight,
                                                        ulong channels, ulong chunks) {
    size_t c = get_global_id(0);
    if (c < channels) {
        float hi = 0.0f;
        float lo = 0.0f;
        for (ulong k = c * chunks; k < (c + 1) * chunks; k++) {
            gpuact_ff_add(&hi, &lo, partial[2 * k], partial[2 * k + 1]);
        }
        dweight[c] = hi + lo;
    }
}

/* Bias and activation: y = f(x + bias[c]) with c = (i / inner) % channels, the sum rounded to float first, then
 * the op's own math. gpuact_<id>_bias_fwd and _bias_fwd_strip, in the shapes of the plain op; x and y may be one
 * buffer: each element is read before it is written, by the same item. */
#define GPUACT_BIAS_FORWARD_KERNEL(NAME, KERNEL) \
__kernel void KERNEL(__global const float *x, __global const float *bias, __global float *y, ulong n, \
                     ulong channels, ulong inner, float a, float b) { \
    GPUACT_ITEM_ELEMENTS(i, n, y[i] = gpuact_fwd_##NAME(x[i] + bias[(i / inner) % channels], a, b);) \
}

/* A strip finds its first channel with one division. When the strip's bias values are consecutive (a bias per
 * column, the strip inside one run of columns) or one value (the strip inside one channel's run of inner
 * elements), the strip loop reads them as such and vectorises as the plain op's; other strips divide per element.
 * A division per element, which no CPU vectorises, made the fused op 8x slower than the plain one on PoCL.
 * BODY uses element i and its bias value bv. */
#define GPUACT_BIAS_STRIP(i, bv, BODY) { \
    ulong first = get_global_id(0) * GPUACT_STRIP; \
    ulong c0 = (first / inner) % channels; \
    bool whole = first + GPUACT_STRIP <= n; \
    if (whole && inner == 1 && c0 + GPUACT_STRIP <= channels) { \
        for (uint k = 0; k < GPUACT_STRIP; k++) { \
            ulong i = first + k; \
            float bv = bias[c0 + k]; \
            BODY \
        } \
    } else if (whole && first % inner + GPUACT_STRIP <= inner) { \
        float bv = bias[c0]; \
        for (ulong i = first; i < first + GPUACT_STRIP; i++) { \
            BODY \
        } \
    } else { \
        for (ulong i = first; i < min(first + GPUACT_STRIP, n); i++) { \
            float bv = bias[(i / inner) % channels]; \
            BODY \
        } \
    } \
}
#define GPUACT_BIAS_FORWARD_STRIP_KERNEL(NAME, KERNEL) \
__kernel void KERNEL(__global const float *x, __global const float *bias, __global float *y, ulong n, \
                     ulong channels, ulong inner, float a, float b) { \
    GPUACT_BIAS_STRIP(i, bv, y[i] = gpuact_fwd_##NAME(x[i] + bv, a, b);) \
}

/* gpuact_<id>_bias_bwd_strip: dx alone, in strips, for a CPU device with a bias per column, where the fused
 * kernel below would read x and dy a row apart; the bias gradient then comes from gpuact_bias_dbias_columns. */
#define GPUACT_BIAS_BACKWARD_STRIP_KERNEL(NAME, KERNEL) \
__kernel void KERNEL(__global const float *x, __global const float *bias, __global const float *dy, \
                     __global float *dx, ulong n, ulong channels, ulong inner, float a, float b) { \
    GPUACT_BIAS_STRIP(i, bv, dx[i] = gpuact_bwd_##NAME(x[i] + bv, dy[i], a, b);) \
}

/* gpuact_<id>_bias_bwd: dx = dy * f'(x + bias[c]) written as the per-channel sum of dx goes (stage 1 of the bias
 * gradient, finished by gpuact_prelu_dweight_finish): one pass over x and dy. dx may be x's or dy's buffer: each
 * element is read before it is written, by the same item. */
#define GPUACT_BIAS_DX_TERM(i, c, NAME) { \
    float d = gpuact_bwd_##NAME(x[i] + bias[c], dy[i], a, b); \
    dx[i] = d; \
    gpuact_ff_add(&hi, &lo, d, 0.0f); \
}
#define GPUACT_BIAS_BACKWARD_KERNEL(NAME, KERNEL) \
__kernel void KERNEL(__global const float *x, __global const float *bias, __global const float *dy, \
                     __global float *dx, __global float *partial, ulong n, ulong channels, ulong inner, \
                     ulong chunks, ulong chunk_len, float a, float b) { \
    GPUACT_CHANNEL_PARTIAL_SUM(partial, n, channels, inner, chunks, chunk_len, GPUACT_BIAS_DX_TERM, NAME) \
}

#define GPUACT_OP(NAME, id) \
    GPUACT_BIAS_FORWARD_KERNEL(NAME, GPUACT_KERNEL_NAME_OF(id##_bias_fwd)) \
    GPUACT_BIAS_FORWARD_STRIP_KERNEL(NAME, GPUACT_KERNEL_NAME_OF(id##_bias_fwd_strip)) \
    GPUACT_BIAS_BACKWARD_KERNEL(NAME, GPUACT_KERNEL_NAME_OF(id##_bias_bwd)) \
    GPUACT_BIAS_BACKWARD_STRIP_KERNEL(NAME, GPUACT_KERNEL_NAME_OF(id##_bias_bwd_strip))
#include "activations.def"
#undef GPUACT_OP

/* The bias gradient of a bias per column (inner 1) from dx, stage 1: item g sums column c = g % channels over the
 * rows of chunk k = g / channels, in row order, so a work-group's items read consecutive columns of each row
 * (contiguous memory) and every call splits and orders the sum the same way. partial holds a hi, lo pair per
 * (c, k) at c * chunks + k, as gpuact_prelu_dweight_finish adds them. */
__kernel void gpuact_bias_dbias_columns(__global const float *dx, __global float *partial, ulong n, ulong channels,
                                        ulong chunks, ulong chunk_rows) {
    ulong g = get_global_id(0);
    if (g >= channels * chunks) {
        return;
    }
    ulong c = g % channels;
    ulong k = g / channels;
    ulong end = min((k + 1) * chunk_rows * channels, n);
    float hi = 0.0f;
    float lo = 0.0f;
    for (ulong i = k * chunk_rows * channels + c; i < end; i += channels) {
        gpuact_ff_add(&hi, &lo, dx[i], 0.0f);
    }
    partial[2 * (c * chunks + k)] = hi;
    partial[2 * (c * chunks + k) + 1] = lo;
}
