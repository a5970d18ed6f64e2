package dev.gpuact.fallback;

import static dev.gpuact.fallback.FastMath.exp;

import java.util.Objects;
import java.util.function.IntUnaryOperator;

/**
 * The row-wise activations on a {@code rows x cols} matrix held in a float array: row r of the input starts at
 * {@code xo + r * xStride}, of the output at {@code yo + r * yStride}. In a backward pass dx is laid out like x
 * and dy like y. Rows are independent, so large matrices are split over the cores by whole rows.
 *
 * <p>Softmax and log-softmax compute {@code (x_i - m) / T} and its exponential in double, so each e^(...) is
 * within about 1e-15 of exact; the sum of the terms other than the (first) maximum is kept apart from the
 * maximum's 1, so log-softmax of the largest entry is {@code -log1p(others)}, accurate however small.
 * A row holding NaN or +inf is all NaN; a row of only -inf (fully masked) gives zeros (softmax) or -inf
 * (log-softmax), or NaN when {@code maskedNan} is set.
 */
public final class Rowwise {
    private Rowwise() {
    }

    /** The matrix shape and where each operand's rows start. */
    public record Layout(int rows, int cols, int xo, int xStride, int yo, int yStride) {
        public Layout {
            if (rows < 0 || cols < 0) {
                throw new IllegalArgumentException("rows and cols must be >= 0, got " + rows + " x " + cols);
            }
            if (xStride < cols || yStride < 0) {
                throw new IllegalArgumentException("xStride must be >= cols (" + cols + ") and yStride >= 0, got "
                        + xStride + " and " + yStride);
            }
        }

        boolean isEmpty() {
            return rows == 0 || cols == 0;
        }
    }

    /** One row's work: input row at xBase, output row at yBase. */
    @FunctionalInterface
    private interface RowBody {
        void run(int xBase, int yBase);
    }

    /** One row's work, knowing which row it is (masks depend on it). */
    @FunctionalInterface
    private interface IndexedRowBody {
        void run(int row, int xBase, int yBase);
    }

    public static void softmax(float[] x, float[] y, Layout layout, double temperature, boolean maskedNan) {
        check(x, "x", layout, true, layout.cols);
        check(y, "y", layout, false, layout.cols);
        forEachRowRange(layout, (from, to) -> rows(x, y, layout, from, to, temperature, maskedNan, false));
    }

    public static void logSoftmax(float[] x, float[] y, Layout layout, double temperature, boolean maskedNan) {
        check(x, "x", layout, true, layout.cols);
        check(y, "y", layout, false, layout.cols);
        forEachRowRange(layout, (from, to) -> rows(x, y, layout, from, to, temperature, maskedNan, true));
    }

    /** y[r, j] = max of x[r, j*pieces .. j*pieces + pieces); a NaN in a group makes its output NaN. */
    public static void maxout(float[] x, float[] y, Layout layout, int pieces) {
        int outCols = maxoutColumns(layout, pieces);
        check(x, "x", layout, true, layout.cols);
        check(y, "y", layout, false, outCols);
        forEachRow(layout, (xb, yb) -> {
            for (int j = 0; j < outCols; j++) {
                int base = xb + j * pieces;
                float max = x[base];
                for (int p = 1; p < pieces; p++) {
                    max = Math.max(max, x[base + p]);
                }
                y[yb + j] = max;
            }
        });
    }

    /**
     * dx_i = y_i (dy_i - sum_j dy_j y_j) / T, y recomputed by the forward row (within its 3 ULP) into a row of
     * scratch, then as the backward pass from y: y's relative error carries to dx at the contract's scale
     * y_i (|dy_i| + sum |dy_j| y_j) / T, and the float steps add 2 ULP more.
     */
    public static void softmaxBackward(float[] x, float[] dy, float[] dx, Layout layout, double temperature,
                                       boolean maskedNan) {
        backwardThroughForward(x, dy, dx, layout, temperature, maskedNan, false);
    }

    /** dx_i = (dy_i - p_i sum_j dy_j) / T, p = e^y the softmax row, recomputed as {@link #softmaxBackward} does. */
    public static void logSoftmaxBackward(float[] x, float[] dy, float[] dx, Layout layout, double temperature,
                                          boolean maskedNan) {
        backwardThroughForward(x, dy, dx, layout, temperature, maskedNan, true);
    }

