/* Device math of every activation, written once for OpenCL C and CUDA C.
 *
 * For each op NAME of activations.def:
 *   GPUACT_FN float gpuact_fwd_NAME(float x, float a, float b)            y = f(x)
 *   GPUACT_FN float gpuact_bwd_NAME(float x, float dy, float a, float b)  dx = dy * f'(x)
 * a and b are the op's parameters in catalog order (0 when it has fewer).
 *
 * Accuracy target (ACTIVATIONS.md): forward <= 4 ULP, backward <= 8 ULP at every float input, NaN in gives NaN
 * out, infinities give the limit. Float arithmetic only (no fp64, so a CPU OpenCL compiler vectorises it and a GPU
 * runs it at full rate), straight-line code with selects rather than branches for the same reason. The builtins are
 * only trusted to a few ULP, so every formula avoids amplifying their error: arguments of exp that come from a
 * rounded product carry their rounding error along (gpuact_exp_hilo), differences that cancel are rewritten, and
 * exponentials that would be subnormal are scaled (gpuact_exp_scaled). The derivatives that pass through zero away
 * from x = 0 (gelu, gelu_tanh, silu, swish, mish, ricker) are sums of terms computed to a few ULP each, which is
 * what the contract's term-scale reading asks there.
 *
 * Backward passes give dx = dy * f'(x) with the true product's limits: where f'(x) is a real nonzero number whose
 * float underflows (gelu below -13), dy enters before the final scale, so a huge dy keeps its accuracy and an
 * infinite dy gives +-inf, not inf * 0 = NaN (gpuact_dy_times_scaled).
 *
 * Only the C subset both compilers accept is used outside the target #ifs below. */
#ifndef GPUACT_ACTIVATION_MATH_H
#define GPUACT_ACTIVATION_MATH_H

/* Every kernel's name, on both devices: gpuact_<op id>_<pass>, the pass being the direction (fwd, bwd, or bwdy
 * from the saved output) and the kernel's variant if it has one (fwd_strip, bwd_warp8, dweight_partial). The host
 * writes the same names from the catalog (dev.gpuact.spi.KernelName). Inside an X-macro over activations.def the
 * id must be pasted where it first appears, GPUACT_KERNEL_NAME_OF(id##_fwd): an id may also name a macro of the
 * device compiler's (PoCL defines abs, step and tanh), and pasting keeps it from expanding. */
#define GPUACT_KERNEL_NAME(id, pass) GPUACT_KERNEL_NAME_OF(id##_##pass)
#define GPUACT_KERNEL_NAME_OF(id_pass) gpuact_##id_pass

#if defined(__OPENCL_VERSION__)
/* static: C99 inline semantics would leave an external reference wherever the compiler declines to inline.
 * always_inline: a kernel whose loop calls a function is not vectorised; PoCL's inliner declined gelu's (its cost
 * 475 against a threshold of 225) wherever a kernel has two call sites, as a strip kernel has, and its strip loop
 * then ran scalar, 10x slower than items. */
#define GPUACT_FN static inline __attribute__((always_inline))
#define gpuact_expf(v) gpuact_ocl_exp_biased(v, -0.0f, 0)
/* expm1, log1p and tanh are our own (gpuact_ocl_*, below): PoCL's are 6x (expm1) and 20x (log1p) slower than its
 * exp on a CPU device, and its tanh 1.6x slower than ours, because they are not vectorised; ours are straight-line
 * code from polynomials and the exp below. */
#define gpuact_expm1f(v) gpuact_ocl_expm1(v)
#define gpuact_log1pf(v) gpuact_ocl_log1p(v)
#define gpuact_tanhf(v) gpuact_ocl_tanh(v)
#define gpuact_fmaf(p, q, r) fma(p, q, r)
#define gpuact_fabsf(v) fabs(v)
#define gpuact_rintf(v) gpuact_ocl_rint(v)
#define gpuact_int_as_float(i) as_float(i)
#define GPUACT_OCL_MATH 1
#elif defined(__CUDACC__)
#define GPUACT_FN __device__ __forceinline__
#define gpuact_expf(v) expf(v)
#define gpuact_expm1f(v) expm1f(v)
#define gpuact_log1pf(v) log1pf(v)
#define gpuact_tanhf(v) tanhf(v)
#define gpuact_fmaf(p, q, r) fmaf(p, q, r)
#define gpuact_fabsf(v) fabsf(v)
#define gpuact_rintf(v) rintf(v)
#define gpuact_int_as_float(i) __int_as_float(i)
#else
#error "activation_math.h is for OpenCL C or CUDA C"
#endif

#define GPUACT_FLT_MAX 3.402823466e38f
#define GPUACT_TWO_126 8.507059173e37f
#define GPUACT_TWO_M64 5.42101086242752217e-20f
#define GPUACT_INV_SQRT_2PI 0.3989422804014327f
#define GPUACT_SELU_LAMBDA 1.0507009873554805f
#define GPUACT_SELU_LAMBDA_ALPHA 1.7580993408473766f
/* the float nearest 1/6: hardsigmoid's default slope */
#define GPUACT_SIXTH 0.1666666716337204f
/* ln 2 in two parts (Cody-Waite): k times the high part is exact for |k| < 2^11 */
#define GPUACT_LN2_HI 6.93145752e-1f
#define GPUACT_LN2_LO 1.42860677e-6f

/* log1p(v) for v in [0, 1] (every caller's range: v = e^-|t|; NaN passes through) as hi + *lo, |*lo| below an ulp
 * of hi, to about 2^-30 relative: u = 1 + v == u + c exactly, so log1p(v) = log(u) + c/u to first order.
 * log(u) = e ln2 + log(m), m = u or u/2 in [0.7, 1.42), and log(m) = 2 atanh(f), f = (m - 1)/(m + 1), |f| < 0.172:
 * odd series to f^11 (truncation below 1e-9). m - 1 is exact, and the rounding of m + 1 and of the division are
 * carried in f's low part (1/(m + 1) = (1 - f)/2 scales it), so the only rounding left is the caller's of
 * hi + *lo: within 1 ULP, where a float f alone reached 2. */
