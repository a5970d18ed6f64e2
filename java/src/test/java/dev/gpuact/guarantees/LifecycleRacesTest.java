package dev.gpuact.guarantees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import dev.gpuact.Stream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Closing what another thread is using, and using what was closed, on every backend with real threads: each is a
 * Java exception, never a JVM abort, a deadlock or memory written after it was freed.
 */
class LifecycleRacesTest {
    private static final long LIMIT_SECONDS = 60;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "lifecycle race");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    static java.util.stream.Stream<String> backends() {
        return TestBackends.names();
    }

    /** Runs {@code work} until it throws; returns what it threw. */
    private Future<RuntimeException> untilItFails(CountDownLatch started, Runnable work) {
        return threads.submit(() -> {
            started.countDown();
            while (true) {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    return e;
                }
            }
        });
    }

    private static <T> T within(Future<T> future, String what) throws Exception {
        try {
            return future.get(LIMIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(what + " did not finish within " + LIMIT_SECONDS + " s: a deadlock");
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void closingABufferUnderARunningCallIsAnException(String name) throws Exception {
        // Small calls, many rounds: close() lands at every point of a call, between its checks and its kernel too.
        int n = 4096;
        try (Backend backend = TestBackends.open(name); DeviceBuffer x = backend.upload(new float[n])) {
            for (int round = 0; round < 200; round++) {
                DeviceBuffer y = backend.allocate(n);
                CountDownLatch started = new CountDownLatch(1);
                Future<RuntimeException> worker = untilItFails(started, () -> backend.apply(Activation.GELU, x, y));
                started.await();
                Thread.sleep(0, round % 5 * 200_000);
                y.close();
                assertThat(within(worker, "a call racing close()")).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("closed buffer");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void closingTheBackendWhileAThreadUsesAStreamEndsBoth(String name) throws Exception {
        int n = 1 << 16;
        for (int round = 0; round < 10; round++) {
            Backend backend = TestBackends.open(name);
            DeviceBuffer x = backend.upload(new float[n]);
            DeviceBuffer y = backend.allocate(n);
            Stream stream = backend.newStream();
            CountDownLatch started = new CountDownLatch(1);
            Future<RuntimeException> worker = untilItFails(started, () -> {
                stream.apply(Activation.SILU, x, y);
                stream.synchronize();
            });
            started.await();
            Thread.sleep(round % 3);
            Future<Throwable> closing = threads.submit(() -> {
                try {
                    backend.close();
                    return null;
                } catch (IllegalStateException e) {
                    return e; // the two buffers were still open: freed, and said so
                }
            });
            assertThat(within(closing, "backend.close() with a stream in use")).hasMessageContaining("2 buffer(s)");
            assertThat(within(worker, "a stream call racing backend.close()")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aHostBufferViewUsedAfterCloseWritesNoMemoryOfAnother(String name) {
        int n = 1 << 16;
        try (Backend backend = TestBackends.open(name)) {
            for (int round = 0; round < 20; round++) {
                HostBuffer first = backend.allocateHost(n);
                FloatBuffer stale = first.floats();
                first.close();
                assertThatThrownBy(first::floats).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
                try (HostBuffer second = backend.allocateHost(n)) {
                    FloatBuffer fresh = second.floats();
                    fresh.put(new float[n]);
                    while (stale.hasRemaining()) {
                        stale.put(7f);
                    }
                    float[] seen = new float[n];
                    second.floats().get(seen);
                    assertThat(seen).as("round %d", round).containsOnly(0f);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aClosedBackendMakesNoStreamAndNoHostBuffer(String name) {
        Backend backend = TestBackends.open(name);
        backend.close();
        assertThatThrownBy(backend::newStream).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> backend.allocateHost(4)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aHostBufferBeyondOneJavaBufferIsAnIllegalArgument(String name) {
        try (Backend backend = TestBackends.open(name)) {
            for (int length : new int[] {Integer.MAX_VALUE, HostBuffer.MAX_LENGTH + 1, -1}) {
                assertThatThrownBy(() -> backend.allocateHost(length)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("length must be in [0, " + HostBuffer.MAX_LENGTH + "]");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void directFloatBuffersOfEitherByteOrderTransferTheirValues(String name) {
        int n = 1000;
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = i * 0.5f - 17.25f;
        }
        try (Backend backend = TestBackends.open(name); DeviceBuffer device = backend.allocate(n);
             Stream stream = backend.newStream()) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
                FloatBuffer src = ByteBuffer.allocateDirect(n * Float.BYTES).order(order).asFloatBuffer();
                src.put(values).flip();
                device.write(0, src);
                assertThat(device.toArray()).as("write from %s", order).containsExactly(values);

                FloatBuffer dst = ByteBuffer.allocateDirect(n * Float.BYTES).order(order).asFloatBuffer();
                device.read(0, dst);
                float[] read = new float[n];
                dst.flip().get(read);
                assertThat(read).as("read into %s", order).containsExactly(values);

                device.upload(new float[n]);
                src.rewind();
                dst.clear();
                stream.write(device, 0, src);
                stream.read(device, 0, dst);
                stream.synchronize();
                dst.flip().get(read);
                assertThat(read).as("stream round trip through %s", order).containsExactly(values);
            }
        }
    }
}
