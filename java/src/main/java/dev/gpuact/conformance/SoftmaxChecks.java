package dev.gpuact.conformance;

import static dev.gpuact.conformance.Conformance.BACKWARD_ULP;
import static dev.gpuact.conformance.Conformance.SOFTMAX_SUM_TOLERANCE;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import java.util.Locale;
import java.util.SplittableRandom;

/** Softmax and log-softmax: accuracy, row sums, strides, masked and poisoned rows, empty work, determinism. */
final class SoftmaxChecks {
    /** Row r's logits are offset by (r % 3 - 1) * 10000: a kernel that skips the max subtraction overflows. */
    private static final double ROW_OFFSET = 10000;
    private static final double LOGIT_SPREAD = 3;

    private final Backend backend;
    private final Op op;
    private final boolean log;
    private final Tally tally;
    private final SplittableRandom random;

    SoftmaxChecks(Backend backend, Op op, Tally tally) {
        this.backend = backend;
        this.op = op;
        this.log = op == Op.LOG_SOFTMAX;
        this.tally = tally;
        this.random = new SplittableRandom(Conformance.seed(op));
    }

    static void run(Backend backend, Op op, Tally tally) {
        new SoftmaxChecks(backend, op, tally).run();
    }

    /** Forward and backward of softmax or log_softmax on rows of the caller's choosing (soak, reproductions). */
    static void checkRows(Backend backend, Activation activation, float[] x, RowLayout layout, Tally tally) {
        SoftmaxChecks checks = new SoftmaxChecks(backend, activation.op(), tally);
        float[] y = Conformance.rows(backend, activation, x, layout, (int) layout.yExtent(layout.cols()));
        checks.checkForward(activation, layout, x, y, null);
        checks.checkBackward(activation, layout, x);
    }

    private void run() {
        for (int cols : Conformance.SOFTMAX_COLUMNS) {
            int rows = Math.max(2, Math.min(64, (1 << 16) / cols));
            checkRandomRows(activation(1, false), RowLayout.of(rows, cols), LOGIT_SPREAD, true);
        }
        for (double temperature : new double[] {0.5, 2.5}) {
            for (int cols : new int[] {33, 1025}) {
                checkRandomRows(activation(temperature, false), RowLayout.of(4, cols), LOGIT_SPREAD, true);
            }
        }
        for (int cols : new int[] {33, 1024}) {
            checkRandomRows(activation(1, false), new RowLayout(5, cols, cols + 3, cols + 7), LOGIT_SPREAD, true);
        }
        // A low temperature over widely spread logits puts terms and gradients in the subnormals, where dy and 1/T
        // magnify a rounded term (a soak found 11.8 ULP at T = 0.264 on 8 x 277 rows).
        checkRandomRows(activation(0.26423758, false), RowLayout.of(8, 277), 8, true);
        checkRandomRows(activation(1, false), RowLayout.of(1, Conformance.LONG_ROW), LOGIT_SPREAD, false);
        checkSpecialRows(false);
        checkSpecialRows(true);
        checkExtremeScales();
        checkEmptyIsNoOp(new RowLayout(0, 5, 5, 5));
        checkEmptyIsNoOp(new RowLayout(3, 0, 0, 0));
        checkDeterminism();
    }

    private Activation activation(double temperature, boolean maskedNaN) {
        return log ? Activation.logSoftmax(temperature, maskedNaN) : Activation.softmax(temperature, maskedNaN);
    }

    /** Gaussian logits around each row's offset; padding between rows is NaN, so reading it poisons the row. */
    private float[] randomRows(RowLayout layout, long stride, long extent, double spread, double offsetStep) {
        float[] x = new float[(int) extent];
        for (int i = 0; i < x.length; i++) {
            long row = i / stride;
            x[i] = i % stride < layout.cols()
                    ? (float) ((row % 3 - 1) * offsetStep + spread * random.nextGaussian()) : Float.NaN;
        }
        return x;
    }

    private void checkRandomRows(Activation activation, RowLayout layout, double spread, boolean withBackward) {
        float[] x = randomRows(layout, layout.xStride(), layout.xExtent(), spread, ROW_OFFSET);
        int yLength = (int) layout.yExtent(layout.cols()) + 3;
        float[] y = Conformance.rows(backend, activation, x, layout, yLength);
        checkForward(activation, layout, x, y, null);
        Conformance.checkPadding(tally, activation + " forward " + Conformance.describe(layout), y, layout.rows(),
                layout.yStride(), layout.cols());
        if (withBackward) {
            checkBackward(activation, layout, x);
        }
    }

