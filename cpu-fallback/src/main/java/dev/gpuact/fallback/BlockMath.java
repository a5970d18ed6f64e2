package dev.gpuact.fallback;

import static dev.gpuact.fallback.FloatMath.E2;
import static dev.gpuact.fallback.FloatMath.E3;
import static dev.gpuact.fallback.FloatMath.E4;
import static dev.gpuact.fallback.FloatMath.E5;
import static dev.gpuact.fallback.FloatMath.E6;
import static dev.gpuact.fallback.FloatMath.EXPM1_MIN;
import static dev.gpuact.fallback.FloatMath.EXP_MIN;
import static dev.gpuact.fallback.FloatMath.L1;
import static dev.gpuact.fallback.FloatMath.L2;
import static dev.gpuact.fallback.FloatMath.L3;
import static dev.gpuact.fallback.FloatMath.L4;
import static dev.gpuact.fallback.FloatMath.L5;
import static dev.gpuact.fallback.FloatMath.LN2_HI;
import static dev.gpuact.fallback.FloatMath.LN2_LO;
import static dev.gpuact.fallback.FloatMath.LOG2E;
import static dev.gpuact.fallback.FloatMath.MANTISSA_MASK;
import static dev.gpuact.fallback.FloatMath.ROUNDING_SHIFT;
import static dev.gpuact.fallback.FloatMath.SCALE_BITS;
import static dev.gpuact.fallback.FloatMath.SCALE_DOWN;
import static dev.gpuact.fallback.FloatMath.SQRT_HALF_BITS;

/**
 * {@link FloatMath#exp}, expm1 of arguments <= 0 and {@link FloatMath#log1p} over a block of floats in
 * passes, for the scalar loops: JDK 17's SuperWord does not vectorise the float/int bit moves that form 2^q or take
 * a float's exponent apart, so a loop calling the one-element functions runs scalar throughout. Here the arithmetic
 * runs in loops it vectorises and the bit moves in a loop of their own, the only scalar one; the callers' loops
 * around them index every array alike, so they vectorise too. The same operations in the same order: the same
 * floats as the one-element functions, which the Vector API loops follow lane by lane. One thread, 16M floats in
 * L1: sigmoid in passes 22 ms against 55 for the one-element loop and 76 for the first version's double Math.exp.
 */