GPUACT_FN float gpuact_log1p_hilo(float v, float *lo) {
    float u = 1.0f + v;
    float c = v - (u - 1.0f);
    int upper = u > 1.41421356f;
    float m = upper ? 0.5f * u : u;
    float e = upper ? 1.0f : 0.0f;
    float d = m - 1.0f;
    float s = m + 1.0f;
    float s_lo = m - (s - 1.0f);
    float f = d / s;
    float f_lo = (gpuact_fmaf(-f, s, d) - f * s_lo) * (0.5f * (1.0f - f));
    float f2 = f * f;
    float p = 2.0f / 11.0f;
    p = gpuact_fmaf(p, f2, 2.0f / 9.0f);
    p = gpuact_fmaf(p, f2, 2.0f / 7.0f);
    p = gpuact_fmaf(p, f2, 2.0f / 5.0f);
    p = gpuact_fmaf(p, f2, 2.0f / 3.0f);
    /* e ln2_hi + 2f is one rounding; its error is exact (|2f| <= ln2_hi/2, so hi - e ln2_hi is too) */
    float hi = gpuact_fmaf(e, GPUACT_LN2_HI, 2.0f * f);
    float hi_err = 2.0f * f - (hi - e * GPUACT_LN2_HI);
    *lo = hi_err + gpuact_fmaf(f * f2, p, gpuact_fmaf(e, GPUACT_LN2_LO, gpuact_fmaf(2.0f, f_lo, c / u)));
    return hi;
}

/* expm1(r) for a reduced argument (|r| about ln2/2 at most): its Taylor series to r^8 (truncation below 1e-9
 * relative) with r kept exact as the leading term. */
GPUACT_FN float gpuact_expm1_reduced(float r) {
    float p = 2.48015873e-5f;
    p = gpuact_fmaf(p, r, 1.98412698e-4f);
    p = gpuact_fmaf(p, r, 1.38888889e-3f);
    p = gpuact_fmaf(p, r, 8.33333333e-3f);
    p = gpuact_fmaf(p, r, 4.16666667e-2f);
    p = gpuact_fmaf(p, r, 1.66666667e-1f);
    p = gpuact_fmaf(p, r, 0.5f);
    return gpuact_fmaf(p * r, r, r);
}

#if defined(GPUACT_OCL_MATH)
/* exp(hi + lo) 2^bias, bias 0, 64 or 128 (|lo| << 1): PoCL's exp alone took 2.3x the time of a copy on a CPU device;
 * this one is fma and integer work only, and takes lo into its reduced argument, which exp(hi) cannot. x = k ln2 + r,
 * |r| <= ln2/2, k by the 1.5 * 2^23 shift (no float-to-int conversion: NaN stays harmless), ln2 in two parts
 * (Cody-Waite, k ln2_hi exact), exp(r) Cephes' degree-7 minimax in Horner form: within 1 ULP. 2^k is applied as
 * two normal factors, so results down to the subnormals round once. hi is clamped where the result is already 0
 * (k = -150, r < 0) or inf, and lo is then left out; NaN passes through the clamps and the polynomial. */
GPUACT_FN float gpuact_ocl_exp_biased(float hi, float lo, int bias) {
    float lower = -1.040000e+02f - 6.931472e-01f * bias;
    float x = hi < lower ? lower : hi;
    x = x > 89.0f ? 89.0f : x;
    float z = fma(x, 1.44269504f, 12582912.0f);
    float k = z - 12582912.0f;
    int ki = as_int(z) - 0x4b400000 + bias;
    float r = fma(-k, 6.93145752e-1f, x);
    /* a clamped hi has no use for lo (inf - inf); -0.0f adds nothing, so a constant lo = -0.0f costs nothing */
    r = fma(-k, 1.42860677e-6f, r) + (x == hi ? lo : -0.0f);
    float p = 1.9875691500e-4f;
    p = fma(p, r, 1.3981999507e-3f);
    p = fma(p, r, 8.3334519073e-3f);
    p = fma(p, r, 4.1665795894e-2f);
    p = fma(p, r, 1.6666665459e-1f);
    p = fma(p, r, 5.0000001201e-1f);
    p = fma(p, r, 1.0f);
    p = fma(p, r, 1.0f);
    int k1 = ki >> 1;
    return (p * as_float((k1 + 127) << 23)) * as_float((ki - k1 + 127) << 23);
}

/* rint(v) for |v| <= 2^22 (every caller's range, or a caller that clamps the result: larger v come back within an
 * ulp of v, infinities and NaN unchanged): adding and taking away 1.5 * 2^23 rounds to an integer in the current
 * (nearest-even) mode. PoCL's rint is about 20 vector instructions on a CPU device; this is two. */
GPUACT_FN float gpuact_ocl_rint(float v) { return (v + 12582912.0f) - 12582912.0f; }

/* expm1(x) = 2^k expm1(r) + (2^k - 1), x = k ln2 + r with |r| <= ln2/2 (ln2 in two parts, Cody-Waite);
 * expm1(r) is its Taylor series to r^8 (truncation below 1e-9 relative) with r kept exact as the leading term, and
 * 2^k - 1 is exact, so one fma rounds the sum: within 1 ULP where k = 0 and 2 ULP elsewhere. Below -30 the
 * result is -1 to float precision (so -inf is taken as -30); k stops at 128, where 2^k is already +inf. */
GPUACT_FN float gpuact_ocl_expm1(float x) {
    float xc = x < -30.0f ? -30.0f : x;
    float k = fmin(gpuact_ocl_rint(xc * 1.44269504f), 128.0f);
    float r = fma(-k, GPUACT_LN2_HI, xc);
    r = fma(-k, GPUACT_LN2_LO, r);
    float p = gpuact_expm1_reduced(r);
    float s = as_float(((int) k + 127) << 23);
    return isnan(x) ? x : fma(s, p, s - 1.0f);
}

GPUACT_FN float gpuact_ocl_log1p(float v) {
    float lo;
    float hi = gpuact_log1p_hilo(v, &lo);
    return hi + lo;
}
#endif

/* NaN-safe selection: a comparison with NaN is false, so every clamp below is written to let NaN through. */
GPUACT_FN int gpuact_isnan(float v) { return v != v; }
GPUACT_FN float gpuact_nan_or(float x, float v) { return gpuact_isnan(x) ? x : v; }
/* x * v where v may have underflowed to 0 while x is infinite: the limit is 0, not NaN. */
GPUACT_FN float gpuact_vanishing(float x, float v) { return v == 0.0f ? 0.0f : x * v; }

/* exp(hi + lo) for |lo| << ulp(hi): the low part enters as the first-order factor (1 + lo), or (OpenCL) into the
 * reduced argument. */
GPUACT_FN float gpuact_exp_hilo(float hi, float lo) {
#if defined(GPUACT_OCL_MATH)
    return gpuact_ocl_exp_biased(hi, lo, 0);
#else
    float e = gpuact_expf(hi);
    return (e == 0.0f || e > GPUACT_FLT_MAX) ? e : gpuact_fmaf(e, lo, e);
#endif
}

/* TwoSum: a + b == s + *err exactly. */
GPUACT_FN float gpuact_two_sum(float a, float b, float *err) {
    float s = a + b;
    float bb = s - a;
    *err = (a - (s - bb)) + (b - bb);
    return s;
}

