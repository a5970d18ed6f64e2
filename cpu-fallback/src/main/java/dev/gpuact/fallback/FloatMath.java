package dev.gpuact.fallback;

/**
 * float32 elementary functions for the kernel loops, each within about 1 ULP, written without double arithmetic and
 * without data-dependent branches (selects only), so that a loop calling them compiles to straight float code.
 * {@link VectorMath} (the Vector API path) evaluates the same reductions and the same coefficients lane by lane;
 * the constants live here, once.
 *
 * <p>Results that can fall into the subnormal range are computed scaled by 2^{@value #SCALE_BITS} and scaled back
 * with one final multiplication, so they are rounded once, like a correctly rounded product would be.
 */
final class FloatMath {
    static final float LOG2E = 1.44269504088896341f;
    /** ln 2 in two parts: the high part has its low 9 bits zero, so q * LN2_HI and x - q * LN2_HI are exact. */
    static final float LN2_HI = 0x1.62e400p-1f;
    static final float LN2_LO = (float) (Math.log(2) - LN2_HI);
    /** Adding and subtracting 1.5 * 2^23 rounds a float of magnitude below 2^22 to an integer, branch-free. */
    static final float ROUNDING_SHIFT = 0x1.8p23f;
    static final int ROUNDING_SHIFT_BITS = Float.floatToRawIntBits(ROUNDING_SHIFT);
    /**
     * exp's lower clamp: e^-130 (and |x| e^x there) is far below half the smallest subnormal, and e^-130 2^64 still
     * has a normal factor 2^(q + 64).
     */
    static final float EXP_MIN = -130f;
    /** Below this, e^x - 1 rounds to -1. */
    static final float EXPM1_MIN = -30f;
    static final int SCALE_BITS = 64;
    static final float SCALE_DOWN = 0x1p-64f;
    /**
     * expm1(r) = r + r^2 (E2 + E3 r + ... + E6 r^4) for |r| <= ln2/2: a near-minimax fit
     * ({@code cpu-fallback/tools/fit_expm1.py}), e^r within 0.85 ULP evaluated as {@link #expm1Reduced} does, two
     * operations fewer than Taylor's series to r^7 (0.86 ULP).
     */
    static final float E2 = 0.5f;
    static final float E3 = 0.166665181517601f;
    static final float E4 = 0.04166620224714279f;
    static final float E5 = 0.008368910290300846f;
    static final float E6 = 0.0013950802385807037f;
    /** log(1 + f) = f - s (f - R), s = f / (2 + f), R = 2s^2/3 + 2s^4/5 + ...: coefficients of R in z = s^2. */
    static final float L1 = 2f / 3;
    static final float L2 = 2f / 5;
    static final float L3 = 2f / 7;
    static final float L4 = 2f / 9;
    static final float L5 = 2f / 11;
    /** The bits of sqrt(1/2): subtracting them splits u into 2^e m with m in [sqrt(1/2), sqrt(2)). */
    /**
     * (x - tanh x) / x^3 = TS0 + TS1 s + ... + TS9 s^9, s = x^2, for |x| < 1.5: a near-minimax fit in relative error
     * ({@code cpu-fallback/tools/fit_tanhshrink.py}), tanhshrink within 2.6 ULP there as ElementwiseKernel evaluates it.
     */
    static final float TS0 = 0.3333333134651184f;
    static final float TS1 = -0.13333266973495483f;
    static final float TS2 = 0.05395831912755966f;
    static final float TS3 = -0.021810268983244896f;
    static final float TS4 = 0.008679338730871677f;
    static final float TS5 = -0.0032516680657863617f;
    static final float TS6 = 0.0010487048421055079f;
    static final float TS7 = -0.00025648169685155153f;
    static final float TS8 = 4.018321487819776e-05f;
    static final float TS9 = -2.932080860773567e-06f;
    static final int SQRT_HALF_BITS = 0x3f3504f3;
    static final int MANTISSA_MASK = 0x007fffff;
    static final float SCALE_UP = 0x1p64f;
    /**
     * gelu's Gaussian tail a Phi(-a) = e^(-a^2/2) w g for a in [0, 15], w = a / (a + K), g = (a + K) erfcx(a/sqrt 2)
     * / 2: g lies in [0.44, 0.75] and is smooth in t = 2w - 1, so it is 1/2 + H(t), H a degree-11 Chebyshev fit made
     * with mpmath ({@code cpu-fallback/tools/fit_gaussian_tail.py}), highest degree first. w g = w/2 + w H is one fma
     * in which H's own error counts at a third of its size at most; one division, no compensated steps: gelu within
     * 2.6 ULP and gelu' within 2.8 in the script's float model of {@link #geluTailRatio} and {@link #expScaledUpTimes}.
     */
    static final float TAIL_K = 1.5f;
    static final float TAIL_H11 = 0.000157485410454683f;
    static final float TAIL_H10 = 0.0004699989513028413f;
    static final float TAIL_H9 = 0.00023999383847694844f;
    static final float TAIL_H8 = -0.0010484744561836123f;
    static final float TAIL_H7 = -0.002704231534153223f;
    static final float TAIL_H6 = -0.0024308436550199986f;
    static final float TAIL_H5 = 0.003986619412899017f;
    static final float TAIL_H4 = 0.017639797180891037f;
    static final float TAIL_H3 = 0.017896654084324837f;
    static final float TAIL_H2 = -0.057495441287755966f;
    static final float TAIL_H1 = -0.19509947299957275f;
    static final float TAIL_H0 = 0.11734200268983841f;
    /** 1 / sqrt(2 pi) rounded: the density's constant in gelu', whose bound (8 ULP) has room for its rounding. */
    static final float INV_SQRT_2PI = (float) (1 / Math.sqrt(2 * Math.PI));
    static final double INV_SQRT_2PI_DOUBLE = 1 / Math.sqrt(2 * Math.PI);

