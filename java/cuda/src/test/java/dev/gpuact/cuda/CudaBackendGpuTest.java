package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import dev.gpuact.Op;
import dev.gpuact.RequiredBackends;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import dev.gpuact.conformance.Conformance;
import dev.gpuact.conformance.OpReport;
import dev.gpuact.conformance.Ulp;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What is particular to the CUDA backend, on a GPU: every softmax path and its switch points, float4 versus
 * misaligned scalar access, interop wrapping, sharing between threads, device copies, event timing, pinned host
 * memory and streams. The numbers are held against the cpu
 * backend (itself held to ACTIVATIONS.md by the conformance suite, which also runs on CUDA). Skipped without a
 * usable CUDA device, failed then if {@link RequiredBackends} names cuda.
 */
class CudaBackendGpuTest {
    /** Each backend is within 8 ULP of the truth, so within 16 of each other. */
    private static final double AGREEMENT_ULP = 16;
    static CudaBackend cuda;
    static Backend cpu;
    /** Opens another backend on the same device. */
    static Supplier<Backend> another;
    /** Elements of the timed work: a GPU takes well under the test's second for them. */
    static int timedElements = 1 << 24;

    @BeforeAll
    static void open() {
        Backends.Status status = Backends.statuses().stream().filter(s -> s.name().equals("cuda")).findFirst().orElseThrow();
        RequiredBackends.requireOrSkip("cuda", status.usable(), "CUDA is not usable here: " + status.probe().reason());
        cuda = (CudaBackend) Backends.get("cuda");
        cpu = Backends.get("cpu");
        another = () -> Backends.get("cuda");
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            cuda.close();
            cpu.close();
        }
    }

    @AfterEach
    void nothingLeftOpen() {
        assertThat(cuda.memory().liveBuffers()).as("CUDA buffers left open").isZero();
    }

    @ParameterizedTest(name = "cols {0}")
    @ValueSource(ints = {1, 3, 17, 32, 33, 512, 513, 8192, 8193, 65536})
    void everySoftmaxPathAgreesWithCpuAndRepeatsBitForBit(int cols) {
        // One row (long rows split across blocks), a few, and more than two per SM (one chunk per row).
        for (int rows : new int[] {1, 3, 2 * cuda.multiprocessors() + 1}) {
            for (Activation act : List.of(Activation.SOFTMAX, Activation.LOG_SOFTMAX, Activation.softmax(0.5, true))) {
                float[] x = random(rows * cols, 10_000, 8, rows * 31L + cols);
                float[] dy = random(rows * cols, 0, 1, cols);
                RowLayout layout = RowLayout.of(rows, cols);
                float[] want = rows(cpu, act, x, dy, layout, false);
                float[] got = rows(cuda, act, x, dy, layout, false);
                assertAgree(act + " forward " + rows + "x" + cols, got, want);
                assertThat(rows(cuda, act, x, dy, layout, false)).as("repeat").isEqualTo(got);
                float[] wantGrad = rows(cpu, act, x, dy, layout, true);
                float[] gotGrad = rows(cuda, act, x, dy, layout, true);
                assertGradientAgrees(act + " backward " + rows + "x" + cols, act, gotGrad, wantGrad, want, dy, layout);
                assertThat(rows(cuda, act, x, dy, layout, true)).as("repeat").isEqualTo(gotGrad);
            }
        }
    }

    @Test
    void misalignedAndTailElementsGiveTheSameBitsAsFloat4() {
        float[] x = random(4099, 0, 4, 7);
        try (DeviceBuffer whole = cuda.upload(concat(new float[1], x)); DeviceBuffer aligned = cuda.upload(x);
             DeviceBuffer alignedOut = cuda.allocate(x.length); DeviceBuffer misalignedOut = cuda.allocate(x.length + 1)) {
            // whole + 4 bytes is misaligned for float4: the scalar path.
            try (DeviceBuffer shifted = cuda.wrap(((CudaBuffer) whole).pointer().withByteOffset(4), x.length);
                 DeviceBuffer shiftedOut = cuda.wrap(((CudaBuffer) misalignedOut).pointer().withByteOffset(4), x.length)) {
                for (Activation act : List.of(Activation.GELU, Activation.MISH, Activation.leakyRelu(0.2))) {
                    cuda.apply(act, aligned, alignedOut);
                    cuda.apply(act, shifted, shiftedOut);
                    assertThat(shiftedOut.toArray()).as(act.toString()).isEqualTo(alignedOut.toArray());
                }
            }
            // Closing the wrappers freed nothing: the wrapped memory still reads back.
            assertThat(Arrays.copyOfRange(whole.toArray(), 1, x.length + 1)).isEqualTo(x);
        }
    }

    /** The gated kernels' row index (a multiply-high by hidden) at widths 1, 37, 3001 and one row, both forms. */
    @ParameterizedTest
    @ValueSource(strings = {"glu", "swiglu", "geglu", "geglu_tanh", "reglu"})
    void gatedOpsPassTheirConformanceChecks(String id) {
        OpReport report = Conformance.check(cuda, Op.byName(id));
        assertThat(report.failures()).as("%s on %s", id, cuda.device()).isEmpty();
    }

    @Test
    void preluWeightGradientIsDeterministicAndAgreesWithCpu() {
        int channels = 3;
        int inner = 4096;
        float[] x = random(8 * channels * inner + 5, 0, 2, 11);
        float[] dy = random(x.length, 0, 1, 12);
        float[] w = {0.1f, -0.2f, 0.3f};
        float[] want = preluWeightGradient(cpu, x, w, dy, channels, inner);
        float[] got = preluWeightGradient(cuda, x, w, dy, channels, inner);
        for (int c = 0; c < channels; c++) {
            assertThat((double) got[c]).isCloseTo(want[c], offset(1e-5 * Math.abs(want[c]) + 1e-6));
        }
        assertThat(preluWeightGradient(cuda, x, w, dy, channels, inner)).isEqualTo(got);
    }

    @Test
    void threadsShareOneBackend() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 32; t++) {
                int seed = t;
                results.add(pool.submit(() -> {
                    float[] x = random(100_003, 0, 3, seed);
                    try (DeviceBuffer bx = cuda.upload(x); DeviceBuffer by = cuda.allocate(x.length)) {
                        cuda.apply(Activation.RELU, bx, by);
                        float[] y = by.toArray();
                        for (int i = 0; i < x.length; i++) {
                            if (y[i] != Math.max(0, x[i])) {
                                return false;
                            }
                        }
                        return true;
                    }
                }));
            }
            for (Future<Boolean> r : results) {
                assertThat(r.get()).isTrue();
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void transfersLargerThanTheStagingHalvesRoundTrip() {
        // About 2.6 halves of the pinned buffer, at an odd offset: both halves are reused and the last chunk is short.
        int n = PinnedStaging.BYTES / Float.BYTES * 5 / 4 + 3;
        float[] x = random(n, 0, 1000, 5);
        try (DeviceBuffer b = cuda.allocate(n + 7)) {
            b.write(7, x, 0, n);
            float[] back = new float[n];
            b.read(7, back, 0, n);
            assertThat(back).isEqualTo(x);
        }
    }

    @Test
    void eventsTimeDeviceWork() {
        try (DeviceBuffer x = cuda.allocate(timedElements)) {
            Backend.Timing t = cuda.time(() -> cuda.apply(Activation.GELU, x, x));
            assertThat(t.clock()).isEqualTo(Backend.Clock.DEVICE);
            assertThat(t.nanos()).isPositive().isLessThan(1_000_000_000L);
            // Longer work takes longer on the device clock too.
            Backend.Timing three = cuda.time(() -> {
                for (int i = 0; i < 3; i++) {
                    cuda.apply(Activation.GELU, x, x);
                }
            });
            assertThat(three.nanos()).isGreaterThan(t.nanos());
        }
    }

    @Test
    void deviceCopyStaysOnTheDeviceAndRefusesPartlyOverlappingWrappers() {
        assertThat(cuda.deviceCopyIsNative()).isTrue();
        float[] x = random(1 << 20, 0, 100, 21);
        try (DeviceBuffer src = cuda.upload(x); DeviceBuffer dst = cuda.allocate(x.length)) {
            cuda.copy(src, dst);
            assertThat(dst.toArray()).isEqualTo(x);
            CudaBuffer s = (CudaBuffer) src;
            try (DeviceBuffer same = cuda.wrap(s.pointer(), x.length);
                 DeviceBuffer head = cuda.wrap(s.pointer(), 1000); DeviceBuffer shifted = cuda.wrap(s.pointer().withByteOffset(400), 1000)) {
                cuda.copy(src, same);  // the same memory: nothing to do
                assertThatThrownBy(() -> cuda.copy(head, shifted)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("dst").hasMessageContaining("overlapping");
                assertThatThrownBy(() -> cuda.apply(Activation.RELU, head, shifted))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("y must be exactly x");
            }
            assertThat(src.toArray()).isEqualTo(x);
        }
    }

    @Test
    void twoWrapsOfOnePointerAliasForTheArgumentChecks() {
        try (DeviceBuffer memory = cuda.allocate(12)) {
            CudaBuffer m = (CudaBuffer) memory;
            try (DeviceBuffer a = cuda.wrap(m.pointer(), 12); DeviceBuffer b = cuda.wrap(m.pointer(), 12)) {
                // in place, maxout and softmax with different strides would race: rejected as for one buffer
                assertThatThrownBy(() -> cuda.applyRows(Activation.maxout(2), a, b, RowLayout.of(2, 6, 3)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("same buffer as x");
                assertThatThrownBy(() -> cuda.applyRows(Activation.SOFTMAX, a, b, new RowLayout(2, 4, 6, 4)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("same buffer as x");
                assertThatThrownBy(() -> cuda.applyRowsBackward(Activation.SOFTMAX, a, a, b, RowLayout.of(2, 6)))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dx must be a buffer of its own");
            }
        }
    }

    @Test
    void pinnedHostMemoryRoundTripsStraightToTheDevice() {
        float[] x = random(3 << 20, 0, 10, 22);
        try (HostBuffer host = cuda.allocateHost(x.length); DeviceBuffer b = cuda.allocate(x.length + 5);
             HostBuffer empty = cuda.allocateHost(0)) {
            assertThat(host.pinned()).isTrue();
            assertThat(empty.length()).isZero();
            host.floats().put(x);
            b.write(5, host.floats());
            float[] back = new float[x.length];
            b.read(5, back, 0, x.length);
            assertThat(back).isEqualTo(x);
            try (HostBuffer out = cuda.allocateHost(x.length)) {
                b.read(5, out.floats());
                float[] got = new float[x.length];
                out.floats().get(got);
                assertThat(got).isEqualTo(x);
            }
        }
        assertThatThrownBy(() -> cuda.allocateHost(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("length must be in [0, ").hasMessageEndingWith("got -1");
    }

    @Test
    void streamsOverlapAChunkedPipelineAndGiveTheSynchronousResults() {
        int chunk = 3 * 20_000;  // three rows of 20000: the long softmax path, with scratch of each stream's own
        int chunks = 8;
        RowLayout rows = RowLayout.of(3, 20_000);
        float[] x = random(chunk * chunks, 0, 6, 23);
        float[] wantGelu = new float[x.length];
        float[] wantSoftmax = new float[x.length];
        try (DeviceBuffer bx = cuda.upload(x); DeviceBuffer by = cuda.allocate(x.length)) {
            cuda.apply(Activation.GELU, bx, by);
            by.download(wantGelu);
            for (int c = 0; c < chunks; c++) {
                try (DeviceBuffer cx = cuda.upload(Arrays.copyOfRange(x, c * chunk, (c + 1) * chunk));
                     DeviceBuffer cy = cuda.allocate(chunk)) {
                    cuda.applyRows(Activation.SOFTMAX, cx, cy, rows);
                    cy.read(0, wantSoftmax, c * chunk, chunk);
                }
            }
        }
        Stream[] lanes = {cuda.newStream(), cuda.newStream(), cuda.newStream()};
        List<DeviceBuffer> buffers = new ArrayList<>();
        try (HostBuffer in = cuda.allocateHost(x.length); HostBuffer gelu = cuda.allocateHost(x.length);
             HostBuffer softmax = cuda.allocateHost(x.length)) {
            in.floats().put(x);
            for (int s = 0; s < lanes.length; s++) {
                assertThat(lanes[s].isAsynchronous()).isTrue();
                for (int k = 0; k < 3; k++) {
                    buffers.add(cuda.allocate(chunk));
                }
            }
            for (int c = 0; c < chunks; c++) {
                int s = c % lanes.length;
                DeviceBuffer cx = buffers.get(3 * s), cg = buffers.get(3 * s + 1), cs = buffers.get(3 * s + 2);
                lanes[s].write(cx, 0, in.floats().slice(c * chunk, chunk));
                lanes[s].apply(Activation.GELU, cx, cg);
                lanes[s].applyRows(Activation.SOFTMAX, cx, cs, rows);
                lanes[s].read(cg, 0, gelu.floats().slice(c * chunk, chunk));
                lanes[s].read(cs, 0, softmax.floats().slice(c * chunk, chunk));
            }
            for (Stream lane : lanes) {
                lane.synchronize();
            }
            float[] got = new float[x.length];
            gelu.floats().get(got);
            assertThat(got).isEqualTo(wantGelu);
            softmax.floats().get(got);
            assertThat(got).isEqualTo(wantSoftmax);
        } finally {
            buffers.forEach(DeviceBuffer::close);
            for (Stream lane : lanes) {
                lane.close();
            }
        }
        assertThatThrownBy(lanes[0]::synchronize).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        lanes[0].close();  // a second close does nothing
    }

    @Test
    void aStreamChecksItsArgumentsWhenEnqueued() {
        try (Stream lane = cuda.newStream(); DeviceBuffer onCpu = cpu.allocate(4); DeviceBuffer small = cuda.allocate(4)) {
            assertThatThrownBy(() -> lane.write(onCpu, 0, FloatBuffer.allocate(4)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dst belongs to backend 'cpu'");
            assertThatThrownBy(() -> lane.read(small, 2, FloatBuffer.allocate(4)))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> lane.apply(Activation.SOFTMAX, small, small))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not elementwise");
            // A heap FloatBuffer goes through the staging buffer, still in stream order.
            lane.write(small, 0, FloatBuffer.wrap(new float[] {-1, 2, -3, 4}));
            lane.apply(Activation.RELU, small, small);
            FloatBuffer out = FloatBuffer.allocate(4);
            lane.read(small, 0, out);
            lane.synchronize();
            assertThat(out.array()).containsExactly(0, 2, 0, 4);
        }
    }

    @Test
    void closingTheBackendFreesItsStreamsAndPinnedMemoryAndSaysSo() {
        Backend second = another.get();
        Stream lane = second.newStream();
        HostBuffer host = second.allocateHost(1024);
        assertThatThrownBy(second::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("1 stream(s) and 1 host buffer(s)");
        assertThatThrownBy(host::floats).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(lane::synchronize).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aFreshThreadsFirstCallMayNeedScratch() throws Exception {
        // The long softmax path reserves scratch before its first launch: it must make the context current first.
        float[] x = random(2 * 40_000, 0, 5, 24);
        RowLayout layout = RowLayout.of(2, 40_000);
        float[] want = rows(cpu, Activation.SOFTMAX, x, x, layout, false);
        try (DeviceBuffer bx = cuda.upload(x); DeviceBuffer by = cuda.allocate(x.length)) {
            Thread fresh = new Thread(() -> cuda.applyRows(Activation.SOFTMAX, bx, by, layout));
            Throwable[] failure = new Throwable[1];
            fresh.setUncaughtExceptionHandler((t, e) -> failure[0] = e);
            fresh.start();
            fresh.join();
            assertThat(failure[0]).isNull();
            assertAgree("softmax from a fresh thread", by.toArray(), want);
        }
    }

    @Test
    void preluInnerLongerThanTheArrayIsOneChannelGroup() {
        float[] x = random(10_000, 0, 2, 25);
        float[] dy = random(x.length, 0, 1, 26);
        float[] w = {0.25f, -0.5f};
        float[] want = preluWeightGradient(cpu, x, w, dy, 2, x.length);
        float[] got = preluWeightGradient(cuda, x, w, dy, 2, Long.MAX_VALUE);
        assertThat(want[1]).isZero();
        assertThat(got[1]).isZero();
        assertThat((double) got[0]).isNotZero().isCloseTo(want[0], offset(1e-5 * Math.abs(want[0])));
    }

    private static float[] rows(Backend b, Activation act, float[] x, float[] dy, RowLayout layout, boolean backward) {
        try (DeviceBuffer bx = b.upload(x); DeviceBuffer bdy = b.upload(dy); DeviceBuffer out = b.allocate(x.length)) {
            if (backward) {
                b.applyRowsBackward(act, bx, bdy, out, layout);
            } else {
                b.applyRows(act, bx, out, layout);
            }
            return out.toArray();
        }
    }

    private static float[] preluWeightGradient(Backend b, float[] x, float[] w, float[] dy, int channels, long inner) {
        try (DeviceBuffer bx = b.upload(x); DeviceBuffer bw = b.upload(w); DeviceBuffer bdy = b.upload(dy);
             DeviceBuffer dx = b.allocate(x.length); DeviceBuffer dw = b.allocate(channels)) {
            b.preluBackward(bx, bw, bdy, dx, dw, channels, inner);
            return dw.toArray();
        }
    }

    /**
     * Gradients agree to twice {@link #AGREEMENT_ULP} of the size of their terms: dx = y (dy - dot) / T (log_softmax:
     * (dy - e^y sum dy) / T) cancels where dy is near dot, and there each backend's rounding of y is magnified; the
     * scale here leaves out the rounding of y in the tails that the conformance suite's reference allows for.
     */
    private static void assertGradientAgrees(String what, Activation act, float[] got, float[] want, float[] y,
                                             float[] dy, RowLayout layout) {
        boolean log = act.op() == Op.LOG_SOFTMAX;
        double temperature = act.a();
        int cols = (int) layout.cols();
        for (int r = 0; r < layout.rows(); r++) {
            int base = r * cols;
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                sum += log ? dy[base + j] : (double) dy[base + j] * y[base + j];
            }
            for (int j = base; j < base + cols; j++) {
                double p = log ? Math.exp(y[j]) : y[j];
                double scale = log ? (Math.abs(dy[j]) + p * Math.abs(sum)) / temperature
                        : p * (Math.abs(dy[j]) + Math.abs(sum)) / temperature;
                if (!(Float.isNaN(got[j]) && Float.isNaN(want[j])) && Ulp.distance(got[j], want[j], scale) > 2 * AGREEMENT_ULP) {
                    fail(what + ": element " + j + " is " + got[j] + ", cpu gives " + want[j] + " (terms of size " + scale + ")");
                }
            }
        }
    }

    private static void assertAgree(String what, float[] got, float[] want) {
        for (int i = 0; i < got.length; i++) {
            if (!(Float.isNaN(got[i]) && Float.isNaN(want[i])) && Ulp.distance(got[i], want[i]) > AGREEMENT_ULP) {
                fail(what + ": element " + i + " is " + got[i] + ", cpu gives " + want[i]);
            }
        }
    }

    private static float[] random(int n, double offset, double spread, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (offset + spread * (2 * r.nextDouble() - 1));
        }
        return v;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