/* exp(hi + lo) = e * 2^-128 below hi = -87 and e above, with e normal down to hi = -192: the exponent is taken of
 * hi + 128 ln 2 there (ln 2 in two parts, the sum's error carried in lo), so a factor applied to e before the
 * scale (gpuact_apply_scale) keeps its relative accuracy where exp alone would be subnormal. One exp, no branch;
 * e <= 5.6 in the shifted range, so a factor that fits with the final result fits with e. */
GPUACT_FN float gpuact_exp_scaled(float hi, float lo, int *scaled) {
#if defined(GPUACT_OCL_MATH)
    /* the scale goes into the exponent of the result directly */
    *scaled = hi < -87.0f;
    return gpuact_ocl_exp_biased(hi, lo, *scaled ? 128 : 0);
#else
    float err;
    float shifted = gpuact_two_sum(hi, 8.872283935546875e+01f, &err);
    *scaled = hi < -87.0f;
    return gpuact_exp_hilo(*scaled ? shifted : hi, *scaled ? lo + err - 2.437957392e-07f : lo);
#endif
}

/* v * 2^-128 when scaled, in two exact steps and one rounding (2^-128 itself is subnormal). The factor is
 * selected, not the product: a vectorised select computes both sides, and v * 2^-128 of an unscaled v would be a
 * subnormal result on every element, which many x86 cores finish in a slow microcode assist. */
GPUACT_FN float gpuact_apply_scale(float v, int scaled) {
    float f = scaled ? 5.42101086242752217e-20f : 1.0f;
    return (v * f) * f;
}

/* m * exp(hi + lo), rounded once even where exp alone would already be subnormal. */
GPUACT_FN float gpuact_exp_hilo_times(float hi, float lo, float m) {
    int scaled;
    float e = gpuact_exp_scaled(hi, lo, &scaled);
    return gpuact_apply_scale(gpuact_vanishing(m, e), scaled);
}

/* dy * m * e (e from gpuact_exp_scaled) for a backward pass whose f'(x) = m e is a real nonzero number at every
 * finite x: dy meets m e before the scale, so a huge dy keeps its accuracy where f' alone would be subnormal; and where
 * the exponential underflows entirely, an infinite dy still gives the true +-inf (sign of m), not NaN. An
 * infinite x (f' = 0 in the limit) keeps inf * 0 = NaN. */
GPUACT_FN float gpuact_dy_times_scaled(float dy, float e, int scaled, float m, float x) {
    float r = gpuact_apply_scale(dy * gpuact_vanishing(m, e), scaled);
    int lost = e == 0.0f && m != 0.0f && gpuact_fabsf(dy) > GPUACT_FLT_MAX && gpuact_fabsf(x) <= GPUACT_FLT_MAX;
    return lost ? (m < 0.0f ? -dy : dy) : r;
}

/* dy * m * exp(hi + lo): the backward pass of an op whose f'(x) = m exp(hi + lo) (celu below 0). */
GPUACT_FN float gpuact_dy_times_exp(float dy, float hi, float lo, float m, float x) {
    int scaled;
    float e = gpuact_exp_scaled(hi, lo, &scaled);
    return gpuact_dy_times_scaled(dy, e, scaled, m, x);
}

/* The low part of -|t + tlo| for a t rounded from t + tlo: what the exponentials of the sigmoids below take. An
 * op whose t is exact passes -0.0f instead, which the compiler drops from the exp (a select of +-0 it cannot). */
GPUACT_FN float gpuact_neg_abs_lo(float t, float tlo) { return t >= 0.0f ? -tlo : tlo; }

/* m * sigma(t + tlo) without overflow or cancellation on either side, one exp and one division: e = exp(-|t|)
 * (scaled where it would be subnormal), sigma = 1/(1 + e) for t >= 0 and e/(1 + e) below; elo is
 * gpuact_neg_abs_lo(t, tlo). The numerator is selected before the division: a vectorised select computes both
 * sides, which made two divisions per element. A scaled e is below 2^-125, so 1 + e is 1 there. */
GPUACT_FN float gpuact_sigmoid_exp_times(float t, float elo, float m) {
    int scaled;
    float e = gpuact_exp_scaled(-gpuact_fabsf(t), elo, &scaled);
    float d = 1.0f + (scaled ? 0.0f : e);
    int upper = t >= 0.0f;
    return gpuact_apply_scale((upper ? m : gpuact_vanishing(m, e)) / d, scaled && !upper);
}

/* gpuact_sigmoid_exp_times for |m| <= 2^63 or |m| <= |t| (every caller but swish's): m sigma(t) then rounds to 0
 * wherever t < -148, the least t at which e^-|t| 2^64 is still a float. So on OpenCL e^-|t| is always taken times
 * 2^64, a constant scale with no select on it: silu took 1.6x the time of sigmoid on a CPU device with the
 * selected scale, 1.2x with this. */
GPUACT_FN float gpuact_sigmoid_exp_times_bounded(float t, float elo, float m) {
#if defined(GPUACT_OCL_MATH)
    float e64 = gpuact_ocl_exp_biased(-gpuact_fabsf(t), elo, 64);
    int upper = t >= 0.0f;
    float v = (upper ? m : gpuact_vanishing(m, e64)) / (1.0f + e64 * GPUACT_TWO_M64);
    return v * (upper ? 1.0f : GPUACT_TWO_M64);
#else
    return gpuact_sigmoid_exp_times(t, elo, m);
#endif
}

/* m sigma(t + tlo) for |m| <= 2^63 or |m| <= |t| (gpuact_sigmoid_exp_times_bounded). */
GPUACT_FN float gpuact_sigmoid_hilo_times(float t, float tlo, float m) {
    return gpuact_sigmoid_exp_times_bounded(t, gpuact_neg_abs_lo(t, tlo), m);
}

GPUACT_FN float gpuact_sigmoid_hilo(float t, float tlo) { return gpuact_sigmoid_hilo_times(t, tlo, 1.0f); }

GPUACT_FN float gpuact_sigmoidf(float t) {
    float e = gpuact_expf(-gpuact_fabsf(t));
    return (t >= 0.0f ? 1.0f : e) / (1.0f + e);
}

/* m * exp(-x^2 / 2) with x^2 split exactly into h + l, so large |x| loses nothing to the rounding of x^2. */
GPUACT_FN float gpuact_exp_neg_half_square_times(float x, float m) {
    float h = x * x;
    float l = gpuact_fmaf(x, x, -h);
    return gpuact_exp_hilo_times(-0.5f * h, -0.5f * l, m);
}

/* gelu's Gaussian tail, as the Java backend computes it (FloatMath.TAIL_K and TAIL_H0..11, fitted by
 * cpu-fallback/tools/fit_gaussian_tail.py): a Phi(-a) = e^{-a^2/2} w g for a = |x|, w = a/(a + 3/2) and
 * g = (a + 3/2) erfcx(a/sqrt 2)/2 = 1/2 + H(2w - 1), H of degree 11 (g lies in [0.44, 0.75] over a in [0, 15]). */
