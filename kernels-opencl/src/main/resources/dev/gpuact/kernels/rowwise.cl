/* Row-wise kernels: softmax and log_softmax forward and backward, maxout forward and backward.
 *
 * Softmax comes in two shapes with one body: *_item runs a whole row in one work-item, GPUACT_LANES neighbouring
 * columns at a time (CPU devices, where a work-group per row costs barriers and the lanes become vector code; and
 * short rows on GPUs); *_group runs a row in one work-group of GPUACT_WG items that stride over the columns and
 * combine through local memory (long rows on GPUs). Both reduce in a fixed order, so a call gives the same bits
 * every time.
 *
 * Rows: x row r starts at x + r * xs, and dx shares that stride; y and dy rows are ys apart. */
#include "activation_math.h"

#define GPUACT_NO_INDEX ((ulong) -1)

/* NaN (a row holding NaN or +inf is all NaN) wins; otherwise the larger value, the earlier index on a tie. */
static inline void gpuact_max_merge(float *m, ulong *first, float v, ulong j) {
    if (gpuact_isnan(*m)) {
        return;
    }
    if (gpuact_isnan(v) || v == INFINITY) {
        *m = NAN;
        *first = j;
    } else if (v > *m || (v == *m && j < *first)) {
        *m = v;
        *first = j;
    }
}

/* Column j of a row belongs to one of wg * lanes lanes: item lid owns lanes lid * lanes ... lid * lanes + lanes - 1,
 * and lane k takes columns k, k + wg * lanes, ... So the lanes of one item touch neighbouring floats and the
 * compiler turns them into vector operations (lanes = GPUACT_LANES in the one-item-per-row kernels for CPU
 * devices), and neighbouring items touch neighbouring floats too (the group kernels for GPUs, lanes = 1). Each
 * lane visits its columns in order; BODY sees the column j and the item's lane l. */
#define GPUACT_FOR_LANES(j, l, cols, lid, wg, lanes, BODY) { \
    for (ulong gpuact_base = (lid) * (lanes); gpuact_base < (cols); gpuact_base += (wg) * (lanes)) { \
        for (uint l = 0; l < (lanes); l++) { \
            ulong j = gpuact_base + l; \
            if (j < (cols)) { \
                BODY \
            } \
        } \
    } \
}

/* Kahan sums, one per lane, added lane by lane into the item's total, then over the group: a fixed order. */
typedef struct {
    float sum[GPUACT_LANES];
    float comp[GPUACT_LANES];
} gpuact_lane_sums;

static inline void gpuact_lane_sums_init(gpuact_lane_sums *s, uint lanes) {
    for (uint l = 0; l < lanes; l++) {
        s->sum[l] = 0.0f;
        s->comp[l] = 0.0f;
    }
}