final class BlockMath {
    /** Floats per block: the scratch arrays of a thread stay in L1. */
    static final int BLOCK = 1024;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][BLOCK]);
    /** The low part of an argument that has none. */
    private static final float[] ZEROS = new float[BLOCK];
    /**
     * The rounding shift plus the bias 127 + SCALE_BITS: the shifted float's bits are those of the shift plus q + 127 +
     * SCALE_BITS, in [1, 234] for q in [-190, 43], and shifted left by 23 they are 2^(q + SCALE_BITS), every higher
     * bit shifted out (the shift's lowest set bit is bit 22): one integer operation in the scalar pass, where an add
     * and a shift took it twice as long. The odd bias rounds alike: x log2(e) is never half an integer for a float x
     * in exp's range (LOG2E's odd mantissa would have to divide an odd number below 400).
     */
    private static final float EXP_SHIFT = ROUNDING_SHIFT + 127 + SCALE_BITS;
    /** As {@link #EXP_SHIFT}, unscaled: 2^q for expm1's q in [-44, 0]. */
    private static final float EXPM1_SHIFT = ROUNDING_SHIFT + 127;

    /*
     * The exp passes are compiled on their own, called once per block: inlined into mish's block loop, C2 (JDK 17)
     * compiled that loop five times slower in some JVMs (59 against 12 ms per 16M floats), and which one a JVM got
     * depended on what it had compiled first.
     */
    static {
        SeparateCompilation.neverInline(BlockMath.class, "exp*");
    }

    private BlockMath() {
    }

    /** Four arrays of {@link #BLOCK} floats, the calling thread's own. */
    static float[][] scratch() {
        return SCRATCH.get();
    }

    /** out[i] = FloatMath.exp(arg[i]) for i in [0, n), n at most BLOCK; out may be arg. */
    static void exp(float[] arg, float[] out, float[] shifted, int n) {
        expTimes(arg, ZEROS, out, shifted, n, SCALE_DOWN);
    }

    /** out[i] = FloatMath.exp(hi[i], lo[i]) for i in [0, n), n at most BLOCK; out may be hi or lo. */
    static void exp(float[] hi, float[] lo, float[] out, float[] shifted, int n) {
        expTimes(hi, lo, out, shifted, n, SCALE_DOWN);
    }

    /** out[i] = FloatMath.expScaledUp(arg[i], 0) for i in [0, n), n at most BLOCK; out may be arg. */
    static void expScaledUp(float[] arg, float[] out, float[] shifted, int n) {
        expTimes(arg, ZEROS, out, shifted, n, 1);
    }

    /** out[i] = FloatMath.expScaledUp(hi[i], lo[i]) for i in [0, n), n at most BLOCK; out may be hi or lo. */
    static void expScaledUp(float[] hi, float[] lo, float[] out, float[] shifted, int n) {
        expTimes(hi, lo, out, shifted, n, 1);
    }

    private static void expTimes(float[] arg, float[] low, float[] out, float[] shifted, int n, float scale) {
        reduce(arg, low, out, shifted, n, EXP_MIN, EXP_SHIFT);
        powersOfTwo(shifted, n);
        for (int i = 0; i < n; i++) {
            out[i] = Math.fma(out[i], shifted[i], shifted[i]) * scale;
        }
    }

    /**
     * FloatMath.expScaledUp(hi[i], lo[i]) in its two parts, for callers that fold a factor p into the last fma as
     * FloatMath.expScaledUpTimes does: m[i] = expm1(r), scale[i] = 2^(q + 64); m may be hi, scale may be lo.
     */
    static void expScaledUpParts(float[] hi, float[] lo, float[] m, float[] scale, int n) {
        reduce(hi, lo, m, scale, n, EXP_MIN, EXP_SHIFT);
        powersOfTwo(scale, n);
    }

    /**
     * out[i] = e^arg[i] - 1 for arg[i] <= 0 (and NaN), as VectorMath.expm1OfNonPositive: 2^q expm1(r) + (2^q - 1)
     * in one fma; i in [0, n), n at most BLOCK; out may be arg.
     */
    static void expm1OfNonPositive(float[] arg, float[] out, float[] shifted, int n) {
        reduce(arg, ZEROS, out, shifted, n, EXPM1_MIN, EXPM1_SHIFT);
        powersOfTwo(shifted, n);
        for (int i = 0; i < n; i++) {
            out[i] = Math.fma(shifted[i], out[i], shifted[i] - 1);
        }
    }

    /** The scalar pass: each biased shifted float's bits moved up into a float's exponent field. */
    private static void powersOfTwo(float[] shifted, int n) {
        for (int i = 0; i < n; i++) {
            shifted[i] = Float.intBitsToFloat(Float.floatToRawIntBits(shifted[i]) << 23);
        }
    }

    /**
     * out[i] = FloatMath.log1p(arg[i]) for i in [0, n), n at most BLOCK; out may be arg. u = 1 + x = 2^e (1 + f):
     * the exponent and the mantissa come from u's bits in the scalar pass, into e and f.
     */
    static void log1p(float[] arg, float[] out, float[] f, float[] e, int n) {
        for (int i = 0; i < n; i++) {
            float u = 1 + arg[i];
            f[i] = u;
            out[i] = (arg[i] - (u - 1)) / u;
        }
        for (int i = 0; i < n; i++) {
            int shifted = Float.floatToRawIntBits(f[i]) - SQRT_HALF_BITS;
            e[i] = shifted >> 23;
            f[i] = Float.intBitsToFloat((shifted & MANTISSA_MASK) + SQRT_HALF_BITS) - 1;
        }
        for (int i = 0; i < n; i++) {
            float s = f[i] / (2 + f[i]);
            float z = s * s;
            float r = z * Math.fma(Math.fma(Math.fma(Math.fma(L5, z, L4), z, L3), z, L2), z, L1);
            float logM = f[i] - s * (f[i] - r);
            out[i] = Math.fma(e[i], LN2_HI, Math.fma(e[i], LN2_LO, out[i]) + logM);
        }
    }

    /**
     * The vectorised pass of both exponentials: x = max(arg, lowest) = q ln2 + r, the low part added to r; shifted
     * holds q + the biased shift (whose bits give 2^q, see {@link #EXP_SHIFT}), out holds expm1(r).
     */
    private static void reduce(float[] arg, float[] low, float[] out, float[] shifted, int n, float lowest,
                               float shift) {
        for (int i = 0; i < n; i++) {
            float x = Math.max(arg[i], lowest);
            float s = Math.fma(x, LOG2E, shift);
            float q = s - shift;
            float r = Math.fma(q, -LN2_LO, Math.fma(q, -LN2_HI, x)) + low[i];
            float r2 = r * r;
            float p = Math.fma(r2, Math.fma(r2, E6, Math.fma(r, E5, E4)), Math.fma(r, E3, E2));
            shifted[i] = s;
            out[i] = Math.fma(r2, p, r);
        }
    }
}