    /** A thread's softmax row and upstream gradient row, each as long as the longest row it has taken. */
    private static final ThreadLocal<float[][]> BACKWARD_ROWS = ThreadLocal.withInitial(() -> new float[2][0]);
    /**
     * Rows up to this long go through the forward row and two rows of scratch per thread (at most 2 MiB); longer
     * ones take the double path row by row, so that no thread keeps a copy of a huge row.
     */
    static final int SCRATCH_ROW_LIMIT = 1 << 18;

    /**
     * Whether some p[0, n) is below the least normal float (not for NaN), with scratch[0, n) for MIN_NORMAL - p: a
     * vectorised pass and a vectorised maximum, where a scalar minimum took half of the pass's time.
     */
    private static boolean hasSubnormal(float[] p, float[] scratch, int n) {
        for (int j = 0; j < n; j++) {
            scratch[j] = Float.MIN_NORMAL - p[j];
        }
        return rowMax(scratch, 0, n) > 0;
    }

    private static void backwardRowInDouble(float[] x, int xb, float[] dy, int yb, float[] dx, int cols,
                                            double temperature, boolean maskedNan, boolean log) {
        if (log) {
            logSoftmaxBackwardRow(x, xb, dy, yb, dx, xb, cols, cols, temperature, maskedNan);
        } else {
            softmaxBackwardRow(x, xb, dy, yb, dx, xb, cols, cols, temperature, maskedNan);
        }
    }

    private static void backwardThroughForward(float[] x, float[] dy, float[] dx, Layout layout, double temperature,
                                               boolean maskedNan, boolean log) {
        check(x, "x", layout, true, layout.cols);
        check(dy, "dy", layout, false, layout.cols);
        check(dx, "dx", layout, true, layout.cols);
        int cols = layout.cols;
        if (cols > SCRATCH_ROW_LIMIT) {
            forEachRow(layout, (xb, yb) -> backwardRowInDouble(x, xb, dy, yb, dx, cols, temperature, maskedNan, log));
            return;
        }
        float t = (float) temperature;
        forEachRowRange(layout, (from, to) -> {
            float[][] scratch = BACKWARD_ROWS.get();
            if (scratch[0].length < cols) {
                scratch[0] = new float[cols];
                scratch[1] = new float[cols];
            }
            float[] p = scratch[0];
            float[] gradient = scratch[1];
            for (int r = from; r < to; r++) {
                int xb = layout.xo + r * layout.xStride;
                // A row without a finite maximum comes out as the forward's special values, which the formulas carry.
                rows(x, p, new Layout(1, cols, xb, cols, 0, cols), 0, 1, temperature, maskedNan, false);
                int yb = layout.yo + r * layout.yStride;
                if (hasSubnormal(p, gradient, cols)) {
                    // A subnormal (or flushed) p has lost its relative precision, which dx = p (dy - s) / T would
                    // scale up: such rows (logits spanning more than 87 T, or -inf) take the double path.
                    backwardRowInDouble(x, xb, dy, yb, dx, cols, temperature, maskedNan, log);
                    continue;
                }
                System.arraycopy(dy, yb, gradient, 0, cols);
                if (log) {
                    OutputBackward.logSoftmaxFromProbabilities(p, gradient, cols, t);
                } else {
                    OutputBackward.softmaxInPlace(p, gradient, cols, t);
                }
                System.arraycopy(p, 0, dx, xb, cols);
            }
        });
    }

    /** dy[r, j] goes to the first position of the maximum of its group (the first NaN if there is one). */
    public static void maxoutBackward(float[] x, float[] dy, float[] dx, Layout layout, int pieces) {
        int outCols = maxoutColumns(layout, pieces);
        check(x, "x", layout, true, layout.cols);
        check(dy, "dy", layout, false, outCols);
        check(dx, "dx", layout, true, layout.cols);
        forEachRow(layout, (xb, yb) -> {
            for (int j = 0; j < outCols; j++) {
                int base = xb + j * pieces;
                int best = 0;
                float max = x[base];
                for (int p = 1; p < pieces; p++) {
                    float v = x[base + p];
                    if (v > max || (v != v && max == max)) {
                        max = v;
                        best = p;
                    }
                }
                for (int p = 0; p < pieces; p++) {
                    dx[base + p] = p == best ? dy[yb + j] : 0;
                }
            }
        });
    }

    // ---- one row ------------------------------------------------------------------------------------------------