    /** Compares every element with the double reference; {@code rules} names the contract rule of each row. */
    void checkForward(Activation activation, RowLayout layout, float[] x, float[] y, String[] rules) {
        int cols = (int) layout.cols();
        double temperature = activation.param("temperature");
        boolean maskedNaN = activation.param("masked_nan") != 0;
        for (int r = 0; r < layout.rows(); r++) {
            double[] want = RowReference.softmax(x, (int) (r * layout.xStride()), cols, temperature, log, maskedNaN);
            int base = (int) (r * layout.yStride());
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                float got = y[base + j];
                double ulps = Ulp.distance(got, want[j]);
                tally.forward(ulps);
                sum += got;
                if (!(ulps <= BACKWARD_ULP)) {
                    tally.fail(String.format(Locale.ROOT, "%s%s forward %s: row %d col %d: got %s want %s, %s ULP > %s",
                            rules == null ? "" : rules[r] + ": ", activation, Conformance.describe(layout), r, j, got,
                            (float) want[j], Conformance.formatUlps(ulps), Conformance.formatUlps(BACKWARD_ULP)));
                }
            }
            if (!log && !Double.isNaN(want[0]) && !allZero(want)) {
                tally.point();
                if (!(Math.abs(sum - 1) <= SOFTMAX_SUM_TOLERANCE)) {
                    tally.fail(String.format(Locale.ROOT, "%s %s: row %d sums to %.9f, not 1 within %s", activation,
                            Conformance.describe(layout), r, sum, SOFTMAX_SUM_TOLERANCE));
                }
            }
        }
    }

    private static boolean allZero(double[] values) {
        for (double v : values) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }

    private void checkBackward(Activation activation, RowLayout layout, float[] x) {
        float[] dy = randomGradient(layout);
        compareBackward(activation, layout, x, dy, Conformance.rowsBackward(backend, activation, x, dy, layout));
    }

    /** A dy laid out as the output, uniform-ish around 0, NaN in the padding. */
    float[] randomGradient(RowLayout layout) {
        return randomRows(layout, layout.yStride(), layout.yExtent(layout.cols()), 1, 0);
    }

    /** dx (laid out as x, sentinels outside the rows) against the reference gradient of the rows of x. */
    void compareBackward(Activation activation, RowLayout layout, float[] x, float[] dy, float[] dx) {
        int cols = (int) layout.cols();
        double temperature = activation.param("temperature");
        for (int r = 0; r < layout.rows(); r++) {
            double[] p = RowReference.softmax(x, (int) (r * layout.xStride()), cols, temperature, false, false);
            RowReference.Gradient g = RowReference.softmaxBackward(p, dy, (int) (r * layout.yStride()), cols,
                    temperature, log);
            int base = (int) (r * layout.xStride());
            for (int j = 0; j < cols; j++) {
                double ulps = Ulp.distance(dx[base + j], g.dx()[j], g.scale()[j]);
                tally.backward(ulps);
                if (!(ulps <= BACKWARD_ULP)) {
                    tally.fail(String.format(Locale.ROOT, "%s backward %s: row %d col %d (dy=%s): got %s want %s, %s ULP"
                                    + " > %s", activation, Conformance.describe(layout), r, j,
                            dy[(int) (r * layout.yStride()) + j], dx[base + j], (float) g.dx()[j],
                            Conformance.formatUlps(ulps), Conformance.formatUlps(BACKWARD_ULP)));
                }
            }
        }
        Conformance.checkPadding(tally, activation + " backward dx " + Conformance.describe(layout), dx,
                layout.rows(), layout.xStride(), cols);
    }

    /** The special-value rows of ACTIVATIONS.md, each named in its failures. */
    private void checkSpecialRows(boolean maskedNaN) {
        float inf = Float.POSITIVE_INFINITY;
        float[][] rows = {
            {-inf, -inf, -inf, -inf, -inf, -inf, -inf},
            {0.5f, 1f, -2f, Float.NaN, 3f, 0f, 1f},
            {0.5f, 1f, -2f, 4f, 3f, inf, 1f},
            {-inf, 1f, -2f, 4f, -inf, 0.25f, 1f},
            {10000f, 10001f, 9999f, 10000.5f, 9990f, 10002f, 10000f},
            {-inf, -inf, -inf, 2.5f, -inf, -inf, -inf},
        };
        String masked = "a fully masked row (all -inf) must be " + (maskedNaN ? "NaN (masked_nan=1)"
                : log ? "-inf" : "zeros");
        String[] rules = {masked, "a row holding NaN must be all NaN", "a row holding +inf must be all NaN",
            "-inf entries take no share", "large logits", "a single unmasked entry takes all"};
        int cols = rows[0].length;
        float[] x = new float[rows.length * cols];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, x, r * cols, cols);
        }
        RowLayout layout = RowLayout.of(rows.length, cols);
        Activation activation = activation(1, maskedNaN);
        checkForward(activation, layout, x, Conformance.rows(backend, activation, x, layout, x.length), rules);
        if (!maskedNaN) {
            // Their gradients too, and those of one-column rows (a soak found NaN for a fully masked one).
            checkBackward(activation, layout, x);
            float[] column = {-inf, 0.5f, Float.NaN, inf, -3e38f};
            RowLayout single = RowLayout.of(column.length, 1);
            Activation tempered = activation(2.7614546, false);
            checkForward(tempered, single, column, Conformance.rows(backend, tempered, column, single, column.length),
                    null);
            checkBackward(tempered, single, column);
        }
    }

    /**
     * Scales at the ends of float, on rows as short as a warp's, as long as a block's and longer: T = 1e-37 over
     * logits 40 apart puts (x - m)/T beyond float (log_softmax is -inf there, not NaN), T = 1e30 makes a row nearly
     * uniform, and logits spanning more than float's range ([-3e38, 3e38], T = 1e38) overflow x - m unless it is
     * divided by T first.
     */
    private void checkExtremeScales() {
        for (int cols : new int[] {20, 1000, 9000}) {
            RowLayout layout = RowLayout.of(2, cols);
            float[] x = new float[2 * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (40.0 * ((i * 7919L) % cols) / cols) - 20f;
            }
            for (double temperature : new double[] {1e-37, 1e30}) {
                String rule = "temperature " + temperature + " over logits from -20 to 20";
                Activation activation = activation(temperature, false);
                checkForward(activation, layout, x, Conformance.rows(backend, activation, x, layout, x.length),
                        new String[] {rule, rule});
            }
        }
        float[] wide = {-3e38f, 3e38f};
        RowLayout pair = RowLayout.of(1, 2);
        Activation activation = activation(1e38, false);
        checkForward(activation, pair, wide, Conformance.rows(backend, activation, wide, pair, 2),
                new String[] {"logits spanning more than the float range"});
    }

    /** rows = 0 or cols = 0 is a no-op, not an error, and writes nothing. */
    private void checkEmptyIsNoOp(RowLayout layout) {
        Activation activation = activation(1, false);
        float[] untouched = Conformance.sentinels(8);
        try (DeviceBuffer x = backend.upload(untouched); DeviceBuffer y = backend.upload(untouched);
             DeviceBuffer dx = backend.upload(untouched)) {
            backend.applyRows(activation, x, y, layout);
            backend.applyRowsBackward(activation, x, y, dx, layout);
            Conformance.checkPadding(tally, op + " on empty " + Conformance.describe(layout) + ", y", y.toArray(), 0,
                    1, 0);
            Conformance.checkPadding(tally, op + " backward on empty " + Conformance.describe(layout) + ", dx",
                    dx.toArray(), 0, 1, 0);
        } catch (RuntimeException e) {
            tally.fail(op + " on " + Conformance.describe(layout) + " must be a no-op, but threw " + e);
        }
    }

    private void checkDeterminism() {
        RowLayout layout = RowLayout.of(1, Conformance.DETERMINISM_COLUMNS);
        Activation activation = activation(1, false);
        float[] x = randomRows(layout, layout.xStride(), layout.xExtent(), LOGIT_SPREAD, 0);
        int n = x.length;
        Conformance.checkSameBits(tally, activation + " over " + n + " columns",
                Conformance.rows(backend, activation, x, layout, n), Conformance.rows(backend, activation, x, layout, n));
    }
}
