package dev.gpuact.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.conformance.Ulp;
import dev.gpuact.fallback.ElementwiseKernel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What is particular to the cpu backend: its kernel mapping, the parallel and buffer paths, offsets, limits. */
class CpuBackendTest {
    /** Over the parallel threshold and not a multiple of the chunk size. */
    private static final int BIG = 1_000_003;

    private final Backend cpu = Backends.get("cpu");

    @AfterEach
    void closeBackend() {
        cpu.close();
    }

    static float[] randomInputs(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE};
        for (int i = 0; i < n; i++) {
            x[i] = i % 997 == 0 ? specials[(i / 997) % specials.length] : (float) random.nextDouble(-12, 12);
        }
        return x;
    }

    @Test
    void everyElementwiseKernelMapsToAnOpAndEveryOpToAKernel() {
        assertThat(Arrays.stream(ElementwiseKernel.values()).map(Enum::name).toList())
                .containsExactlyElementsOf(Op.ELEMENTWISE.stream().map(Op::name).toList());
        for (Op op : Op.ELEMENTWISE) {
            assertThat(CpuBackend.kernel(op).name()).isEqualTo(op.name());
        }
        assertThatThrownBy(() -> CpuBackend.kernel(Op.SOFTMAX)).hasMessageContaining("softmax has no elementwise kernel");
    }

    @Test
    void isFoundByNameAndDescribesItsDevice() {
        assertThat(cpu.name()).isEqualTo("cpu");
        assertThat(cpu.device()).matches("Java \\S+ on \\d+ cores \\(\\S+\\)");
        assertThat(Backends.statuses()).anySatisfy(s -> {
            assertThat(s.name()).isEqualTo("cpu");
            assertThat(s.usable()).isTrue();
            assertThat(s.probe().rank()).isEqualTo(dev.gpuact.Probe.RANK_JAVA);
        });
    }

    @Test
    void theParallelPathEqualsTheSequentialPathBitForBit() {
        float[] x = randomInputs(BIG, 1);
        float[] dy = randomInputs(BIG, 2);
        try (DeviceBuffer bx = cpu.upload(x); DeviceBuffer bdy = cpu.upload(dy); DeviceBuffer out = cpu.allocate(BIG)) {
            for (Op op : Op.ELEMENTWISE) {
                Activation a = op.defaults();
                ElementwiseKernel kernel = CpuBackend.kernel(op);
                float[] expected = new float[BIG];
                kernel.forwardSequential(x, 0, expected, 0, BIG, a.a(), a.b());
                cpu.apply(a, bx, out);
                assertSameBits(out.toArray(), expected, op + " forward");
                kernel.backwardSequential(x, 0, dy, 0, expected, 0, BIG, a.a(), a.b());
                cpu.applyBackward(a, bx, bdy, out);
                assertSameBits(out.toArray(), expected, op + " backward");
            }
        }
    }

    /** Bit-identical, except that every NaN counts as the same NaN (its sign bit differs between compiled loops). */
    private static void assertSameBits(float[] actual, float[] expected, String what) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) {
            if (Float.floatToIntBits(actual[i]) != Float.floatToIntBits(expected[i])) {
                throw new AssertionError(what + " differs at " + i + ": " + actual[i] + " vs " + expected[i]);
            }
        }
    }

    @Test
    void inPlaceApplyGivesTheOutOfPlaceResult() {
        float[] x = randomInputs(BIG, 3);
        float[] expected = new float[BIG];
        ElementwiseKernel.GELU.forwardSequential(x, 0, expected, 0, BIG, 0, 0);
        try (DeviceBuffer b = cpu.upload(x)) {
            cpu.apply(Activation.GELU, b, b);
            assertThat(b.toArray()).isEqualTo(expected);
        }
    }

    @Test
    void offsetsAreHonouredAndNothingOutsideTheRangeIsWritten() {
        float[] x = randomInputs(200_000, 4);
        float[] y = new float[200_010];
        Arrays.fill(y, 42f);
        ElementwiseKernel.SIGMOID.forward(x, 7, y, 3, 199_990, 0, 0);
        float[] expected = new float[199_990];
        ElementwiseKernel.SIGMOID.forwardSequential(Arrays.copyOfRange(x, 7, 199_997), 0, expected, 0, 199_990, 0, 0);
        assertThat(Arrays.copyOfRange(y, 3, 199_993)).isEqualTo(expected);
        assertThat(Arrays.copyOfRange(y, 0, 3)).containsOnly(42f);
        assertThat(Arrays.copyOfRange(y, 199_993, 200_010)).containsOnly(42f);
        assertThatThrownBy(() -> ElementwiseKernel.RELU.forward(x, 10, y, 0, 200_000, 0, 0))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("x: offset 10 + n 200000");
    }

    @Test
    void directFloatBuffersGiveTheArrayResultAndKeepTheirPositions() {
        int n = 150_001;
        float[] x = randomInputs(n, 5);
        float[] dy = randomInputs(n, 6);
        FloatBuffer bx = direct(n + 5).position(5);
        bx.put(x).position(5);
        FloatBuffer bdy = direct(n).put(dy).flip();
        FloatBuffer by = direct(n + 2).position(2);
        float[] expected = new float[n];

        ElementwiseKernel.MISH.forward(bx, by, 0, 0);
        ElementwiseKernel.MISH.forwardSequential(x, 0, expected, 0, n, 0, 0);
        assertThat(bx.position()).isEqualTo(5);
        assertThat(by.position()).isEqualTo(2);
        assertThat(contents(by)).isEqualTo(expected);

        ElementwiseKernel.MISH.backward(bx, bdy, by, 0, 0);
        ElementwiseKernel.MISH.backwardSequential(x, 0, dy, 0, expected, 0, n, 0, 0);
        assertThat(contents(by)).isEqualTo(expected);

        assertThatThrownBy(() -> ElementwiseKernel.RELU.forward(bx, direct(3), 0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("output has 3 elements remaining, x has " + n);
        assertThatThrownBy(() -> ElementwiseKernel.RELU.forward(bx, bx.asReadOnlyBuffer(), 0, 0))
                .hasMessageContaining("read-only");
    }

    private static FloatBuffer direct(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static float[] contents(FloatBuffer b) {
        float[] out = new float[b.remaining()];
        b.get(b.position(), out);
        return out;
    }

    @Test
    void bufferReadsAndWritesGoThroughFloatBuffersToo() {
        try (DeviceBuffer b = cpu.allocate(10)) {
            b.write(2, FloatBuffer.wrap(new float[] {1, 2, 3}));
            FloatBuffer out = FloatBuffer.allocate(4);
            b.read(1, out);
            assertThat(out.array()).containsExactly(0, 1, 2, 3);
            assertThat(cpu.memory().liveBuffers()).isEqualTo(1);
            assertThat(cpu.memory().bytesInUse()).isEqualTo(40);
        }
        assertThat(cpu.memory().liveBuffers()).isZero();
    }

    @Test
    void aBufferLargerThanAJavaArrayIsRejectedNamingTheLimit() {
        assertThatThrownBy(() -> cpu.allocate(Integer.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("length 2147483647 is more than the cpu backend's largest buffer, 2147483639 floats (one Java array)");
    }

    @Test
    void preluMatchesLeakyReluPerChannelInBothLayouts() {
        float[] weight = {0.1f, -0.5f, 2f};
        float[] x = randomInputs(3 * 4 * 5, 7);
        for (long inner : new long[] {1, 5}) {
            try (DeviceBuffer bx = cpu.upload(x); DeviceBuffer bw = cpu.upload(weight); DeviceBuffer by = cpu.allocate(x.length)) {
                cpu.prelu(bx, bw, by, 3, inner);
                float[] y = by.toArray();
                for (int i = 0; i < x.length; i++) {
                    double w = weight[(int) ((i / inner) % 3)];
                    assertThat(Ulp.distance(y[i], (float) Op.PRELU.reference(x[i], w, 0))).as("i=%d inner=%d", i, inner).isZero();
                }
            }
        }
    }

    @Test
    void preluWeightGradientIsBitIdenticalWhateverTheThreadsAndCloseToTheExactSum() throws Exception {
        int channels = 3;
        int inner = 1000;
        int n = channels * inner * 700;
        float[] x = randomInputs(n, 8);
        float[] dy = randomInputs(n, 9);
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(x[i]) || !Float.isFinite(dy[i])) {
                x[i] = 1;
                dy[i] = 1;
            }
        }
        float[] weight = {0.25f, 0.5f, 0.75f};
        float[] first = preluWeightGradient(x, dy, weight, channels, inner);
        float[] again = preluWeightGradient(x, dy, weight, channels, inner);
        java.util.concurrent.ForkJoinPool single = new java.util.concurrent.ForkJoinPool(1);
        float[] oneThread;
        try {
            oneThread = single.submit(() -> preluWeightGradient(x, dy, weight, channels, inner)).get();
        } finally {
            single.shutdown();
        }
        assertSameBits(again, first, "second call");
        assertSameBits(oneThread, first, "on a one-thread pool");
        for (int c = 0; c < channels; c++) {
            double exact = 0;
            for (int i = 0; i < n; i++) {
                if ((i / inner) % channels == c && x[i] <= 0) {
                    exact += (double) dy[i] * x[i];
                }
            }
            assertThat(Ulp.distance(first[c], (float) exact)).as("channel %d", c).isLessThanOrEqualTo(1);
        }
    }

    private static float[] preluWeightGradient(float[] x, float[] dy, float[] weight, int channels, int inner) {
        float[] dx = new float[x.length];
        float[] dweight = new float[channels];
        dev.gpuact.fallback.Prelu.backward(x, 0, weight, dy, 0, dx, 0, dweight, x.length, channels, inner);
        return dweight;
    }

    @Test
    void preluBackwardGivesDxAndOverwritesDweightEvenForEmptyInput() {
        try (DeviceBuffer bx = cpu.upload(new float[] {2, -3, Float.NaN, -1}); DeviceBuffer bw = cpu.upload(new float[] {0.5f, 0.25f});
             DeviceBuffer bdy = cpu.upload(new float[] {1, 2, 3, 4}); DeviceBuffer bdx = cpu.allocate(4);
             DeviceBuffer bdw = cpu.upload(new float[] {9, 9})) {
            cpu.preluBackward(bx, bw, bdy, bdx, bdw, 2, 1);
            assertThat(bdx.toArray()).containsExactly(1, 0.5f, Float.NaN, 1);
            assertThat(bdw.toArray()).containsExactly(0, -10);
        }
        try (DeviceBuffer e = cpu.allocate(0); DeviceBuffer e2 = cpu.allocate(0); DeviceBuffer e3 = cpu.allocate(0);
             DeviceBuffer bw = cpu.upload(new float[] {1}); DeviceBuffer bdw = cpu.upload(new float[] {9})) {
            cpu.preluBackward(e, bw, e2, e3, bdw, 1, 1);
            assertThat(bdw.toArray()).containsExactly(0);
        }
    }
}