GPUACT_FN float gpuact_gaussian_tail_h(float w) {
    float t = gpuact_fmaf(w, 2.0f, -1.0f);
    float h = 0.000157485410454683f;
    h = gpuact_fmaf(h, t, 0.0004699989513028413f);
    h = gpuact_fmaf(h, t, 0.00023999383847694844f);
    h = gpuact_fmaf(h, t, -0.0010484744561836123f);
    h = gpuact_fmaf(h, t, -0.002704231534153223f);
    h = gpuact_fmaf(h, t, -0.0024308436550199986f);
    h = gpuact_fmaf(h, t, 0.003986619412899017f);
    h = gpuact_fmaf(h, t, 0.017639797180891037f);
    h = gpuact_fmaf(h, t, 0.017896654084324837f);
    h = gpuact_fmaf(h, t, -0.057495441287755966f);
    h = gpuact_fmaf(h, t, -0.19509947299957275f);
    return gpuact_fmaf(h, t, 0.11734200268983841f);
}

/* |x| Phi(-|x|) = e^{-x^2/2} p, p = w/2 + w H (one fma, in which H's error counts at a third of its size at most).
 * e^{-x^2/2} = 2^k (1 + pe), x^2 split exactly into h + l, pe the expm1 series of the reduced exponent; p meets it in
 * one fma, 2^k (1 + pe) p = fma(t, pe, t) with t = p 2^k1 exact, and the rest of 2^k is applied after it, so that a
 * subnormal result is rounded once more at most: within 3 ULP where it is a normal float (the Java backend's error
 * over every float). Below -x^2/2 = -120 the result is 0; infinite x gives NaN (callers select past |x| = 20). */
GPUACT_FN float gpuact_gelu_tail(float x) {
    float a = gpuact_fabsf(x);
    float w = a / (a + 1.5f);
    float p = gpuact_fmaf(w, gpuact_gaussian_tail_h(w), 0.5f * w);
    float h = x * x;
    float hi = -0.5f * h;
    /* k in [-173, 0] from a clamp that takes NaN to -120 too; the reduced exponent from one that lets NaN through */
    float k = gpuact_rintf((hi > -120.0f ? hi : -120.0f) * 1.44269504f);
    float r = gpuact_fmaf(-k, GPUACT_LN2_HI, hi < -120.0f ? -120.0f : hi);
    r = gpuact_fmaf(-k, GPUACT_LN2_LO, r) - 0.5f * gpuact_fmaf(x, x, -h);
    float pe = gpuact_expm1_reduced(r);
    int k1 = ((int) k) / 2;
    float t = p * gpuact_int_as_float((k1 + 127) << 23);
    return gpuact_fmaf(t, pe, t) * gpuact_int_as_float(((int) k - k1 + 127) << 23);
}

/* e^{a^2/2} Phi(-a) = v/2 + v H(2w - 1), v = 1/(a + 3/2), w = a/(a + 3/2) a quotient of its own, for a >= 0. */
GPUACT_FN float gpuact_normal_tail_ratio(float a) {
    float d = a + 1.5f;
    float v = 1.0f / d;
    return gpuact_fmaf(gpuact_gaussian_tail_h(a / d), v, 0.5f * v);
}

/* 2u = A x + B x^3 of gelu_tanh (A = 2 sqrt(2/pi), B = 0.044715 A) as hi + *lo to about 2^-40: sigma(2u)
 * amplifies the error of 2u by |2u| (up to 190 where it is still a float), so A and B are float pairs, x^2 is split
 * exactly, and A + B x^2 (no cancellation) is summed with its error. */
GPUACT_FN float gpuact_gelu_tanh_u2(float x, float *lo) {
    float s = x * x;
    float sl = gpuact_fmaf(x, x, -s);
    float bs = 7.135481387e-02f * s;
    float bs_lo = gpuact_fmaf(7.135481387e-02f, s, -bs) + gpuact_fmaf(7.135481387e-02f, sl, 2.398832466e-09f * s);
    float err;
    float inner = gpuact_two_sum(1.595769167e+00f, bs, &err);
    float inner_lo = err + (bs_lo - 4.534068054e-08f);
    float hi = x * inner;
    *lo = gpuact_fmaf(x, inner, -hi) + x * inner_lo;
    return hi;
}

/* x - tanh x for |x| < 1: x^3 g(x^2), g fitted on [0, 1] (relative error 5e-10), x^3 formed with one rounding. */
GPUACT_FN float gpuact_tanhshrink_small(float x) {
    float s = x * x;
    float x3 = gpuact_fmaf(x, s, x * gpuact_fmaf(x, x, -s));
    float g = 4.881862745e-05f;
    g = gpuact_fmaf(g, s, -3.391033293e-04f);
    g = gpuact_fmaf(g, s, 1.244468605e-03f);
    g = gpuact_fmaf(g, s, -3.480356189e-03f);
    g = gpuact_fmaf(g, s, 8.827181605e-03f);
    g = gpuact_fmaf(g, s, -2.186281491e-02f);
    g = gpuact_fmaf(g, s, 5.396762702e-02f);
    g = gpuact_fmaf(g, s, -1.333333105e-01f);
    g = gpuact_fmaf(g, s, 3.333333332e-01f);
    return x3 * g;
}

#if defined(GPUACT_OCL_MATH)
/* tanh |x| = |x| - tanhshrink(|x|) below 1 and (1 - e)/(1 + e), e = e^{-2|x|} <= 0.136, above (no cancellation
 * either side; within 2 ULP), the sign put back last so that -0 stays -0. PoCL's tanh took 3.2x the time of a copy
 * on a CPU device; both sides here are fma work and one division, and vectorise. */
GPUACT_FN float gpuact_ocl_tanh(float x) {
    float ax = fabs(x);
    float e = gpuact_ocl_exp_biased(-2.0f * ax, -0.0f, 0);
    float t = ax < 1.0f ? ax - gpuact_tanhshrink_small(ax) : (1.0f - e) / (1.0f + e);
    return copysign(t, x);
}
#endif

/* d/dt [t sigma(t)] = sigma(t)(1 + t sigma(-t)), zero at t = -1.2785, one exp: with e = exp(-|t|) and
 * r = 1/(1 + e), it is r (1 + t e r) for t >= 0 and e r (1 + t r) below (e scaled where it would be subnormal;
 * elo as for gpuact_sigmoid_exp_times). Where e is scaled (|t| > 87), e and t e r are far below an ulp of 1. */
