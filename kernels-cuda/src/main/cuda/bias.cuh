// Bias and activation: y = f(x + bias[c]) with c = (i / inner) % channels as PReLU finds it, the sum rounded to
// float first, then the op's own functor of elementwise.cuh. Backward: dx = dy * f'(x + bias[c]), written while
// the bias gradient is summed per channel as PReLU's dweight is (channel_partial_sums, then
// gpuact_prelu_dweight_finish): one pass over x and dy, no atomics, the same bits every call.
#pragma once

template <typename F>
struct BiasForward {
    F f;
    const float* bias;
    ChannelOf channel;
    __device__ __forceinline__ float operator()(float x, long long i) const {
        return f(x + bias[channel.at(i).channel], i);
    }
};

// The four elements of a float4 share one division, as PReLU's do.
template <typename F>
__device__ __forceinline__ float4 apply(const BiasForward<F>& g, float4 v, long long i4) {
    ChannelOf::Position p = g.channel.at(i4 * 4);
    float out[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int k = 0; k < 4; k++) {
        out[k] = g.f(out[k] + g.bias[p.channel], i4 * 4 + k);
        g.channel.walk(p);
    }
    return make_float4(out[0], out[1], out[2], out[3]);
}

// The bias gradient's term is dx itself, stored on the way: each element is read and written by one thread, so
// dx may be x's or dy's memory.
template <typename G>
struct BiasBackwardTerm {
    G g;
    const float *x, *bias, *dy;
    float* dx;
    __device__ __forceinline__ double operator()(long long i, long long c) const {
        const float d = g(x[i] + bias[c], dy[i], i);
        dx[i] = d;
        return (double)d;
    }
};

// gpuact_<id>_bias_fwd and gpuact_<id>_bias_bwd for every op of activations.def.
#define GPUACT_OP(NAME, id)                                                                                  \
    GPUACT_KERNEL void __launch_bounds__(256)                                                                \
    GPUACT_KERNEL_NAME_OF(id##_bias_fwd)(const float* x, const float* bias, float* y, long long n,           \
                                         GPUACT_CHANNEL_ARGS, float a, float b, int vec4) {                  \
        map_unary(x, y, n, vec4, BiasForward<Forward_##NAME>{Forward_##NAME{a, b}, bias, GPUACT_CHANNEL_OF}); \
    }                                                                                                        \
    GPUACT_KERNEL void __launch_bounds__(256)                                                                \
    GPUACT_KERNEL_NAME_OF(id##_bias_bwd)(const float* x, const float* bias, const float* dy, float* dx,      \
                                         double* partials, long long n, long long channels, long long inner, \
                                         unsigned long long innerMagic, int innerShift, int slices, float a,  \
                                         float b) {                                                          \
        __shared__ double scratch[32];                                                                       \
        channel_partial_sums(partials, n, channels, inner, FastDiv(innerMagic, innerShift), slices,          \
                             BiasBackwardTerm<Backward_##NAME>{Backward_##NAME{a, b}, x, bias, dy, dx}, scratch); \
    }
#include "activations.def"
#undef GPUACT_OP
