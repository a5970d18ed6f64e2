/* Elementwise kernels, generated from activations.def: one kernel per op and direction, so the op is a
 * compile-time choice and the per-element code has no switch. Kernel names: fwd_NAME, bwd_NAME.
 * x and y (dy and dx) may be the same buffer: each work-item reads its element before writing it. */
#include "activation_math.h"

#define GPUACT_OP(NAME, id) \
__kernel void fwd_##NAME(__global const float *x, __global float *y, ulong n, float a, float b) { \
    size_t i = get_global_id(0); \
    if (i < n) { \
        y[i] = gpuact_fwd_##NAME(x[i], a, b); \
    } \
}
#include "activations.def"
#undef GPUACT_OP

#define GPUACT_OP(NAME, id) \
__kernel void bwd_##NAME(__global const float *x, __global const float *dy, __global float *dx, ulong n, \
                         float a, float b) { \
    size_t i = get_global_id(0); \
    if (i < n) { \
        dx[i] = gpuact_bwd_##NAME(x[i], dy[i], a, b); \
    } \
}
#include "activations.def"
#undef GPUACT_OP

/* PReLU: leaky_relu with the slope of channel (i / inner) % channels. */
__kernel void prelu_fwd(__global const float *x, __global const float *weight, __global float *y, ulong n,
                        ulong channels, ulong inner) {
    size_t i = get_global_id(0);
    if (i < n) {
        y[i] = gpuact_fwd_LEAKY_RELU(x[i], weight[(i / inner) % channels], 0.0f);
    }
}

__kernel void prelu_bwd_dx(__global const float *x, __global const float *weight, __global const float *dy,
                           __global float *dx, ulong n, ulong channels, ulong inner) {
    size_t i = get_global_id(0);
    if (i < n) {
        dx[i] = gpuact_bwd_LEAKY_RELU(x[i], dy[i], weight[(i / inner) % channels], 0.0f);
    }
}

/* dweight, stage 1: work-group g sums chunk (g % chunks) of channel (g / chunks). The channel's j-th element
 * is x[(c + (j / inner) * channels) * inner + j % inner]; each work-item adds a fixed stride of j with Kahan,
 * then a fixed local tree combines them: the same split and order on every call, no atomics. x > 0 adds
 * nothing; NaN in x or dy propagates. */
__kernel void prelu_dweight_partial(__global const float *x, __global const float *dy, __global float *partial,
                                    ulong n, ulong channels, ulong inner, ulong chunks, ulong chunk_len) {
    __local float part[GPUACT_WG];
    size_t lid = get_local_id(0);
    ulong g = get_group_id(0);
    ulong c = g / chunks;
    ulong begin = (g % chunks) * chunk_len;
    float sum = 0.0f;
    float comp = 0.0f;
    for (ulong j = begin + lid; j < begin + chunk_len; j += GPUACT_WG) {
        ulong i = (c + (j / inner) * channels) * inner + j % inner;
        if (i >= n) {
            break; /* j only grows, and so does i */
        }
        float v = x[i];
        gpuact_kahan_add(&sum, &comp, v > 0.0f ? 0.0f : dy[i] * v);
    }
    part[lid] = sum - comp;
    for (uint span = GPUACT_WG / 2; span > 0; span >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < span) {
            part[lid] += part[lid + span];
        }
    }
    if (lid == 0) {
        partial[g] = part[0];
    }
}

/* dweight, stage 2: channel c adds its chunks in order. */
__kernel void prelu_dweight_finish(__global const float *partial, __global float *dweight, ulong channels,
                                   ulong chunks) {
    size_t c = get_global_id(0);
    if (c < channels) {
        float sum = 0.0f;
        float comp = 0.0f;
        for (ulong k = 0; k < chunks; k++) {
            gpuact_kahan_add(&sum, &comp, partial[c * chunks + k]);
        }
        dweight[c] = sum - comp;
    }
}
