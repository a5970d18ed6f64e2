package dev.gpuact.fallback;

import java.util.Arrays;

/**
 * Softmax and log-softmax rows on the scalar path, in passes over blocks of a row that JDK 17's SuperWord
 * vectorises (see {@link BlockMath}): a block of x copied into scratch, its exact quotients (v - m) / T = zhi + lo,
 * their exponentials, and their sum in lane accumulators. The terms are the floats of the Vector API loops
 * (VectorKernels), summed as they sum them: in lanes that start at 1 with a Fast2Sum error term, the maximum's 1 kept
 * apart so that log-softmax of the maximum is -log1p(others); only the number of lanes differs.
 *
 * <p>SuperWord vectorises a loop only where every array is indexed alike ({@code a[i]}, {@code b[i]}): an access at
 * another offset ({@code x[xb + i]}, {@code e[j + k]}) might overlap, it assumes; constant offsets from a shared index
 * ({@code e[k + 256]}) it can tell apart. So a block of a row is copied to the start of a scratch array, read by the
 * lanes in chunks at constant offsets, and the lanes are folded half into half at constant offsets.
 */
final class RowPasses {
    private static final int BLOCK = BlockMath.BLOCK;
    /**
     * Lane accumulators of a row: a block is four chunks of LANES, added lane by lane in one loop over the lanes that
     * reads each chunk at a constant offset from the block's start, as SuperWord needs (a loop of 64 lanes and 16
     * chunks was too large for it to unroll, and did not vectorise).
     */
    private static final int LANES = BLOCK / 4;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /*
     * A block's passes are compiled on their own: inlined into softmax's row loop, beside its copy and scale loops,
     * they took a third longer (8.2 against 6.0 ms per 8M floats in L1).
     */
    static {
        SeparateCompilation.neverInline(RowPasses.class, "terms");
    }

    private RowPasses() {
    }

    /** A thread's blocks and lanes. */
    private static final class Scratch {
        final float[] values = new float[BLOCK];
        final float[] lows = new float[BLOCK];
        final float[] shifted = new float[BLOCK];
        final float[] lanes = new float[LANES];
        final float[] errors = new float[LANES];
    }

    /**
     * Rows shorter than this run the per-element loop: a row's passes cost about half a microsecond whatever its
     * length (whole blocks of lanes, their folds), which the per-element loop spends on 50 entries.
     */
    static final int MIN_COLUMNS = 64;

    /**
     * Whether the passes take a row of cols whose (finite) maximum is m, at temperature t: 1 / T a normal float, as
     * the quotients need, and |m| at most 2^22 T, so that {@link #floor} is within 131 T of m. Beyond (logits millions
     * of temperatures large) the per-element loop runs.
     */
    static boolean takes(int cols, float m, float t) {
        float inverse = 1 / t;
        return cols >= MIN_COLUMNS && inverse >= Float.MIN_NORMAL && inverse < Float.MAX_VALUE
                && Math.abs(m) <= 0x1p22 * t && m - 130.0 * t >= -Float.MAX_VALUE;
    }

    /**
     * What every entry of a row is raised to before its term: m - 130 T rounded down, whose term is 0 (EXP_MIN), as is
     * that of every entry below it. Its ULP is below T (|m| <= 2^22 T), so each quotient is above EXP_MIN - 2, and exp
     * needs no clamp; -inf becomes finite, so no quotient is NaN.
     */
    private static float floor(float m, float t) {
        double exact = m - 130.0 * t;
        float floor = (float) exact;
        return floor > exact ? Math.nextDown(floor) : floor;
    }

