// One forward and one backward kernel per op of activations.def, generated: the math is the shared header's.
// Entry names are gpuact_<id>_fwd and gpuact_<id>_bwd (GPUACT_KERNEL_NAME), the ids of dev.gpuact.Op.
#pragma once

#define GPUACT_OP(NAME, id)                                                                                  \
    struct Forward_##NAME {                                                                                  \
        float a, b;                                                                                          \
        __device__ __forceinline__ float operator()(float x, long long) const {                              \
            return gpuact_fwd_##NAME(x, a, b);                                                               \
        }                                                                                                    \
    };                                                                                                       \
    struct Backward_##NAME {                                                                                 \
        float a, b;                                                                                          \
        __device__ __forceinline__ float operator()(float x, float dy, long long) const {                    \
            return gpuact_bwd_##NAME(x, dy, a, b);                                                           \
        }                                                                                                    \
    };                                                                                                       \
    GPUACT_KERNEL void __launch_bounds__(256)                                                                \
    GPUACT_KERNEL_NAME_OF(id##_fwd)(const float* x, float* y, long long n, float a, float b, int vec4) {     \
        map_unary(x, y, n, vec4, Forward_##NAME{a, b});                                                      \
    }                                                                                                        \
    GPUACT_KERNEL void __launch_bounds__(256)                                                                \
    GPUACT_KERNEL_NAME_OF(id##_bwd)(const float* x, const float* dy, float* dx, long long n, float a, float b, \
                                int vec4) {                                                                  \
        map_binary(x, dy, dx, n, vec4, Backward_##NAME{a, b});                                               \
    }
#include "activations.def"
#undef GPUACT_OP

// Backward from the saved output y: gpuact_<id>_bwdy, dx = dy * f'(y), for the ops of GPUACT_FROM_OUTPUT_OPS.
#define GPUACT_FROM_OUTPUT(NAME, id)                                                                         \
    struct BackwardFromOutput_##NAME {                                                                       \
        float a, b;                                                                                          \
        __device__ __forceinline__ float operator()(float y, float dy, long long) const {                    \
            return gpuact_bwdy_##NAME(y, dy, a, b);                                                          \
        }                                                                                                    \
    };                                                                                                       \
    GPUACT_KERNEL void __launch_bounds__(256)                                                                \
    GPUACT_KERNEL_NAME_OF(id##_bwdy)(const float* y, const float* dy, float* dx, long long n, float a, float b, \
                                 int vec4) {                                                                 \
        map_binary(y, dy, dx, n, vec4, BackwardFromOutput_##NAME{a, b});                                     \
    }
GPUACT_FROM_OUTPUT_OPS(GPUACT_FROM_OUTPUT)
#undef GPUACT_FROM_OUTPUT