GPUACT_FN float gpuact_silu_slope_exp(float t, float elo) {
#if defined(GPUACT_OCL_MATH)
    /* the constant scale of gpuact_sigmoid_exp_times_bounded: no factor here is larger than |t| */
    float e64 = gpuact_ocl_exp_biased(-gpuact_fabsf(t), elo, 64);
    float e = e64 * GPUACT_TWO_M64;
    float r = 1.0f / (1.0f + e);
    float upper = r * (1.0f + gpuact_vanishing(t, e * r));
    float lower = gpuact_vanishing(gpuact_fmaf(t, r, 1.0f), e64 * r) * GPUACT_TWO_M64;
    return t >= 0.0f ? upper : lower;
#else
    int scaled;
    float e = gpuact_exp_scaled(-gpuact_fabsf(t), elo, &scaled);
    float e_unscaled = scaled ? 0.0f : e;
    float r = 1.0f / (1.0f + e_unscaled);
    float upper = r * (1.0f + gpuact_vanishing(t, e_unscaled * r));
    float lower = gpuact_apply_scale(gpuact_vanishing(gpuact_fmaf(t, r, 1.0f), e * r), scaled);
    return t >= 0.0f ? upper : lower;
#endif
}

GPUACT_FN float gpuact_silu_slope(float t, float tlo) { return gpuact_silu_slope_exp(t, gpuact_neg_abs_lo(t, tlo)); }

/* tanh(softplus x) = n/(n + 2), n = e (e + 2), e = e^x: no log, no cancellation; 1 - t = 2/(n + 2) and
 * 1 - t^2 = 4 (e + 1)^2/(n + 2)^2. e is scaled where it would be subnormal (*scaled) and *q = 1/(n + 2). */
GPUACT_FN float gpuact_mish_e(float x, int *scaled, float *q) {
    float e = gpuact_exp_scaled(x, 0.0f, scaled);
    float es = gpuact_apply_scale(e, *scaled);
    *q = 1.0f / gpuact_fmaf(es, es + 2.0f, 2.0f);
    return e;
}

/* ---- elementwise ops, in activations.def order ---------------------------------------------------------- */

GPUACT_FN float gpuact_fwd_IDENTITY(float x, float a, float b) { return x; }
GPUACT_FN float gpuact_bwd_IDENTITY(float x, float dy, float a, float b) { return dy * gpuact_nan_or(x, 1.0f); }

GPUACT_FN float gpuact_fwd_STEP(float x, float a, float b) { return gpuact_nan_or(x, x > 0.0f ? 1.0f : 0.0f); }
GPUACT_FN float gpuact_bwd_STEP(float x, float dy, float a, float b) { return dy * gpuact_nan_or(x, 0.0f); }

GPUACT_FN float gpuact_fwd_ABS(float x, float a, float b) { return gpuact_fabsf(x); }
GPUACT_FN float gpuact_bwd_ABS(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f);
}

GPUACT_FN float gpuact_fwd_SQUARE(float x, float a, float b) { return x * x; }
/* 2 goes on the smaller factor, so 2x cannot overflow where dy * 2x does not. */
GPUACT_FN float gpuact_bwd_SQUARE(float x, float dy, float a, float b) {
    return gpuact_fabsf(x) > gpuact_fabsf(dy) ? (2.0f * dy) * x : dy * (2.0f * x);
}

GPUACT_FN float gpuact_fwd_SIGMOID(float x, float a, float b) { return gpuact_sigmoidf(x); }
/* sigma(x) sigma(-x) = e/(1 + e)^2 with e = exp(-|x|): one exp, one division. */
GPUACT_FN float gpuact_bwd_SIGMOID(float x, float dy, float a, float b) {
    float e = gpuact_expf(-gpuact_fabsf(x));
    float d = 1.0f + e;
    return dy * (e / (d * d));
}

/* 1 - tanh^2 x = 4e/(1 + e)^2 with e = exp(-2|x|): no cancellation for large |x|. */
GPUACT_FN float gpuact_sech2(float x) {
    float e = gpuact_expf(-2.0f * gpuact_fabsf(x));
    float d = 1.0f + e;
    return (4.0f * e) / (d * d);
}

GPUACT_FN float gpuact_fwd_TANH(float x, float a, float b) { return gpuact_tanhf(x); }
GPUACT_FN float gpuact_bwd_TANH(float x, float dy, float a, float b) { return dy * gpuact_sech2(x); }

GPUACT_FN float gpuact_fwd_RELU(float x, float a, float b) { return x <= 0.0f ? 0.0f : x; }
GPUACT_FN float gpuact_bwd_RELU(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, x > 0.0f ? 1.0f : 0.0f);
}

GPUACT_FN float gpuact_fwd_RELU6(float x, float a, float b) { return x <= 0.0f ? 0.0f : x >= 6.0f ? 6.0f : x; }
GPUACT_FN float gpuact_bwd_RELU6(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, x > 0.0f && x < 6.0f ? 1.0f : 0.0f);
}

GPUACT_FN float gpuact_fwd_LEAKY_RELU(float x, float a, float b) {
    return (x > 0.0f || gpuact_isnan(x)) ? x : gpuact_vanishing(x, a);
}
GPUACT_FN float gpuact_bwd_LEAKY_RELU(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, x > 0.0f ? 1.0f : a);
}

GPUACT_FN float gpuact_fwd_ELU(float x, float a, float b) {
    return (x > 0.0f || gpuact_isnan(x)) ? x : a * gpuact_expm1f(x);
}
GPUACT_FN float gpuact_bwd_ELU(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, x > 0.0f ? 1.0f : gpuact_exp_hilo_times(x, 0.0f, a));
}

GPUACT_FN float gpuact_fwd_SELU(float x, float a, float b) {
    return (x > 0.0f || gpuact_isnan(x)) ? GPUACT_SELU_LAMBDA * x : GPUACT_SELU_LAMBDA_ALPHA * gpuact_expm1f(x);
}
GPUACT_FN float gpuact_bwd_SELU(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, x > 0.0f ? GPUACT_SELU_LAMBDA : gpuact_exp_hilo_times(x, 0.0f, GPUACT_SELU_LAMBDA_ALPHA));
}

/* expm1 has condition number <= 1 for negative arguments, so the rounding of x / alpha does no harm there;
 * exp(x / alpha) amplifies it by |x / alpha|, so the derivative carries the division remainder along. */
GPUACT_FN float gpuact_fwd_CELU(float x, float a, float b) {
    return (x > 0.0f || gpuact_isnan(x)) ? x : a * gpuact_expm1f(x / a);
}
GPUACT_FN float gpuact_bwd_CELU(float x, float dy, float a, float b) {
    float q = x / a;
    float r = gpuact_fmaf(-q, a, x);
    return x > 0.0f ? dy : gpuact_nan_or(x, gpuact_dy_times_exp(dy, q, r / a, 1.0f, x));
}