    /** The maximum of x[xb, xb + n), NaN if one is NaN (Math.max propagates it); -inf for n = 0. */
    static float max(float[] x, int xb, int n) {
        if (n < MIN_COLUMNS) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x[xb + i]);
            }
            return max;
        }
        Scratch s = SCRATCH.get();
        float[] lanes = s.lanes;
        float[] v = s.values;
        Arrays.fill(lanes, Float.NEGATIVE_INFINITY);
        for (int from = 0; from < n; from += BLOCK) {
            int length = Math.min(BLOCK, n - from);
            System.arraycopy(x, xb + from, v, 0, length);
            Arrays.fill(v, length, BLOCK, Float.NEGATIVE_INFINITY);
            maxInto(lanes, v);
        }
        maxFold(lanes, LANES / 2);
        maxFold(lanes, LANES / 4);
        float a = Float.NEGATIVE_INFINITY;
        float b = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < LANES / 4; k += 2) {
            a = Math.max(a, lanes[k]);
            b = Math.max(b, lanes[k + 1]);
        }
        return Math.max(a, b);
    }

    /** lanes = the lane-wise maximum of lanes and the four chunks of a block. */
    private static void maxInto(float[] lanes, float[] v) {
        for (int k = 0; k < LANES; k++) {
            lanes[k] = Math.max(Math.max(lanes[k], v[k]),
                    Math.max(Math.max(v[k + LANES], v[k + 2 * LANES]), v[k + 3 * LANES]));
        }
    }

    /** lanes[0, half) = the lane-wise maximum of the lanes' two halves. */
    private static void maxFold(float[] lanes, int half) {
        for (int k = 0; k < half; k++) {
            lanes[k] = Math.max(lanes[k], lanes[k + half]);
        }
    }

    /** Softmax of x[xb, xb + cols) into y[yb], the row's maximum m finite and below Rowwise's MAY_OVERFLOW. */
    static void softmax(float[] x, int xb, float[] y, int yb, int cols, float m, float t) {
        Scratch s = SCRATCH.get();
        start(s);
        float floor = floor(m, t);
        // y holds the terms until their sum is known; each block of x is copied before y's block is written
        for (int from = 0; from < cols; from += BLOCK) {
            int n = Math.min(BLOCK, cols - from);
            terms(x, xb + from, s, n, m, t, floor);
            System.arraycopy(s.values, 0, y, yb + from, n);
        }
        float factor = 1 / sum(s).value();
        for (int i = 0; i < cols; i++) {
            y[yb + i] *= factor;
        }
    }

    /** Log-softmax of a row as {@link #softmax}. */
    static void logSoftmax(float[] x, int xb, float[] y, int yb, int cols, float m, float t) {
        Scratch s = SCRATCH.get();
        start(s);
        float floor = floor(m, t);
        for (int from = 0; from < cols; from += BLOCK) {
            terms(x, xb + from, s, Math.min(BLOCK, cols - from), m, t, floor);
        }
        float logSum = Rowwise.logOfSum(sum(s));
        float[] v = s.values;
        // below 2^103, v - m - logSum cannot round past -FLT_MAX for any finite v (as Rowwise's MAY_OVERFLOW)
        boolean shiftOnly = t == 1 && m + logSum < 0x1p103f;
        for (int from = 0; from < cols; from += BLOCK) {
            int n = Math.min(BLOCK, cols - from);
            System.arraycopy(x, xb + from, v, 0, n);
            if (shiftOnly) {
                shift(v, n, m, logSum);
            } else {
                logTerms(v, s.lows, n, m, t, logSum);
            }
            System.arraycopy(v, 0, y, yb + from, n);
        }
    }

    /** The lanes of a row: sums that start at 1, with no error yet. */
    private static void start(Scratch s) {
        Arrays.fill(s.lanes, 1f);
        Arrays.fill(s.errors, 0f);
    }

    /** The terms of x[xb, xb + n) into s.values, added to the lanes: quotients, exponentials, sums. */
    private static void terms(float[] x, int xb, Scratch s, int n, float m, float t, float floor) {
        float[] v = s.values;
        System.arraycopy(x, xb, v, 0, n);
        raisedQuotients(v, s.lows, n, m, t, 1 / t, floor);
        BlockMath.exp(v, s.lows, v, s.shifted, n);
        Arrays.fill(v, n, BLOCK, 0f);
        accumulate(v, s.lanes, s.errors);
    }

    /**
     * v = zhi and lo = the low part of (max(v, floor) - m) / T = zhi + lo, as VectorKernels.term computes them: v - m
     * = hi + low exactly (Knuth's two-sum), hi - zhi T exactly (a fused multiply-add).
     */
    private static void raisedQuotients(float[] v, float[] lo, int n, float m, float t, float inverse, float floor) {
        for (int i = 0; i < n; i++) {
            float value = Math.max(v[i], floor);
            float hi = value - m;
            float zhi = hi * inverse;
            float back = hi - value;
            float low = (value - (hi - back)) + (-m - back);
            lo[i] = (Math.fma(-zhi, t, hi) + low) * inverse;
            v[i] = zhi;
        }
    }

    /**
     * v = zhi and lo = the low part of (v - m) / T = zhi + lo, as {@link #raisedQuotients} but for every v, as the
     * log-softmax outputs need: a -inf entry is taken as -FLT_MAX (whose difference is finite, so lo is not NaN) and its
     * zhi made -inf again by adding v - (-FLT_MAX); lo is clamped to [-1, 1] as VectorKernels.quotientLow does.
     */
    private static void quotients(float[] v, float[] lo, int n, float m, float t, float inverse) {
        for (int i = 0; i < n; i++) {
            float value = v[i];
            float finite = Math.max(value, -Float.MAX_VALUE);
            float hi = finite - m;
            float zhi = hi * inverse;
            float back = hi - finite;
            float low = (finite - (hi - back)) + (-m - back);
            lo[i] = Math.min(Math.max((Math.fma(-zhi, t, hi) + low) * inverse, -1f), 1f);
            v[i] = zhi + (value - finite);
        }
    }

    /**
     * Adds the four chunks of a block of terms (zeros past the row's end add nothing) to the lanes by Fast2Sum: every
     * term is at most 1, every sum at least 1.
     */
    private static void accumulate(float[] terms, float[] lanes, float[] errors) {
        for (int k = 0; k < LANES; k++) {
            float h = lanes[k];
            float e = terms[k];
            float sum = h + e;
            float error = errors[k] + (e - (sum - h));
            h = sum;
            e = terms[k + LANES];
            sum = h + e;
            error += e - (sum - h);
            h = sum;
            e = terms[k + 2 * LANES];
            sum = h + e;
            error += e - (sum - h);
            h = sum;
            e = terms[k + 3 * LANES];
            sum = h + e;
            errors[k] = error + (e - (sum - h));
            lanes[k] = sum;
        }
    }

    /**
     * The sum of the others (every term but the maximum's 1): the lanes folded half into half twice (Knuth's
     * two-sum, the errors added up), then formed in double, where their sums are exact, as is their total less the
     * 1s they started at and the maximum's 1.
     */
    private static Rowwise.CompensatedSum sum(Scratch s) {
        float[] lanes = s.lanes;
        float[] errors = s.errors;
        fold(lanes, errors, LANES / 2);
        fold(lanes, errors, LANES / 4);
        double sums = 0;
        double moreSums = 0;
        double error = 0;
        for (int k = 0; k < LANES / 4; k += 2) {
            sums += lanes[k];
            moreSums += lanes[k + 1];
            error += errors[k] + errors[k + 1];
        }
        double others = ((sums + moreSums) - (LANES + 1)) + error;
        Rowwise.CompensatedSum sum = new Rowwise.CompensatedSum();
        sum.ones = 1;
        sum.high = (float) others;
        sum.low = (float) (others - sum.high);
        return sum;
    }

    /** The lanes' upper half added into their lower half[0, half). */
    private static void fold(float[] lanes, float[] errors, int half) {
        for (int k = 0; k < half; k++) {
            float a = lanes[k];
            float b = lanes[k + half];
            float sum = a + b;
            float back = sum - a;
            errors[k] += errors[k + half] + ((a - (sum - back)) + (b - back));
            lanes[k] = sum;
        }
    }

    /**
     * v = (v - m) - logSum, log-softmax at T = 1, as VectorKernels.shiftLoop. Both differences are of terms of one
     * sign (v <= m, and logSum >= 0 since the sum holds the maximum's 1), so nothing cancels: each rounding is within
     * half an ULP of the result, and logSum's own error within an ULP of it; a -inf entry stays -inf.
     */
    private static void shift(float[] v, int n, float m, float logSum) {
        for (int i = 0; i < n; i++) {
            v[i] = (v[i] - m) - logSum;
        }
    }

    /** v = (zhi - logSum) + lo, the quotient's pieces as {@link #quotients}: log-softmax at any T. */
    private static void logTerms(float[] v, float[] lo, int n, float m, float t, float logSum) {
        quotients(v, lo, n, m, t, 1 / t);
        for (int i = 0; i < n; i++) {
            v[i] = (v[i] - logSum) + lo[i];
        }
    }
}
