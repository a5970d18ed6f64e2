/* Gated activations, generated from gated.def: y = f(gate) * other, one output element per work-item.
 * Output element i (dense [rows, hidden]) takes its inputs at offset + (i / hidden) * stride + i % hidden of the
 * gate and other buffers: one buffer [rows, 2H] (stride 2H, the halves H apart) or two dense buffers (stride H,
 * where that is i itself). The input gradients use the inputs' offsets. Each item reads its inputs before it
 * writes, so dgate may be the gate's memory and dother the other's (in place). */
#include "activation_math.h"

#define GPUACT_GATED_INPUT(i, hidden, stride) ((stride) == (hidden) ? (i) : (i) / (hidden) * (stride) + (i) % (hidden))

#define GPUACT_GATED(NAME, id) \
__kernel void GPUACT_KERNEL_NAME_OF(id##_fwd)(__global const float *gate, __global const float *other, \
                                              __global float *y, ulong n, ulong hidden, ulong stride, \
                                              ulong gate_offset, ulong other_offset, float a, float b) { \
    size_t i = get_global_id(0); \
    if (i < n) { \
        ulong j = GPUACT_GATED_INPUT(i, hidden, stride); \
        y[i] = gpuact_fwd_##NAME(gate[gate_offset + j], a, b) * other[other_offset + j]; \
    } \
} \
__kernel void GPUACT_KERNEL_NAME_OF(id##_bwd)(__global const float *gate, __global const float *other, \
                                              __global const float *dy, __global float *dgate, \
                                              __global float *dother, ulong n, ulong hidden, ulong stride, \
                                              ulong gate_offset, ulong other_offset, float a, float b) { \
    size_t i = get_global_id(0); \
    if (i < n) { \
        ulong j = GPUACT_GATED_INPUT(i, hidden, stride); \
        float g = gate[gate_offset + j]; \
        float o = other[other_offset + j]; \
        float d = dy[i]; \
        dother[other_offset + j] = d * gpuact_fwd_##NAME(g, a, b); \
        dgate[gate_offset + j] = gpuact_bwd_##NAME(g, d * o, a, b); \
    } \
}
#include "gated.def"
#undef GPUACT_GATED
