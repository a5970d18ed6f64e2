package dev.gpuact.guarantees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.spi.AbstractBackend;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a backend holds comes back to where it started: after a million allocate/apply/close cycles, after calls that
 * fail halfway through a user's try-with-resources, after a backend closed with buffers still open (a loud error),
 * and after a buffer dropped without close() (reported by the Cleaner).
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
    void aBufferCollectedWithoutCloseIsReportedAndFreed(String name) throws InterruptedException {
        try (Backend b = TestBackends.open(name)) {
            AbstractBackend backend = (AbstractBackend) b;
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
