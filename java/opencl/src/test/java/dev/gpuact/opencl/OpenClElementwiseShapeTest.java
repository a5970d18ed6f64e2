package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;

import dev.gpuact.Activation;
import dev.gpuact.Op;
import dev.gpuact.conformance.Conformance;
import dev.gpuact.conformance.OpReport;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Both elementwise kernel shapes on the OpenCL device, whichever the device would choose: the conformance suite
 * only sees the chosen one.
 */
class OpenClElementwiseShapeTest {
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
        backend.forceElementwiseShape(null);
        assertThat(backend.memory().liveBuffers()).as("buffers left open").isZero();
    }

    private static void assertConforms(OpReport report, Object where) {
        assertThat(report.failures()).as("%s in %s: max forward %s ULP, max backward %s ULP", report.name(), where,
                report.maxUlpForward(), report.maxUlpBackward()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ElementwiseShape.class)
    void everyOpConformsInEveryShape(ElementwiseShape shape) {
        backend.forceElementwiseShape(shape);
        for (Op op : Op.ELEMENTWISE) {
            assertConforms(Conformance.check(backend, op), shape);
        }
    }

    /** The gated kernels take the elementwise shape too: hidden sizes of 1, 37, 64 and 3001 leave partial strips. */
    @ParameterizedTest
    @EnumSource(ElementwiseShape.class)
    void everyGatedOpConformsInEveryShape(ElementwiseShape shape) {
        backend.forceElementwiseShape(shape);
        for (Op op : Op.values()) {
            if (op.kind() == Op.Kind.GATED) {
                assertConforms(Conformance.check(backend, op), shape);
            }
        }
    }

    /** Lengths below, at and past whole strips: the last work-item's partial strip is computed, and only it. */
    @ParameterizedTest
    @EnumSource(ElementwiseShape.class)
    void everyLengthAroundTheStripWidthIsCoveredExactly(ElementwiseShape shape) {
        backend.forceElementwiseShape(shape);
        SplittableRandom random = new SplittableRandom(11);
        for (int n = 1; n <= 3 * ElementwiseShape.STRIP_ELEMENTS + 1; n++) {
            float[] x = new float[n];
            float[] dy = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) random.nextDouble(-8, 8);
                dy[i] = (float) random.nextDouble(-2, 2);
            }
            for (Op op : new Op[] {Op.RELU, Op.SIGMOID, Op.GELU}) {
                assertConforms(Conformance.checkElementwise(backend, Activation.of(op), x, dy), shape + ", n=" + n);
            }
        }
    }

    /**
     * The strip walks its channels from one division: channel runs shorter than, equal to and longer than a strip,
     * channel counts that wrap inside a strip, and a partial last strip. With identity, y = x + bias[c] exactly.
     */
    @ParameterizedTest
    @EnumSource(ElementwiseShape.class)
    void biasForwardFindsEveryElementsChannel(ElementwiseShape shape) {
        backend.forceElementwiseShape(shape);
        SplittableRandom random = new SplittableRandom(12);
        int strip = ElementwiseShape.STRIP_ELEMENTS;
        for (int inner : new int[] {1, 3, strip, strip + 5, 4 * strip}) {
            for (int channels : new int[] {1, 2, 7, strip + 1, 3 * strip}) {
                int n = channels * inner * 3 + 5;
                float[] x = new float[n];
                float[] bias = new float[channels];
                for (int i = 0; i < n; i++) {
                    x[i] = (float) random.nextDouble(-8, 8);
                }
                for (int c = 0; c < channels; c++) {
                    bias[c] = (float) random.nextDouble(-8, 8);
                }
                float[] y;
                try (var bx = backend.upload(x); var bb = backend.upload(bias); var by = backend.allocate(n)) {
                    backend.applyBias(Activation.IDENTITY, bx, bb, by, channels, inner);
                    y = by.toArray();
                }
                for (int i = 0; i < n; i++) {
                    assertThat(y[i]).as("%s, channels %d, inner %d, element %d", shape, channels, inner, i)
                            .isEqualTo(x[i] + bias[(i / inner) % channels]);
                }
            }
        }
        assertConforms(Conformance.checkBias(backend, Op.GELU), shape);
    }

    /**
     * A bias per column on a CPU device takes dx from the strip kernel and dbias from column sums: with identity,
     * dx = dy exactly and dbias the column sums of dy (within float-float rounding of the exact sum), the same bits
     * on every call; a partial last row, fewer columns than a strip, and enough rows for several chunks.
     */
    @ParameterizedTest
    @EnumSource(ElementwiseShape.class)
    void biasBackwardPerColumnSumsEachColumn(ElementwiseShape shape) {
        backend.forceElementwiseShape(shape);
        SplittableRandom random = new SplittableRandom(13);
        for (int[] layout : new int[][] {{1, 1}, {3, 50}, {1024, 300}, {7, 200_000}, {1000, 1001}}) {
            int channels = layout[0];
            int n = layout[1] + (channels > 1 ? channels / 2 : 0);
            float[] x = new float[n];
            float[] dy = new float[n];
            float[] bias = new float[channels];
            for (int i = 0; i < n; i++) {
                x[i] = (float) random.nextDouble(-8, 8);
                dy[i] = (float) random.nextDouble(-2, 2);
            }
            float[] dx;
            float[] dbias;
            float[] again;
            try (var bx = backend.upload(x); var bb = backend.upload(bias); var bdy = backend.upload(dy);
                 var bdx = backend.allocate(n); var bdbias = backend.allocate(channels)) {
                backend.applyBiasBackward(Activation.IDENTITY, bx, bb, bdy, bdx, bdbias, channels, 1);
                dx = bdx.toArray();
                dbias = bdbias.toArray();
                backend.applyBiasBackward(Activation.IDENTITY, bx, bb, bdy, bdx, bdbias, channels, 1);
                again = bdbias.toArray();
            }
            assertThat(dx).as("dx = dy, %s, %d columns", shape, channels).containsExactly(dy);
            assertThat(again).as("the same bits again").containsExactly(dbias);
            for (int c = 0; c < channels; c++) {
                double sum = 0;
                double magnitude = 0;
                for (int i = c; i < n; i += channels) {
                    sum += dy[i];
                    magnitude += Math.abs(dy[i]);
                }
                assertThat((double) dbias[c]).as("%s, column %d of %d", shape, c, channels)
                        .isCloseTo(sum, org.assertj.core.data.Offset.offset(Math.ulp((float) magnitude) * 2 + 1e-30));
            }
        }
    }

    @Test
    void cpuDevicesRunStripsAndGpusOneElementPerItem() {
        assertThat(ElementwiseShape.of(device(CL_DEVICE_TYPE_CPU))).isEqualTo(ElementwiseShape.STRIP);
        assertThat(ElementwiseShape.of(device(CL_DEVICE_TYPE_GPU))).isEqualTo(ElementwiseShape.ITEM);
        assertThat(ElementwiseShape.STRIP.kernel(Op.LEAKY_RELU, true)).isEqualTo("gpuact_leaky_relu_bwd_strip");
        assertThat(ElementwiseShape.ITEM.kernel(Op.LEAKY_RELU, false)).isEqualTo("gpuact_leaky_relu_fwd");
        assertThat(ElementwiseShape.STRIP.items(33)).isEqualTo(3);
        assertThat(ElementwiseShape.ITEM.items(33)).isEqualTo(33);
    }

    private static OpenClDevice device(long type) {
        return new OpenClDevice(0, null, null, "platform", "OpenCL 3.0", "device", "vendor", "OpenCL 3.0", "1.0", type,
                1, 1L << 30, 1024, true);
    }
}