/* Sum of every work-item's v; with wg == 1 (one item per row) it is v itself and touches no barrier. */
static inline float gpuact_group_sum(float v, __local float *fbuf, size_t lid, size_t wg) {
    if (wg == 1) {
        return v;
    }
    barrier(CLK_LOCAL_MEM_FENCE); /* every item has read the previous result out of fbuf */
    fbuf[lid] = v;
    for (size_t span = wg / 2; span > 0; span >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < span) {
            fbuf[lid] += fbuf[lid + span];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    return fbuf[0];
}

static inline float gpuact_lane_sums_total(gpuact_lane_sums *s, uint lanes, __local float *fbuf, size_t lid,
                                           size_t wg) {
    float sum = 0.0f;
    float comp = 0.0f;
    for (uint l = 0; l < lanes; l++) {
        gpuact_kahan_add(&sum, &comp, s->sum[l] - s->comp[l]);
    }
    return gpuact_group_sum(sum - comp, fbuf, lid, wg);
}

/* The row's maximum and the index of its first occurrence; NaN for a row holding NaN or +inf. */
static inline float gpuact_row_max(__global const float *xr, ulong cols, ulong *first, size_t lid, size_t wg,
                                   uint lanes, __local float *fbuf, __local ulong *ibuf) {
    float lane_max[GPUACT_LANES];
    ulong lane_at[GPUACT_LANES];
    for (uint l = 0; l < lanes; l++) {
        lane_max[l] = -INFINITY;
        lane_at[l] = GPUACT_NO_INDEX;
    }
    GPUACT_FOR_LANES(j, l, cols, lid, wg, lanes, gpuact_max_merge(&lane_max[l], &lane_at[l], xr[j], j);)
    float m = lane_max[0];
    ulong at = lane_at[0];
    for (uint l = 1; l < lanes; l++) {
        /* a lane (below: an item) that saw NaN reports it as a NaN value, which merge turns into NaN */
        gpuact_max_merge(&m, &at, lane_max[l], lane_at[l]);
    }
    if (wg > 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        fbuf[lid] = m;
        ibuf[lid] = at;
        for (size_t span = wg / 2; span > 0; span >>= 1) {
            barrier(CLK_LOCAL_MEM_FENCE);
            if (lid < span) {
                float mm = fbuf[lid];
                ulong aa = ibuf[lid];
                gpuact_max_merge(&mm, &aa, fbuf[lid + span], ibuf[lid + span]);
                fbuf[lid] = mm;
                ibuf[lid] = aa;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        m = fbuf[0];
        at = ibuf[0];
    }
    *first = at;
    return m;
}

/* Sum of e^((x_j - m)/T) over every j but the first maximum (whose term is exactly 1): log_softmax takes
 * log1p of it, so the maximum's output keeps its accuracy when the other terms are tiny. With terms non-null
 * every term (the maximum's 1 too) is also stored there, so softmax scales them in place instead of computing
 * each exponential a second time; a lane stores only the columns it reads. */
static inline float gpuact_row_rest(__global const float *xr, ulong cols, float m, ulong first, float T,
                                    size_t lid, size_t wg, uint lanes, __local float *fbuf,
                                    __global float *terms) {
    gpuact_lane_sums rest;
    gpuact_lane_sums_init(&rest, lanes);
    GPUACT_FOR_LANES(j, l, cols, lid, wg, lanes,
        float e = gpuact_softmax_exp(xr[j], m, T);
        if (terms) {
            terms[j] = e;
        }
        gpuact_kahan_add(&rest.sum[l], &rest.comp[l], j == first ? 0.0f : e);)
    return gpuact_lane_sums_total(&rest, lanes, fbuf, lid, wg);
}

static inline void gpuact_row_fill(__global float *r, ulong cols, float v, size_t lid, size_t wg, uint lanes) {
    GPUACT_FOR_LANES(j, l, cols, lid, wg, lanes, r[j] = v;)
}

static inline void gpuact_softmax_row_fwd(__global const float *xr, __global float *yr, ulong cols, float T,
                                          float masked_nan, int log_mode, size_t lid, size_t wg, uint lanes,
                                          __local float *fbuf, __local ulong *ibuf) {
    ulong first;
    float m = gpuact_row_max(xr, cols, &first, lid, wg, lanes, fbuf, ibuf);
    if (gpuact_isnan(m)) {
        gpuact_row_fill(yr, cols, NAN, lid, wg, lanes);
        return;
    }
    if (m == -INFINITY) {
        gpuact_row_fill(yr, cols, masked_nan != 0.0f ? NAN : log_mode ? -INFINITY : 0.0f, lid, wg, lanes);
        return;
    }
    if (log_mode) {
        float log_sum = log1p(gpuact_row_rest(xr, cols, m, first, T, lid, wg, lanes, fbuf, 0));
        GPUACT_FOR_LANES(j, l, cols, lid, wg, lanes,
            float lo;
            float q = gpuact_softmax_exponent(xr[j], m, T, &lo);
            yr[j] = (q - log_sum) + lo;)
    } else {
        /* y == x (in place) is safe: the maximum is known before the first store */
        float sum = 1.0f + gpuact_row_rest(xr, cols, m, first, T, lid, wg, lanes, fbuf, yr);
        GPUACT_FOR_LANES(j, l, cols, lid, wg, lanes, yr[j] = yr[j] / sum;)
    }
}

/* softmax: dx = p (dy - sum dy p) / T; log_softmax: dx = (dy - p sum dy) / T; p the softmax of the row. A fully
 * masked row has p = 0 (or NaN when masked_nan), as its forward pass has. */
static inline void gpuact_softmax_row_bwd(__global const float *xr, __global const float *dyr, __global float *dxr,
                                          ulong cols, float T, float masked_nan, int log_mode, size_t lid,
                                          size_t wg, uint lanes, __local float *fbuf, __local ulong *ibuf) {
    ulong first;
    float m = gpuact_row_max(xr, cols, &first, lid, wg, lanes, fbuf, ibuf);
    if (gpuact_isnan(m) || (m == -INFINITY && masked_nan != 0.0f)) {
        gpuact_row_fill(dxr, cols, NAN, lid, wg, lanes);
        return;
    }
    int masked = m == -INFINITY;
    float sum = masked ? 1.0f : 1.0f + gpuact_row_rest(xr, cols, m, first, T, lid, wg, lanes, fbuf, 0);
    gpuact_lane_sums dot;
    gpuact_lane_sums_init(&dot, lanes);
    GPUACT_FOR_LANES(j, l, cols, lid, wg, lanes,
        float p = masked ? 0.0f : gpuact_softmax_exp(xr[j], m, T) / sum;
        gpuact_kahan_add(&dot.sum[l], &dot.comp[l], log_mode ? dyr[j] : dyr[j] * p);)
    float total = gpuact_lane_sums_total(&dot, lanes, fbuf, lid, wg);
    GPUACT_FOR_LANES(j, l, cols, lid, wg, lanes,
        float p = masked ? 0.0f : gpuact_softmax_exp(xr[j], m, T) / sum;
        dxr[j] = (log_mode ? gpuact_fmaf(-p, total, dyr[j]) : p * (dyr[j] - total)) / T;)
}

#define GPUACT_SOFTMAX_KERNELS(PREFIX, LOG_MODE) \
__kernel void PREFIX##_fwd_item(__global const float *x, __global float *y, ulong rows, ulong cols, ulong xs, \
                                ulong ys, float T, float masked_nan) { \
    __local float fbuf[1]; \
    __local ulong ibuf[1]; \
    size_t r = get_global_id(0); \
    if (r < rows) { \
        gpuact_softmax_row_fwd(x + r * xs, y + r * ys, cols, T, masked_nan, LOG_MODE, 0, 1, GPUACT_LANES, fbuf, \
                               ibuf); \
    } \
} \
__kernel void PREFIX##_fwd_group(__global const float *x, __global float *y, ulong rows, ulong cols, ulong xs, \
                                 ulong ys, float T, float masked_nan) { \
    __local float fbuf[GPUACT_WG]; \
    __local ulong ibuf[GPUACT_WG]; \
    size_t r = get_group_id(0); \
    gpuact_softmax_row_fwd(x + r * xs, y + r * ys, cols, T, masked_nan, LOG_MODE, get_local_id(0), GPUACT_WG, \
                           1, fbuf, ibuf); \
} \
__kernel void PREFIX##_bwd_item(__global const float *x, __global const float *dy, __global float *dx, \
                                ulong rows, ulong cols, ulong xs, ulong ys, float T, float masked_nan) { \
    __local float fbuf[1]; \
    __local ulong ibuf[1]; \
    size_t r = get_global_id(0); \
    if (r < rows) { \
        gpuact_softmax_row_bwd(x + r * xs, dy + r * ys, dx + r * xs, cols, T, masked_nan, LOG_MODE, 0, 1, \
                               GPUACT_LANES, fbuf, ibuf); \
    } \
} \
__kernel void PREFIX##_bwd_group(__global const float *x, __global const float *dy, __global float *dx, \
                                 ulong rows, ulong cols, ulong xs, ulong ys, float T, float masked_nan) { \
    __local float fbuf[GPUACT_WG]; \
    __local ulong ibuf[GPUACT_WG]; \
    size_t r = get_group_id(0); \
    gpuact_softmax_row_bwd(x + r * xs, dy + r * ys, dx + r * xs, cols, T, masked_nan, LOG_MODE, \
                           get_local_id(0), GPUACT_WG, 1, fbuf, ibuf); \
}