    private FloatMath() {
    }

    /**
     * a where the condition holds, else b, without a jump: C2 compiles a float ?: to a branch, which random signs
     * mispredict half the time, while an int ?: of constants becomes a conditional move.
     */
    static float select(boolean condition, float a, float b) {
        int mask = condition ? -1 : 0;
        return Float.intBitsToFloat((Float.floatToRawIntBits(a) & mask) | (Float.floatToRawIntBits(b) & ~mask));
    }

    /** Math.min(x, bound) for a bound that is not 0 (NaN stays NaN), by {@link #select}: Math.min is no intrinsic. */
    static float atMost(float x, float bound) {
        return select(x > bound, bound, x);
    }

    /** Math.max(x, bound) for a bound that is not 0 (NaN stays NaN). */
    static float atLeast(float x, float bound) {
        return select(x < bound, bound, x);
    }

    /** 2^n for n in [-126, 127]. */
    static float pow2(int n) {
        return Float.intBitsToFloat((n + 127) << 23);
    }

    /**
     * e^r - 1 for |r| <= ln2/2, the polynomial in Estrin's order: pairs side by side rather than one chain of
     * dependent fmas, whose latency bounded every exp-based loop (the vector loops ran about a fifth faster).
     */
    static float expm1Reduced(float r) {
        float r2 = r * r;
        float p = Math.fma(r2, Math.fma(r2, E6, Math.fma(r, E5, E4)), Math.fma(r, E3, E2));
        return Math.fma(r2, p, r);
    }

    /**
     * e^(hi + lo) 2^{@value #SCALE_BITS}, for hi <= 43 (every caller's argument is at most 40) and |lo| at most a
     * few ULPs of hi: x = q ln2 + r, e^x = 2^q e^r, with lo added to the reduced argument, where it counts. The
     * factor 2^(q + 64) is a normal float from the clamp up to 43, so the product is rounded once; scaled back by
     * {@link #SCALE_DOWN} it is e^x rounded once, subnormal or not, with no second scaling step or upper clamp.
     */
    static float expScaledUp(float hi, float lo) {
        float x = atLeast(hi, EXP_MIN);
        float shifted = Math.fma(x, LOG2E, ROUNDING_SHIFT);
        float q = shifted - ROUNDING_SHIFT;
        float r = Math.fma(q, -LN2_LO, Math.fma(q, -LN2_HI, x)) + lo;
        float factor = pow2(Float.floatToRawIntBits(shifted) - ROUNDING_SHIFT_BITS + SCALE_BITS);
        return Math.fma(expm1Reduced(r), factor, factor);
    }