    /**
     * Softmax (or log-softmax) of rows [from, to). Each row's maximum is found before its terms; on the vector path
     * the terms loop of a row also reads the next row for its maximum, so that row comes from memory while this one's
     * arithmetic runs (a pass of its own for the maximum took a quarter of a 1024-column row's time). Reading ahead
     * while writing needs the next input row apart from this output row: y is another array, or x's own rows.
     */
    private static void rows(float[] x, float[] y, Layout layout, int from, int to, double temperature,
                             boolean maskedNan, boolean log) {
        int cols = layout.cols;
        boolean readAhead = x != y || (layout.xo == layout.yo && layout.xStride == layout.yStride);
        float aheadMax = Float.NaN;
        boolean known = false;
        for (int r = from; r < to; r++) {
            int xb = layout.xo + r * layout.xStride;
            int yb = layout.yo + r * layout.yStride;
            float m = known ? aheadMax : rowMax(x, xb, cols);
            int ahead = readAhead && r + 1 < to ? xb + layout.xStride : -1;
            if (Float.isFinite(m)) {
                aheadMax = log ? logSoftmaxRow(x, xb, y, yb, cols, m, temperature, ahead)
                        : softmaxRow(x, xb, y, yb, cols, m, temperature, ahead);
                known = ahead >= 0;
            } else {
                fill(y, yb, cols, special(m, log ? Float.NEGATIVE_INFINITY : 0, maskedNan));
                known = false;
            }
        }
    }

