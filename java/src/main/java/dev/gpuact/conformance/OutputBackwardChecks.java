package dev.gpuact.conformance;

import static dev.gpuact.conformance.Conformance.BACKWARD_ULP;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The backward passes from the saved output. How they are read: the backend is given y = f(x) exactly rounded to
 * float (from the double reference) and dy, and its dx is measured against dy times the true derivative at that
 * float y ({@link Op#referenceDerivativeFromOutput}; for rows, the row formulas of ACTIVATIONS.md in double from
 * that y), within the backward bound; softmax rows use the term-scale reading of {@link Conformance}. An activation
 * without the form must be refused with an {@link IllegalArgumentException} that says so.
 */
final class OutputBackwardChecks {
    private static final int[][] ROW_SHAPES = {{3, 1, 1, 1}, {5, 33, 40, 35}, {4, 1024, 1024, 1024}, {2, 4097, 4100, 4097}};

    private OutputBackwardChecks() {
    }

    /** The elementwise form at the inputs {@code x} of the from-x checks, with dy = 1, random and extreme. */
    static void elementwise(Backend backend, Activation activation, float[] x, long seed, Tally tally) {
        if (!activation.hasBackwardFromOutput()) {
            rejected(backend, activation, tally);
            return;
        }
        float[][] extreme = ElementwiseInputs.withExtremeDy(x);
        float[] ones = new float[x.length];
        Arrays.fill(ones, 1f);
        float[] randomDy = new float[x.length];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < x.length; i++) {
            randomDy[i] = (float) random.nextDouble(-2, 2);
        }
        float[] dx = compare(backend, activation, outputs(activation, x), ones, tally);
        compare(backend, activation, outputs(activation, x), randomDy, tally);
        compare(backend, activation, outputs(activation, extreme[0]), extreme[1], tally);
        Conformance.checkSameBits(tally, activation + " backward from y", dx,
                backward(backend, activation, outputs(activation, x), ones));
    }

    private static float[] outputs(Activation activation, float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (float) activation.op().reference(x[i], activation.a(), activation.b());
        }
        return y;
    }

    private static float[] compare(Backend backend, Activation activation, float[] y, float[] dy, Tally tally) {
        float[] dx = backward(backend, activation, y, dy);
        for (int i = 0; i < y.length; i++) {
            double want = dy[i] * activation.op().referenceDerivativeFromOutput(y[i], activation.a(), activation.b());
            double ulps = Ulp.distance(dx[i], want);
            tally.backward(ulps);
            if (!(ulps <= BACKWARD_ULP)) {
                tally.fail(String.format(Locale.ROOT, "backward from y (dy=%s) at y=%s (0x%08x)%s: got %s want %s, %s ULP > %s",
                        dy[i], y[i], Float.floatToRawIntBits(y[i]), Conformance.parameterText(activation), dx[i],
                        (float) want, Conformance.formatUlps(ulps), Conformance.formatUlps(BACKWARD_ULP)));
            }
        }
        return dx;
    }

    private static float[] backward(Backend backend, Activation activation, float[] y, float[] dy) {
        try (DeviceBuffer by = backend.upload(y); DeviceBuffer bdy = backend.upload(dy);
             DeviceBuffer bdx = backend.allocate(y.length)) {
            backend.applyBackwardFromOutput(activation, by, bdy, bdx);
            return bdx.toArray();
        }
    }

    /** An activation without the form (maxout, or an elementwise op at such parameters) must be refused. */
    static void rejected(Backend backend, Activation activation, Tally tally) {
        tally.point();
        try (DeviceBuffer b = backend.allocate(4); DeviceBuffer other = backend.allocate(4)) {
            try {
                if (activation.op().kind() == Op.Kind.ROWWISE) {
                    backend.applyRowsBackwardFromOutput(activation, b, b, other, RowLayout.of(2, 2));
                } else {
                    backend.applyBackwardFromOutput(activation, b, b, b);
                }
                tally.fail(activation + ": the backward pass from the output was accepted, but f' is not a function "
                        + "of y there");
            } catch (IllegalArgumentException expected) {
                if (!expected.getMessage().contains("no backward pass from its output")) {
                    tally.fail(activation + ": refused the backward pass from the output with the wrong reason: "
                            + expected.getMessage());
                }
            }
        }
    }

    /** Softmax and log_softmax rows from their output, at two temperatures, dense and strided. */
    static void rows(Backend backend, Op op, Tally tally) {
        boolean log = op == Op.LOG_SOFTMAX;
        SplittableRandom random = new SplittableRandom(Conformance.seed(op) + 7);
        for (double temperature : new double[] {1, 0.7}) {
            Activation activation = log ? Activation.logSoftmax(temperature, false)
                    : Activation.softmax(temperature, false);
            for (int[] shape : ROW_SHAPES) {
                RowLayout layout = new RowLayout(shape[0], shape[1], shape[2], shape[3]);
                checkRows(backend, activation, layout, log, random, tally);
            }
        }
    }

    private static void checkRows(Backend backend, Activation activation, RowLayout layout, boolean log,
                                  SplittableRandom random, Tally tally) {
        int rows = (int) layout.rows();
        int cols = (int) layout.cols();
        int xStride = (int) layout.xStride();
        int yStride = (int) layout.yStride();
        double temperature = activation.param("temperature");
        float[] y = Conformance.sentinels((int) layout.yExtent(cols));
        float[] dy = Conformance.sentinels(y.length);
        for (int r = 0; r < rows; r++) {
            float[] logits = new float[cols];
            for (int j = 0; j < cols; j++) {
                logits[j] = (float) random.nextDouble(-10, 10);
                dy[r * yStride + j] = (float) random.nextDouble(-2, 2);
            }
            double[] p = RowReference.softmax(logits, 0, cols, temperature, log, false);
            for (int j = 0; j < cols; j++) {
                y[r * yStride + j] = (float) p[j];
            }
        }
        float[] dx;
        try (DeviceBuffer by = backend.upload(y); DeviceBuffer bdy = backend.upload(dy);
             DeviceBuffer bdx = backend.upload(Conformance.sentinels((int) layout.xExtent()))) {
            backend.applyRowsBackwardFromOutput(activation, by, bdy, bdx, layout);
            dx = bdx.toArray();
        }
        String where = activation + " backward from y, " + Conformance.describe(layout);
        for (int r = 0; r < rows; r++) {
            double[] p = new double[cols];
            for (int j = 0; j < cols; j++) {
                p[j] = log ? Math.exp(y[r * yStride + j]) : y[r * yStride + j];
            }
            RowReference.Gradient want = RowReference.softmaxBackward(p, dy, r * yStride, cols, temperature, log);
            for (int j = 0; j < cols; j++) {
                float got = dx[r * xStride + j];
                double ulps = Ulp.distance(got, want.dx()[j], want.scale()[j]);
                tally.backward(ulps);
                if (!(ulps <= BACKWARD_ULP)) {
                    tally.fail(String.format(Locale.ROOT, "%s: row %d col %d: got %s want %s, %s ULP > %s", where, r, j,
                            got, (float) want.dx()[j], Conformance.formatUlps(ulps),
                            Conformance.formatUlps(BACKWARD_ULP)));
                    return;
                }
            }
        }
        Conformance.checkPadding(tally, where, dx, rows, xStride, cols);
    }
}
