package dev.gpuact.fallback;

import static dev.gpuact.fallback.FloatMath.E2;
import static dev.gpuact.fallback.FloatMath.E3;
import static dev.gpuact.fallback.FloatMath.E4;
import static dev.gpuact.fallback.FloatMath.E5;
import static dev.gpuact.fallback.FloatMath.E6;
import static dev.gpuact.fallback.FloatMath.EXPM1_MIN;
import static dev.gpuact.fallback.FloatMath.EXP_MIN;
import static dev.gpuact.fallback.FloatMath.LN2_HI;
import static dev.gpuact.fallback.FloatMath.LN2_LO;
import static dev.gpuact.fallback.FloatMath.LOG2E;
import static dev.gpuact.fallback.FloatMath.ROUNDING_SHIFT;
import static dev.gpuact.fallback.FloatMath.ROUNDING_SHIFT_BITS;
import static dev.gpuact.fallback.FloatMath.SCALE_BITS;
import static dev.gpuact.fallback.FloatMath.SCALE_DOWN;
import static dev.gpuact.fallback.FloatMath.pow2;

/**
 * {@link FloatMath#exp} and {@link FloatMath#expm1OfNonPositive} over a block of floats in passes, for the scalar
 * loops: JDK 17's SuperWord does not vectorise the float/int bit moves that form 2^q, so a loop calling the
 * one-element functions runs scalar throughout. Here the reduction and the polynomial run in one loop it vectorises,
 * and 2^q and the last fma in a loop of their own, the only scalar one; the callers' loops around them index every
 * array alike, so they vectorise too. The same operations in the same order: the same floats as the one-element
 * functions, which the Vector API loops follow lane by lane. One thread, 16M floats in L1: sigmoid in passes 22 ms
 * against 55 for the one-element loop and 76 for the first version's double Math.exp.
 */
final class ExpPasses {
    /** Floats per block: the scratch arrays of a thread stay in L1. */
    static final int BLOCK = 1024;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][BLOCK]);

    private ExpPasses() {
    }

    /** Three arrays of {@link #BLOCK} floats, the calling thread's own. */
    static float[][] scratch() {
        return SCRATCH.get();
    }

    /** out[i] = FloatMath.exp(arg[i]) for i in [0, n), n at most BLOCK; out may be arg. */
    static void exp(float[] arg, float[] out, float[] shifted, int n) {
        reduce(arg, out, shifted, n, EXP_MIN);
        for (int i = 0; i < n; i++) {
            float factor = pow2(Float.floatToRawIntBits(shifted[i]) - ROUNDING_SHIFT_BITS + SCALE_BITS);
            out[i] = Math.fma(out[i], factor, factor) * SCALE_DOWN;
        }
    }

    /** out[i] = FloatMath.expm1OfNonPositive(arg[i]) for i in [0, n), n at most BLOCK; out may be arg. */
    static void expm1OfNonPositive(float[] arg, float[] out, float[] shifted, int n) {
        reduce(arg, out, shifted, n, EXPM1_MIN);
        for (int i = 0; i < n; i++) {
            float factor = pow2(Float.floatToRawIntBits(shifted[i]) - ROUNDING_SHIFT_BITS);
            out[i] = Math.fma(factor, out[i], factor - 1);
        }
    }

    /**
     * The vectorised pass of both: x = max(arg, lowest) = q ln2 + r; shifted holds q + the rounding shift (whose bits
     * give 2^q), out holds expm1(r).
     */
    private static void reduce(float[] arg, float[] out, float[] shifted, int n, float lowest) {
        for (int i = 0; i < n; i++) {
            float x = Math.max(arg[i], lowest);
            float s = Math.fma(x, LOG2E, ROUNDING_SHIFT);
            float q = s - ROUNDING_SHIFT;
            float r = Math.fma(q, -LN2_LO, Math.fma(q, -LN2_HI, x));
            float r2 = r * r;
            float p = Math.fma(r2, Math.fma(r2, E6, Math.fma(r, E5, E4)), Math.fma(r, E3, E2));
            shifted[i] = s;
            out[i] = Math.fma(r2, p, r);
        }
    }

    /**
     * The rounding shift plus the bias 127 + SCALE_BITS: the shifted float's bits are those of the shift plus q + 127 +
     * SCALE_BITS, in [1, 234] for q in [-190, 43], and shifted left by 23 they are 2^(q + SCALE_BITS), every higher
     * bit shifted out (the shift's lowest set bit is bit 22): one integer operation in the scalar pass, where an add
     * and a shift took it twice as long. The odd bias rounds alike: x log2(e) is never half an integer for x <= 43.
     */
    private static final float BIASED_SHIFT = ROUNDING_SHIFT + 127 + SCALE_BITS;

    /**
     * out[i] = FloatMath.exp(hi[i], lo[i]) for i in [0, n), n at most BLOCK, each hi[i] in [EXP_MIN - 2, 43] and lo[i]
     * at most a few ULPs of it: with no clamp below, 2^q stays a normal factor, and from EXP_MIN - 2 to EXP_MIN the
     * result is 0 as the clamp's. out may be hi or lo. The scalar pass only forms 2^q (its two float/int moves are what
     * it costs); the fma after it runs in a vectorised pass.
     */
    static void expAbove(float[] hi, float[] lo, float[] out, float[] shifted, int n) {
        for (int i = 0; i < n; i++) {
            float x = hi[i];
            float s = Math.fma(x, LOG2E, BIASED_SHIFT);
            float q = s - BIASED_SHIFT;
            float r = Math.fma(q, -LN2_LO, Math.fma(q, -LN2_HI, x)) + lo[i];
            float r2 = r * r;
            float p = Math.fma(r2, Math.fma(r2, E6, Math.fma(r, E5, E4)), Math.fma(r, E3, E2));
            shifted[i] = s;
            out[i] = Math.fma(r2, p, r);
        }
        for (int i = 0; i < n; i++) {
            shifted[i] = Float.intBitsToFloat(Float.floatToRawIntBits(shifted[i]) << 23);
        }
        for (int i = 0; i < n; i++) {
            out[i] = Math.fma(out[i], shifted[i], shifted[i]) * SCALE_DOWN;
        }
    }
}