    /**
     * Softmax of a row whose (finite) maximum is m; returns the maximum of the row at ahead (-1: none, then -inf),
     * read alongside where the vector loop runs, after this row is written where it does not.
     */
    private static float softmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, double temperature,
                                    int ahead) {
        float t = (float) temperature;
        if (m < MAY_OVERFLOW && Vectorization.LOOPS.takesRows(t)) {
            return maxOfRest(x, ahead, cols, Vectorization.LOOPS.softmaxRow(x, xb, y, yb, cols, m, t, ahead));
        }
        if (m >= MAY_OVERFLOW) {
            rowInDouble(x, xb, y, yb, cols, m, temperature, false);
        } else if (RowPasses.takes(cols, m, t)) {
            RowPasses.softmax(x, xb, y, yb, cols, m, t);
        } else {
            // y holds each term until the sum is known (x may be y: x_i is read before y_i is written)
            CompensatedSum sum = new CompensatedSum();
            for (int i = 0; i < cols; i++) {
                float e = term(x[xb + i], m, t);
                y[yb + i] = e;
                sum.add(e);
            }
            scale(y, yb, cols, 1 / sum.value());
        }
        return ahead < 0 ? Float.NEGATIVE_INFINITY : rowMax(x, ahead, cols);
    }

    /** Log-softmax of a row whose (finite) maximum is m, as {@link #softmaxRow}. */
    private static float logSoftmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, double temperature,
                                       int ahead) {
        float t = (float) temperature;
        if (m < MAY_OVERFLOW && Vectorization.LOOPS.takesRows(t)) {
            return maxOfRest(x, ahead, cols, Vectorization.LOOPS.logSoftmaxRow(x, xb, y, yb, cols, m, t, ahead));
        }
        if (m >= MAY_OVERFLOW) {
            rowInDouble(x, xb, y, yb, cols, m, temperature, true);
        } else if (RowPasses.takes(cols, m, t)) {
            RowPasses.logSoftmax(x, xb, y, yb, cols, m, t);
        } else {
            CompensatedSum sum = new CompensatedSum();
            for (int i = 0; i < cols; i++) {
                sum.add(term(x[xb + i], m, t));
            }
            float logSum = logOfSum(sum);
            for (int i = 0; i < cols; i++) {
                y[yb + i] = logTerm(x[xb + i], m, t, logSum);
            }
        }
        return ahead < 0 ? Float.NEGATIVE_INFINITY : rowMax(x, ahead, cols);
    }

    /**
     * Softmax backward of one row of z (at zb; it may be dx's own row, each z_i read before dx_i is written) over
     * its first {@code valid} columns; the columns after them are masked (dx = 0).
     */
    private static void softmaxBackwardRow(float[] z, int zb, float[] dy, int yb, float[] dx, int dxb, int valid,
                                           int cols, double temperature, boolean maskedNan) {
        float m = valid == 0 ? Float.NEGATIVE_INFINITY : rowMax(z, zb, valid);
        if (!Float.isFinite(m)) {
            fill(dx, dxb, cols, special(m, 0, maskedNan));
            return;
        }
        double sum = 1 + sumOfOthers(z, zb, valid, m, temperature);
        double dot = 0;
        for (int i = 0; i < valid; i++) {
            dot += dy[yb + i] * (exp(((double) z[zb + i] - m) / temperature) / sum);
        }
        for (int i = 0; i < valid; i++) {
            double yi = exp(((double) z[zb + i] - m) / temperature) / sum;
            dx[dxb + i] = (float) (yi * (dy[yb + i] - dot) / temperature);
        }
        fill(dx, dxb + valid, cols - valid, 0);
    }

    /**
     * Log-softmax backward of one row of z as {@link #softmaxBackwardRow}; dy is summed over the whole row, and a
     * masked column (p = 0) gets dy / T.
     */
    private static void logSoftmaxBackwardRow(float[] z, int zb, float[] dy, int yb, float[] dx, int dxb, int valid,
                                              int cols, double temperature, boolean maskedNan) {
        float m = valid == 0 ? Float.NEGATIVE_INFINITY : rowMax(z, zb, valid);
        double dySum = 0;
        for (int i = 0; i < cols; i++) {
            dySum += dy[yb + i];
        }
        if (m != m || m == Float.POSITIVE_INFINITY || (m == Float.NEGATIVE_INFINITY && maskedNan)) {
            fill(dx, dxb, cols, Float.NaN);
            return;
        }
        // A fully masked row has y = -inf, e^y = 0: the formula gives dx = dy / T.
        double sum = m == Float.NEGATIVE_INFINITY ? 1 : 1 + sumOfOthers(z, zb, valid, m, temperature);
        for (int i = 0; i < valid; i++) {
            double softmax = m == Float.NEGATIVE_INFINITY ? 0 : exp(((double) z[zb + i] - m) / temperature) / sum;
            dx[dxb + i] = (float) ((dy[yb + i] - softmax * dySum) / temperature);
        }
        for (int i = valid; i < cols; i++) {
            dx[dxb + i] = (float) (dy[yb + i] / temperature);
        }
    }

    /**
     * From this row maximum up, v - m can overflow float for a finite v (v >= -FLT_MAX, so m - v exceeds FLT_MAX by
     * half an ULP only when m >= 2^103): logits spanning more than the float range, with a huge T, still have a
     * finite (v - m) / T.
     */
    private static final float MAY_OVERFLOW = 0x1p103f;

    /** A row whose differences may overflow float, in double (where they cannot); rare, so not vectorised. */
    private static void rowInDouble(float[] x, int xb, float[] y, int yb, int cols, float m, double t, boolean log) {
        double others = sumOfOthers(x, xb, cols, m, t);
        double logSum = Math.log1p(others);
        for (int i = 0; i < cols; i++) {
            double z = ((double) x[xb + i] - m) / t;
            y[yb + i] = (float) (log ? z - logSum : Math.exp(z) / (1 + others));
        }
    }

    /**
     * log of a sum whose largest term is exactly 1 (the maximum's): log1p of the others, so that the maximum's
     * log-softmax, -log1p(others), keeps its accuracy however small the others are.
     */
    static float logOfSum(CompensatedSum sum) {
        return FloatMath.log1p(((sum.ones - 1) + sum.high) + sum.low);
    }

    /**
     * e^((v - m) / T) for v <= m: v - m is carried exactly as hi + lo and the quotient as zhi + zlo, so the term is
     * within about an ULP however far v is from m.
     */
    static float term(float v, float m, float t) {
        float hi = v - m;
        float zhi = hi / t;
        return FloatMath.exp(zhi, quotientLow(v, m, hi, zhi, t));
    }

    /** (v - m) / T - logSum, from the same exact pieces as {@link #term}. */
    static float logTerm(float v, float m, float t, float logSum) {
        float hi = v - m;
        float zhi = hi / t;
        return (zhi - logSum) + quotientLow(v, m, hi, zhi, t);
    }

    /**
     * The low part of (v - m) / T = zhi + zlo: v - m = hi + lo exactly (Knuth's two-sum), hi - zhi T exactly (a
     * fused multiply-add). Clamped to [-1, 1], which changes nothing where zhi is in exp's range, and 0 for v = -inf.
     */
    static float quotientLow(float v, float m, float hi, float zhi, float t) {
        float back = hi - v;
        float lo = (v - (hi - back)) + (-m - back);
        float zlo = Math.max(Math.min((Math.fma(-zhi, t, hi) + lo) / t, 1f), -1f);
        return FloatMath.select(hi == Float.NEGATIVE_INFINITY, 0, zlo);
    }

    /**
     * A sum of terms in (0, 1]: the terms equal to 1 (the maximum's, at least) are counted, the others added as a
     * float with its rounding errors carried in a second float (Knuth's two-sum), so the others keep their accuracy
     * however small they are next to the count.
     */
    static final class CompensatedSum {
        long ones;
        float high;
        float low;

        void add(float v) {
            if (v == 1) {
                ones++;
                return;
            }
            float s = high + v;
            float back = s - high;
            low += (high - (s - back)) + (v - back);
            high = s;
        }

        float value() {
            return (ones + high) + low;
        }
    }

    private static void scale(float[] y, int yb, int cols, float factor) {
        for (int i = 0; i < cols; i++) {
            y[yb + i] *= factor;
        }
    }

    /** max of the row; NaN if any entry is NaN (Math.max propagates it). */
    /** The maximum of x[xb, xb + cols), NaN if one is NaN: the vector loop's prefix, or the scalar passes. */
    static float rowMax(float[] x, int xb, int cols) {
        return Vectorization.vectorised() ? maxOfRest(x, xb, cols, Vectorization.LOOPS.maxOfPrefix(x, xb, cols))
                : RowPasses.max(x, xb, cols);
    }

    /** max of the row given the maximum of its {@link VectorLoops#maxPrefix}; -inf for no row (xb = -1). */
    private static float maxOfRest(float[] x, int xb, int cols, float prefixMax) {
        if (xb < 0) {
            return Float.NEGATIVE_INFINITY;
        }
        float m = prefixMax;
        for (int i = Vectorization.LOOPS.maxPrefix(cols); i < cols; i++) {
            m = Math.max(m, x[xb + i]);
        }
        return m;
    }

    /** sum of e^((x_i - m)/T) over every entry except one occurrence of the maximum m (whose term is exactly 1). */
    private static double sumOfOthers(float[] x, int xb, int cols, float m, double temperature) {
        double others = 0;
        int maxCount = 0;
        for (int i = 0; i < cols; i++) {
            float v = x[xb + i];
            if (v < m) {
                others += exp(((double) v - m) / temperature);
            } else {
                maxCount++;
            }
        }
        return others + (maxCount - 1);
    }

    /** The whole-row value for a row whose maximum is not finite: NaN for NaN or +inf, the masked value for -inf. */
    private static float special(float max, float maskedValue, boolean maskedNan) {
        return max == Float.NEGATIVE_INFINITY && !maskedNan ? maskedValue : Float.NaN;
    }

    private static void fill(float[] a, int from, int count, float value) {
        java.util.Arrays.fill(a, from, from + count, value);
    }

    // ---- masked rows ----------------------------------------------------------------------------------------------

    /**
     * What a masked row op leaves out: row r takes part over its first {@code validColumns(r)} columns, where
     * {@code additive} (if not null) adds its row {@code r / rowsPerMaskRow} (dense rows of cols) to x in float
     * first; every other column counts as -inf.
     */
    public record Mask(float[] additive, int rowsPerMaskRow, IntUnaryOperator validColumns) {
        public Mask {
            Objects.requireNonNull(validColumns, "validColumns");
            if (rowsPerMaskRow < 1) {
                throw new IllegalArgumentException("rowsPerMaskRow must be >= 1, got " + rowsPerMaskRow);
            }
        }
    }

    /**
     * Softmax (or log-softmax, {@code log}) of each row of x + mask over its valid columns; the masked columns get
     * 0 (-inf). Only the valid columns are read and computed, so a causal mask halves the work.
     */
    public static void maskedSoftmax(float[] x, float[] y, Layout layout, Mask mask, double temperature,
                                     boolean maskedNan, boolean log) {
        check(x, "x", layout, true, layout.cols);
        check(y, "y", layout, false, layout.cols);
        int cols = layout.cols;
        forEachRow(layout, (r, xb, yb) -> {
            int valid = mask.validColumns.applyAsInt(r);
            float[] z = x;
            int zb = xb;
            if (mask.additive != null && valid > 0) {
                addMask(x, xb, mask, r, cols, valid, y, yb);
                z = y;
                zb = yb;
            }
            float m = valid == 0 ? Float.NEGATIVE_INFINITY : rowMax(z, zb, valid);
            float maskedValue = log ? Float.NEGATIVE_INFINITY : 0;
            if (!Float.isFinite(m)) {
                fill(y, yb, cols, special(m, maskedValue, maskedNan));
                return;
            }
            if (log) {
                logSoftmaxRow(z, zb, y, yb, valid, m, temperature, -1);
            } else {
                softmaxRow(z, zb, y, yb, valid, m, temperature, -1);
            }
            fill(y, yb + valid, cols - valid, maskedValue);
        });
    }

    /** The backward pass of {@link #maskedSoftmax} from x: the unmasked one at z = x + mask. */
    public static void maskedSoftmaxBackward(float[] x, float[] dy, float[] dx, Layout layout, Mask mask,
                                             double temperature, boolean maskedNan, boolean log) {
        check(x, "x", layout, true, layout.cols);
        check(dy, "dy", layout, false, layout.cols);
        check(dx, "dx", layout, true, layout.cols);
        int cols = layout.cols;
        forEachRow(layout, (r, xb, yb) -> {
            int valid = mask.validColumns.applyAsInt(r);
            float[] z = x;
            if (mask.additive != null && valid > 0) {
                // dx is laid out as x and is a buffer of its own: z lives there until the gradient replaces it
                addMask(x, xb, mask, r, cols, valid, dx, xb);
                z = dx;
            }
            if (log) {
                logSoftmaxBackwardRow(z, xb, dy, yb, dx, xb, valid, cols, temperature, maskedNan);
            } else {
                softmaxBackwardRow(z, xb, dy, yb, dx, xb, valid, cols, temperature, maskedNan);
            }
        });
    }

    /** z = x + mask over the valid columns of row r, rounded to float, into z at zb (which may be x's row). */
    private static void addMask(float[] x, int xb, Mask mask, int r, int cols, int valid, float[] z, int zb) {
        int mb = r / mask.rowsPerMaskRow * cols;
        float[] add = mask.additive;
        for (int i = 0; i < valid; i++) {
            z[zb + i] = x[xb + i] + add[mb + i];
        }
    }

    // ---- scheduling and checks ------------------------------------------------------------------------------------

    private static void forEachRow(Layout layout, RowBody body) {
        forEachRow(layout, (r, xb, yb) -> body.run(xb, yb));
    }

    /** Whole rows [from, to) at a time, split over the cores as {@link #forEachRow}. */
    private static void forEachRowRange(Layout layout, Parallel.Range body) {
        if (layout.isEmpty()) {
            return;
        }
        int rowsPerChunk = Parallel.balancedChunk(layout.rows, Math.max(1, Parallel.CHUNK_ELEMENTS / layout.cols));
        Parallel.forEachChunk(layout.rows, rowsPerChunk, (long) layout.rows * layout.cols, body);
    }

    private static void forEachRow(Layout layout, IndexedRowBody body) {
        forEachRowRange(layout, (from, to) -> {
            for (int r = from; r < to; r++) {
                body.run(r, layout.xo + r * layout.xStride, layout.yo + r * layout.yStride);
            }
        });
    }

    private static int maxoutColumns(Layout layout, int pieces) {
        if (pieces < 1 || layout.cols % pieces != 0) {
            throw new IllegalArgumentException("maxout: pieces must be >= 1 and divide cols (" + layout.cols
                    + "), got " + pieces);
        }
        return layout.cols / pieces;
    }

    /** The array must hold every row of the operand: rows - 1 strides plus one row of rowLength. */
    private static void check(float[] a, String name, Layout layout, boolean isInputShaped, int rowLength) {
        Objects.requireNonNull(a, name);
        if (layout.isEmpty()) {
            return;
        }
        long offset = isInputShaped ? layout.xo : layout.yo;
        long stride = isInputShaped ? layout.xStride : layout.yStride;
        long end = offset + (layout.rows - 1L) * stride + rowLength;
        if (offset < 0 || end > a.length) {
            throw new IndexOutOfBoundsException(name + ": rows " + layout.rows + " x " + rowLength + " at offset "
                    + offset + " with stride " + stride + " need " + end + " elements, the array has " + a.length);
        }
    }
}
