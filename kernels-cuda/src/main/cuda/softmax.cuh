// softmax and log_softmax over the rows of a matrix, forward and backward (from the forward input x and dy).
//
// Three paths, picked on the host by row length (dev.gpuact.cuda.SoftmaxPlan):
//   warp:  a row in the registers of a group of lanesPerRow lanes (32 / lanesPerRow rows per warp), K per lane;
//   block: a block per row, the row staged in shared memory;
//   long:  rows split into chunks of a block each; per-chunk online (running max, sum) statistics merged in a
//          fixed order, either inside one block (one chunk per row) or through a partials buffer.
// Every reduction has a fixed order, so results are bit-identical run to run.
//
// Accuracy: e^((x - m)/T) takes x - m exactly (TwoSum) and the remainder of the division by T (fma), and adds
// both as a first-order correction. The row sum is kept as (count of elements equal to the max) + (sum of the
// rest) in double, so log-sum = log1p(count - 1 + rest) keeps its relative accuracy when the max dominates.
#pragma once

enum RowKind { ROW_NORMAL = 0, ROW_NAN = 1, ROW_MASKED = 2 };

struct Shift {
    float q, c;  // (x - m) / T ~= q + c
};

__device__ __forceinline__ Shift scaled_shift(float x, float m, float T) {
    const float d = x - m;
    if (!isfinite(d)) return {x / T - m / T, 0.0f};
    const float bv = d - x;
    const float lo = (x - (d - bv)) + (-m - bv);
    const float q = d / T;
    const float r = fmaf(-q, T, d);
    return {q, (r + lo) / T};
}

__device__ __forceinline__ float shifted_exp(float x, float m, float T) {
    const Shift z = scaled_shift(x, m, T);
    return gpuact_exp_hilo(z.q, z.c);
}

struct RowScale {
    float m, inv_sum;
    double log_sum;
    int kind;
};

__device__ inline RowScale row_scale(float m, double count, double rest) {
    RowScale s{m, 0.0f, 0.0, ROW_NORMAL};
    if (m != m || m == INFINITY) {
        s.kind = ROW_NAN;
    } else if (m == -INFINITY) {
        s.kind = ROW_MASKED;
    } else {
        s.inv_sum = (float)(1.0 / (count + rest));
        s.log_sum = log1p((count - 1.0) + rest);
    }
    return s;
}

// The outputs, given e = e^((x - m)/T) of the element (softmax: y = e / sum; both backward passes use it).
__device__ __forceinline__ float softmax_value(float e, const RowScale& s, int maskedNan) {
    if (s.kind == ROW_NAN) return NAN;
    if (s.kind == ROW_MASKED) return maskedNan ? NAN : 0.0f;
    return e * s.inv_sum;
}

__device__ __forceinline__ float log_softmax_value(float x, const RowScale& s, float T, int maskedNan) {
    if (s.kind == ROW_NAN) return NAN;
    if (s.kind == ROW_MASKED) return maskedNan ? NAN : -INFINITY;
    const Shift z = scaled_shift(x, s.m, T);
    return (float)(((double)z.q - s.log_sum) + (double)z.c);
}

template <bool LOG>
__device__ __forceinline__ float forward_value(float x, float e, const RowScale& s, float T, int maskedNan) {
    return LOG ? log_softmax_value(x, s, T, maskedNan) : softmax_value(e, s, maskedNan);
}

// The row's sum in the backward pass: softmax sums dy * y, log_softmax sums dy.
template <bool LOG>
__device__ __forceinline__ double dot_term(float e, float dy, const RowScale& s) {
    return LOG ? (double)dy : (double)dy * (double)(e * s.inv_sum);
}