/* Selects, not early returns: a CPU OpenCL compiler vectorises across work-items only through straight-line code
 * (the early-return form ran 8x slower on PoCL); the tail is finite or NaN wherever it is selected. */
GPUACT_FN float gpuact_fwd_GELU(float x, float a, float b) {
    float inside = (x > 0.0f ? x : 0.0f) - gpuact_gelu_tail(x);
    return x > 10.0f ? x : x < -20.0f ? 0.0f : inside;
}
/* Phi(x) + x phi(x) = e^{-x^2/2} m: 1 + e^{-x^2/2}(x/sqrt(2 pi) - R) above 0 and e^{-x^2/2}(R + x/sqrt(2 pi))
 * below, R = e^{x^2/2} Phi(-|x|) (gpuact_normal_tail_ratio); the two terms of m cancel near the root x = -0.7518. */
GPUACT_FN float gpuact_bwd_GELU(float x, float dy, float a, float b) {
    float ratio = gpuact_normal_tail_ratio(gpuact_fabsf(x));
    float xs = x * GPUACT_INV_SQRT_2PI;
    float h = x * x;
    int scaled;
    float e = gpuact_exp_scaled(-0.5f * h, -0.5f * gpuact_fmaf(x, x, -h), &scaled);
    float upper = dy * (1.0f + gpuact_apply_scale(gpuact_vanishing(xs - ratio, e), scaled));
    float lower = gpuact_dy_times_scaled(dy, e, scaled, ratio + xs, x);
    return x > 10.0f ? dy : x > 0.0f ? upper : lower;
}

GPUACT_FN float gpuact_fwd_GELU_TANH(float x, float a, float b) {
    float lo;
    float u2 = gpuact_gelu_tanh_u2(x, &lo);
    return gpuact_sigmoid_hilo_times(u2, lo, x);
}
/* sigma(2u)(1 + x (2u)' sigma(-2u)) with e = exp(-|2u|), r = 1/(1 + e): r (1 + x (2u)' e r) above 0 and
 * e r (1 + x (2u)' r) below; the terms cancel near the root x = -0.75. */
GPUACT_FN float gpuact_bwd_GELU_TANH(float x, float dy, float a, float b) {
    float lo;
    float u2 = gpuact_gelu_tanh_u2(x, &lo);
    float du2 = 1.595769122f * gpuact_fmaf(0.134145f * x, x, 1.0f);
    int scaled;
    float e = gpuact_exp_scaled(-gpuact_fabsf(u2), u2 >= 0.0f ? -lo : lo, &scaled);
    float es = gpuact_apply_scale(e, scaled);
    float r = 1.0f / (1.0f + es);
    float upper = dy * (r * (1.0f + gpuact_vanishing(x * du2, es * r)));
    float lower = gpuact_dy_times_scaled(dy, e, scaled, r * gpuact_fmaf(x * du2, r, 1.0f), x);
    return u2 >= 0.0f ? upper : lower;
}

GPUACT_FN float gpuact_fwd_SILU(float x, float a, float b) { return gpuact_sigmoid_exp_times_bounded(x, -0.0f, x); }
GPUACT_FN float gpuact_bwd_SILU(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, gpuact_silu_slope_exp(x, -0.0f));
}

/* x can be 2^64 times t here (a small beta), so the general scaling. */
GPUACT_FN float gpuact_fwd_SWISH(float x, float a, float b) {
    float t = a * x;
    return gpuact_sigmoid_exp_times(t, gpuact_neg_abs_lo(t, gpuact_fmaf(a, x, -t)), x);
}
/* d/dx [x sigma(bx)] = (d/dt [t sigma(t)]) at t = bx. */
GPUACT_FN float gpuact_bwd_SWISH(float x, float dy, float a, float b) {
    float t = a * x;
    return dy * gpuact_nan_or(x, gpuact_silu_slope(t, gpuact_fmaf(a, x, -t)));
}

/* x t = x e (e + 2) q; above 20, t = 1 to float precision. */
GPUACT_FN float gpuact_fwd_MISH(float x, float a, float b) {
    int scaled;
    float q;
    float e = gpuact_mish_e(x, &scaled, &q);
    float es = gpuact_apply_scale(e, scaled);
    float y = gpuact_apply_scale(gpuact_vanishing(x, e) * ((es + 2.0f) * q), scaled);
    return x > 20.0f ? x : y;
}
/* t + x (1 - t^2) sigma(x) = e ((e + 2) q + 4 x (1 + e) q^2): one exp, one division; the two terms cancel near the
 * root x = -1.19. */
GPUACT_FN float gpuact_bwd_MISH(float x, float dy, float a, float b) {
    int scaled;
    float q;
    float e = gpuact_mish_e(x, &scaled, &q);
    float es = gpuact_apply_scale(e, scaled);
    float m = gpuact_fmaf(es + 2.0f, q, (4.0f * x) * ((1.0f + es) * (q * q)));
    return x > 20.0f ? dy : gpuact_dy_times_scaled(dy, e, scaled, m, x);
}

/* beta x > threshold, decided on the exact product t + tlo: the rounded t alone flips it next to the kink x =
 * threshold / beta (where beta x is not a float), giving x where the contract gives log1p(e^(beta x))/beta. */
GPUACT_FN int gpuact_softplus_linear(float t, float tlo, float b) { return t > b || (t == b && tlo > 0.0f); }

/* log1p(e^t)/beta = (max(t, 0) + log1p(e^-|t|))/beta with t = beta x carried as hi + lo, and the sum kept as
 * s + s_lo until it is divided (with its remainder): a rounded log1p and a rounded quotient cost 5-6 ULP with
 * beta != 1. */
GPUACT_FN float gpuact_fwd_SOFTPLUS(float x, float a, float b) {
    float t = a * x;
    float tlo = gpuact_fmaf(a, x, -t);
    if (gpuact_softplus_linear(t, tlo, b)) {
        return x;
    }
    float tail_lo;
    float tail = gpuact_log1p_hilo(gpuact_exp_hilo(-gpuact_fabsf(t), t > 0.0f ? -tlo : tlo), &tail_lo);
    float h = t > 0.0f ? t : tail;
    float l = t > 0.0f ? tlo + (tail + tail_lo) : tail_lo;
    float s_lo;
    float s = gpuact_two_sum(h, l, &s_lo);
    float q = s / a;
    return q + (gpuact_fmaf(-q, a, s) + s_lo) / a;
}
GPUACT_FN float gpuact_bwd_SOFTPLUS(float x, float dy, float a, float b) {
    float t = a * x;
    float tlo = gpuact_fmaf(a, x, -t);
    return dy * gpuact_nan_or(x, gpuact_softplus_linear(t, tlo, b) ? 1.0f : gpuact_sigmoid_hilo(t, tlo));
}

