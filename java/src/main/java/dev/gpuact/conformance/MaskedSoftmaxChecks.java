package dev.gpuact.conformance;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Masked and causal softmax / log_softmax ({@link RowMask}) against the unfused definition: the plain op's
 * reference on z, where z = x + mask rounded to float32 in the valid columns and -inf in the others (lengths and
 * causal limit written here again, apart from any backend). Forward and backward from x, within the softmax bounds;
 * masked columns of x hold NaN and +inf, so a kernel that reads them poisons its row; output padding must keep its
 * sentinel; the same call twice gives the same bits.
 */
final class MaskedSoftmaxChecks {
    private final Backend backend;
    private final Op op;
    private final boolean log;
    private final Tally tally;
    private final SplittableRandom random;
    private final SoftmaxChecks rows;

    private MaskedSoftmaxChecks(Backend backend, Op op, Tally tally) {
        this.backend = backend;
        this.op = op;
        this.log = op == Op.LOG_SOFTMAX;
        this.tally = tally;
        this.random = new SplittableRandom(Conformance.seed(op) + 17);
        this.rows = new SoftmaxChecks(backend, op, tally);
    }

    static void run(Backend backend, Op op, Tally tally) {
        new MaskedSoftmaxChecks(backend, op, tally).run();
    }

    /** What one call masks, as host data: the additive rows (or null) and the RowMask's other parts. */
    private record Masking(float[] additive, int rowsPerMaskRow, int[] lengths, int rowsPerLength, boolean causal,
                           long offset, long rowsPerQuery) {
        static Masking none() {
            return new Masking(null, 1, null, 1, false, 0, 0);
        }

        Masking add(float[] mask, int perRow) {
            return new Masking(mask, perRow, lengths, rowsPerLength, causal, offset, rowsPerQuery);
        }

        Masking lengths(int[] valid, int perLength) {
            return new Masking(additive, rowsPerMaskRow, valid, perLength, causal, offset, rowsPerQuery);
        }

        Masking causal(long from, long period) {
            return new Masking(additive, rowsPerMaskRow, lengths, rowsPerLength, true, from, period);
        }

        /** Row r's valid prefix, from the definition: min(cols, length, query + offset + 1), at least 0. */
        long valid(long r, long cols) {
            long valid = cols;
            if (lengths != null) {
                valid = Math.min(valid, lengths[(int) (r / rowsPerLength)]);
            }
            if (causal) {
                long query = rowsPerQuery == 0 ? r : r % rowsPerQuery;
                double limit = (double) query + offset + 1;  // double: exact for the small figures checked
                valid = (long) Math.max(0, Math.min(valid, limit));
            }
            return valid;
        }

        String describe() {
            StringBuilder sb = new StringBuilder("mask");
            if (additive != null) {
                sb.append(" add/").append(rowsPerMaskRow);
            }
            if (lengths != null) {
                sb.append(" lengths/").append(rowsPerLength);
            }
            if (causal) {
                sb.append(" causal(").append(offset).append(", ").append(rowsPerQuery).append(')');
            }
            return sb.toString();
        }
    }

    private void run() {
        for (int cols : new int[] {1, 33, 1024, 1025, 4097}) {
            int rowCount = Math.max(3, Math.min(24, (1 << 15) / cols));
            RowLayout layout = RowLayout.of(rowCount, cols);
            check(1, false, layout, Masking.none().add(additive(rowCount, cols), 1));
            check(1, false, layout, Masking.none().lengths(lengths(rowCount, cols), 1));
        }
        check(1, false, RowLayout.of(7, 40), Masking.none().add(additive(3, 40), 3));
        check(1, false, RowLayout.of(7, 40), Masking.none().lengths(lengths(4, 40), 2));
        for (int n : new int[] {1, 31, 64, 300}) {
            check(1, false, RowLayout.of(n, n), Masking.none().causal(0, 0));
        }
        check(1, false, RowLayout.of(6, 50), Masking.none().causal(44, 0));
        check(1, false, RowLayout.of(9, 20), Masking.none().causal(-3, 0));
        check(1, false, RowLayout.of(12, 9), Masking.none().causal(3, 4));
        check(1, false, RowLayout.of(3, 10), Masking.none().causal(Long.MAX_VALUE - 1, 0));
        check(1, false, RowLayout.of(3, 10), Masking.none().causal(Long.MIN_VALUE + 1, 0));
        // everything at once, with a temperature and strides
        for (double temperature : new double[] {0.125, 2.5}) {
            RowLayout strided = new RowLayout(16, 67, 70, 75);
            check(temperature, false, strided, Masking.none().add(additive(4, 67), 4).lengths(lengths(8, 67), 2)
                    .causal(50, 8));
        }
        checkFullyMasked(false);
        checkFullyMasked(true);
        checkInPlace();
        checkDeterminism();
        checkEmptyIsNoOp();
    }