template <bool LOG>
__device__ __forceinline__ float backward_value(float e, float dy, double dot, const RowScale& s, float T,
                                                int maskedNan) {
    if (s.kind == ROW_NAN) return NAN;
    if (s.kind == ROW_MASKED) return maskedNan ? NAN : (LOG ? dy / T : 0.0f);
    const double p = (double)(e * s.inv_sum), inv_T = 1.0 / (double)T;
    return LOG ? (float)(((double)dy - p * dot) * inv_T) : (float)(p * ((double)dy - dot) * inv_T);
}

// ---- warp path -----------------------------------------------------------------------------------------------

template <int K, bool LOG, bool BACKWARD>
__device__ void softmax_warp(const float* x, const float* dy, float* out, long long rows, long long cols,
                             long long xStride, long long yStride, float T, int maskedNan, int lanesPerRow) {
    const int L = lanesPerRow, lane = threadIdx.x & 31, sub = lane & (L - 1), rowsPerWarp = 32 / L;
    const long long warp = global_thread() >> 5, warps = global_threads() >> 5;
    // `first` is the same for the whole warp, so every lane reaches every shuffle.
    for (long long first = warp * rowsPerWarp; first < rows; first += warps * rowsPerWarp) {
        const long long r = first + lane / L;
        const bool live = r < rows;
        float v[K];
        float m = -INFINITY;
#pragma unroll
        for (int k = 0; k < K; k++) {
            const int c = k * L + sub;
            v[k] = live && c < cols ? x[r * xStride + c] : -INFINITY;
            m = nan_max(m, v[k]);
        }
        m = group_max(m, L);
        float e[K];  // each element's exponential, computed once and reused by every pass below
        double count = 0.0, rest = 0.0;
#pragma unroll
        for (int k = 0; k < K; k++) {
            e[k] = isfinite(m) && v[k] != m ? shifted_exp(v[k], m, T) : 1.0f;
            if (v[k] == m) count += 1.0; else rest += (double)e[k];
        }
        const RowScale scale = row_scale(m, group_sum(count, L), group_sum(rest, L));
        if (!BACKWARD) {
#pragma unroll
            for (int k = 0; k < K; k++) {
                const int c = k * L + sub;
                if (live && c < cols) out[r * yStride + c] = forward_value<LOG>(v[k], e[k], scale, T, maskedNan);
            }
        } else {
            float g[K];
            double dot = 0.0;
#pragma unroll
            for (int k = 0; k < K; k++) {
                const int c = k * L + sub;
                g[k] = live && c < cols ? dy[r * yStride + c] : 0.0f;
                if (live && c < cols && scale.kind == ROW_NORMAL) dot += dot_term<LOG>(e[k], g[k], scale);
            }
            dot = group_sum(dot, L);
#pragma unroll
            for (int k = 0; k < K; k++) {
                const int c = k * L + sub;
                if (live && c < cols) out[r * xStride + c] = backward_value<LOG>(e[k], g[k], dot, scale, T, maskedNan);
            }
        }
    }
}

// ---- block path ----------------------------------------------------------------------------------------------

template <bool LOG, bool BACKWARD>
__device__ void softmax_block(const float* x, const float* dy, float* out, long long rows, long long cols,
                              long long xStride, long long yStride, float T, int maskedNan) {
    GPUACT_DYNAMIC_SHARED(float, row);
    __shared__ float max_scratch[32];
    __shared__ double sum_scratch[32];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * xStride;
        float m = -INFINITY;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
            row[c] = xr[c];
            m = nan_max(m, row[c]);
        }
        m = block_max(m, max_scratch);
        double count = 0.0, rest = 0.0;
        if (isfinite(m)) {
            for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
                if (row[c] == m) count += 1.0; else rest += (double)shifted_exp(row[c], m, T);
            }
        }
        count = block_sum(count, sum_scratch);
        const RowScale scale = row_scale(m, count, block_sum(rest, sum_scratch));
        if (!BACKWARD) {
            for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
                out[r * yStride + c] = forward_value<LOG>(row[c], LOG ? 0.0f : shifted_exp(row[c], m, T), scale, T, maskedNan);
            }
        } else {
            const float* g = dy + r * yStride;
            double dot = 0.0;
            if (scale.kind == ROW_NORMAL) {
                for (long long c = threadIdx.x; c < cols; c += blockDim.x) dot += dot_term<LOG>(shifted_exp(row[c], m, T), g[c], scale);
            }
            dot = block_sum(dot, sum_scratch);
            for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
                out[r * xStride + c] = backward_value<LOG>(shifted_exp(row[c], m, T), g[c], dot, scale, T, maskedNan);
            }
        }
        __syncthreads();  // the next row overwrites row[]
    }
}

