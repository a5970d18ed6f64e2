// Gated activations, generated from gated.def: y = f(gate) * other with f the shared header's elementwise math.
// Output element i (dense [rows, hidden]) takes its inputs at (i / hidden) * stride + i % hidden of the gate and
// other pointers: one buffer [rows, 2H] (stride 2H, the host points gate and other at the two halves) or two dense
// buffers (stride H, where that is i). The row comes from a host-computed multiply-high (FastDiv of prelu.cuh), not
// a 64-bit division. The input gradients are laid out as the inputs; each thread reads its inputs before it writes,
// so an input gradient may be its own input's memory (in place).
#pragma once

struct GatedInput {
    long long hidden, stride;
    FastDiv by_hidden;
    __device__ __forceinline__ long long operator()(long long i) const {
        if (stride == hidden) return i;
        const long long row = by_hidden(i);
        return row * stride + (i - row * hidden);
    }
};

#define GPUACT_GATED_ARGS                                                                                    \
    long long n, long long hidden, long long stride, unsigned long long hiddenMagic, int hiddenShift, float a, \
        float b
#define GPUACT_GATED_INPUT GatedInput{hidden, stride, FastDiv(hiddenMagic, hiddenShift)}

#define GPUACT_GATED(NAME, id)                                                                               \
    GPUACT_KERNEL void __launch_bounds__(256)                                                                \
    GPUACT_KERNEL_NAME_OF(id##_fwd)(const float* gate, const float* other, float* y, GPUACT_GATED_ARGS) {    \
        const GatedInput input = GPUACT_GATED_INPUT;                                                         \
        for (long long i = global_thread(); i < n; i += global_threads()) {                                 \
            const long long j = input(i);                                                                    \
            y[i] = gpuact_fwd_##NAME(gate[j], a, b) * other[j];                                                 \
        }                                                                                                    \
    }                                                                                                        \
    GPUACT_KERNEL void __launch_bounds__(256)                                                                \
    GPUACT_KERNEL_NAME_OF(id##_bwd)(const float* gate, const float* other, const float* dy, float* dgate,     \
                                    float* dother, GPUACT_GATED_ARGS) {                                      \
        const GatedInput input = GPUACT_GATED_INPUT;                                                         \
        for (long long i = global_thread(); i < n; i += global_threads()) {                                 \
            const long long j = input(i);                                                                    \
            const float g = gate[j], o = other[j], d = dy[i];                                                   \
            dother[j] = d * gpuact_fwd_##NAME(g, a, b);                                                      \
            dgate[j] = gpuact_bwd_##NAME(g, d * o, a, b);                                                    \
        }                                                                                                    \
    }
#include "gated.def"
#undef GPUACT_GATED
