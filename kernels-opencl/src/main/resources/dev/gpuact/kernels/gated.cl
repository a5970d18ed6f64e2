/* Gated activations, generated from gated.def: y = f(gate) * other, one output element per work-item.
 * Each row of the output (dense [rows, hidden]) takes groups_per_row work-groups, so the row is the group's, one
 * division per group that a CPU device does once for all its items (a division per element, which no CPU
 * vectorises, made the kernel 10x slower on PoCL). Element (row, col) takes its inputs at offset + row * stride +
 * col of the gate and other buffers: one buffer [rows, 2H] (stride 2H, the halves H apart) or two dense buffers
 * (stride H, one row). The input gradients use the inputs' offsets. Each item reads its inputs before it writes,
 * so dgate may be the gate's memory and dother the other's (in place). */
#include "activation_math.h"

#define GPUACT_GATED_ELEMENT(BODY) { \
    ulong gpuact_row = get_group_id(0) / groups_per_row; \
    ulong col = (get_group_id(0) - gpuact_row * groups_per_row) * get_local_size(0) + get_local_id(0); \
    if (col < hidden) { \
        ulong i = gpuact_row * hidden + col; \
        ulong j = gpuact_row * stride + col; \
        BODY \
    } \
}

#define GPUACT_GATED(NAME, id) \
__kernel void GPUACT_KERNEL_NAME_OF(id##_fwd)(__global const float *gate, __global const float *other, \
                                              __global float *y, ulong groups_per_row, ulong hidden, \
                                              ulong stride, ulong gate_offset, ulong other_offset, float a, \
                                              float b) { \
    GPUACT_GATED_ELEMENT(y[i] = gpuact_fwd_##NAME(gate[gate_offset + j], a, b) * other[other_offset + j];) \
} \
__kernel void GPUACT_KERNEL_NAME_OF(id##_bwd)(__global const float *gate, __global const float *other, \
                                              __global const float *dy, __global float *dgate, \
                                              __global float *dother, ulong groups_per_row, ulong hidden, \
                                              ulong stride, ulong gate_offset, ulong other_offset, float a, \
                                              float b) { \
    GPUACT_GATED_ELEMENT( \
        float g = gate[gate_offset + j]; \
        float o = other[other_offset + j]; \
        float d = dy[i]; \
        dother[other_offset + j] = d * gpuact_fwd_##NAME(g, a, b); \
        dgate[gate_offset + j] = gpuact_bwd_##NAME(g, d * o, a, b);) \
}
#include "gated.def"
#undef GPUACT_GATED
