// Conversions between the storage types of 16-bit buffers: float32 (float), float16 (half) and bfloat16, the last
// two held as their 16-bit patterns. The host stages every op on 16-bit buffers through float32 scratch with these
// kernels (dev.gpuact.spi.AbstractBackend). Widening is exact; narrowing rounds to nearest, ties to even, keeping a
// NaN a quiet NaN, bit for bit as dev.gpuact.fallback.HalfFloats and OpenCL's storage.h. Written on the bits rather
// than with cuda_fp16.h so that the CPU emulator compiles them as they are.
#pragma once

__device__ __forceinline__ float half_to_float(unsigned short h) {
    const unsigned sign = (unsigned)(h & 0x8000u) << 16;
    const unsigned exponent = (h >> 10) & 0x1fu;
    const unsigned significand = h & 0x3ffu;
    if (exponent == 0) {
        const float magnitude = (float)significand * 0x1p-24f;  // subnormal or zero: exact
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 0x1fu) return __uint_as_float(sign | 0x7f800000u | significand << 13);
    return __uint_as_float(sign | (exponent + 112u) << 23 | significand << 13);
}

__device__ __forceinline__ unsigned short float_to_half(float f) {
    const unsigned bits = __float_as_uint(f);
    const unsigned sign = (bits >> 16) & 0x8000u;
    const unsigned magnitude = bits & 0x7fffffffu;
    if (magnitude > 0x7f800000u) return (unsigned short)(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
    if (magnitude >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);  // 65520 and up round to infinity
    if (magnitude >= 0x38800000u) {
        unsigned h = (magnitude - (112u << 23)) >> 13;
        const unsigned dropped = magnitude & 0x1fffu;
        if (dropped > 0x1000u || (dropped == 0x1000u && (h & 1u))) h++;  // a carry steps the exponent, as it should
        return (unsigned short)(sign | h);
    }
    // Below 2^-14 float16 counts units of 2^-24: the scaling is exact and rintf rounds ties to even.
    return (unsigned short)(sign | (unsigned)rintf(__uint_as_float(magnitude) * 0x1p24f));
}

__device__ __forceinline__ float bfloat16_to_float(unsigned short b) {
    return __uint_as_float((unsigned)b << 16);
}

__device__ __forceinline__ unsigned short float_to_bfloat16(float f) {
    const unsigned bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((bits >> 16) | 0x40u);
    return (unsigned short)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

__device__ __forceinline__ float load_float(const float* p, long long i) { return p[i]; }
__device__ __forceinline__ void store_float(float* p, long long i, float v) { p[i] = v; }
__device__ __forceinline__ float load_half(const unsigned short* p, long long i) { return half_to_float(p[i]); }
__device__ __forceinline__ void store_half(unsigned short* p, long long i, float v) { p[i] = float_to_half(v); }
__device__ __forceinline__ float load_bfloat16(const unsigned short* p, long long i) { return bfloat16_to_float(p[i]); }
__device__ __forceinline__ void store_bfloat16(unsigned short* p, long long i, float v) { p[i] = float_to_bfloat16(v); }

// gpuact_convert_<from>_<to> (dev.gpuact.spi.KernelName#convert), grid-stride.
#define GPUACT_CONVERT(FROM, FROM_T, TO, TO_T)                                                                   \
    GPUACT_KERNEL void __launch_bounds__(256) gpuact_convert_##FROM##_##TO(const FROM_T* src, TO_T* dst,         \
                                                                           long long n) {                       \
        for (long long i = global_thread(); i < n; i += global_threads()) store_##TO(dst, i, load_##FROM(src, i)); \
    }
GPUACT_CONVERT(float, float, half, unsigned short)
GPUACT_CONVERT(float, float, bfloat16, unsigned short)
GPUACT_CONVERT(half, unsigned short, float, float)
GPUACT_CONVERT(bfloat16, unsigned short, float, float)
GPUACT_CONVERT(half, unsigned short, bfloat16, unsigned short)
GPUACT_CONVERT(bfloat16, unsigned short, half, unsigned short)
#undef GPUACT_CONVERT

// Between two buffers of one 16-bit type: the bits as they are.
GPUACT_KERNEL void __launch_bounds__(256) gpuact_convert_bits(const unsigned short* src, unsigned short* dst,
                                                              long long n) {
    for (long long i = global_thread(); i < n; i += global_threads()) dst[i] = src[i];
}