GPUACT_FN float gpuact_fwd_SOFTSIGN(float x, float a, float b) {
    return gpuact_fabsf(x) > GPUACT_FLT_MAX ? (x > 0.0f ? 1.0f : -1.0f) : x / (1.0f + gpuact_fabsf(x));
}
/* (1/d)(1/d) rather than 1/d^2: d^2 overflows long before the result underflows. */
GPUACT_FN float gpuact_bwd_SOFTSIGN(float x, float dy, float a, float b) {
    float r = 1.0f / (1.0f + gpuact_fabsf(x));
    return (dy * r) * r;
}

GPUACT_FN float gpuact_fwd_LOGSIGMOID(float x, float a, float b) {
    return (x < 0.0f ? x : 0.0f) - gpuact_log1pf(gpuact_expf(-gpuact_fabsf(x)));
}
GPUACT_FN float gpuact_bwd_LOGSIGMOID(float x, float dy, float a, float b) { return dy * gpuact_sigmoidf(-x); }

GPUACT_FN float gpuact_fwd_HARDTANH(float x, float a, float b) { return x < a ? a : x > b ? b : x; }
GPUACT_FN float gpuact_bwd_HARDTANH(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, x > a && x < b ? 1.0f : 0.0f);
}

/* The line alpha x + beta as an unrounded hi + *lo, scaled so that the clamp is (0, *top). The float nearest 1/6,
 * the default slope, stands for 1/6 itself (ACTIVATIONS.md: defaults are exact): the line is then x + 6 beta over
 * (0, 6), which is exact near its zero at -3, where (1/6 rounded) x + beta cancels to a 10^6 ULP error
 * (|beta| < 1e30, so 6 beta stays finite). */
GPUACT_FN int gpuact_hardsigmoid_sixth(float a, float b) { return a == GPUACT_SIXTH && gpuact_fabsf(b) < 1e30f; }

GPUACT_FN float gpuact_hardsigmoid_line(float x, float a, float b, float *lo, float *top) {
    int sixth = gpuact_hardsigmoid_sixth(a, b);
    float p = sixth ? 6.0f * b : a * x;
    float plo = sixth ? gpuact_fmaf(6.0f, b, -p) : gpuact_fmaf(a, x, -p);
    float err;
    float v = gpuact_two_sum(p, sixth ? x : b, &err);
    *lo = err + plo;
    *top = sixth ? 6.0f : 1.0f;
    return v;
}

/* With the default slope, x + 6 beta is exact near its zero (Sterbenz), so w rounds once there. */
GPUACT_FN float gpuact_fwd_HARDSIGMOID(float x, float a, float b) {
    int sixth = gpuact_hardsigmoid_sixth(a, b);
    float p = 6.0f * b;
    float w = sixth ? (x + p) + gpuact_fmaf(6.0f, b, -p) : gpuact_fmaf(a, x, b);
    float top = sixth ? 6.0f : 1.0f;
    return w <= 0.0f ? 0.0f : w >= top ? 1.0f : sixth ? w / 6.0f : w;
}
/* Whether 0 < a x + b < 1 holds for the exact value, because the rounded line reaches its bound just inside it. */
GPUACT_FN float gpuact_bwd_HARDSIGMOID(float x, float dy, float a, float b) {
    float lo;
    float top;
    float v = gpuact_hardsigmoid_line(x, a, b, &lo, &top);
    int inside = (v > 0.0f || (v == 0.0f && lo > 0.0f)) && (v < top || (v == top && lo < 0.0f));
    return dy * gpuact_nan_or(v, inside ? a : 0.0f);
}

/* x (x + 3)/6 inside: x + 3 is exact near -3, so the result keeps its relative accuracy there. */
GPUACT_FN float gpuact_fwd_HARDSWISH(float x, float a, float b) {
    return x <= -3.0f ? 0.0f : x >= 3.0f ? x : x * (x + 3.0f) / 6.0f;
}
GPUACT_FN float gpuact_bwd_HARDSWISH(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, x < -3.0f ? 0.0f : x > 3.0f ? 1.0f : (2.0f * x + 3.0f) / 6.0f);
}

/* Polynomial below 1; above, x - tanh x = (x - 1) + 2/(e^{2x} + 1), whose two terms do not cancel. */
GPUACT_FN float gpuact_fwd_TANHSHRINK(float x, float a, float b) {
    float ax = gpuact_fabsf(x);
    if (ax < 1.0f) {
        return gpuact_tanhshrink_small(x);
    }
    float r = (ax - 1.0f) + 2.0f / (gpuact_expf(2.0f * ax) + 1.0f);
    return x < 0.0f ? -r : r;
}
GPUACT_FN float gpuact_bwd_TANHSHRINK(float x, float dy, float a, float b) {
    float t = gpuact_tanhf(x);
    return (dy * t) * t;
}

GPUACT_FN float gpuact_fwd_SOFTSHRINK(float x, float a, float b) {
    return x > a ? x - a : x < -a ? x + a : gpuact_nan_or(x, 0.0f);
}
GPUACT_FN float gpuact_bwd_SOFTSHRINK(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, gpuact_fabsf(x) > a ? 1.0f : 0.0f);
}

GPUACT_FN float gpuact_fwd_HARDSHRINK(float x, float a, float b) {
    return (gpuact_fabsf(x) > a || gpuact_isnan(x)) ? x : 0.0f;
}
GPUACT_FN float gpuact_bwd_HARDSHRINK(float x, float dy, float a, float b) { return gpuact_bwd_SOFTSHRINK(x, dy, a, b); }

GPUACT_FN float gpuact_fwd_THRESHOLD(float x, float a, float b) { return (x > a || gpuact_isnan(x)) ? x : b; }
GPUACT_FN float gpuact_bwd_THRESHOLD(float x, float dy, float a, float b) {
    return dy * gpuact_nan_or(x, x > a ? 1.0f : 0.0f);
}

/* (1 - x^2) and (x^2 - 3) each formed with a single rounding (fma), so the roots at 1 and sqrt 3 keep
 * their relative accuracy. */
GPUACT_FN float gpuact_fwd_RICKER(float x, float a, float b) {
    return gpuact_exp_neg_half_square_times(x, gpuact_fmaf(-x, x, 1.0f));
}
GPUACT_FN float gpuact_bwd_RICKER(float x, float dy, float a, float b) {
    float h = x * x;
    int scaled;
    float e = gpuact_exp_scaled(-0.5f * h, -0.5f * gpuact_fmaf(x, x, -h), &scaled);
    return gpuact_dy_times_scaled(dy, e, scaled, x * gpuact_fmaf(x, x, -3.0f), x);
}

