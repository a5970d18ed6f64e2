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
// both as a first-order correction (gpuact_softmax_exponent of activation_math.h). The row sum is kept as (count
// of elements equal to the max) + (sum of the rest) in double, so log-sum = log1p(count - 1 + rest) keeps its
// relative accuracy when the max dominates.
#pragma once

enum RowKind { ROW_NORMAL = 0, ROW_NAN = 1, ROW_MASKED = 2 };

struct Shift {
    float q, c;  // (x - m) / T ~= q + c
};

// The row helpers are activation_math.h's, shared with OpenCL: its guards (x - m beyond float, (x - m)/T beyond
// float) hold on both sides.
__device__ __forceinline__ Shift scaled_shift(float x, float m, float T) {
    Shift z;
    z.q = gpuact_softmax_exponent(x, m, T, &z.c);
    return z;
}

__device__ __forceinline__ float shifted_exp(float x, float m, float T) {
    return gpuact_softmax_exp(x, m, T);
}

// e^((x - m)/T) of an element of a row whose max m is finite, counted into the row sum: elements equal to the
// max by count (their e is exactly 1), the others' e in rest. Without branches, so a warp runs it once.
__device__ __forceinline__ float counted_exp(float x, float m, float T, int& count, double& rest) {
    const float e = shifted_exp(x, m, T);
    count += x == m;
    rest += x == m ? 0.0 : (double)e;
    return e;
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

// x points at the element's input: where e is subnormal, softmax takes it again from there as e^((x - m)/T + 128 ln 2)
// (gpuact_exp_scaled), since dy and 1/T would magnify its rounding into the result (11 ULP at T = 0.26).
template <bool LOG>
__device__ __forceinline__ float backward_value(float e, float dy, double dot, const RowScale& s, float T,
                                                int maskedNan, const float* x) {
    if (s.kind == ROW_NAN) return NAN;
    if (s.kind == ROW_MASKED) return maskedNan ? NAN : (LOG ? dy / T : 0.0f);
    double p = (double)e * (double)s.inv_sum;
    if (!LOG && e < 1.17549435e-38f && e > 0.0f) {  // FLT_MIN
        int scaled;
        const Shift z = scaled_shift(*x, s.m, T);
        p = (double)gpuact_exp_scaled(z.q, z.c, &scaled) * (double)s.inv_sum * 0x1p-128;
    }
    const double inv_T = 1.0 / (double)T;
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
        int count = 0;
        double rest = 0.0;
#pragma unroll
        for (int k = 0; k < K; k++) e[k] = 1.0f;  // unused unless the max is finite
        if (isfinite(m)) {
#pragma unroll
            for (int k = 0; k < K; k++) e[k] = counted_exp(v[k], m, T, count, rest);
        }
        const RowScale scale = row_scale(m, group_sum((double)count, L), group_sum(rest, L));
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
                if (live && c < cols) {
                    out[r * xStride + c] = backward_value<LOG>(e[k], g[k], dot, scale, T, maskedNan, x + r * xStride + c);
                }
            }
        }
    }
}

// ---- block path ----------------------------------------------------------------------------------------------

template <int W>
struct Width {
    static constexpr int value = W;
};

template <int W>
struct Lanes {
    float v[W];
};

// Columns c .. c + W - 1 of a row (c a multiple of 4 when W is 4). Indexing the row as float4s, rather than
// casting the address of element c, is what lets the compiler keep each access one 128-bit instruction.
template <int W>
__device__ __forceinline__ Lanes<W> load_lanes(const float* row, long long c) {
    if constexpr (W == 4) {
        const float4 q = reinterpret_cast<const float4*>(row)[c >> 2];
        return {{q.x, q.y, q.z, q.w}};
    } else {
        return {{row[c]}};
    }
}

template <int W>
__device__ __forceinline__ void store_lanes(float* row, long long c, const Lanes<W>& l) {
    if constexpr (W == 4) {
        reinterpret_cast<float4*>(row)[c >> 2] = make_float4(l.v[0], l.v[1], l.v[2], l.v[3]);
    } else {
        row[c] = l.v[0];
    }
}