GPUACT_SOFTMAX_KERNELS(softmax, 0)
GPUACT_SOFTMAX_KERNELS(log_softmax, 1)

/* Position of the maximum of k adjacent inputs: the first one, and the first NaN if there is one. */
static inline ulong gpuact_maxout_arg(__global const float *p, ulong k) {
    ulong best = 0;
    for (ulong q = 1; q < k; q++) {
        float v = p[q];
        float b = p[best];
        if (v > b || (gpuact_isnan(v) && !gpuact_isnan(b))) {
            best = q;
        }
    }
    return best;
}

/* One work-item per output element: outputs are independent, so no reduction shape is needed. */
__kernel void maxout_fwd(__global const float *x, __global float *y, ulong rows, ulong out_cols, ulong xs,
                         ulong ys, ulong k) {
    size_t g = get_global_id(0);
    if (g < rows * out_cols) {
        ulong r = g / out_cols;
        ulong j = g % out_cols;
        __global const float *p = x + r * xs + j * k;
        y[r * ys + j] = p[gpuact_maxout_arg(p, k)];
    }
}

__kernel void maxout_bwd(__global const float *x, __global const float *dy, __global float *dx, ulong rows,
                         ulong out_cols, ulong xs, ulong ys, ulong k) {
    size_t g = get_global_id(0);
    if (g < rows * out_cols) {
        ulong r = g / out_cols;
        ulong j = g % out_cols;
        ulong base = r * xs + j * k;
        ulong best = gpuact_maxout_arg(x + base, k);
        float d = dy[r * ys + j];
        for (ulong q = 0; q < k; q++) {
            dx[base + q] = q == best ? d : 0.0f;
        }
    }
}