    /** e^(hi + lo) for hi <= 43, rounded once. */
    static float exp(float hi, float lo) {
        return expScaledUp(hi, lo) * SCALE_DOWN;
    }

    static float exp(float x) {
        return exp(x, 0);
    }

    /**
     * log(1 + x) for finite x >= 0 (and x > -1 away from -1): u = 1 + x = 2^e m, log u = e ln2 + log m, plus the
     * rounding of u, (x - (u - 1)) / u.
     */
    static float log1p(float x) {
        float u = 1 + x;
        float c = (x - (u - 1)) / u;
        int shifted = Float.floatToRawIntBits(u) - SQRT_HALF_BITS;
        float e = shifted >> 23;
        float f = Float.intBitsToFloat((shifted & MANTISSA_MASK) + SQRT_HALF_BITS) - 1;
        float s = f / (2 + f);
        float z = s * s;
        float r = z * Math.fma(Math.fma(Math.fma(Math.fma(L5, z, L4), z, L3), z, L2), z, L1);
        float logM = f - s * (f - r);
        return Math.fma(e, LN2_HI, Math.fma(e, LN2_LO, c) + logM);
    }

    /** 1 / (1 + e) for x >= 0, e / (1 + e) below, e = e^-|x|: full relative accuracy on both sides. */
    static float sigmoid(float x) {
        float e = exp(-Math.abs(x));
        return select(x < 0, e, 1) / (1 + e);
    }

    /**
     * e^(hi + lo) p 2^{@value #SCALE_BITS} rounded once, for hi <= 0 and p in [0, 1]: 2^(q + 64) p is exact, so p
     * folds into exp's last fma, 2^q (1 + m) p = fma(m, 2^q p, 2^q p), and costs no rounding of its own.
     */
    static float expScaledUpTimes(float hi, float lo, float p) {
        float x = atLeast(hi, EXP_MIN);
        float shifted = Math.fma(x, LOG2E, ROUNDING_SHIFT);
        float q = shifted - ROUNDING_SHIFT;
        float r = Math.fma(q, -LN2_LO, Math.fma(q, -LN2_HI, x)) + lo;
        float scaled = pow2(Float.floatToRawIntBits(shifted) - ROUNDING_SHIFT_BITS + SCALE_BITS) * p;
        return Math.fma(expm1Reduced(r), scaled, scaled);
    }

    /** -a^2/2 rounded: the Gaussian's exponent, exact but for a^2's rounding, which {@link #halfSquareLow} holds. */
    static float halfSquare(float a) {
        return -0.5f * (a * a);
    }

    static float halfSquareLow(float a) {
        return -0.5f * Math.fma(a, a, -(a * a));
    }

    /** H(2w - 1) by Horner's rule (see {@link #TAIL_K}). */
    static float tailPolynomial(float w) {
        float t = Math.fma(w, 2, -1);
        float h = Math.fma(Math.fma(Math.fma(TAIL_H11, t, TAIL_H10), t, TAIL_H9), t, TAIL_H8);
        h = Math.fma(Math.fma(Math.fma(h, t, TAIL_H7), t, TAIL_H6), t, TAIL_H5);
        h = Math.fma(Math.fma(Math.fma(h, t, TAIL_H4), t, TAIL_H3), t, TAIL_H2);
        return Math.fma(Math.fma(h, t, TAIL_H1), t, TAIL_H0);
    }

    /** e^(a^2/2) a Phi(-a) = w/2 + w H, w = a / (a + K), for a in [0, 15]: gelu's tail without its Gaussian. */
    static float geluTailRatio(float a) {
        float w = a / (a + TAIL_K);
        return Math.fma(w, tailPolynomial(w), 0.5f * w);
    }

    /**
     * e^(a^2/2) Phi(-a) = v/2 + v H, v = 1 / (a + K): gelu''s tail without its Gaussian. w is a quotient of its own,
     * not a v: with the product, JDK 17's SuperWord left the scalar path's loop unvectorised (13 times slower).
     */
    static float normalTailRatio(float a) {
        float d = a + TAIL_K;
        float v = 1 / d;
        return Math.fma(tailPolynomial(a / d), v, 0.5f * v);
    }
}
