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
     * The Mills ratio R(a) = Phi(-a) / phi(a) as (1 + P(t)) / (a + K), t = (a - T) / (a + T): K = sqrt(2/pi) makes
     * 1 + P about 1 at a = 0 and for large a, so its float sum is relatively accurate. P is a degree-10 Chebyshev fit
     * over a in [0, 15] made with mpmath ({@code cpu-fallback/tools/fit_mills_ratio.py}): 1.1 ULP at most evaluated
     * in float as {@link #millsRatio} does; lowest degree first.
     */
    static final float MILLS_T = 3f;
    static final float MILLS_K = (float) Math.sqrt(2 / Math.PI);
    static final float R0 = 0.1567988097667694f;
    static final float R1 = -0.13738738000392914f;
    static final float R2 = -0.10361917316913605f;
    static final float R3 = 0.13662400841712952f;
    static final float R4 = -0.06007310748100281f;
    static final float R5 = 0.0014237500727176666f;
    static final float R6 = 0.007993062026798725f;
    static final float R7 = -0.000682353915181011f;
    static final float R8 = -0.0012327224249020219f;
    static final float R9 = 5.909060746489558e-06f;
    static final float R10 = 0.00011710717808455229f;
    static final double INV_SQRT_2PI_DOUBLE = 1 / Math.sqrt(2 * Math.PI);
    /**
     * log(1 / sqrt(2 pi)) as hi + lo: the density's constant goes into the exponent's argument (TwoSum), where it
     * costs no rounding, instead of a product after the exp (that product took gelu to 4.6 ULP near x = -6.62).
     */
    static final float LOG_INV_SQRT_2PI_HI = (float) -0.918938533204672741780329736406;
    static final float LOG_INV_SQRT_2PI_LO = (float) (-0.918938533204672741780329736406 - LOG_INV_SQRT_2PI_HI);

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
     * R(a) = Phi(-a) / phi(a) for a in [0, 15]. t is corrected by the residual of its quotient, and a + K is carried
     * as hi + lo (TwoSum) into the last quotient's residual, so that the result is within about 1 ULP.
     */
    static float millsRatio(float a) {
        float r = 1 / (a + MILLS_T);
        float t = (a - MILLS_T) * r;
        t = Math.fma(r, Math.fma(t, -a, Math.fma(t + 1, -MILLS_T, a)), t);
        // Estrin's order (powers of t side by side): a scalar loop waits on a chain of dependent fmas
        float t2 = t * t;
        float t4 = t2 * t2;
        float low = Math.fma(Math.fma(R3, t, R2), t2, Math.fma(R1, t, R0));
        float middle = Math.fma(Math.fma(R7, t, R6), t2, Math.fma(R5, t, R4));
        float high = Math.fma(R10, t2, Math.fma(R9, t, R8));
        float p = Math.fma(high, t4 * t4, Math.fma(middle, t4, low));
        float d = a + MILLS_K;
        float back = d - a;
        float dLo = (a - (d - back)) + (MILLS_K - back);
        float inverse = 1 / d;
        float q = Math.fma(p, inverse, inverse);
        float residual = Math.fma(-q, dLo, Math.fma(-q, d, 1) + p);
        return Math.fma(residual, inverse, q);
    }

    /**
     * -a^2/2 - log sqrt(2 pi) rounded: the exponent of the normal density phi(a), whose low part is
     * {@link #densityExponentLow}; e^(hi + lo) is phi(a) within about an ULP for |a| <= 15.
     */
    static float densityExponent(float a) {
        return -0.5f * (a * a) + LOG_INV_SQRT_2PI_HI;
    }

    /** The rest of the density's exponent: a^2's rounding error and the TwoSum error of {@link #densityExponent}. */
    static float densityExponentLow(float a) {
        float square = a * a;
        float half = -0.5f * square;
        // TwoSum: hi + its exact rounding error, branch-free whichever term is larger
        float hi = half + LOG_INV_SQRT_2PI_HI;
        float back = hi - half;
        return ((half - (hi - back)) + (LOG_INV_SQRT_2PI_HI - back))
                + (-0.5f * Math.fma(a, a, -square) + LOG_INV_SQRT_2PI_LO);
    }
}