// ---- long path -----------------------------------------------------------------------------------------------

struct OnlineStats {
    float m;
    double count, rest;  // elements equal to m, and the sum of e^((x - m)/T) over the others
};

__device__ __forceinline__ OnlineStats online_empty() {
    return {-INFINITY, 0.0, 0.0};
}

// e^((from - to)/T) in double: a sum may be rescaled once per new maximum (every element of an ascending row),
// so a float factor's rounding would pile up; the rare double exp keeps the sum to its float terms' accuracy.
__device__ __forceinline__ double rescale(float from, float to, float T) {
    return exp(((double)from - (double)to) / (double)T);
}

__device__ __forceinline__ OnlineStats online_push(OnlineStats s, float x, float T) {
    if (x == -INFINITY || s.m != s.m) return s;
    if (x != x) {
        s.m = x;
    } else if (x > s.m) {
        if (s.m != -INFINITY) s.rest = (s.count + s.rest) * rescale(s.m, x, T);
        s.count = 1.0;
        s.m = x;
    } else if (x == s.m) {
        s.count += 1.0;
    } else {
        s.rest += (double)shifted_exp(x, s.m, T);
    }
    return s;
}

// Commutative (the larger max is always the base), so the xor butterfly leaves the same bits in every lane.
__device__ __forceinline__ OnlineStats online_merge(OnlineStats a, OnlineStats b, float T) {
    if (a.m != a.m) return a;
    if (b.m != b.m) return b;
    if (a.m == b.m) return {a.m, a.count + b.count, a.rest + b.rest};
    const OnlineStats hi = a.m > b.m ? a : b, lo = a.m > b.m ? b : a;
    if (lo.m == -INFINITY) return hi;
    return {hi.m, hi.count, hi.rest + (lo.count + lo.rest) * rescale(lo.m, hi.m, T)};
}

__device__ __forceinline__ OnlineStats warp_merge(OnlineStats s, float T) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        const OnlineStats o{__shfl_xor_sync(0xffffffffu, s.m, offset), __shfl_xor_sync(0xffffffffu, s.count, offset),
                            __shfl_xor_sync(0xffffffffu, s.rest, offset)};
        s = online_merge(s, o, T);
    }
    return s;
}

__device__ OnlineStats chunk_stats(const float* xr, long long begin, long long end, float T, OnlineStats* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    OnlineStats s = online_empty();
    for (long long c = begin + threadIdx.x; c < end; c += blockDim.x) s = online_push(s, xr[c], T);
    s = warp_merge(s, T);
    if (lane == 0) scratch[warp] = s;
    __syncthreads();
    s = warp_merge(lane < warps ? scratch[lane] : online_empty(), T);
    __syncthreads();
    return s;
}

struct LongArgs {
    long long rows, cols, xStride, yStride, chunkCols;
    float T;
    int maskedNan, chunks;
};