/* ---- backward from the saved output y = f(x) --------------------------------------------------------------
 * GPUACT_FN float gpuact_bwdy_NAME(float y, float dy, float a, float b)    dx = dy * f'(y)
 * for the ops of GPUACT_FROM_OUTPUT_OPS, those whose derivative is a function of y (dev.gpuact.Op's
 * hasBackwardFromOutput says which and why; leaky_relu, elu and threshold only at parameters the host checks).
 * Each is the true f' at the float y given, rounded a few times at most: the differences that cancel (1 - y^2,
 * y + alpha as y nears -alpha) are exact or rounded once. */
#define GPUACT_FROM_OUTPUT_OPS(X) \
    X(IDENTITY, identity) X(STEP, step) X(SIGMOID, sigmoid) X(TANH, tanh) X(RELU, relu) X(RELU6, relu6) \
    X(LEAKY_RELU, leaky_relu) X(ELU, elu) X(SELU, selu) X(CELU, celu) X(SOFTSIGN, softsign) \
    X(LOGSIGMOID, logsigmoid) X(HARDTANH, hardtanh) X(HARDSIGMOID, hardsigmoid) X(SOFTSHRINK, softshrink) \
    X(HARDSHRINK, hardshrink) X(THRESHOLD, threshold)

GPUACT_FN float gpuact_bwdy_IDENTITY(float y, float dy, float a, float b) { return dy * gpuact_nan_or(y, 1.0f); }
GPUACT_FN float gpuact_bwdy_STEP(float y, float dy, float a, float b) { return dy * gpuact_nan_or(y, 0.0f); }
GPUACT_FN float gpuact_bwdy_SIGMOID(float y, float dy, float a, float b) { return dy * (y * (1.0f - y)); }
GPUACT_FN float gpuact_bwdy_TANH(float y, float dy, float a, float b) { return dy * gpuact_fmaf(-y, y, 1.0f); }
GPUACT_FN float gpuact_bwdy_RELU(float y, float dy, float a, float b) {
    return dy * gpuact_nan_or(y, y > 0.0f ? 1.0f : 0.0f);
}
GPUACT_FN float gpuact_bwdy_RELU6(float y, float dy, float a, float b) {
    return dy * gpuact_nan_or(y, y > 0.0f && y < 6.0f ? 1.0f : 0.0f);
}
GPUACT_FN float gpuact_bwdy_LEAKY_RELU(float y, float dy, float a, float b) {
    return dy * gpuact_nan_or(y, y > 0.0f ? 1.0f : a);
}
GPUACT_FN float gpuact_bwdy_ELU(float y, float dy, float a, float b) {
    return dy * gpuact_nan_or(y, y > 0.0f ? 1.0f : y + a);
}
/* y + lambda alpha with lambda alpha as a float pair: y + hi is exact as y nears -lambda alpha (Sterbenz). */
GPUACT_FN float gpuact_bwdy_SELU(float y, float dy, float a, float b) {
    return dy * gpuact_nan_or(y, y > 0.0f ? GPUACT_SELU_LAMBDA : (y + 1.758099318e+00f) + 2.329671744e-08f);
}
GPUACT_FN float gpuact_bwdy_CELU(float y, float dy, float a, float b) {
    return dy * gpuact_nan_or(y, y > 0.0f ? 1.0f : (y + a) / a);
}
GPUACT_FN float gpuact_bwdy_SOFTSIGN(float y, float dy, float a, float b) {
    float r = 1.0f - gpuact_fabsf(y);
    return dy * (r * r);
}
/* sigma(-x) = 1 - e^y */
GPUACT_FN float gpuact_bwdy_LOGSIGMOID(float y, float dy, float a, float b) { return dy * -gpuact_expm1f(y); }
GPUACT_FN float gpuact_bwdy_HARDTANH(float y, float dy, float a, float b) {
    return dy * gpuact_nan_or(y, y > a && y < b ? 1.0f : 0.0f);
}
GPUACT_FN float gpuact_bwdy_HARDSIGMOID(float y, float dy, float a, float b) {
    return dy * gpuact_nan_or(y, y > 0.0f && y < 1.0f ? a : 0.0f);
}
GPUACT_FN float gpuact_bwdy_SOFTSHRINK(float y, float dy, float a, float b) {
    return dy * gpuact_nan_or(y, y != 0.0f ? 1.0f : 0.0f);
}
GPUACT_FN float gpuact_bwdy_HARDSHRINK(float y, float dy, float a, float b) { return gpuact_bwdy_SOFTSHRINK(y, dy, a, b); }
GPUACT_FN float gpuact_bwdy_THRESHOLD(float y, float dy, float a, float b) {
    return dy * gpuact_nan_or(y, y > a ? 1.0f : 0.0f);
}

/* ---- row-wise helpers ----------------------------------------------------------------------------------- */

/* (x - m)/T as hi + *lo: x - m with its TwoSum error and the division remainder carried along, because a
 * softmax over logits near 10000 would otherwise lose the low bits of every exponent. The one definition for
 * OpenCL and CUDA (softmax.cuh), so each guard below holds on both. */
GPUACT_FN float gpuact_softmax_exponent(float x, float m, float T, float *lo) {
    /* q = d (1/T): a few ulps from d / T, but r = d - q T (fma) is still exact to 2^-46 |d|, so q + lo is as
     * accurate as with a division, and 1/T is loop-invariant: a kernel takes it once, not per element. Where 1/T
     * would be subnormal (T > 2^126) the reciprocal of T/4 is taken and the products scaled back by 1/4, exactly. */
    float scale = T > GPUACT_TWO_126 ? 0.25f : 1.0f;
    float inv_T = 1.0f / (T * scale);
    float d = x - m;
    if (gpuact_fabsf(d) > GPUACT_FLT_MAX) {
        /* a masked (-inf) entry, or logits spanning more than float's range: scaling first keeps it finite */
        *lo = 0.0f;
        return x * inv_T * scale - m * inv_T * scale;
    }
    float dz = d - x;
    float err = (x - (d - dz)) + (-m - dz);
    float q = d * inv_T * scale;
    /* a masked (-inf) entry, or an exponent beyond float, has no low part */
    *lo = q < -GPUACT_FLT_MAX ? 0.0f : (gpuact_fmaf(-q, T, d) + err) * inv_T * scale;
    return q;
}

GPUACT_FN float gpuact_softmax_exp(float x, float m, float T) {
    float lo;
    float q = gpuact_softmax_exponent(x, m, T, &lo);
    return gpuact_exp_hilo(q, lo);
}

/* Kahan summation: the reductions of long rows stay within a few ULP. */
GPUACT_FN void gpuact_kahan_add(float *sum, float *comp, float v) {
    float y = v - *comp;
    float t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

#endif
