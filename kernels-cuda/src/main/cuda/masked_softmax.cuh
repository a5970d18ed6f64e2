// softmax and log_softmax of masked rows (dev.gpuact.RowMask), forward and backward from x: each row is the plain
// op over z = x + mask (the mask row rounded in as it is read; none: mask = nullptr) in its first `valid` columns,
// the rest counting as -inf. Only the valid columns are read, so a causal mask skips about half the row's work.
// A block per row (grid-stride over rows), reading x from global memory in each pass; the row helpers and their
// accuracy are softmax.cuh's.
#pragma once

// The valid columns of row r: its length (lengths non-null, one per lengthGroup rows) and its causal limit
// query + offset + 1 (the query is r, or r mod rowsPerQuery when that is not 0), within [0, cols].
__device__ __forceinline__ long long masked_valid(long long r, long long cols, const int* lengths,
                                                  long long lengthGroup, int causal, long long offset,
                                                  long long rowsPerQuery) {
    long long valid = cols;
    if (lengths) valid = min(valid, (long long)lengths[r / lengthGroup]);
    if (causal) {
        const long long query = rowsPerQuery ? r % rowsPerQuery : r;
        // query + offset + 1 without overflow for offsets near the ends of long
        const long long limit = offset >= cols - query ? cols : max(0LL, query + offset + 1);
        valid = min(valid, limit);
    }
    return valid;
}

__device__ __forceinline__ float masked_z(const float* xr, const float* mr, long long c) {
    return mr ? xr[c] + mr[c] : xr[c];
}

#define GPUACT_MASK_ARGS const float *mask, long long maskGroup, const int *lengths, long long lengthGroup, \
    int causal, long long offset, long long rowsPerQuery

template <bool LOG, bool BACKWARD>
__device__ void softmax_masked(const float* x, const float* dy, float* out, long long rows, long long cols,
                               long long xStride, long long yStride, float T, int maskedNan, GPUACT_MASK_ARGS) {
    __shared__ float max_scratch[32];
    __shared__ double sum_scratch[32];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const long long valid = masked_valid(r, cols, lengths, lengthGroup, causal, offset, rowsPerQuery);
        const float* xr = x + r * xStride;
        const float* mr = mask ? mask + (r / maskGroup) * cols : nullptr;
        const float* g = BACKWARD ? dy + r * yStride : nullptr;
        float* o = out + r * (BACKWARD ? xStride : yStride);
        float m = -INFINITY;
        for (long long c = threadIdx.x; c < valid; c += blockDim.x) m = nan_max(m, masked_z(xr, mr, c));
        m = block_max(m, max_scratch);
        int count = 0;
        double rest = 0.0;
        if (isfinite(m)) {
            for (long long c = threadIdx.x; c < valid; c += blockDim.x) counted_exp(masked_z(xr, mr, c), m, T, count, rest);
        }
        const double total = block_sum((double)count, sum_scratch);
        const RowScale scale = row_scale(m, total, block_sum(rest, sum_scratch));
        const bool normal = scale.kind == ROW_NORMAL;
        if (!BACKWARD) {
            for (long long c = threadIdx.x; c < valid; c += blockDim.x) {
                const float v = masked_z(xr, mr, c);
                o[c] = forward_value<LOG>(v, !LOG && normal ? shifted_exp(v, m, T) : 0.0f, scale, T, maskedNan);
            }
            // a masked column is -inf in z: 0 (log_softmax -inf), or the whole row's special value
            for (long long c = valid + threadIdx.x; c < cols; c += blockDim.x) {
                o[c] = forward_value<LOG>(-INFINITY, 0.0f, scale, T, maskedNan);
            }
        } else {
            double dot = 0.0;
            if (normal) {
                for (long long c = threadIdx.x; c < valid; c += blockDim.x) {
                    dot += dot_term<LOG>(shifted_exp(masked_z(xr, mr, c), m, T), g[c], scale);
                }
                if (LOG) {  // log_softmax sums dy over the whole row, masked columns too
                    for (long long c = valid + threadIdx.x; c < cols; c += blockDim.x) dot += (double)g[c];
                }
            }
            dot = block_sum(dot, sum_scratch);
            for (long long c = threadIdx.x; c < valid; c += blockDim.x) {
                const float v = masked_z(xr, mr, c);
                o[c] = backward_value<LOG>(normal ? shifted_exp(v, m, T) : 0.0f, g[c], dot, scale, T, maskedNan, &v);
            }
            for (long long c = valid + threadIdx.x; c < cols; c += blockDim.x) {  // p = 0
                o[c] = backward_value<LOG>(0.0f, g[c], dot, scale, T, maskedNan, nullptr);
            }
        }
        __syncthreads();  // block_sum's scratch is reused by the next row
    }
}

// ---- entry points: gpuact_<softmax|log_softmax>_<fwd|bwd>_masked ---------------------------------------------

#define GPUACT_MASK_PASS mask, maskGroup, lengths, lengthGroup, causal, offset, rowsPerQuery

#define GPUACT_SOFTMAX_MASKED(name, LOG)                                                                          \
    GPUACT_KERNEL void __launch_bounds__(256)                                                                    \
    GPUACT_KERNEL_NAME(name, fwd_masked)(const float* x, float* y, GPUACT_ROW_ARGS, GPUACT_MASK_ARGS) {          \
        softmax_masked<LOG, false>(x, nullptr, y, GPUACT_ROW_PASS, GPUACT_MASK_PASS);                            \
    }                                                                                                            \
    GPUACT_KERNEL void __launch_bounds__(256)                                                                    \
    GPUACT_KERNEL_NAME(name, bwd_masked)(const float* x, const float* dy, float* dx, GPUACT_ROW_ARGS,            \
                                         GPUACT_MASK_ARGS) {                                                     \
        softmax_masked<LOG, true>(x, dy, dx, GPUACT_ROW_PASS, GPUACT_MASK_PASS);                                 \
    }

GPUACT_SOFTMAX_MASKED(softmax, false)
GPUACT_SOFTMAX_MASKED(log_softmax, true)