// The statistics of row r: from its own chunk when the row is one chunk, else merged from the partials in order.
__device__ RowScale long_row_scale(const float* xr, const double* partials, long long r, const LongArgs& a,
                                   OnlineStats* scratch) {
    __shared__ OnlineStats merged;
    OnlineStats s;
    if (a.chunks == 1) {
        s = chunk_stats(xr, 0, a.cols, a.T, scratch);
    } else {
        if (threadIdx.x == 0) {
            OnlineStats acc = online_empty();
            const double* p = partials + r * a.chunks * 3;
            for (int ch = 0; ch < a.chunks; ch++) acc = online_merge(acc, {(float)p[3 * ch], p[3 * ch + 1], p[3 * ch + 2]}, a.T);
            merged = acc;
        }
        __syncthreads();
        s = merged;
        __syncthreads();
    }
    return row_scale(s.m, s.count, s.rest);
}

GPUACT_KERNEL void __launch_bounds__(512)
gpuact_softmax_row_stats(const float* x, double* partials, LongArgs a) {
    __shared__ OnlineStats scratch[32];
    for (long long b = blockIdx.x; b < a.rows * a.chunks; b += gridDim.x) {
        const long long r = b / a.chunks, begin = (b % a.chunks) * a.chunkCols;
        const OnlineStats s = chunk_stats(x + r * a.xStride, begin, min(a.cols, begin + a.chunkCols), a.T, scratch);
        if (threadIdx.x == 0) {
            partials[3 * b] = s.m;
            partials[3 * b + 1] = s.count;
            partials[3 * b + 2] = s.rest;
        }
    }
}

template <bool LOG>
__device__ void softmax_long_fwd(const float* x, float* y, const double* partials, const LongArgs& a) {
    __shared__ OnlineStats scratch[32];
    for (long long b = blockIdx.x; b < a.rows * a.chunks; b += gridDim.x) {
        const long long r = b / a.chunks, begin = (b % a.chunks) * a.chunkCols, end = min(a.cols, begin + a.chunkCols);
        const float* xr = x + r * a.xStride;
        const RowScale scale = long_row_scale(xr, partials, r, a, scratch);
        for (long long c = begin + threadIdx.x; c < end; c += blockDim.x) {
            const float v = xr[c];
            y[r * a.yStride + c] = forward_value<LOG>(v, LOG ? 0.0f : shifted_exp(v, scale.m, a.T), scale, a.T, a.maskedNan);
        }
    }
}

template <bool LOG>
__device__ double chunk_dot(const float* xr, const float* g, long long begin, long long end, const RowScale& scale,
                            float T, double* scratch) {
    double dot = 0.0;
    if (scale.kind == ROW_NORMAL) {
        for (long long c = begin + threadIdx.x; c < end; c += blockDim.x) dot += dot_term<LOG>(shifted_exp(xr[c], scale.m, T), g[c], scale);
    }
    return block_sum(dot, scratch);
}

// Backward over several chunks per row, step 2 of 3 (after gpuact_softmax_row_stats): one dot partial per chunk.
template <bool LOG>
__device__ void softmax_long_bwd_dot(const float* x, const float* dy, const double* partials, double* dots,
                                     const LongArgs& a) {
    __shared__ OnlineStats scratch[32];
    __shared__ double sum_scratch[32];
    for (long long b = blockIdx.x; b < a.rows * a.chunks; b += gridDim.x) {
        const long long r = b / a.chunks, begin = (b % a.chunks) * a.chunkCols, end = min(a.cols, begin + a.chunkCols);
        const float* xr = x + r * a.xStride;
        const RowScale scale = long_row_scale(xr, partials, r, a, scratch);
        const double dot = chunk_dot<LOG>(xr, dy + r * a.yStride, begin, end, scale, a.T, sum_scratch);
        if (threadIdx.x == 0) dots[b] = dot;
    }
}

