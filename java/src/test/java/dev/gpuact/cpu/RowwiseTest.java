package dev.gpuact.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.conformance.Ulp;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Softmax, log-softmax and maxout on the cpu backend against straightforward double-precision references. */
class RowwiseTest {
    private final Backend cpu = Backends.get("cpu");

    @AfterEach
    void closeBackend() {
        cpu.close();
    }

    /** Rows offset by 10000 (a naive exp overflows), with -inf entries and a tiny-others row. */
    private static float[] logits(int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (10000 + random.nextDouble(-30, 30));
        }
        if (cols > 2) {
            x[1] = Float.NEGATIVE_INFINITY;
        }
        if (rows > 1) {
            for (int j = 0; j < cols; j++) {
                x[cols + j] = j == 0 ? 0 : -120;
            }
        }
        return x;
    }

    private static double[] exactSoftmaxRow(float[] x, int base, int cols, double t, boolean log) {
        double m = Double.NEGATIVE_INFINITY;
        int arg = 0;
        for (int j = 0; j < cols; j++) {
            if (x[base + j] > m) {
                m = x[base + j];
                arg = j;
            }
        }
        double others = 0;
        for (int j = 0; j < cols; j++) {
            if (j != arg) {
                others += Math.exp((x[base + j] - m) / t);
            }
        }
        double[] y = new double[cols];
        for (int j = 0; j < cols; j++) {
            double z = (x[base + j] - m) / t;
            y[j] = log ? z - Math.log1p(others) : Math.exp(z) / (1 + others);
        }
        return y;
    }

    @ParameterizedTest(name = "cols={0}")
    @ValueSource(ints = {1, 2, 31, 32, 33, 1024, 1025, 70_000, 1 << 20})
    void softmaxAndLogSoftmaxAreWithin8UlpAndRowsSumToOne(int cols) {
        int rows = Math.max(2, 200_000 / cols);
        float[] x = logits(rows, cols, cols);
        for (boolean log : new boolean[] {false, true}) {
            for (double t : new double[] {1, 0.3}) {
                Activation a = log ? Activation.logSoftmax(t, false) : Activation.softmax(t, false);
                float[] y = run(a, x, RowLayout.of(rows, cols));
                for (int r = 0; r < rows; r++) {
                    double[] exact = exactSoftmaxRow(x, r * cols, cols, a.param("temperature"), log);
                    double sum = 0;
                    for (int j = 0; j < cols; j++) {
                        float got = y[r * cols + j];
                        assertThat(Ulp.distance(got, (float) exact[j])).as("%s row %d col %d: %s vs %s", a, r, j, got, exact[j])
                                .isLessThanOrEqualTo(8);
                        sum += got;
                    }
                    if (!log) {
                        assertThat(sum).as("row %d sum", r).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-6));
                    }
                }
            }
        }
    }

    private float[] run(Activation a, float[] x, RowLayout layout) {
        try (DeviceBuffer bx = cpu.upload(x); DeviceBuffer by = cpu.allocate(layout.yExtent(layout.cols()))) {
            cpu.applyRows(a, bx, by, layout);
            return by.toArray();
        }
    }

    @Test
    void specialRowsFollowTheContract() {
        float inf = Float.POSITIVE_INFINITY;
        float[] x = {1, Float.NaN, 2, 1, inf, 2, -inf, -inf, -inf, 0, -inf, 3};
        RowLayout layout = RowLayout.of(4, 3);
        assertThat(run(Activation.SOFTMAX, x, layout)).containsExactly(
                Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN, 0, 0, 0,
                (float) (1 / (1 + Math.exp(3))), 0, (float) (1 / (1 + Math.exp(-3))));
        assertThat(java.util.Arrays.copyOfRange(run(Activation.softmax(1, true), x, layout), 6, 9)).containsOnly(Float.NaN);
        assertThat(java.util.Arrays.copyOfRange(run(Activation.LOG_SOFTMAX, x, layout), 6, 9)).containsOnly(-inf);
        assertThat(java.util.Arrays.copyOfRange(run(Activation.logSoftmax(1, true), x, layout), 6, 9)).containsOnly(Float.NaN);
    }

    @Test
    void stridedRowsAndInPlaceSoftmaxLeaveThePaddingAlone() {
        float[] x = {1, 2, 99, 3, 4, 99};
        RowLayout layout = new RowLayout(2, 2, 3, 3);
        try (DeviceBuffer b = cpu.upload(x)) {
            cpu.applyRows(Activation.SOFTMAX, b, b, layout);
            float low = (float) (1 / (1 + Math.E));
            float high = (float) (1 / (1 + Math.exp(-1)));
            assertThat(b.toArray()).containsExactly(low, high, 99, low, high, 99);
        }
    }

    /**
     * Rows wide enough for the vector loops, which read the next row ahead and, out of place, keep a log-softmax
     * row's terms in its output: in place (x's rows overwritten as they go) the bits are those of the out-of-place
     * call, including rows whose maximum is in the scalar tail, a row of -inf between others and rows of NaN and +inf
     * (all NaN) read ahead.
     */
    @ParameterizedTest
    @ValueSource(ints = {37, 1000, 1024})
    void wideRowsInPlaceGiveTheOutOfPlaceBits(int cols) {
        float[] x = logits(7, cols, cols);
        x[cols - 1] = 50;
        java.util.Arrays.fill(x, 3 * cols, 4 * cols, Float.NEGATIVE_INFINITY);
        x[5 * cols + cols / 2] = Float.NaN;
        x[6 * cols + cols - 1] = Float.POSITIVE_INFINITY;
        RowLayout layout = RowLayout.of(7, cols);
        for (Activation a : new Activation[] {Activation.SOFTMAX, Activation.LOG_SOFTMAX}) {
            float[] outOfPlace = run(a, x, layout);
            assertThat(java.util.Arrays.copyOfRange(outOfPlace, 5 * cols, 7 * cols)).as("rows read ahead: NaN, +inf")
                    .containsOnly(Float.NaN);
            assertThat(outOfPlace[4 * cols]).as("the row after a fully masked one").isFinite();
            try (DeviceBuffer b = cpu.upload(x)) {
                cpu.applyRows(a, b, b, layout);
                assertThat(b.toArray()).as("%s in place, %d columns", a, cols).containsExactly(outOfPlace);
            }
        }
    }

    @Test
    void maxoutTakesTheGroupMaximumAndItsGradientGoesToTheFirstMaximum() {
        float[] x = {1, 5, 5, 2, Float.NaN, 7, -1, -3};
        RowLayout layout = RowLayout.of(2, 4, 2);
        Activation maxout = Activation.maxout(2);
        try (DeviceBuffer bx = cpu.upload(x); DeviceBuffer by = cpu.allocate(4); DeviceBuffer bdy = cpu.upload(new float[] {10, 20, 30, 40});
             DeviceBuffer bdx = cpu.allocate(8)) {
            cpu.applyRows(maxout, bx, by, layout);
            assertThat(by.toArray()).containsExactly(5, 5, Float.NaN, -1);
            cpu.applyRowsBackward(maxout, bx, bdy, bdx, layout);
            assertThat(bdx.toArray()).containsExactly(0, 10, 20, 0, 30, 0, 40, 0);
        }
    }

    @Test
    void softmaxAndLogSoftmaxBackwardMatchTheDoubleFormulas() {
        int rows = 50;
        int cols = 37;
        float[] x = logits(rows, cols, 3);
        float[] dy = new float[rows * cols];
        SplittableRandom random = new SplittableRandom(4);
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) random.nextDouble(-1, 1);
        }
        RowLayout layout = RowLayout.of(rows, cols);
        for (boolean log : new boolean[] {false, true}) {
            Activation a = log ? Activation.logSoftmax(0.5, false) : Activation.softmax(0.5, false);
            double t = a.param("temperature");
            float[] dx;
            try (DeviceBuffer bx = cpu.upload(x); DeviceBuffer bdy = cpu.upload(dy); DeviceBuffer bdx = cpu.allocate(x.length)) {
                cpu.applyRowsBackward(a, bx, bdy, bdx, layout);
                dx = bdx.toArray();
            }
            for (int r = 0; r < rows; r++) {
                double[] p = exactSoftmaxRow(x, r * cols, cols, t, false);
                double dot = 0;
                double dySum = 0;
                for (int j = 0; j < cols; j++) {
                    dot += dy[r * cols + j] * p[j];
                    dySum += dy[r * cols + j];
                }
                for (int j = 0; j < cols; j++) {
                    double g = dy[r * cols + j];
                    double exact = log ? (g - p[j] * dySum) / t : p[j] * (g - dot) / t;
                    assertThat(Ulp.distance(dx[r * cols + j], (float) exact)).as("%s row %d col %d", a, r, j)
                            .isLessThanOrEqualTo(8);
                }
            }
        }
    }
}
