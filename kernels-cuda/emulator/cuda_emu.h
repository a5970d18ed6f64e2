// The CUDA C++ surface the kernels use, for host C++ (g++): each CUDA thread runs as a fiber of runtime.cpp, so
// barriers and warp collectives are real exchanges between threads and are checked as they happen.
// Include after the system headers and before the kernel sources; compile the kernels unmodified.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <type_traits>

namespace emu {

struct uint3 {
    unsigned x, y, z;
};

/** One CUDA thread: its index and the warp collective it waits in (filled by the collective, read by runtime.cpp). */
struct Thread {
    uint3 idx;
    int lane, warp;
};

extern Thread* current;
extern uint3 block_idx, block_dim, grid_dim;

void* dynamic_shared();
void syncthreads(const char* file, int line);

enum WarpOp { SHFL_IDX, SHFL_XOR, SHFL_DOWN, SHFL_UP, SYNCWARP, BALLOT };

/** A warp collective: waits until every lane of `mask` arrives at the same site, then returns this lane's result. */
uint64_t warp_collective(const char* file, int line, WarpOp op, unsigned mask, uint64_t value, int size, int arg,
                         int width);

template <typename T>
T shuffle(const char* file, int line, WarpOp op, unsigned mask, T v, int arg, int width) {
    static_assert(std::is_trivially_copyable<T>::value && (sizeof(T) == 4 || sizeof(T) == 8),
                  "shuffles move 4- or 8-byte values");
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    bits = warp_collective(file, line, op, mask, bits, (int)sizeof(T), arg, width);
    T out;
    memcpy(&out, &bits, sizeof(T));
    return out;
}

}  // namespace emu

#define __CUDACC__ 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __launch_bounds__(...)
// Static shared variables live in one section that the runtime poisons before every block, so a read of a
// value no thread of this block wrote shows up as a NaN and as a difference between schedules.
#define __shared__ static __attribute__((section("gpuact_emu_shared")))
#define GPUACT_DYNAMIC_SHARED(type, name) type* const name = static_cast<type*>(::emu::dynamic_shared())

#define threadIdx (::emu::current->idx)
#define blockIdx (::emu::block_idx)
#define blockDim (::emu::block_dim)
#define gridDim (::emu::grid_dim)
#define warpSize 32

#define __syncthreads() ::emu::syncthreads(__FILE__, __LINE__)
#define __syncwarp(...) ((void)::emu::warp_collective(__FILE__, __LINE__, ::emu::SYNCWARP, __VA_ARGS__ + 0u, 0, 4, 0, 32))
#define EMU_SHFL(op, mask, v, arg, ...) ::emu::shuffle(__FILE__, __LINE__, op, mask, v, arg, (__VA_ARGS__ + 0) ? (__VA_ARGS__ + 0) : 32)
#define __shfl_sync(mask, v, src, ...) EMU_SHFL(::emu::SHFL_IDX, mask, v, src, __VA_ARGS__)
#define __shfl_xor_sync(mask, v, laneMask, ...) EMU_SHFL(::emu::SHFL_XOR, mask, v, laneMask, __VA_ARGS__)
#define __shfl_down_sync(mask, v, delta, ...) EMU_SHFL(::emu::SHFL_DOWN, mask, v, delta, __VA_ARGS__)
#define __shfl_up_sync(mask, v, delta, ...) EMU_SHFL(::emu::SHFL_UP, mask, v, delta, __VA_ARGS__)
#define __ballot_sync(mask, pred) \
    ((unsigned)::emu::warp_collective(__FILE__, __LINE__, ::emu::BALLOT, mask, (pred) ? 1u : 0u, 4, 0, 32))
#define __any_sync(mask, pred) (__ballot_sync(mask, pred) != 0u)
#define __all_sync(mask, pred) (__ballot_sync(mask, pred) == (unsigned)(mask))
#define __threadfence() ((void)0)

struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) double2 { double x, y; };
struct alignas(8) int2 { int x, y; };
struct alignas(16) int4 { int x, y, z, w; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline double2 make_double2(double x, double y) { return {x, y}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }

template <typename T>
inline T __ldg(const T* p) { return *p; }

// CUDA's overloaded min/max; both operands must have one type, as the kernels write them.
template <typename T>
inline T min(T a, T b) { return b < a ? b : a; }
template <typename T>
inline T max(T a, T b) { return a < b ? b : a; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// Intrinsics with the host's correctly rounded (or libm) result: the device's are at least as coarse, so
// where a kernel calls one the emulator's answer is the more accurate of the two.
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __exp10f(float x) { return exp10f(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline float __saturatef(float x) { return x != x ? 0.0f : fminf(fmaxf(x, 0.0f), 1.0f); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
inline unsigned __float_as_uint(float f) { unsigned i; memcpy(&i, &f, 4); return i; }
inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned i) { float f; memcpy(&f, &i, 4); return f; }
inline long long __double_as_longlong(double d) { long long i; memcpy(&i, &d, 8); return i; }
inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, 8); return d; }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }

// Atomics: a fiber is never interrupted inside one, so plain read-modify-write is atomic here.
template <typename T>
inline T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }
template <typename T>
inline T atomicSub(T* p, T v) { T old = *p; *p = old - v; return old; }
template <typename T>
inline T atomicExch(T* p, T v) { T old = *p; *p = v; return old; }
template <typename T>
inline T atomicMax(T* p, T v) { T old = *p; *p = old < v ? v : old; return old; }
template <typename T>
inline T atomicMin(T* p, T v) { T old = *p; *p = v < old ? v : old; return old; }
template <typename T>
inline T atomicCAS(T* p, T compare, T v) { T old = *p; if (old == compare) *p = v; return old; }
