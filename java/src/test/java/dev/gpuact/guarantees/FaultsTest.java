package dev.gpuact.guarantees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.OutOfDeviceMemoryException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Faults that can be produced on any machine: memory the device (or heap) cannot give, a backend closed and then
 * used, and a backend closed underneath threads that are computing. Each must be a clear exception, never a crash,
 * and where the backend is still open it must keep working.
 */
class FaultsTest {
    /** 4 TiB: more than any device here can allocate in one piece. */
    private static final long TOO_MANY = 1L << 40;

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void anImpossibleAllocationNamesTheRequestAndTheBackendGoesOn(String name) {
        try (Backend b = TestBackends.open(name); DeviceBuffer held = b.allocate(16)) {
            Backend.MemoryStats before = b.memory();
            assertThatThrownBy(() -> b.allocate(TOO_MANY))
                    .isInstanceOfAny(IllegalArgumentException.class, OutOfDeviceMemoryException.class)
                    .message().contains(Long.toString(TOO_MANY)).containsAnyOf("largest", "free");
            assertThat(b.memory()).isEqualTo(before);
            assertWorks(b);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void runningOutOfJavaHeapIsAClearErrorAndTheBackendGoesOn(String name) {
        try (Backend b = TestBackends.open(name)) {
            assumeThat(TestBackends.isJava(b)).as("the heap is the Java backend's device memory").isTrue();
            // The largest array the backend accepts, 8 GiB, is over this JVM's heap: the JVM refuses it at once.
            long length = Integer.MAX_VALUE - 8;
            assumeThat(Runtime.getRuntime().maxMemory()).as("-Xmx").isLessThan(length * Float.BYTES);
            assertThatThrownBy(() -> b.allocate(length)).isInstanceOf(OutOfDeviceMemoryException.class)
                    .hasMessageContaining("cpu: cannot allocate " + length + " FLOAT32 elements (" + length * 4 + " bytes)")
                    .hasMessageContaining("bytes free in the Java heap")
                    .hasMessageContaining("this backend holds 0 bytes in 0 buffer(s)")
                    .hasCauseInstanceOf(OutOfMemoryError.class);
            assertThat(b.memory()).isEqualTo(new Backend.MemoryStats(0, 0));
            assertWorks(b);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void everyCallOnAClosedBackendIsAnError(String name) {
        Backend b = TestBackends.open(name);
        DeviceBuffer x = b.upload(new float[] {1, 2, 3, 4});
        DeviceBuffer w = b.upload(new float[] {0.5f});
        DeviceBuffer dw = b.allocate(1);
        DeviceBuffer y = b.allocate(4);
        for (DeviceBuffer buffer : List.of(x, w, dw, y)) {
            buffer.close();
        }
        DeviceBuffer outliving = b.upload(new float[] {1, 2, 3, 4});
        assertThatThrownBy(b::close).hasMessageContaining("1 buffer(s) still open");
        String closed = "backend '" + name + "' is closed";
        List<ThrowingCallable> calls = List.of(
                () -> b.allocate(4),
                () -> b.upload(new float[4]),
                () -> b.apply(Activation.RELU, outliving, outliving),
                () -> b.applyBackward(Activation.RELU, outliving, outliving, outliving),
                () -> b.applyRows(Activation.SOFTMAX, outliving, outliving, RowLayout.of(2, 2)),
                () -> b.applyRowsBackward(Activation.SOFTMAX, x, y, outliving, RowLayout.of(2, 2)),
                () -> b.softmax(outliving, outliving, 2, 2),
                () -> b.prelu(outliving, w, outliving, 1, 1),
                () -> b.preluBackward(outliving, w, outliving, outliving, dw, 1, 1));
        for (ThrowingCallable call : calls) {
            assertThatThrownBy(call).isInstanceOf(IllegalStateException.class).hasMessageContaining(closed);
        }
        // Its memory went with the backend: the buffer that outlived it must refuse, not touch freed memory.
        List<ThrowingCallable> bufferCalls = List.of(
                () -> outliving.download(new float[4]),
                () -> outliving.upload(new float[4]),
                () -> outliving.read(0, java.nio.FloatBuffer.allocate(4)),
                () -> outliving.write(0, java.nio.FloatBuffer.allocate(4)),
                outliving::toArray);
        for (ThrowingCallable call : bufferCalls) {
            assertThatThrownBy(call).isInstanceOf(IllegalStateException.class).hasMessageContaining("which is closed");
        }
        outliving.close();
        assertThat(b.memory()).isEqualTo(new Backend.MemoryStats(0, 0));
        System.out.printf("closed backend %s: %d backend calls and %d buffer calls refused%n", name, calls.size(),
                bufferCalls.size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void closingUnderRunningThreadsStopsThemWithErrorsNotACrash(String name) throws Exception {
        Backend b = TestBackends.open(name);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<Long>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(pool.submit(() -> {
                long calls = 0;
                try {
                    while (true) {
                        try (DeviceBuffer x = b.upload(new float[256]); DeviceBuffer y = b.allocate(256)) {
                            b.apply(Activation.GELU, x, y);
                            b.softmax(x, y, 16, 16);
                            y.toArray();
                            calls += 5;
                        }
                    }
                } catch (IllegalStateException expected) {
                    assertThat(expected).hasMessageContaining("closed");
                    return calls;
                }
            }));
        }
        Thread.sleep(300);
        try {
            b.close();
        } catch (IllegalStateException buffersOfTheRunningThreads) {
            assertThat(buffersOfTheRunningThreads).hasMessageContaining("still open");
        }
        long calls = 0;
        for (Future<Long> w : workers) {
            calls += w.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(b.memory()).isEqualTo(new Backend.MemoryStats(0, 0));
        System.out.printf("close under load on %s: %d threads stopped by a clear error after %d calls%n", name, threads, calls);
    }

    /** A small forward pass gives the right answer. */
    private static void assertWorks(Backend b) {
        try (DeviceBuffer x = b.upload(new float[] {-1, 0, 2}); DeviceBuffer y = b.allocate(3)) {
            b.apply(Activation.RELU, x, y);
            assertThat(y.toArray()).containsExactly(0, 0, 2);
        }
    }
}
