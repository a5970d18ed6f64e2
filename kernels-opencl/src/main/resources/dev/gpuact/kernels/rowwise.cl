/* Row-wise kernels: softmax and log_softmax forward and backward, maxout forward and backward.
 *
 * Softmax comes in two shapes: *_item runs a whole row in one work-item in float16 vectors (CPU devices, where a
 * work-group per row costs barriers and the vectors become SIMD code; and short rows on GPUs); *_group runs a row
 * in one work-group of GPUACT_WG items that stride over the columns and combine through local memory (long rows
 * on GPUs). Both reduce in a fixed order, so a call gives the same bits every time.
 *
 * Rows: x row r starts at x + r * xs, and dx shares that stride; y and dy rows are ys apart.
 *
 * Masked rows (the *_masked_* kernels) compute the same row functions over z = x + mask (mask row mr, rounded to
 * float as it is read; no mask: mr = 0) in the row's first `valid` columns only, the rest counting as -inf: only
 * the valid columns are read, so a causal mask halves the work. The plain kernels are valid = cols, mr = 0. */
#include "activation_math.h"

/* ---- One work-group per row (GPUs) ----------------------------------------------------------------------------
 * Item lid takes columns lid, lid + wg, ...: neighbouring items touch neighbouring floats. */

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

/* Sum of every work-item's v, in a fixed tree order. */
static inline float gpuact_group_sum(float v, __local float *fbuf, size_t lid, size_t wg) {
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

/* Column j of z = x + mask. */
static inline float gpuact_z(__global const float *xr, __global const float *mr, ulong j) {
    return mr ? xr[j] + mr[j] : xr[j];
}

/* The row's maximum and the index of its first occurrence; NaN for a row holding NaN or +inf. */
static inline float gpuact_row_max(__global const float *xr, __global const float *mr, ulong cols, ulong *first,
                                   size_t lid, size_t wg, __local float *fbuf, __local ulong *ibuf) {
    float m = -INFINITY;
    ulong at = GPUACT_NO_INDEX;
    for (ulong j = lid; j < cols; j += wg) {
        gpuact_max_merge(&m, &at, gpuact_z(xr, mr, j), j);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    fbuf[lid] = m; /* an item that saw NaN reports it as a NaN value, which merge turns into NaN */
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
    *first = ibuf[0];
    return fbuf[0];
}

/* Sum of e^((x_j - m)/T) over every j but the first maximum (whose term is exactly 1), in Kahan sums: log_softmax
 * takes log1p of it, so the maximum's output keeps its accuracy when the other terms are tiny. With terms
 * non-null every term (the maximum's 1 too) is also stored there, so softmax scales them in place instead of
 * computing each exponential a second time; an item stores only the columns it reads. */
static inline float gpuact_row_rest(__global const float *xr, __global const float *mr, ulong cols, float m,
                                    ulong first, float T, size_t lid, size_t wg, __local float *fbuf,
                                    __global float *terms) {
    float sum = 0.0f;
    float comp = 0.0f;
    for (ulong j = lid; j < cols; j += wg) {
        float e = gpuact_softmax_exp(gpuact_z(xr, mr, j), m, T);
        if (terms) {
            terms[j] = e;
        }
        gpuact_kahan_add(&sum, &comp, j == first ? 0.0f : e);
    }
    return gpuact_group_sum(sum - comp, fbuf, lid, wg);
}

static inline void gpuact_row_fill(__global float *r, ulong cols, float v, size_t lid, size_t wg) {
    for (ulong j = lid; j < cols; j += wg) {
        r[j] = v;
    }
}

static inline void gpuact_softmax_row_fwd(__global const float *xr, __global const float *mr, __global float *yr,
                                          ulong valid, ulong cols, float T, float masked_nan, int log_mode,
                                          size_t lid, size_t wg, __local float *fbuf, __local ulong *ibuf) {
    ulong first;
    float m = gpuact_row_max(xr, mr, valid, &first, lid, wg, fbuf, ibuf);
    if (gpuact_isnan(m)) {
        gpuact_row_fill(yr, cols, NAN, lid, wg);
        return;
    }
    if (m == -INFINITY) {
        gpuact_row_fill(yr, cols, masked_nan != 0.0f ? NAN : log_mode ? -INFINITY : 0.0f, lid, wg);
        return;
    }
    if (log_mode) {
        float log_sum = log1p(gpuact_row_rest(xr, mr, valid, m, first, T, lid, wg, fbuf, 0));
        for (ulong j = lid; j < valid; j += wg) {
            float lo;
            float q = gpuact_softmax_exponent(gpuact_z(xr, mr, j), m, T, &lo);
            yr[j] = (q - log_sum) + lo;
        }
    } else {
        /* y == x (in place) is safe: the maximum is known before the first store */
        float sum = 1.0f + gpuact_row_rest(xr, mr, valid, m, first, T, lid, wg, fbuf, yr);
        for (ulong j = lid; j < valid; j += wg) {
            yr[j] = yr[j] / sum;
        }
    }
    gpuact_row_fill(yr + valid, cols - valid, log_mode ? -INFINITY : 0.0f, lid, wg);
}

/* softmax: dx = p (dy - sum dy p) / T; log_softmax: dx = (dy - p sum dy) / T; p the softmax of the row. A fully
 * masked row has p = 0 (or NaN when masked_nan), as its forward pass has. */
static inline void gpuact_softmax_row_bwd(__global const float *xr, __global const float *mr,
                                          __global const float *dyr, __global float *dxr, ulong valid, ulong cols,
                                          float T, float masked_nan, int log_mode, size_t lid, size_t wg,
                                          __local float *fbuf, __local ulong *ibuf) {
    ulong first;
    float m = gpuact_row_max(xr, mr, valid, &first, lid, wg, fbuf, ibuf);
    if (gpuact_isnan(m) || (m == -INFINITY && masked_nan != 0.0f)) {
        gpuact_row_fill(dxr, cols, NAN, lid, wg);
        return;
    }
    int masked = m == -INFINITY;
    float sum = masked ? 1.0f : 1.0f + gpuact_row_rest(xr, mr, valid, m, first, T, lid, wg, fbuf, 0);
    float dot = 0.0f;
    float comp = 0.0f;
    /* log_softmax sums dy over the whole row, masked columns too */
    for (ulong j = lid; j < (log_mode ? cols : valid); j += wg) {
        float p = log_mode || masked ? 0.0f : gpuact_softmax_exp(gpuact_z(xr, mr, j), m, T) / sum;
        gpuact_kahan_add(&dot, &comp, log_mode ? dyr[j] : dyr[j] * p);
    }
    float total = gpuact_group_sum(dot - comp, fbuf, lid, wg);
    for (ulong j = lid; j < valid; j += wg) {
        /* p scaled by 2^128 where it would be subnormal, so that dy and 1/T do not magnify its rounding */
        float lo;
        float q = gpuact_softmax_exponent(gpuact_z(xr, mr, j), m, T, &lo);
        int scaled = 0;
        float p = masked ? 0.0f : gpuact_exp_scaled(q, lo, &scaled) / sum;
        dxr[j] = log_mode ? gpuact_fmaf(-gpuact_apply_scale(p, scaled), total, dyr[j]) / T
                          : gpuact_apply_scale(p * (dyr[j] - total) / T, scaled);
    }
    /* masked columns: p = 0 */
    for (ulong j = valid + lid; j < cols; j += wg) {
        dxr[j] = log_mode ? dyr[j] / T : 0.0f;
    }
}

/* ---- One row per work-item, in float16 vectors (CPU devices) ------------------------------------------------
 * Three passes over a row, the row staying in cache between them: the max; then each exponential, computed once,
 * written to the output (or, backward, to dx) while the row sum (and the backward dot product) accumulate in 16
 * Kahan lanes; then the scaling in place. All in float16 arithmetic, which PoCL compiles to vector code. The last
 * chunk of a row is padded (x with -inf, dy with 0), so it runs the same code. */

typedef struct {
    float16 sum, comp;
} gpuact_kahan16;

static inline void gpuact_kahan16_add(gpuact_kahan16 *k, float16 v) {
    float16 y = v - k->comp;
    float16 t = k->sum + y;
    k->comp = (t - k->sum) - y;
    k->sum = t;
}

/* The lanes added in a fixed order, each lane's compensation first. */
static inline float gpuact_kahan16_total(const gpuact_kahan16 *k) {
    float a[16], c[16];
    vstore16(k->sum, 0, a);
    vstore16(k->comp, 0, c);
    float sum = 0.0f;
    float comp = 0.0f;
    for (int l = 0; l < 16; l++) {
        gpuact_kahan_add(&sum, &comp, a[l] - c[l]);
    }
    return sum - comp;
}

/* Columns j .. j + 15 of a row of `cols`, the ones past its end reading as `pad`. */
static inline float16 gpuact_load16(__global const float *row, ulong j, ulong cols, float pad) {
    if (j + 16 <= cols) {
        return vload16(0, row + j);
    }
    float v[16];
    for (ulong l = 0; l < 16; l++) {
        v[l] = j + l < cols ? row[j + l] : pad;
    }
    return vload16(0, v);
}

static inline void gpuact_store16(float16 v, __global float *row, ulong j, ulong cols) {
    if (j + 16 <= cols) {
        vstore16(v, 0, row + j);
        return;
    }
    float a[16];
    vstore16(v, 0, a);
    for (ulong l = 0; j + l < cols; l++) {
        row[j + l] = a[l];
    }
}

/* The float16 form of gpuact_softmax_exponent (activation_math.h), its 1/T and scale taken once per row. */
static inline float16 gpuact_softmax_exponent16(float16 x, float m, float T, float inv_T, float scale,
                                                float16 *lo) {
    float16 d = x - m;
    float16 dz = d - x;
    float16 err = (x - (d - dz)) + (-m - dz);
    float16 q = d * inv_T * scale;
    float16 low = (fma(-q, (float16) T, d) + err) * inv_T * scale;
    int16 wide = fabs(d) > GPUACT_FLT_MAX; /* a masked (-inf) entry, or logits spanning more than float's range */
    *lo = select(low, (float16) 0.0f, wide | (q < -GPUACT_FLT_MAX));
    return select(q, x * inv_T * scale - m * inv_T * scale, wide);
}

/* exp(q) (1 + lo) for q <= 0 (where exp(q) is never beyond float, and lo is finite). */
static inline float16 gpuact_exp_hilo16(float16 q, float16 lo) {
    float16 e = exp(q);
    return fma(e, lo, e);
}

/* Columns j .. j + 15 of z = x + mask, -inf past the row's end. */
static inline float16 gpuact_load_z16(__global const float *xr, __global const float *mr, ulong j, ulong cols) {
    float16 v = gpuact_load16(xr, j, cols, -INFINITY);
    return mr ? v + gpuact_load16(mr, j, cols, 0.0f) : v;
}

/* The row's max, or NaN when it holds NaN or +inf (the whole row's outputs are NaN then). */
static inline float gpuact_row_max16(__global const float *xr, __global const float *mr, ulong cols) {
    float16 vm = (float16) (-INFINITY);
    int16 bad = (int16) 0;
    for (ulong j = 0; j < cols; j += 16) {
        float16 v = gpuact_load_z16(xr, mr, j, cols);
        vm = fmax(vm, v);
        bad |= isnan(v) | (v == INFINITY);
    }
    if (any(bad)) {
        return NAN;
    }
    float8 m8 = fmax(vm.lo, vm.hi);
    float4 m4 = fmax(m8.lo, m8.hi);
    float2 m2 = fmax(m4.lo, m4.hi);
    return fmax(m2.lo, m2.hi);
}

/* Pass two: out = e^((x - m)/T) per column (log_softmax forward: the exponent (x - m)/T itself), and the row
 * sum as count + rest: log_mode counts the columns equal to the max (whose term is exactly 1) apart from the
 * rest, softmax has every term in rest. With dyr, also dot = sum of dy * e (or of dy, log_mode). */
static inline void gpuact_row_exp16(__global const float *xr, __global const float *mr,
                                    __global const float *dyr, __global float *out, ulong cols, float m, float T,
                                    int log_mode, float *count, float *rest, float *dot) {
    gpuact_kahan16 sum = {(float16) 0.0f, (float16) 0.0f};
    gpuact_kahan16 dots = {(float16) 0.0f, (float16) 0.0f};
    int16 top = (int16) 0;
    float scale = T > GPUACT_TWO_126 ? 0.25f : 1.0f;
    float inv_T = 1.0f / (T * scale);
    for (ulong j = 0; j < cols; j += 16) {
        float16 v = gpuact_load_z16(xr, mr, j, cols);
        float16 lo;
        float16 q = gpuact_softmax_exponent16(v, m, T, inv_T, scale, &lo);
        float16 e = gpuact_exp_hilo16(q, lo);
        float16 term = e;
        if (log_mode) {  /* log1p of the sum without the max's terms keeps the max's output accurate */
            int16 is_top = v == m;
            top -= is_top;
            term = select(e, (float16) 0.0f, is_top);
        }
        gpuact_kahan16_add(&sum, term);
        if (dyr) {
            float16 g = gpuact_load16(dyr, j, cols, 0.0f);
            gpuact_kahan16_add(&dots, log_mode ? g : g * e);
        }
        gpuact_store16(log_mode && !dyr ? q + lo : e, out, j, cols);
    }
    int c[16];
    vstore16(top, 0, c);
    int total = 0;
    for (int l = 0; l < 16; l++) {
        total += c[l];
    }
    *count = (float) total;
    *rest = gpuact_kahan16_total(&sum);
    *dot = dyr ? gpuact_kahan16_total(&dots) : 0.0f;
}

static inline void gpuact_row_fill16(__global float *r, ulong cols, float v) {
    for (ulong j = 0; j < cols; j += 16) {
        gpuact_store16((float16) v, r, j, cols);
    }
}

static inline void gpuact_softmax_row_fwd16(__global const float *xr, __global const float *mr, __global float *yr,
                                            ulong valid, ulong cols, float T, float masked_nan, int log_mode) {
    float m = gpuact_row_max16(xr, mr, valid);
    if (gpuact_isnan(m) || m == -INFINITY) {
        gpuact_row_fill16(yr, cols, gpuact_isnan(m) || masked_nan != 0.0f ? NAN : log_mode ? -INFINITY : 0.0f);
        return;
    }
    float count, rest, unused;
    /* y == x (in place) is safe: each chunk is read before it is written */
    gpuact_row_exp16(xr, mr, 0, yr, valid, m, T, log_mode, &count, &rest, &unused);
    if (log_mode) {
        /* (q + lo) - log sum: both terms <= 0, so rounding q + lo first costs at most half an ulp of the output */
        float log_sum = log1p((count - 1.0f) + rest);
        for (ulong j = 0; j < valid; j += 16) {
            gpuact_store16(gpuact_load16(yr, j, valid, 0.0f) - log_sum, yr, j, valid);
        }
    } else {
        float inv_sum = 1.0f / (count + rest);
        for (ulong j = 0; j < valid; j += 16) {
            gpuact_store16(gpuact_load16(yr, j, valid, 0.0f) * inv_sum, yr, j, valid);
        }
    }
    gpuact_row_fill16(yr + valid, cols - valid, log_mode ? -INFINITY : 0.0f);
}

/* softmax: dx = p (dy - sum dy p) / T; log_softmax: dx = (dy - p sum dy) / T; p = e / sum, and e is kept in dx
 * between the passes (dx is a buffer of its own). A fully masked row has p = 0 (or NaN when masked_nan). */
static inline void gpuact_softmax_row_bwd16(__global const float *xr, __global const float *mr,
                                            __global const float *dyr, __global float *dxr, ulong valid, ulong cols,
                                            float T, float masked_nan, int log_mode) {
    float m = gpuact_row_max16(xr, mr, valid);
    if (gpuact_isnan(m) || (m == -INFINITY && masked_nan != 0.0f)) {
        gpuact_row_fill16(dxr, cols, NAN);
        return;
    }
    /* A fully masked row: with 0 for its max every e is 0 rather than e^(-inf - -inf) = NaN, and every p is 0. */
    int masked = m == -INFINITY;
    float count, rest, dot;
    gpuact_row_exp16(xr, mr, dyr, dxr, valid, masked ? 0.0f : m, T, log_mode, &count, &rest, &dot);
    if (log_mode && valid < cols) {  /* log_softmax sums dy over the whole row, masked columns too */
        float comp = 0.0f;
        float tail = 0.0f;
        for (ulong j = valid; j < cols; j++) {
            gpuact_kahan_add(&tail, &comp, dyr[j]);
        }
        dot += tail - comp;
    }
    float inv_sum = masked ? 0.0f : 1.0f / (count + rest);
    float total = log_mode ? dot : dot * inv_sum;
    float scale = T > GPUACT_TWO_126 ? 0.25f : 1.0f;
    float inv_T = 1.0f / (T * scale);
    for (ulong j = 0; j < valid; j += 16) {
        float16 e = gpuact_load16(dxr, j, valid, 0.0f);
        float16 p = e * inv_sum;
        float16 g = gpuact_load16(dyr, j, valid, 0.0f);
        float16 dx = (log_mode ? fma(-p, (float16) total, g) : p * (g - total)) / T;
        /* Softmax where p is subnormal: (g - total) / T would magnify its rounding (a soak found 11.8 ULP at
         * T = 0.26), so e is taken again as e^(q + 128 ln 2) (q + 88.72 is exact there, Sterbenz) and the product
         * scaled back once. Only chunks holding such a p pay for it. */
        int16 tiny = (p < FLT_MIN) & (e > 0.0f);
        if (!log_mode && any(tiny)) {
            float16 lo;
            float16 q = gpuact_softmax_exponent16(gpuact_load_z16(xr, mr, j, valid), m, T, inv_T, scale, &lo);
            float16 big = gpuact_exp_hilo16(q + 8.872283935546875e+01f, lo - 2.437957392e-07f);
            float16 exact = (((big * inv_sum) * (g - total)) / T) * 5.42101086242752217e-20f;
            dx = select(dx, exact * 5.42101086242752217e-20f, tiny);
        }
        gpuact_store16(dx, dxr, j, valid);
    }
    /* masked columns: p = 0 */
    if (log_mode) {
        for (ulong j = 0; j < cols - valid; j += 16) {
            gpuact_store16(gpuact_load16(dyr + valid, j, cols - valid, 0.0f) / T, dxr + valid, j, cols - valid);
        }
    } else {
        gpuact_row_fill16(dxr + valid, cols - valid, 0.0f);
    }
}

/* The valid columns of masked row r: its length (lengths non-null, one per length_group rows) and its causal limit
 * query + offset + 1 (causal; the query is r, or r mod rows_per_query when that is not 0), within [0, cols]. */
static inline ulong gpuact_valid_columns(ulong r, ulong cols, __global const int *lengths, ulong length_group,
                                         int causal, long offset, ulong rows_per_query) {
    ulong valid = cols;
    if (lengths) {
        valid = min(valid, (ulong) lengths[r / length_group]);
    }
    if (causal) {
        long query = (long) (rows_per_query ? r % rows_per_query : r);
        /* query + offset + 1 without overflow for offsets near the ends of long */
        ulong limit = offset >= (long) cols - query ? cols : query + offset + 1 <= 0 ? 0 : (ulong) (query + offset + 1);
        valid = min(valid, limit);
    }
    return valid;
}

#define GPUACT_MASK_PARAMS __global const float *mask, ulong mask_group, __global const int *lengths, \
    ulong length_group, int causal, long offset, ulong rows_per_query
#define GPUACT_MASK_ROW(r) (mask ? mask + ((r) / mask_group) * cols : 0)
#define GPUACT_VALID(r) gpuact_valid_columns(r, cols, lengths, length_group, causal, offset, rows_per_query)

#define GPUACT_SOFTMAX_KERNELS(PREFIX, LOG_MODE) \
__kernel void GPUACT_KERNEL_NAME(PREFIX, fwd_item)(__global const float *x, __global float *y, ulong rows, \
                                                   ulong cols, ulong xs, ulong ys, float T, float masked_nan) { \
    size_t r = get_global_id(0); \
    if (r < rows) { \
        gpuact_softmax_row_fwd16(x + r * xs, 0, y + r * ys, cols, cols, T, masked_nan, LOG_MODE); \
    } \
} \
__kernel void GPUACT_KERNEL_NAME(PREFIX, fwd_group)(__global const float *x, __global float *y, ulong rows, \
                                                    ulong cols, ulong xs, ulong ys, float T, float masked_nan) { \
    __local float fbuf[GPUACT_WG]; \
    __local ulong ibuf[GPUACT_WG]; \
    size_t r = get_group_id(0); \
    gpuact_softmax_row_fwd(x + r * xs, 0, y + r * ys, cols, cols, T, masked_nan, LOG_MODE, get_local_id(0), \
                           GPUACT_WG, fbuf, ibuf); \
} \
__kernel void GPUACT_KERNEL_NAME(PREFIX, bwd_item)(__global const float *x, __global const float *dy, \
                                                   __global float *dx, ulong rows, ulong cols, ulong xs, ulong ys, \
                                                   float T, float masked_nan) { \
    size_t r = get_global_id(0); \
    if (r < rows) { \
        gpuact_softmax_row_bwd16(x + r * xs, 0, dy + r * ys, dx + r * xs, cols, cols, T, masked_nan, LOG_MODE); \
    } \
} \
__kernel void GPUACT_KERNEL_NAME(PREFIX, bwd_group)(__global const float *x, __global const float *dy, \
                                                    __global float *dx, ulong rows, ulong cols, ulong xs, ulong ys, \
                                                    float T, float masked_nan) { \
    __local float fbuf[GPUACT_WG]; \
    __local ulong ibuf[GPUACT_WG]; \
    size_t r = get_group_id(0); \
    gpuact_softmax_row_bwd(x + r * xs, 0, dy + r * ys, dx + r * xs, cols, cols, T, masked_nan, LOG_MODE, \
                           get_local_id(0), GPUACT_WG, fbuf, ibuf); \
} \
__kernel void GPUACT_KERNEL_NAME(PREFIX, fwd_masked_item)(__global const float *x, __global float *y, ulong rows, \
                                                          ulong cols, ulong xs, ulong ys, float T, float masked_nan, \
                                                          GPUACT_MASK_PARAMS) { \
    size_t r = get_global_id(0); \
    if (r < rows) { \
        gpuact_softmax_row_fwd16(x + r * xs, GPUACT_MASK_ROW(r), y + r * ys, GPUACT_VALID(r), cols, T, masked_nan, \
                                 LOG_MODE); \
    } \
} \
__kernel void GPUACT_KERNEL_NAME(PREFIX, fwd_masked_group)(__global const float *x, __global float *y, ulong rows, \
                                                           ulong cols, ulong xs, ulong ys, float T, \
                                                           float masked_nan, GPUACT_MASK_PARAMS) { \
    __local float fbuf[GPUACT_WG]; \
    __local ulong ibuf[GPUACT_WG]; \
    size_t r = get_group_id(0); \
    gpuact_softmax_row_fwd(x + r * xs, GPUACT_MASK_ROW(r), y + r * ys, GPUACT_VALID(r), cols, T, masked_nan, \
                           LOG_MODE, get_local_id(0), GPUACT_WG, fbuf, ibuf); \
} \
__kernel void GPUACT_KERNEL_NAME(PREFIX, bwd_masked_item)(__global const float *x, __global const float *dy, \
                                                          __global float *dx, ulong rows, ulong cols, ulong xs, \
                                                          ulong ys, float T, float masked_nan, GPUACT_MASK_PARAMS) { \
    size_t r = get_global_id(0); \
    if (r < rows) { \
        gpuact_softmax_row_bwd16(x + r * xs, GPUACT_MASK_ROW(r), dy + r * ys, dx + r * xs, GPUACT_VALID(r), cols, \
                                 T, masked_nan, LOG_MODE); \
    } \
} \
__kernel void GPUACT_KERNEL_NAME(PREFIX, bwd_masked_group)(__global const float *x, __global const float *dy, \
                                                           __global float *dx, ulong rows, ulong cols, ulong xs, \
                                                           ulong ys, float T, float masked_nan, GPUACT_MASK_PARAMS) { \
    __local float fbuf[GPUACT_WG]; \
    __local ulong ibuf[GPUACT_WG]; \
    size_t r = get_group_id(0); \
    gpuact_softmax_row_bwd(x + r * xs, GPUACT_MASK_ROW(r), dy + r * ys, dx + r * xs, GPUACT_VALID(r), cols, T, \
                           masked_nan, LOG_MODE, get_local_id(0), GPUACT_WG, fbuf, ibuf); \
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
__kernel void GPUACT_KERNEL_NAME(maxout, fwd)(__global const float *x, __global float *y, ulong rows,
                                              ulong out_cols, ulong xs, ulong ys, ulong k) {
    size_t g = get_global_id(0);
    if (g < rows * out_cols) {
        ulong r = g / out_cols;
        ulong j = g % out_cols;
        __global const float *p = x + r * xs + j * k;
        y[r * ys + j] = p[gpuact_maxout_arg(p, k)];
    }
}

__kernel void GPUACT_KERNEL_NAME(maxout, bwd)(__global const float *x, __global const float *dy, __global float *dx,
                                              ulong rows, ulong out_cols, ulong xs, ulong ys, ulong k) {
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