__device__ __forceinline__ bool quad_aligned(const float* p) {
    return (reinterpret_cast<unsigned long long>(p) & 15) == 0;
}

// f(c, Width<4>) over the thread's groups of four columns when `quads` (every row pointer 16-byte aligned), then
// f(c, Width<1>) over the columns left. Every pass uses this one mapping, so a thread reads back only the shared
// memory it wrote itself.
template <typename F>
__device__ __forceinline__ void block_columns(long long cols, bool quads, F f) {
    long long first = 0;
    if (quads) {
        for (long long q = threadIdx.x; q < (cols >> 2); q += blockDim.x) f(q << 2, Width<4>{});
        first = cols & ~3LL;
    }
    for (long long c = first + threadIdx.x; c < cols; c += blockDim.x) f(c, Width<1>{});
}

// The row is read from global memory once, into shared memory; the exponentials replace it there (except in
// log_softmax forward, whose outputs need x, not e), so each is computed once.
template <bool LOG, bool BACKWARD>
__device__ void softmax_block(const float* x, const float* dy, float* out, long long rows, long long cols,
                              long long xStride, long long yStride, float T, int maskedNan) {
    constexpr bool KEEP_E = !LOG || BACKWARD;
    GPUACT_DYNAMIC_SHARED(float4, staged);
    float* row = reinterpret_cast<float*>(staged);
    __shared__ float max_scratch[32];
    __shared__ double sum_scratch[32];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * xStride;
        const float* g = BACKWARD ? dy + r * yStride : nullptr;
        float* o = out + r * (BACKWARD ? xStride : yStride);
        const bool quads = quad_aligned(xr) && quad_aligned(o) && (!BACKWARD || quad_aligned(g));
        float m = -INFINITY;
        block_columns(cols, quads, [&](long long c, auto w) {
            constexpr int W = decltype(w)::value;
            const Lanes<W> v = load_lanes<W>(xr, c);
            store_lanes<W>(row, c, v);
#pragma unroll
            for (int k = 0; k < W; k++) m = nan_max(m, v.v[k]);
        });
        m = block_max(m, max_scratch);
        int count = 0;
        double rest = 0.0;
        if (isfinite(m)) {
            block_columns(cols, quads, [&](long long c, auto w) {
                constexpr int W = decltype(w)::value;
                Lanes<W> v = load_lanes<W>(row, c);
#pragma unroll
                for (int k = 0; k < W; k++) v.v[k] = counted_exp(v.v[k], m, T, count, rest);
                if (KEEP_E) store_lanes<W>(row, c, v);
            });
        }
        const double total = block_sum((double)count, sum_scratch);
        const RowScale scale = row_scale(m, total, block_sum(rest, sum_scratch));
        if (!BACKWARD) {
            block_columns(cols, quads, [&](long long c, auto w) {
                constexpr int W = decltype(w)::value;
                Lanes<W> v = load_lanes<W>(row, c);
#pragma unroll
                for (int k = 0; k < W; k++) v.v[k] = forward_value<LOG>(v.v[k], v.v[k], scale, T, maskedNan);
                store_lanes<W>(o, c, v);
            });
        } else {
            double dot = 0.0;
            if (scale.kind == ROW_NORMAL) {
                block_columns(cols, quads, [&](long long c, auto w) {
                    constexpr int W = decltype(w)::value;
                    const Lanes<W> e = load_lanes<W>(row, c), d = load_lanes<W>(g, c);
#pragma unroll
                    for (int k = 0; k < W; k++) dot += dot_term<LOG>(e.v[k], d.v[k], scale);
                });
            }
            dot = block_sum(dot, sum_scratch);
            block_columns(cols, quads, [&](long long c, auto w) {
                constexpr int W = decltype(w)::value;
                Lanes<W> e = load_lanes<W>(row, c);
                const Lanes<W> d = load_lanes<W>(g, c);
#pragma unroll
                for (int k = 0; k < W; k++) {
                    e.v[k] = backward_value<LOG>(e.v[k], d.v[k], dot, scale, T, maskedNan, xr + c + k);
                }
                store_lanes<W>(o, c, e);
            });
        }
        __syncthreads();  // block_sum's scratch is reused by the next row
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

// Adds a few consecutive elements to running statistics: a group that raises the max rescales the sum once, then
// every element's e is taken against the running max (each computed once, branch-free).
template <int W>
__device__ __forceinline__ OnlineStats online_push(OnlineStats s, const Lanes<W>& v, float T) {
    float gm = v.v[0];
#pragma unroll
    for (int k = 1; k < W; k++) gm = nan_max(gm, v.v[k]);
    if (s.m != s.m || gm != gm) return {s.m != s.m ? s.m : gm, s.count, s.rest};  // NaN sticks
    if (gm > s.m) {
        if (s.m != -INFINITY) s.rest = (s.count + s.rest) * rescale(s.m, gm, T);
        s.count = 0.0;
        s.m = gm;
    }
    if (isfinite(s.m)) {  // else nothing but -inf yet, or +inf: a NaN row whatever follows
        int count = 0;
#pragma unroll
        for (int k = 0; k < W; k++) counted_exp(v.v[k], s.m, T, count, s.rest);
        s.count += count;
    }
    return s;
}

// The statistics of the `cols` elements at xr, merged over the block in a fixed order.
__device__ OnlineStats chunk_stats(const float* xr, long long cols, float T, OnlineStats* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    OnlineStats s = online_empty();
    block_columns(cols, quad_aligned(xr), [&](long long c, auto w) {
        constexpr int W = decltype(w)::value;
        s = online_push(s, load_lanes<W>(xr, c), T);
    });
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
        s = chunk_stats(xr, a.cols, a.T, scratch);
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
GPUACT_KERNEL_NAME(softmax, row_stats)(const float* x, double* partials, LongArgs a) {
    __shared__ OnlineStats scratch[32];
    for (long long b = blockIdx.x; b < a.rows * a.chunks; b += gridDim.x) {
        const long long r = b / a.chunks, begin = (b % a.chunks) * a.chunkCols;
        const OnlineStats s = chunk_stats(x + r * a.xStride + begin, min(a.cols, begin + a.chunkCols) - begin, a.T, scratch);
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
        const float* xc = xr + begin;
        float* yc = y + r * a.yStride + begin;
        block_columns(end - begin, quad_aligned(xc) && quad_aligned(yc), [&](long long c, auto w) {
            constexpr int W = decltype(w)::value;
            const Lanes<W> v = load_lanes<W>(xc, c);
            Lanes<W> o;
#pragma unroll
            for (int k = 0; k < W; k++) o.v[k] = LOG ? 0.0f : shifted_exp(v.v[k], scale.m, a.T);
#pragma unroll
            for (int k = 0; k < W; k++) o.v[k] = forward_value<LOG>(v.v[k], o.v[k], scale, a.T, a.maskedNan);
            store_lanes<W>(yc, c, o);
        });
    }
}

// The backward pass's row sum over the `cols` elements at xc and gc.
template <bool LOG>
__device__ double chunk_dot(const float* xc, const float* gc, long long cols, const RowScale& scale, float T,
                            double* scratch) {
    double dot = 0.0;
    if (scale.kind == ROW_NORMAL) {
        block_columns(cols, quad_aligned(xc) && quad_aligned(gc), [&](long long c, auto w) {
            constexpr int W = decltype(w)::value;
            const Lanes<W> v = load_lanes<W>(xc, c), d = load_lanes<W>(gc, c);
#pragma unroll
            for (int k = 0; k < W; k++) dot += dot_term<LOG>(shifted_exp(v.v[k], scale.m, T), d.v[k], scale);
        });
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
        const double dot = chunk_dot<LOG>(xr + begin, dy + r * a.yStride + begin, end - begin, scale, a.T, sum_scratch);
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
            dot = chunk_dot<LOG>(xr, g, a.cols, scale, a.T, sum_scratch);
        } else {
            for (int ch = 0; ch < a.chunks; ch++) dot += dots[r * a.chunks + ch];
        }
        const float *xc = xr + begin, *gc = g + begin;
        float* oc = dx + r * a.xStride + begin;
        block_columns(end - begin, quad_aligned(xc) && quad_aligned(gc) && quad_aligned(oc), [&](long long c, auto w) {
            constexpr int W = decltype(w)::value;
            Lanes<W> v = load_lanes<W>(xc, c);
            const Lanes<W> d = load_lanes<W>(gc, c);
#pragma unroll
            for (int k = 0; k < W; k++) {
                v.v[k] = backward_value<LOG>(shifted_exp(v.v[k], scale.m, a.T), d.v[k], dot, scale, a.T, a.maskedNan,
                                             xc + c + k);
            }
            store_lanes<W>(oc, c, v);
        });
    }
}

// ---- entry points: gpuact_<softmax|log_softmax>_<fwd|bwd>_<warp1..warp16|block|long|long_dot> ------------------

#define GPUACT_ROW_ARGS long long rows, long long cols, long long xStride, long long yStride, float T, int maskedNan
#define GPUACT_ROW_PASS rows, cols, xStride, yStride, T, maskedNan

#define GPUACT_SOFTMAX_WARP(K, name, LOG)                                                                         \
    GPUACT_KERNEL void __launch_bounds__(128)                                                                    \
    GPUACT_KERNEL_NAME(name, fwd_warp##K)(const float* x, float* y, GPUACT_ROW_ARGS, int lanesPerRow) {          \
        softmax_warp<K, LOG, false>(x, nullptr, y, GPUACT_ROW_PASS, lanesPerRow);                                \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(128)                                                                    \
    GPUACT_KERNEL_NAME(name, bwd_warp##K)(const float* x, const float* dy, float* dx, GPUACT_ROW_ARGS,           \
                                          int lanesPerRow) {                                                  \
        softmax_warp<K, LOG, true>(x, dy, dx, GPUACT_ROW_PASS, lanesPerRow);                                     \
    }

#define GPUACT_SOFTMAX_OP(name, LOG)                                                                              \
    GPUACT_SOFTMAX_WARP(1, name, LOG)                                                                            \
    GPUACT_SOFTMAX_WARP(2, name, LOG)                                                                            \
    GPUACT_SOFTMAX_WARP(4, name, LOG)                                                                            \
    GPUACT_SOFTMAX_WARP(8, name, LOG)                                                                            \
    GPUACT_SOFTMAX_WARP(16, name, LOG)                                                                           \
    GPUACT_KERNEL void __launch_bounds__(1024)                                                                   \
    GPUACT_KERNEL_NAME(name, fwd_block)(const float* x, float* y, GPUACT_ROW_ARGS) {                             \
        softmax_block<LOG, false>(x, nullptr, y, GPUACT_ROW_PASS);                                               \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(1024)                                                                   \
    GPUACT_KERNEL_NAME(name, bwd_block)(const float* x, const float* dy, float* dx, GPUACT_ROW_ARGS) {           \
        softmax_block<LOG, true>(x, dy, dx, GPUACT_ROW_PASS);                                                    \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(512)                                                                    \
    GPUACT_KERNEL_NAME(name, fwd_long)(const float* x, float* y, const double* partials, LongArgs a) {           \
        softmax_long_fwd<LOG>(x, y, partials, a);                                                                \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(512)                                                                    \
    GPUACT_KERNEL_NAME(name, bwd_long_dot)(const float* x, const float* dy, const double* partials, double* dots, \
                                           LongArgs a) {                                                         \
        softmax_long_bwd_dot<LOG>(x, dy, partials, dots, a);                                                     \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(512)                                                                    \
    GPUACT_KERNEL_NAME(name, bwd_long)(const float* x, const float* dy, float* dx, const double* partials,      \
                                       const double* dots, LongArgs a) {                                         \
        softmax_long_bwd<LOG>(x, dy, dx, partials, dots, a);                                                     \
    }

GPUACT_SOFTMAX_OP(softmax, false)
GPUACT_SOFTMAX_OP(log_softmax, true)