template <bool LOG>
__device__ void softmax_long_bwd(const float* x, const float* dy, float* dx, const double* partials,
                                 const double* dots, const LongArgs& a) {
    __shared__ OnlineStats scratch[32];
    __shared__ double sum_scratch[32];
    for (long long b = blockIdx.x; b < a.rows * a.chunks; b += gridDim.x) {
        const long long r = b / a.chunks, begin = (b % a.chunks) * a.chunkCols, end = min(a.cols, begin + a.chunkCols);
        const float* xr = x + r * a.xStride;
        const float* g = dy + r * a.yStride;
        const RowScale scale = long_row_scale(xr, partials, r, a, scratch);
        double dot = 0.0;
        if (a.chunks == 1) {
            dot = chunk_dot<LOG>(xr, g, 0, a.cols, scale, a.T, sum_scratch);
        } else {
            for (int ch = 0; ch < a.chunks; ch++) dot += dots[r * a.chunks + ch];
        }
        for (long long c = begin + threadIdx.x; c < end; c += blockDim.x) {
            dx[r * a.xStride + c] = backward_value<LOG>(shifted_exp(xr[c], scale.m, a.T), g[c], dot, scale, a.T, a.maskedNan);
        }
    }
}

// ---- entry points: gpuact_<softmax|log_softmax>_<fwd|bwd>_<warp1..warp16|block|long|long_dot> ------------------

#define GPUACT_ROW_ARGS long long rows, long long cols, long long xStride, long long yStride, float T, int maskedNan
#define GPUACT_ROW_PASS rows, cols, xStride, yStride, T, maskedNan

#define GPUACT_SOFTMAX_WARP(K, name, LOG)                                                                         \
    GPUACT_KERNEL void __launch_bounds__(128)                                                                    \
    gpuact_##name##_fwd_warp##K(const float* x, float* y, GPUACT_ROW_ARGS, int lanesPerRow) {                    \
        softmax_warp<K, LOG, false>(x, nullptr, y, GPUACT_ROW_PASS, lanesPerRow);                                \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(128)                                                                    \
    gpuact_##name##_bwd_warp##K(const float* x, const float* dy, float* dx, GPUACT_ROW_ARGS, int lanesPerRow) {  \
        softmax_warp<K, LOG, true>(x, dy, dx, GPUACT_ROW_PASS, lanesPerRow);                                     \
    }

#define GPUACT_SOFTMAX_OP(name, LOG)                                                                              \
    GPUACT_SOFTMAX_WARP(1, name, LOG)                                                                            \
    GPUACT_SOFTMAX_WARP(2, name, LOG)                                                                            \
    GPUACT_SOFTMAX_WARP(4, name, LOG)                                                                            \
    GPUACT_SOFTMAX_WARP(8, name, LOG)                                                                            \
    GPUACT_SOFTMAX_WARP(16, name, LOG)                                                                           \
    GPUACT_KERNEL void __launch_bounds__(1024)                                                                   \
    gpuact_##name##_fwd_block(const float* x, float* y, GPUACT_ROW_ARGS) {                                       \
        softmax_block<LOG, false>(x, nullptr, y, GPUACT_ROW_PASS);                                               \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(1024)                                                                   \
    gpuact_##name##_bwd_block(const float* x, const float* dy, float* dx, GPUACT_ROW_ARGS) {                     \
        softmax_block<LOG, true>(x, dy, dx, GPUACT_ROW_PASS);                                                    \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(512)                                                                    \
    gpuact_##name##_fwd_long(const float* x, float* y, const double* partials, LongArgs a) {                     \
        softmax_long_fwd<LOG>(x, y, partials, a);                                                                \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(512)                                                                    \
    gpuact_##name##_bwd_long_dot(const float* x, const float* dy, const double* partials, double* dots,         \
                                 LongArgs a) {                                                                   \
        softmax_long_bwd_dot<LOG>(x, dy, partials, dots, a);                                                     \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(512)                                                                    \
    gpuact_##name##_bwd_long(const float* x, const float* dy, float* dx, const double* partials,                \
                             const double* dots, LongArgs a) {                                                   \
        softmax_long_bwd<LOG>(x, dy, dx, partials, dots, a);                                                     \
    }

GPUACT_SOFTMAX_OP(softmax, false)
GPUACT_SOFTMAX_OP(log_softmax, true)
