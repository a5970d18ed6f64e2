package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The OpenCL backend's own copy, host memory, streams and device timing, against its synchronous calls. */
class OpenClDevicePathsTest {
    private static final int N = 1 << 18;

    private OpenClBackend backend;

    @BeforeEach
    void open() {
        backend = OpenClTestDevice.open();
    }

    @AfterEach
    void everythingWasReleased() {
        assertThat(backend.memory()).isEqualTo(new Backend.MemoryStats(0, 0));
        assertThat(backend.openStreams()).isZero();
        assertThat(backend.openHostBuffers()).isZero();
        backend.close();
    }

    /** Values over many exponents, both signs, with a NaN and infinities, so bit comparisons mean something. */
    private static float[] input(int n, long seed) {
        Random random = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextGaussian() * Math.pow(2, random.nextInt(12) - 4));
        }
        x[0] = Float.NaN;
        x[1] = Float.POSITIVE_INFINITY;
        x[2] = Float.NEGATIVE_INFINITY;
        return x;
    }

    @Test
    void copyStaysOnTheDeviceAndCopiesEveryBit() {
        float[] x = input(N + 3, 1);
        try (DeviceBuffer src = backend.upload(x); DeviceBuffer dst = backend.allocate(x.length)) {
            backend.copy(src, dst);
            assertThat(dst.toArray()).usingElementComparator(OpenClDevicePathsTest::compareBits).containsExactly(x);
        }
        assertThat(backend.deviceCopyIsNative()).isTrue();
    }

    @Test
    void copyRejectsMismatchedClosedAndForeignBuffersAndAcceptsEmptyOnes() {
        try (DeviceBuffer a = backend.allocate(8); DeviceBuffer b = backend.allocate(9);
             DeviceBuffer emptyA = backend.allocate(0); DeviceBuffer emptyB = backend.allocate(0);
             Backend cpu = Backends.get("cpu"); DeviceBuffer foreign = cpu.allocate(8)) {
            assertThatThrownBy(() -> backend.copy(a, b)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("src and dst differ in length: 8 vs 9");
            assertThatThrownBy(() -> backend.copy(foreign, a)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("src belongs to backend 'cpu'");
            backend.copy(emptyA, emptyB);
            DeviceBuffer closed = backend.allocate(8);
            closed.close();
            assertThatThrownBy(() -> backend.copy(a, closed)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("dst is a closed buffer");
        }
    }

    @Test
    void hostBufferRoundTripsThroughTheDeviceAndSaysHonestlyWhetherItIsPinned() {
        float[] x = input(N, 2);
        try (HostBuffer in = backend.allocateHost(N); HostBuffer out = backend.allocateHost(N);
             DeviceBuffer device = backend.allocate(N)) {
            assertThat(in.length()).isEqualTo(N);
            assertThat(in.pinned()).as("pinned only on a GPU driver").isEqualTo(!backend.openClDevice().isCpu());
            in.floats().put(x);
            device.write(0, in.floats());
            device.read(0, out.floats());
            float[] back = new float[N];
            out.floats().get(back);
            assertThat(back).usingElementComparator(OpenClDevicePathsTest::compareBits).containsExactly(x);
            assertThat(backend.openHostBuffers()).isEqualTo(2);
        }
    }

    @Test
    void hostBufferTransfersCheckTheirRangeAndSizes() {
        try (HostBuffer host = backend.allocateHost(16); DeviceBuffer device = backend.allocate(8);
             HostBuffer empty = backend.allocateHost(0)) {
            assertThatThrownBy(() -> device.write(0, host.floats())).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessage("buffer offset 0 + count 16 is outside a buffer of 8 elements");
            assertThatThrownBy(() -> device.read(4, host.floats().limit(5))).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessage("buffer offset 4 + count 5 is outside a buffer of 8 elements");
            assertThatThrownBy(() -> backend.allocateHost(-1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("length must be in [0, ").hasMessageEndingWith("got -1");
            assertThat(empty.length()).isZero();
        }
    }

    @Test
    void slicedHeapBuffersTransferFromAndToTheirSliceNotTheArrayStart() {
        float[] host = {1, 2, 3, 4, 5, 6};
        try (DeviceBuffer device = backend.allocate(3)) {
            device.write(0, FloatBuffer.wrap(host).slice(3, 3));
            assertThat(device.toArray()).containsExactly(4, 5, 6);
            float[] back = new float[6];
            device.read(0, FloatBuffer.wrap(back).slice(2, 3));
            assertThat(back).containsExactly(0, 0, 4, 5, 6, 0);
        }
    }

    @Test
    void aStreamPipelineGivesTheSameBitsAsTheSynchronousCalls() {
        int chunks = 8;
        int chunk = N / chunks;
        RowLayout rows = RowLayout.of(chunk / 256, 256);
        float[] x = input(N, 3);
        float[] expectedGelu = new float[N];
        float[] expectedSoftmax = new float[N];
        try (DeviceBuffer whole = backend.upload(x); DeviceBuffer y = backend.allocate(N);
             DeviceBuffer piece = backend.allocate(chunk); DeviceBuffer pieceOut = backend.allocate(chunk)) {
            backend.apply(Activation.GELU, whole, y);
            y.download(expectedGelu);
            for (int c = 0; c < chunks; c++) {
                piece.write(0, x, c * chunk, chunk);
                backend.applyRows(Activation.SOFTMAX, piece, pieceOut, rows);
                pieceOut.read(0, expectedSoftmax, c * chunk, chunk);
            }
        }
        try (HostBuffer in = backend.allocateHost(N); HostBuffer gelu = backend.allocateHost(N)) {
            in.floats().put(x);
            float[] softmax = new float[N];
            FloatBuffer softmaxOut = FloatBuffer.wrap(softmax); // a heap buffer: transferred at once, still in order
            Stream[] lanes = {backend.newStream(), backend.newStream(), backend.newStream()};
            DeviceBuffer[] xs = new DeviceBuffer[lanes.length];
            DeviceBuffer[] ys = new DeviceBuffer[lanes.length];
            try {
                for (int s = 0; s < lanes.length; s++) {
                    assertThat(lanes[s].isAsynchronous()).isTrue();
                    xs[s] = backend.allocate(chunk);
                    ys[s] = backend.allocate(chunk);
                }
                for (int c = 0; c < chunks; c++) {
                    Stream lane = lanes[c % lanes.length];
                    DeviceBuffer cx = xs[c % lanes.length];
                    DeviceBuffer cy = ys[c % lanes.length];
                    lane.write(cx, 0, in.floats().slice(c * chunk, chunk));
                    lane.apply(Activation.GELU, cx, cy);
                    lane.read(cy, 0, gelu.floats().slice(c * chunk, chunk));
                    lane.applyRows(Activation.SOFTMAX, cx, cy, rows);
                    lane.read(cy, 0, softmaxOut.slice(c * chunk, chunk));
                }
                for (Stream lane : lanes) {
                    lane.synchronize();
                }
                float[] geluBack = new float[N];
                gelu.floats().get(geluBack);
                assertThat(geluBack).usingElementComparator(OpenClDevicePathsTest::compareBits)
                        .containsExactly(expectedGelu);
                assertThat(softmax).usingElementComparator(OpenClDevicePathsTest::compareBits)
                        .containsExactly(expectedSoftmax);
            } finally {
                for (int s = 0; s < lanes.length; s++) {
                    lanes[s].close();
                    xs[s].close();
                    ys[s].close();
                }
            }
        }
    }

    @Test
    void aStreamChecksItsArgumentsWhenEnqueuedAndRefusesWorkOnceClosed() {
        Stream stream = backend.newStream();
        try (DeviceBuffer x = backend.allocate(8); DeviceBuffer y = backend.allocate(9);
             Backend cpu = Backends.get("cpu"); DeviceBuffer foreign = cpu.allocate(8)) {
            assertThatThrownBy(() -> stream.apply(Activation.RELU, x, y)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("x and y differ in length: 8 vs 9");
            assertThatThrownBy(() -> stream.write(foreign, 0, FloatBuffer.allocate(8)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("dst belongs to backend 'cpu', not to this stream's 'opencl' backend");
            assertThatThrownBy(() -> stream.read(x, 4, FloatBuffer.allocate(8)))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            stream.close();
            stream.close();
            assertThatThrownBy(() -> stream.apply(Activation.RELU, x, x)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("stream of backend 'opencl' is closed");
        }
    }

    @Test
    void timeReadsTheDeviceClockOfTheCommandsItRuns() {
        try (DeviceBuffer x = backend.upload(input(1 << 20, 4)); DeviceBuffer y = backend.allocate(1 << 20)) {
            long wallStart = System.nanoTime();
            Backend.Timing one = backend.time(() -> backend.apply(Activation.GELU, x, y));
            long wall = System.nanoTime() - wallStart;
            assertThat(one.clock()).isEqualTo(Backend.Clock.DEVICE);
            assertThat(one.nanos()).as("a 1M gelu takes more than 10 us and no longer than the call").isBetween(10_000L, wall);

            Backend.Timing[] inner = new Backend.Timing[1];
            Backend.Timing outer = backend.time(() -> {
                backend.copy(x, y);
                inner[0] = backend.time(() -> backend.apply(Activation.GELU, x, y));
            });
            assertThat(outer.nanos()).as("the outer timing includes the inner one").isGreaterThan(inner[0].nanos());
            assertThat(backend.time(() -> { }).nanos()).isZero();
        }
    }

    @Test
    void closingTheBackendReleasesItsStreamsAndHostBuffers() {
        OpenClBackend other = OpenClTestDevice.open();
        Stream stream = other.newStream();
        HostBuffer host = other.allocateHost(64);
        assertThatThrownBy(other::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed with 1 stream(s) and 1 host buffer(s) still open");
        assertThat(other.openStreams()).isZero();
        assertThat(other.openHostBuffers()).isZero();
        assertThatThrownBy(host::floats).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(stream::synchronize).isInstanceOf(IllegalStateException.class);
        host.close();
        stream.close();
    }

    private static int compareBits(Float a, Float b) {
        return Integer.compare(Float.floatToIntBits(a), Float.floatToIntBits(b));
    }
}
