// PReLU: leaky_relu with the slope of the element's channel c = (i / inner) % channels.
// dweight is reduced without atomics: a fixed grid of (channel, slice) blocks writes partial sums in double,
// then one thread per channel adds its slices in order, so the bits never depend on scheduling.
#pragma once

// floor(n / d) for 0 <= n < 2^63 by a multiply-high and a shift, with (magic, shift) from the host
// (dev.gpuact.cuda.FastDivision; magic 0 is d = 1). A 64-bit division per element would be a subroutine call.
struct FastDiv {
    unsigned long long magic, keep;
    int shift;
    __device__ __forceinline__ FastDiv(unsigned long long m, int s) : magic(m), keep(m ? 0ull : ~0ull), shift(s) {}
    __device__ __forceinline__ long long operator()(long long n) const {
        const unsigned long long u = (unsigned long long)n;
        return (long long)((__umul64hi(u, magic) | (u & keep)) >> shift);
    }
};

// The channel (i / inner) % channels of element i; walk() moves to the next element without dividing.
struct ChannelOf {
    long long channels, inner;
    FastDiv by_inner, by_channels;
    struct Position {
        long long channel, offset;  // offset = i % inner
    };
    __device__ __forceinline__ Position at(long long i) const {
        const long long q = by_inner(i);
        return {q - by_channels(q) * channels, i - q * inner};
    }
    __device__ __forceinline__ void walk(Position& p) const {
        if (++p.offset == inner) {
            p.offset = 0;
            if (++p.channel == channels) p.channel = 0;
        }
    }
};

struct PreluForward {
    const float* weight;
    ChannelOf channel;
    __device__ __forceinline__ float operator()(float x, long long i) const {
        return gpuact_fwd_LEAKY_RELU(x, weight[channel.at(i).channel], 0.0f);
    }
};

struct PreluBackward {
    const float* weight;
    ChannelOf channel;
    __device__ __forceinline__ float operator()(float x, float dy, long long i) const {
        return gpuact_bwd_LEAKY_RELU(x, dy, weight[channel.at(i).channel], 0.0f);
    }
};

// The four elements of a float4 share one division (found by overload resolution from map_unary/map_binary).
__device__ __forceinline__ float4 apply(const PreluForward& f, float4 v, long long i4) {
    ChannelOf::Position p = f.channel.at(i4 * 4);
    float out[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int k = 0; k < 4; k++) {
        out[k] = gpuact_fwd_LEAKY_RELU(out[k], f.weight[p.channel], 0.0f);
        f.channel.walk(p);
    }
    return make_float4(out[0], out[1], out[2], out[3]);
}

__device__ __forceinline__ float4 apply(const PreluBackward& g, float4 v, float4 w, long long i4) {
    ChannelOf::Position p = g.channel.at(i4 * 4);
    const float xs[4] = {v.x, v.y, v.z, v.w}, dys[4] = {w.x, w.y, w.z, w.w};
    float out[4];
#pragma unroll
    for (int k = 0; k < 4; k++) {
        out[k] = gpuact_bwd_LEAKY_RELU(xs[k], dys[k], g.weight[p.channel], 0.0f);
        g.channel.walk(p);
    }
    return make_float4(out[0], out[1], out[2], out[3]);
}

#define GPUACT_CHANNEL_ARGS                                                                                      \
    long long channels, long long inner, unsigned long long innerMagic, int innerShift,                          \
        unsigned long long channelsMagic, int channelsShift
#define GPUACT_CHANNEL_OF                                                                                        \
    ChannelOf{channels, inner, FastDiv(innerMagic, innerShift), FastDiv(channelsMagic, channelsShift)}

GPUACT_KERNEL void __launch_bounds__(256)
GPUACT_KERNEL_NAME(prelu, fwd)(const float* x, const float* weight, float* y, long long n, GPUACT_CHANNEL_ARGS,
                               int vec4) {
    map_unary(x, y, n, vec4, PreluForward{weight, GPUACT_CHANNEL_OF});
}

GPUACT_KERNEL void __launch_bounds__(256)
GPUACT_KERNEL_NAME(prelu, bwd)(const float* x, const float* weight, const float* dy, float* dx, long long n,
                               GPUACT_CHANNEL_ARGS, int vec4) {
    map_binary(x, dy, dx, n, vec4, PreluBackward{weight, GPUACT_CHANNEL_OF});
}

// A per-channel sum over a fixed grid (PReLU's dweight, the bias gradient): block b sums slice (b % slices) of
// channel (b / slices) into partials[b], in double. A channel's elements are numbered t = k * inner + j for
// i = (k * channels + c) * inner + j; slice s takes t = s * blockDim + tid + m * slices * blockDim. term(i, c)
// gives element i's term. scratch is the kernel's __shared__ double[32]. t / inner is a multiply-high (byInner):
// a 64-bit division per element would be a subroutine call.
template <typename Term>
__device__ __forceinline__ void channel_partial_sums(double* partials, long long n, long long channels,
                                                     long long inner, FastDiv byInner, int slices,
                                                     const Term& term, double* scratch) {
    const long long perChannel = ((n + channels * inner - 1) / (channels * inner)) * inner;
    for (long long b = blockIdx.x; b < channels * slices; b += gridDim.x) {
        const long long c = b / slices, s = b % slices;
        double acc = 0.0;
        for (long long t = s * blockDim.x + threadIdx.x; t < perChannel; t += (long long)slices * blockDim.x) {
            const long long k = byInner(t);
            const long long i = (k * channels + c) * inner + (t - k * inner);
            if (i < n) acc += term(i, c);
        }
        acc = block_sum(acc, scratch);
        if (threadIdx.x == 0) partials[b] = acc;
    }
}

// dweight's term: dy x where x <= 0 (NaN in x or dy propagates).
struct PreluWeightTerm {
    const float *x, *dy;
    __device__ __forceinline__ double operator()(long long i, long long) const {
        return x[i] <= 0.0f ? (double)dy[i] * (double)x[i] : 0.0;
    }
};

GPUACT_KERNEL void __launch_bounds__(256)
GPUACT_KERNEL_NAME(prelu, dweight_partial)(const float* x, const float* dy, double* partials, long long n,
                                           long long channels, long long inner, unsigned long long innerMagic,
                                           int innerShift, int slices) {
    __shared__ double scratch[32];
    channel_partial_sums(partials, n, channels, inner, FastDiv(innerMagic, innerShift), slices,
                         PreluWeightTerm{x, dy}, scratch);
}

// Stage 2 of a per-channel sum: one thread per channel adds its slices in order.
GPUACT_KERNEL void __launch_bounds__(256)
GPUACT_KERNEL_NAME(prelu, dweight_finish)(const double* partials, float* dweight, long long channels, int slices) {
    for (long long c = global_thread(); c < channels; c += global_threads()) {
        double sum = 0.0;
        for (int s = 0; s < slices; s++) sum += partials[c * slices + s];
        dweight[c] = (float)sum;
    }
}
