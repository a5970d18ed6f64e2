// PReLU: leaky_relu with the slope of the element's channel c = (i / inner) % channels.
// dweight is reduced without atomics: a fixed grid of (channel, slice) blocks writes partial sums in double,
// then one thread per channel adds its slices in order, so the bits never depend on scheduling.
#pragma once

__device__ __forceinline__ long long channel_of(long long i, long long channels, long long inner) {
    return (i / inner) % channels;
}

struct PreluForward {
    const float* weight;
    long long channels, inner;
    __device__ __forceinline__ float operator()(float x, long long i) const {
        return gpuact_fwd_LEAKY_RELU(x, weight[channel_of(i, channels, inner)], 0.0f);
    }
};

struct PreluBackward {
    const float* weight;
    long long channels, inner;
    __device__ __forceinline__ float operator()(float x, float dy, long long i) const {
        return gpuact_bwd_LEAKY_RELU(x, dy, weight[channel_of(i, channels, inner)], 0.0f);
    }
};

GPUACT_KERNEL void __launch_bounds__(256)
gpuact_prelu_fwd(const float* x, const float* weight, float* y, long long n, long long channels, long long inner,
                 int vec4) {
    map_unary(x, y, n, vec4, PreluForward{weight, channels, inner});
}

GPUACT_KERNEL void __launch_bounds__(256)
gpuact_prelu_bwd(const float* x, const float* weight, const float* dy, float* dx, long long n, long long channels,
                 long long inner, int vec4) {
    map_binary(x, dy, dx, n, vec4, PreluBackward{weight, channels, inner});
}

// Block b sums slice (b % slices) of channel (b / slices). A channel's elements are numbered
// t = k * inner + j for i = (k * channels + c) * inner + j; slice s takes t = s * blockDim + tid + m * slices * blockDim.
GPUACT_KERNEL void __launch_bounds__(256)
gpuact_prelu_dweight_partial(const float* x, const float* dy, double* partials, long long n, long long channels,
                             long long inner, int slices) {
    __shared__ double scratch[32];
    const long long perChannel = ((n + channels * inner - 1) / (channels * inner)) * inner;
    for (long long b = blockIdx.x; b < channels * slices; b += gridDim.x) {
        const long long c = b / slices, s = b % slices;
        double acc = 0.0;
        for (long long t = s * blockDim.x + threadIdx.x; t < perChannel; t += (long long)slices * blockDim.x) {
            const long long i = ((t / inner) * channels + c) * inner + t % inner;
            if (i < n && x[i] <= 0.0f) {
                acc += (double)dy[i] * (double)x[i];
            }
        }
        acc = block_sum(acc, scratch);
        if (threadIdx.x == 0) partials[b] = acc;
    }
}

GPUACT_KERNEL void __launch_bounds__(256)
gpuact_prelu_dweight_finish(const double* partials, float* dweight, long long channels, int slices) {
    for (long long c = global_thread(); c < channels; c += global_threads()) {
        double sum = 0.0;
        for (int s = 0; s < slices; s++) sum += partials[c * slices + s];
        dweight[c] = (float)sum;
    }
}