    private Activation activation(double temperature, boolean maskedNaN) {
        return log ? Activation.logSoftmax(temperature, maskedNaN) : Activation.softmax(temperature, maskedNaN);
    }

    /** Mask rows of 0 (most), -inf (about one in six) and finite values in [-6, 6]. */
    private float[] additive(int maskRows, int cols) {
        float[] mask = new float[maskRows * cols];
        for (int i = 0; i < mask.length; i++) {
            int kind = random.nextInt(6);
            mask[i] = kind == 0 ? Float.NEGATIVE_INFINITY : kind < 3 ? (float) random.nextDouble(-6, 6) : 0f;
        }
        return mask;
    }

    /** Lengths from 0 to cols, both ends included among them. */
    private int[] lengths(int count, int cols) {
        int[] lengths = new int[count];
        for (int i = 0; i < count; i++) {
            lengths[i] = i == 0 ? cols : i == 1 ? 0 : random.nextInt(cols + 1);
        }
        return lengths;
    }

    /** Logits around 0 in the valid columns; NaN, +inf and huge values in the masked ones and the padding. */
    private float[] logits(RowLayout layout, Masking masking) {
        float[] x = new float[(int) layout.xExtent()];
        float[] poison = {Float.NaN, Float.POSITIVE_INFINITY, 3e38f};
        for (int i = 0; i < x.length; i++) {
            long r = i / layout.xStride();
            long j = i % layout.xStride();
            x[i] = j < masking.valid(r, layout.cols()) ? (float) (3 * random.nextGaussian()) : poison[i % 3];
        }
        return x;
    }

    /** The unfused definition's input: x + mask rounded to float in the valid columns, -inf in the others. */
    private static float[] unfused(float[] x, RowLayout layout, Masking masking) {
        float[] z = x.clone();
        int cols = (int) layout.cols();
        for (int r = 0; r < layout.rows(); r++) {
            int base = (int) (r * layout.xStride());
            long valid = masking.valid(r, cols);
            for (int j = 0; j < cols; j++) {
                float add = masking.additive == null ? 0 : masking.additive[r / masking.rowsPerMaskRow * cols + j];
                z[base + j] = j < valid ? x[base + j] + add : Float.NEGATIVE_INFINITY;
            }
        }
        return z;
    }

    private void check(double temperature, boolean maskedNaN, RowLayout layout, Masking masking) {
        checkWith(activation(temperature, maskedNaN), layout, masking, logits(layout, masking), null);
    }

    /** Forward against the reference on z, its padding, and (without masked_nan) backward from x. */
    private void checkWith(Activation activation, RowLayout layout, Masking masking, float[] x, String[] rules) {
        float[] z = unfused(x, layout, masking);
        String what = activation + " " + masking.describe();
        try (DeviceBuffer mask = masking.additive == null ? null : backend.upload(masking.additive)) {
            RowMask rowMask = rowMask(masking, mask);
            float[] y = forward(activation, x, layout, rowMask, (int) layout.yExtent(layout.cols()) + 3);
            rows.checkForward(activation, layout, z, y, rules == null ? describeRows(layout, what) : rules);
            Conformance.checkPadding(tally, what + " forward " + Conformance.describe(layout), y, layout.rows(),
                    layout.yStride(), layout.cols());
            if (activation.param("masked_nan") == 0) {
                float[] dy = rows.randomGradient(layout);
                float[] dx = backward(activation, x, dy, layout, rowMask);
                rows.compareBackward(activation, layout, z, dy, dx);
            }
        } catch (RuntimeException e) {
            tally.fail(what + " " + Conformance.describe(layout) + " threw " + e);
        }
    }

    private static String[] describeRows(RowLayout layout, String what) {
        String[] rules = new String[(int) layout.rows()];
        Arrays.fill(rules, what);
        return rules;
    }

    private static RowMask rowMask(Masking masking, DeviceBuffer mask) {
        RowMask rowMask = RowMask.none();
        if (mask != null) {
            rowMask = rowMask.add(mask, masking.rowsPerMaskRow);
        }
        if (masking.lengths != null) {
            rowMask = rowMask.lengths(masking.lengths, masking.rowsPerLength);
        }
        return masking.causal ? rowMask.causal(masking.offset, masking.rowsPerQuery) : rowMask;
    }

