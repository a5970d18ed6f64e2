package dev.gpuact.guarantees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import dev.gpuact.spi.AbstractBackend;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a backend holds comes back to where it started: after a million allocate/apply/close cycles, after calls that
 * fail halfway through a user's try-with-resources, after a backend closed with buffers, streams or host buffers still
 * open (a loud error), and after a buffer dropped without close() (reported by the Cleaner). Every call of a stream
 * gives what the backend's own call gives.
 */
class ResourcesTest {
    /** The Java backend does a million cycles in seconds; a device backend (PoCL on 2 cores: about 18,000 cycles/s) 100,000. */
    private static final int JAVA_CYCLES = 1_000_000;
    private static final int DEVICE_CYCLES = Integer.getInteger("gpuact.guarantees.deviceCycles", 100_000);

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#namesAtDeviceSpeed")
    void allocateApplyCloseCyclesLeaveNothingHeld(String name) {
        try (Backend b = TestBackends.open(name)) {
            int cycles = TestBackends.isJava(b) ? JAVA_CYCLES : DEVICE_CYCLES;
            Backend.MemoryStats before = b.memory();
            float[] host = {-2, -1, 0, 1, 2, 3, 4, 5};
            float[] out = new float[host.length];
            long start = System.nanoTime();
            for (int i = 0; i < cycles; i++) {
                try (DeviceBuffer x = b.allocate(host.length)) {
                    if (i % 1000 == 0) {
                        x.upload(host);
                    }
                    b.apply(Activation.RELU, x, x);
                    if (i % 1000 == 0) {
                        x.download(out);
                        assertThat(out).containsExactly(0, 0, 0, 1, 2, 3, 4, 5);
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            assertThat(b.memory()).as("held after %d cycles", cycles).isEqualTo(before);
            System.out.printf("resources on %s: %d allocate/apply/close cycles in %.1f s (%.0f cycles/s), memory %s -> %s%n",
                    name, cycles, seconds, cycles / seconds, before, b.memory());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void callsThatFailHalfwayGiveBackEverything(String name) {
        try (Backend b = TestBackends.open(name)) {
            Backend.MemoryStats before = b.memory();
            int failures = 0;
            for (int i = 0; i < 100; i++) {
                // The user's pattern: a call fails after some buffers exist; try-with-resources must free them all.
                try (DeviceBuffer x = b.upload(new float[64]);
                     DeviceBuffer y = b.allocate(64);
                     DeviceBuffer dx = b.allocate(63)) {
                    b.apply(Activation.GELU, x, y);
                    b.applyRows(Activation.SOFTMAX, x, y, RowLayout.of(8, 8));
                    b.applyBackward(Activation.GELU, x, y, dx);
                } catch (IllegalArgumentException expected) {
                    failures++;
                }
                // An allocation refused by the device or the heap must not be counted as held.
                assertThatThrownBy(() -> b.allocate(1L << 40)).isInstanceOf(RuntimeException.class);
            }
            assertThat(failures).isEqualTo(100);
            assertThat(b.memory()).isEqualTo(before);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void closingWithLiveBuffersIsLoudAndFreesThem(String name) {
        Backend b = TestBackends.open(name);
        DeviceBuffer kept = b.upload(new float[100]);
        b.allocate(28);
        assertThatThrownBy(b::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("backend '" + name + "' closed with 2 buffer(s) still open (512 bytes)");
        assertThat(b.memory()).isEqualTo(new Backend.MemoryStats(0, 0));
        assertThatThrownBy(() -> kept.download(new float[100])).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("which is closed");
        kept.close();
        b.close(); // a second close is quiet: the error was reported once
        assertThat(b.memory()).isEqualTo(new Backend.MemoryStats(0, 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void closingWithOpenStreamsAndHostBuffersClosesThemAndSaysSo(String name) {
        Backend b = TestBackends.open(name);
        AbstractBackend<?> backend = (AbstractBackend<?>) b;
        Stream stream = b.newStream();
        HostBuffer host = b.allocateHost(16);
        b.newStream().close();
        b.allocateHost(16).close();
        try (DeviceBuffer x = b.upload(new float[] {-1, 2})) {
            stream.apply(Activation.RELU, x, x);
            stream.synchronize();
            assertThat(x.toArray()).containsExactly(0, 2);
        }
        assertThat(backend.openStreams()).isEqualTo(1);
        assertThat(backend.openHostBuffers()).isEqualTo(1);
        assertThatThrownBy(b::close).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("backend '" + name + "' closed with 1 stream(s) and 1 host buffer(s) still open;");
        assertThat(backend.openStreams()).isZero();
        assertThat(backend.openHostBuffers()).isZero();
        assertThatThrownBy(stream::synchronize).isInstanceOf(IllegalStateException.class)
                .hasMessage("stream of backend '" + name + "' is closed");
        assertThatThrownBy(b::newStream).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(host::floats).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        stream.close();
        host.close();
        b.close(); // quiet: everything was reported once
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void everyCallOfAStreamGivesWhatTheBackendsOwnCallGives(String name) {
        float[] xs = {-3, -1.5f, -0.25f, 0, 0.5f, 1, 2.5f, 4};
        float[] dys = {0.5f, -1, 2, 0.25f, -0.75f, 1.5f, -2, 1};
        RowLayout rows = RowLayout.of(2, 4);
        Activation gelu = Activation.GELU;
        Activation sigmoid = Activation.SIGMOID;
        Activation softmax = Activation.SOFTMAX;
        try (Backend b = TestBackends.open(name); Stream s = b.newStream(); DeviceBuffer x = b.upload(xs);
             DeviceBuffer dy = b.upload(dys); DeviceBuffer w = b.upload(new float[] {0.25f, -0.5f});
             DeviceBuffer y = b.allocate(xs.length); DeviceBuffer dw = b.allocate(2)) {
            b.apply(sigmoid, x, y);
            List<StreamCase> cases = List.of(
                    new StreamCase("apply", out -> b.apply(gelu, x, out), out -> s.apply(gelu, x, out)),
                    new StreamCase("applyBackward", out -> b.applyBackward(gelu, x, dy, out),
                            out -> s.applyBackward(gelu, x, dy, out)),
                    new StreamCase("applyBackwardFromOutput", out -> b.applyBackwardFromOutput(sigmoid, y, dy, out),
                            out -> s.applyBackwardFromOutput(sigmoid, y, dy, out)),
                    new StreamCase("applyRows", out -> b.applyRows(softmax, x, out, rows),
                            out -> s.applyRows(softmax, x, out, rows)),
                    new StreamCase("applyRowsBackward", out -> b.applyRowsBackward(softmax, x, dy, out, rows),
                            out -> s.applyRowsBackward(softmax, x, dy, out, rows)),
                    new StreamCase("applyRowsBackwardFromOutput",
                            out -> b.applyRowsBackwardFromOutput(softmax, y, dy, out, rows),
                            out -> s.applyRowsBackwardFromOutput(softmax, y, dy, out, rows)),
                    new StreamCase("prelu", out -> b.prelu(x, w, out, 2, 4), out -> s.prelu(x, w, out, 2, 4)),
                    new StreamCase("preluBackward", out -> b.preluBackward(x, w, dy, out, dw, 2, 4),
                            out -> s.preluBackward(x, w, dy, out, dw, 2, 4)),
                    new StreamCase("copy", out -> b.copy(dy, out), out -> s.copy(dy, out)));
            for (StreamCase c : cases) {
                try (DeviceBuffer want = b.allocate(xs.length); DeviceBuffer got = b.allocate(xs.length)) {
                    c.onBackend().accept(want);
                    c.onStream().accept(got);
                    s.synchronize();
                    assertThat(got.toArray()).as(c.name()).containsExactly(want.toArray());
                }
            }
        }
    }

    /** One call made by the backend and by a stream, into the output buffer given. */
    private record StreamCase(String name, Consumer<DeviceBuffer> onBackend, Consumer<DeviceBuffer> onStream) {
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void aBufferCollectedWithoutCloseIsReportedAndFreed(String name) throws InterruptedException {
        try (Backend b = TestBackends.open(name)) {
            AbstractBackend<?> backend = (AbstractBackend<?>) b;
            Backend.MemoryStats before = b.memory();
            int dropped = 3;
            dropBuffers(b, dropped);
            assertThat(b.memory().liveBuffers()).isEqualTo(before.liveBuffers() + dropped);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (backend.leaksReported() < dropped && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
            assertThat(backend.leaksReported()).as("buffers reported as collected without close()").isEqualTo(dropped);
            assertThat(b.memory()).isEqualTo(before);
        }
    }

    /** Allocates buffers that nothing references once this returns. */
    private static void dropBuffers(Backend b, int count) {
        for (int i = 0; i < count; i++) {
            b.allocate(1024);
        }
    }
}
