// Launch-side helpers shared by every kernel: grid-stride indexing, vector access, deterministic reductions.
#pragma once

#define GPUACT_KERNEL extern "C" __global__

// Dynamic shared memory, as a macro so the CPU emulator (../../../emulator) can hand each block its own buffer.
#ifndef GPUACT_DYNAMIC_SHARED
#define GPUACT_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

// Lane reductions use the xor butterfly: IEEE addition and the NaN-propagating max below are commutative, so
// every lane ends with the same bits and the order is fixed by the code, not by scheduling.
__device__ __forceinline__ float nan_max(float a, float b) {
    return (a > b || a != a) ? a : b;
}

__device__ __forceinline__ long long global_thread() {
    return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ long long global_threads() {
    return (long long)gridDim.x * blockDim.x;
}

template <typename T>
__device__ __forceinline__ T group_sum(T v, int width) {
    for (int offset = width >> 1; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

__device__ __forceinline__ float group_max(float v, int width) {
    for (int offset = width >> 1; offset > 0; offset >>= 1) {
        v = nan_max(v, __shfl_xor_sync(0xffffffffu, v, offset));
    }
    return v;
}

// Whole-block reductions: warps reduce, then warp 0 reduces the warp results; every thread gets the answer.
// `scratch` holds 32 values; the trailing barrier lets the caller reuse it at once.
template <typename T>
__device__ T block_sum(T v, T* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = group_sum(v, 32);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : T(0);
    v = group_sum(v, 32);
    __syncthreads();
    return v;
}

__device__ inline float block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = group_max(v, 32);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : -INFINITY;
    v = group_max(v, 32);
    __syncthreads();
    return v;
}

// The elementwise loops keep IN_FLIGHT loads per thread issued before any store: x and y may be the same memory
// (in place), so the compiler cannot move a load above an earlier store itself, and one float4 in flight per
// thread is too little to cover the memory latency.
constexpr int IN_FLIGHT = 4;

template <typename F>
__device__ __forceinline__ float apply(const F& f, float v, long long i) {
    return f(v, i);
}

template <typename F>
__device__ __forceinline__ float4 apply(const F& f, float4 v, long long i) {
    return make_float4(f(v.x, i * 4), f(v.y, i * 4 + 1), f(v.z, i * 4 + 2), f(v.w, i * 4 + 3));
}

template <typename G>
__device__ __forceinline__ float apply(const G& g, float v, float w, long long i) {
    return g(v, w, i);
}

template <typename G>
__device__ __forceinline__ float4 apply(const G& g, float4 v, float4 w, long long i) {
    return make_float4(g(v.x, w.x, i * 4), g(v.y, w.y, i * 4 + 1), g(v.z, w.z, i * 4 + 2), g(v.w, w.w, i * 4 + 3));
}

// y[i] = f(x[i]) for i < n, T = float or float4 (then i counts float4s and f gets element indices).
template <typename T, typename F>
__device__ __forceinline__ void map_unary_as(const T* x, T* y, long long n, const F& f) {
    const long long step = global_threads();
    long long i = global_thread();
    for (; i + (IN_FLIGHT - 1) * step < n; i += IN_FLIGHT * step) {
        T v[IN_FLIGHT];
#pragma unroll
        for (int u = 0; u < IN_FLIGHT; u++) v[u] = x[i + u * step];
#pragma unroll
        for (int u = 0; u < IN_FLIGHT; u++) y[i + u * step] = apply(f, v[u], i + u * step);
    }
    for (; i < n; i += step) y[i] = apply(f, x[i], i);
}

template <typename T, typename G>
__device__ __forceinline__ void map_binary_as(const T* x, const T* d, T* out, long long n, const G& g) {
    const long long step = global_threads();
    long long i = global_thread();
    for (; i + (IN_FLIGHT - 1) * step < n; i += IN_FLIGHT * step) {
        T v[IN_FLIGHT], w[IN_FLIGHT];
#pragma unroll
        for (int u = 0; u < IN_FLIGHT; u++) {
            v[u] = x[i + u * step];
            w[u] = d[i + u * step];
        }
#pragma unroll
        for (int u = 0; u < IN_FLIGHT; u++) out[i + u * step] = apply(g, v[u], w[u], i + u * step);
    }
    for (; i < n; i += step) out[i] = apply(g, x[i], d[i], i);
}

// y[i] = f(x[i], i) over n elements: float4 when the host found every pointer 16-byte aligned, then the last
// n % 4 elements one by one.
template <typename F>
__device__ __forceinline__ void map_unary(const float* x, float* y, long long n, int vec4, F f) {
    if (!vec4) {
        map_unary_as(x, y, n, f);
        return;
    }
    map_unary_as(reinterpret_cast<const float4*>(x), reinterpret_cast<float4*>(y), n >> 2, f);
    const long long i = (n & ~3LL) + global_thread();
    if (i < n) y[i] = f(x[i], i);
}

// out[i] = g(x[i], d[i], i): the backward passes.
template <typename G>
__device__ __forceinline__ void map_binary(const float* x, const float* d, float* out, long long n, int vec4, G g) {
    if (!vec4) {
        map_binary_as(x, d, out, n, g);
        return;
    }
    map_binary_as(reinterpret_cast<const float4*>(x), reinterpret_cast<const float4*>(d),
                  reinterpret_cast<float4*>(out), n >> 2, g);
    const long long i = (n & ~3LL) + global_thread();
    if (i < n) out[i] = g(x[i], d[i], i);
}