    private float[] forward(Activation activation, float[] x, RowLayout layout, RowMask mask, int yLength) {
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer by = backend.upload(Conformance.sentinels(yLength))) {
            backend.applyRows(activation, bx, by, layout, mask);
            return by.toArray();
        }
    }

    private float[] backward(Activation activation, float[] x, float[] dy, RowLayout layout, RowMask mask) {
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer bdy = backend.upload(dy);
             DeviceBuffer bdx = backend.upload(Conformance.sentinels(x.length))) {
            backend.applyRowsBackward(activation, bx, bdy, bdx, layout, mask);
            return bdx.toArray();
        }
    }

    /**
     * Rows left with nothing: by length 0, by a negative causal offset, by a mask of -inf over every valid column;
     * and rows whose valid part holds NaN or +inf, which must be NaN throughout.
     */
    private void checkFullyMasked(boolean maskedNaN) {
        int cols = 6;
        float inf = Float.POSITIVE_INFINITY;
        float[] x = {
            1, 2, 3, 4, 5, 6,
            1, 2, 3, 4, 5, 6,
            1, Float.NaN, 3, 4, 5, 6,
            1, 2, inf, 4, 5, 6,
            -inf, 2, 3, 4, 5, 6,
        };
        float[] additive = {
            0, 0, 0, 0, 0, 0,
            -inf, -inf, -inf, -inf, 0, 0,
            0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0,
            0, -inf, 0, 0, 0, 0,
        };
        int[] lengths = {0, 4, 6, 6, 2};
        Masking masking = Masking.none().add(additive, 1).lengths(lengths, 1);
        String masked = "a fully masked row must be " + (maskedNaN ? "NaN (masked_nan=1)" : log ? "-inf" : "zeros");
        String[] rules = {masked + " (length 0)", masked + " (-inf over every valid column)",
            "a row holding NaN must be all NaN", "a row holding +inf must be all NaN",
            masked + " (-inf in x and in the mask)"};
        checkWith(activation(1, maskedNaN), RowLayout.of(5, cols), masking, x, rules);
        checkWith(activation(1, maskedNaN), RowLayout.of(4, cols), Masking.none().causal(-2, 0),
                logits(RowLayout.of(4, cols), Masking.none().causal(-2, 0)), null);
    }

    /** y may be x's buffer: z is formed in place, row by row. */
    private void checkInPlace() {
        RowLayout layout = RowLayout.of(10, 77);
        Masking masking = Masking.none().add(additive(5, 77), 2).lengths(lengths(10, 77), 1).causal(30, 0);
        float[] x = logits(layout, masking);
        float[] z = unfused(x, layout, masking);
        Activation activation = activation(0.75, false);
        try (DeviceBuffer mask = backend.upload(masking.additive); DeviceBuffer bx = backend.upload(x)) {
            backend.applyRows(activation, bx, bx, layout, rowMask(masking, mask));
            rows.checkForward(activation, layout, z, bx.toArray(), describeRows(layout, "in place"));
        }
    }

    private void checkDeterminism() {
        RowLayout layout = RowLayout.of(4, Conformance.DETERMINISM_COLUMNS / 4);
        Masking masking = Masking.none().add(additive(4, (int) layout.cols()), 1).causal(layout.cols() / 2, 0);
        float[] x = logits(layout, masking);
        int n = (int) layout.yExtent(layout.cols());
        Activation activation = activation(1, false);
        try (DeviceBuffer mask = backend.upload(masking.additive)) {
            RowMask rowMask = rowMask(masking, mask);
            Conformance.checkSameBits(tally, activation + " " + masking.describe() + " over " + n + " elements",
                    forward(activation, x, layout, rowMask, n), forward(activation, x, layout, rowMask, n));
        }
    }

    /** rows = 0 (with an empty mask) and cols = 0 (lengths of 0) are no-ops that write nothing. */
    private void checkEmptyIsNoOp() {
        Activation activation = activation(1, false);
        float[] untouched = Conformance.sentinels(8);
        try (DeviceBuffer x = backend.upload(untouched); DeviceBuffer y = backend.upload(untouched);
             DeviceBuffer dx = backend.upload(untouched); DeviceBuffer mask = backend.allocate(0)) {
            RowMask noRows = RowMask.none().add(mask).causal(0);
            RowMask noCols = RowMask.none().lengths(new int[] {0, 0, 0}).causal(0);
            backend.applyRows(activation, x, y, new RowLayout(0, 5, 5, 5), noRows);
            backend.applyRowsBackward(activation, x, y, dx, new RowLayout(0, 5, 5, 5), noRows);
            backend.applyRows(activation, x, y, new RowLayout(3, 0, 0, 0), noCols);
            backend.applyRowsBackward(activation, x, y, dx, new RowLayout(3, 0, 0, 0), noCols);
            Conformance.checkPadding(tally, op + " masked on empty layouts, y", y.toArray(), 0, 1, 0);
            Conformance.checkPadding(tally, op + " masked backward on empty layouts, dx", dx.toArray(), 0, 1, 0);
        } catch (RuntimeException e) {
            tally.fail(String.format(Locale.ROOT, "%s masked on an empty layout must be a no-op, but threw %s", op, e));
        }
    }
}
