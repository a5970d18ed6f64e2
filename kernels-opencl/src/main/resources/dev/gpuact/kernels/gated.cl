/* Gated activations, generated from gated.def: y = f(gate) * other, in the two shapes of the elementwise kernels
 * (dev.gpuact.opencl.ElementwiseShape): gpuact_<id>_fwd, _bwd take one output element per work-item (a GPU);
 * gpuact_<id>_fwd_strip, _bwd_strip a strip of GPUACT_STRIP consecutive columns of one row (a CPU device, where the
 * strip loop becomes vector code, as the plain op's does).
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

/* The strip of columns [first, first + GPUACT_STRIP) of the group's row; only a row's last strip is partial. */
#define GPUACT_GATED_STRIP(BODY) { \
    ulong gpuact_row = get_group_id(0) / groups_per_row; \
    ulong first = ((get_group_id(0) - gpuact_row * groups_per_row) * get_local_size(0) + get_local_id(0)) \
            * GPUACT_STRIP; \
    if (first + GPUACT_STRIP <= hidden) { \
        for (ulong col = first; col < first + GPUACT_STRIP; col++) { \
            ulong i = gpuact_row * hidden + col; \
            ulong j = gpuact_row * stride + col; \
            BODY \
        } \
    } else { \
        for (ulong col = first; col < hidden; col++) { \
            ulong i = gpuact_row * hidden + col; \
            ulong j = gpuact_row * stride + col; \
            BODY \
        } \
    } \
}

#define GPUACT_GATED_KERNELS(NAME, FORWARD, BACKWARD, ELEMENTS) \
__kernel void FORWARD(__global const float *gate, __global const float *other, \
                                              __global float *y, ulong groups_per_row, ulong hidden, \
                                              ulong stride, ulong gate_offset, ulong other_offset, float a, \
                                              float b) { \
    ELEMENTS(y[i] = gpuact_fwd_##NAME(gate[gate_offset + j], a, b) * other[other_offset + j];) \
} \
__kernel void BACKWARD(__global const float *gate, __global const float *other, \
                                              __global const float *dy, __global float *dgate, \
                                              __global float *dother, ulong groups_per_row, ulong hidden, \
                                              ulong stride, ulong gate_offset, ulong other_offset, float a, \
                                              float b) { \
    ELEMENTS( \
        float g = gate[gate_offset + j]; \
        float o = other[other_offset + j]; \
        float d = dy[i]; \
        dother[other_offset + j] = d * gpuact_fwd_##NAME(g, a, b); \
        dgate[gate_offset + j] = gpuact_bwd_##NAME(g, d * o, a, b);) \
}

#define GPUACT_GATED(NAME, id) \
    GPUACT_GATED_KERNELS(NAME, GPUACT_KERNEL_NAME_OF(id##_fwd), GPUACT_KERNEL_NAME_OF(id##_bwd), \
                         GPUACT_GATED_ELEMENT) \
    GPUACT_GATED_KERNELS(NAME, GPUACT_KERNEL_NAME_OF(id##_fwd_strip), GPUACT_KERNEL_NAME_OF(id##_bwd_strip), \
                         GPUACT_GATED_STRIP)
#include "gated.def"
#undef GPUACT_GATED
