package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Activation;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.conformance.Conformance;
import dev.gpuact.conformance.OpReport;
import dev.gpuact.conformance.Ulp;
import dev.gpuact.RowLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** Softmax, log_softmax and maxout on the OpenCL device, in both row shapes, against double references. */
class OpenClRowwiseTest {
    private static final long[] COLUMNS = {1, 2, 31, 32, 33, 255, 256, 257, 1024, 1025, 5000};
    private static OpenClBackend backend;

    @BeforeAll
    static void open() {
        backend = OpenClTestDevice.open();
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    @AfterEach
    void chooseByDeviceAgain() {
        backend.forceRowShape(null);
        assertThat(backend.memory().liveBuffers()).as("buffers left open").isZero();
    }

    private static float[] logits(SplittableRandom random, int n, double offset, double spread) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (offset + random.nextGaussian() * spread);
        }
        return x;
    }

    /** Softmax or log_softmax of one row in double. */
    private static double[] reference(float[] x, int from, int cols, double t, boolean log) {
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < cols; j++) {
            m = Math.max(m, x[from + j]);
        }
        double sum = 0;
        for (int j = 0; j < cols; j++) {
            sum += Math.exp((x[from + j] - m) / t);
        }
        double[] y = new double[cols];
        for (int j = 0; j < cols; j++) {
            double q = (x[from + j] - m) / t;
            y[j] = log ? q - Math.log(sum) : Math.exp(q) / sum;
        }
        return y;
    }

    @ParameterizedTest
    @EnumSource(RowKernelShape.class)
    void softmaxAndLogSoftmaxAreWithin8UlpAndRowsSumToOne(RowKernelShape shape) {
        backend.forceRowShape(shape);
        SplittableRandom random = new SplittableRandom(7);
        for (long cols : COLUMNS) {
            int rows = 3;
            int stride = (int) cols + 3;
            float[] x = logits(random, rows * stride, 10000, 4);
            for (boolean log : new boolean[] {false, true}) {
                Activation act = log ? Activation.logSoftmax(0.7, false) : Activation.softmax(0.7, false);
                RowLayout layout = new RowLayout(rows, cols, stride, cols);
                float[] y = rows(act, x, layout, rows * (int) cols);
                for (int r = 0; r < rows; r++) {
                    double[] want = reference(x, r * stride, (int) cols, act.param("temperature"), log);
                    double sum = 0;
                    for (int j = 0; j < cols; j++) {
                        float got = y[r * (int) cols + j];
                        assertThat(Ulp.distance(got, want[j])).as("%s cols=%d row %d col %d: %s vs %s", act, cols, r, j,
                                got, want[j]).isLessThanOrEqualTo(8);
                        sum += log ? Math.exp(got) : got;
                    }
                    assertThat(Math.abs(sum - 1)).as("row sum, cols=%d", cols).isLessThanOrEqualTo(1e-6);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(RowKernelShape.class)
    void aMillionColumnRowSumsToOne(RowKernelShape shape) {
        backend.forceRowShape(shape);
        int cols = 1 << 20;
        float[] x = logits(new SplittableRandom(3), cols, 0, 3);
        float[] y = rows(Activation.SOFTMAX, x, RowLayout.of(1, cols), cols);
        double sum = 0;
        for (float v : y) {
            sum += v;
        }
        assertThat(Math.abs(sum - 1)).isLessThanOrEqualTo(1e-6);
    }

    @ParameterizedTest
    @EnumSource(RowKernelShape.class)
    void nanInfAndFullyMaskedRows(RowKernelShape shape) {
        backend.forceRowShape(shape);
        float ninf = Float.NEGATIVE_INFINITY;
        float[] x = {
            1, Float.NaN, 2, 3,
            1, Float.POSITIVE_INFINITY, 2, 3,
            ninf, ninf, ninf, ninf,
            ninf, 5, ninf, 5,
        };
        RowLayout layout = RowLayout.of(4, 4);
        float nan = Float.NaN;
        assertThat(rows(Activation.SOFTMAX, x, layout, 16)).containsExactly(
                nan, nan, nan, nan, nan, nan, nan, nan, 0, 0, 0, 0, 0, 0.5f, 0, 0.5f);
        assertThat(rows(Activation.softmax(1, true), x, layout, 16)).containsExactly(
                nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, 0, 0.5f, 0, 0.5f);
        float ln2 = (float) -Math.log(2);
        assertThat(rows(Activation.LOG_SOFTMAX, x, layout, 16)).containsExactly(
                nan, nan, nan, nan, nan, nan, nan, nan, ninf, ninf, ninf, ninf, ninf, ln2, ninf, ln2);
        assertThat(rows(Activation.logSoftmax(1, true), x, layout, 16)).containsSubsequence(nan, nan, nan, nan, ninf, ln2);
    }

    @ParameterizedTest
    @EnumSource(RowKernelShape.class)
    void backwardMatchesTheDoubleFormulas(RowKernelShape shape) {
        backend.forceRowShape(shape);
        SplittableRandom random = new SplittableRandom(11);
        for (long cols : COLUMNS) {
            int rows = 2;
            float[] x = logits(random, rows * (int) cols, -50, 2);
            float[] dy = logits(random, rows * (int) cols, 0, 1);
            for (boolean log : new boolean[] {false, true}) {
                Activation act = log ? Activation.logSoftmax(1.5, false) : Activation.softmax(1.5, false);
                float[] dx = rowsBackward(act, x, dy, RowLayout.of(rows, cols));
                for (int r = 0; r < rows; r++) {
                    int from = r * (int) cols;
                    double[] p = reference(x, from, (int) cols, 1.5, false);
                    double total = 0;
                    double scale = 0;
                    for (int j = 0; j < cols; j++) {
                        total += log ? dy[from + j] : dy[from + j] * p[j];
                        scale = Math.max(scale, Math.abs(dy[from + j]));
                    }
                    for (int j = 0; j < cols; j++) {
                        double want = log ? (dy[from + j] - p[j] * total) / 1.5 : p[j] * (dy[from + j] - total) / 1.5;
                        // the subtraction cancels by nature: allow 8 ULP of the result or of the terms it came from
                        double slack = 8 * Math.ulp((float) (log ? scale : p[j] * scale)) + 8 * Math.ulp((float) want);
                        assertThat((double) dx[from + j]).as("%s cols=%d", act, cols).isCloseTo(want,
                                org.assertj.core.data.Offset.offset(slack));
                    }
                }
            }
        }
    }

    @Test
    void maxoutTakesTheMaximumAndRoutesTheGradientToItsFirstPosition() {
        float[] x = {1, 7, 7, 2, /* */ -1, Float.NaN, 3, 3, /* pad */ 99, 99,
                     0, -0f, 5, 4, /* */ 2, 2, 2, 2, /* pad */ 99, 99};
        RowLayout layout = new RowLayout(2, 8, 10, 4);
        Activation act = Activation.maxout(2);
        assertThat(rows(act, x, layout, 8)).containsExactly(7, 7, Float.NaN, 3, 0, 5, 2, 2);
        assertThat(rows(Activation.maxout(4), x, new RowLayout(2, 8, 10, 2), 4)).containsExactly(7, Float.NaN, 5, 2);
        float[] dy = {10, 20, 30, 40, 50, 60, 70, 80};
        assertThat(rowsBackward(act, x, dy, layout)).containsExactly(0, 10, 20, 0, 0, 30, 40, 0, 0, 0,
                50, 0, 60, 0, 70, 0, 80, 0, 0, 0);
    }

    @Test
    void theSameCallGivesTheSameBits() {
        float[] x = logits(new SplittableRandom(5), 4 * 3000, 0, 10);
        for (RowKernelShape shape : RowKernelShape.values()) {
            backend.forceRowShape(shape);
            float[] first = rows(Activation.SOFTMAX, x, RowLayout.of(4, 3000), x.length);
            float[] second = rows(Activation.SOFTMAX, x, RowLayout.of(4, 3000), x.length);
            assertThat(Arrays.equals(first, second)).as(shape.name()).isTrue();
        }
    }

    private static float[] rows(Activation act, float[] x, RowLayout layout, int outLength) {
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer by = backend.allocate(outLength)) {
            backend.applyRows(act, bx, by, layout);
            return by.toArray();
        }
    }

    private static float[] rowsBackward(Activation act, float[] x, float[] dy, RowLayout layout) {
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer bdy = backend.upload(dy);
             DeviceBuffer bdx = backend.allocate(x.length)) {
            backend.applyRowsBackward(act, bx, bdy, bdx, layout);
            return bdx.toArray();
        }
    }

    /** The masked conformance checks in each row shape (a CPU device picks only the item one by itself). */
    @ParameterizedTest
    @EnumSource(RowKernelShape.class)
    void maskedRowsConformInBothShapes(RowKernelShape shape) {
        backend.forceRowShape(shape);
        for (Op op : Conformance.MASKABLE) {
            OpReport report = Conformance.checkMasked(backend, op);
            assertThat(report.failures()).as("%s in %s rows", report.name(), shape).isEmpty();
        }
    }
}
