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

// y[i] = f(x[i]) over n elements: float4 when the host found every pointer 16-byte aligned, then a scalar tail.
template <typename F>
__device__ __forceinline__ void map_unary(const float* x, float* y, long long n, int vec4, F f) {
    const long long start = global_thread(), step = global_threads();
    long long done = 0;
    if (vec4) {
        const long long n4 = n >> 2;
        const float4* x4 = reinterpret_cast<const float4*>(x);
        float4* y4 = reinterpret_cast<float4*>(y);
        for (long long i = start; i < n4; i += step) {
            float4 v = x4[i];
            y4[i] = make_float4(f(v.x, i * 4), f(v.y, i * 4 + 1), f(v.z, i * 4 + 2), f(v.w, i * 4 + 3));
        }
        done = n4 << 2;
    }
    for (long long i = done + start; i < n; i += step) {
        y[i] = f(x[i], i);
    }
}

// out[i] = g(x[i], d[i], i): the backward passes.
template <typename G>
__device__ __forceinline__ void map_binary(const float* x, const float* d, float* out, long long n, int vec4, G g) {
    const long long start = global_thread(), step = global_threads();
    long long done = 0;
    if (vec4) {
        const long long n4 = n >> 2;
        const float4* x4 = reinterpret_cast<const float4*>(x);
        const float4* d4 = reinterpret_cast<const float4*>(d);
        float4* o4 = reinterpret_cast<float4*>(out);
        for (long long i = start; i < n4; i += step) {
            float4 v = x4[i], w = d4[i];
            o4[i] = make_float4(g(v.x, w.x, i * 4), g(v.y, w.y, i * 4 + 1), g(v.z, w.z, i * 4 + 2),
                                g(v.w, w.w, i * 4 + 3));
        }
        done = n4 << 2;
    }
    for (long long i = done + start; i < n; i += step) {
        out[i] = g(x[i], d[i], i);
    }
}
