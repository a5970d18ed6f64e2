package dev.gpuact.guarantees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * 16 threads share one backend instance, each running its own seeded stream of mixed calls (elementwise forward and
 * backward of every op, softmax, log_softmax, maxout, PReLU both ways, allocate/upload/read/close); every result is
 * folded into a digest of its bits (NaNs as one). The same streams run one after another on one thread must give the same digests,
 * bit for bit, and the concurrent run must finish within a deadline (a deadlock fails with a thread dump).
 */
class ConcurrencyTest {
    private static final int THREADS = 16;
    private static final int CALLS_PER_THREAD = Integer.getInteger("gpuact.guarantees.callsPerThread", 10_000);
    private static final long DEADLINE_SECONDS = 300;

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#namesAtDeviceSpeed")
    void sixteenThreadsGiveTheBitsOfASequentialRun(String name) throws Exception {
        try (Backend b = TestBackends.open(name)) {
            Backend.MemoryStats before = b.memory();
            long start = System.nanoTime();
            long[] concurrent = concurrently(b);
            double concurrentSeconds = (System.nanoTime() - start) / 1e9;
            start = System.nanoTime();
            long[] sequential = new long[THREADS];
            for (int t = 0; t < THREADS; t++) {
                sequential[t] = new Stream(b, t).run();
            }
            double sequentialSeconds = (System.nanoTime() - start) / 1e9;
            assertThat(concurrent).as("digest of each thread's results, concurrent vs sequential").containsExactly(sequential);
            assertThat(b.memory()).isEqualTo(before);
            long calls = (long) THREADS * CALLS_PER_THREAD;
            System.out.printf("concurrency on %s: %d threads x %d mixed calls bit-identical to a sequential run; "
                            + "%.0f calls/s concurrent (%.1f s), %.0f calls/s sequential (%.1f s)%n", name, THREADS,
                    CALLS_PER_THREAD, calls / concurrentSeconds, concurrentSeconds, calls / sequentialSeconds,
                    sequentialSeconds);
        }
    }

    private static long[] concurrently(Backend b) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Callable<Long>> streams = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Stream s = new Stream(b, t);
                streams.add(s::run);
            }
            List<Future<Long>> done = pool.invokeAll(streams, DEADLINE_SECONDS, TimeUnit.SECONDS);
            long[] digests = new long[THREADS];
            for (int t = 0; t < THREADS; t++) {
                if (done.get(t).isCancelled()) {
                    fail("not finished after " + DEADLINE_SECONDS + " s: deadlock or livelock?%n" + threadDump());
                }
                digests[t] = done.get(t).get();
            }
            return digests;
        } finally {
            pool.shutdownNow();
        }
    }

    private static String threadDump() {
        return Arrays.stream(ManagementFactory.getThreadMXBean().dumpAllThreads(true, true))
                .map(ThreadInfo::toString).collect(Collectors.joining());
    }

    /** One thread's calls, fixed by its seed: the same seed gives the same calls on the same inputs. */
    private static final class Stream {
        private static final List<Op> ELEMENTWISE = Op.ELEMENTWISE;
        private final Backend b;
        private final SplittableRandom random;
        private final int n;
        private final int channels;
        private long digest = 17;

        Stream(Backend b, int seed) {
            this.b = b;
            this.random = new SplittableRandom(0x5eed + seed);
            // 8 rows of an even 8..70 columns (maxout takes pairs): small, so a device on 2 cores stays quick,
            // and row lengths differ between threads.
            this.n = 8 * 2 * (4 + 9 * seed % 32);
            this.channels = 1 + seed % 5;
        }

        long run() {
            try (DeviceBuffer x = b.allocate(n); DeviceBuffer y = b.allocate(n); DeviceBuffer dy = b.allocate(n);
                 DeviceBuffer dx = b.allocate(n); DeviceBuffer w = b.allocate(channels);
                 DeviceBuffer dw = b.allocate(channels)) {
                float[] host = new float[n];
                RowLayout rows = RowLayout.of(8, n / 8);
                for (int call = 0; call < CALLS_PER_THREAD; call++) {
                    if (call % 100 == 0) {
                        x.upload(inputs(n));
                        dy.upload(inputs(n));
                        w.upload(inputs(channels));
                    }
                    switch (random.nextInt(8)) {
                        case 0 -> {
                            b.apply(elementwise(), x, y);
                            fold(y, host);
                        }
                        case 1 -> {
                            b.applyBackward(elementwise(), x, dy, dx);
                            fold(dx, host);
                        }
                        case 2 -> {
                            b.applyRows(random.nextBoolean() ? Activation.SOFTMAX : Activation.LOG_SOFTMAX, x, y, rows);
                            fold(y, host);
                        }
                        case 3 -> {
                            b.applyRowsBackward(random.nextBoolean() ? Activation.SOFTMAX : Activation.LOG_SOFTMAX, x, dy, dx, rows);
                            fold(dx, host);
                        }
                        case 4 -> {
                            b.applyRows(Activation.maxout(2), x, y, RowLayout.of(8, n / 8, n / 16));
                            fold(y, host);
                        }
                        case 5 -> {
                            b.prelu(x, w, y, channels, 1 + random.nextInt(3));
                            fold(y, host);
                        }
                        case 6 -> {
                            b.preluBackward(x, w, dy, dx, dw, channels, 1);
                            fold(dx, host);
                            fold(dw, new float[channels]);
                        }
                        default -> {
                            float[] values = inputs(1 + random.nextInt(64));
                            try (DeviceBuffer scratch = b.upload(values)) {
                                b.apply(Activation.SIGMOID, scratch, scratch);
                                fold(scratch, new float[values.length]);
                            }
                        }
                    }
                }
            }
            return digest;
        }

        private Activation elementwise() {
            return ELEMENTWISE.get(random.nextInt(ELEMENTWISE.size())).defaults();
        }

        /** Mostly moderate values, with the specials every op must handle now and then. */
        private float[] inputs(int length) {
            float[] v = new float[length];
            for (int i = 0; i < length; i++) {
                int kind = random.nextInt(100);
                v[i] = switch (kind) {
                    case 0 -> Float.NaN;
                    case 1 -> Float.POSITIVE_INFINITY;
                    case 2 -> Float.NEGATIVE_INFINITY;
                    case 3 -> -0.0f;
                    default -> (float) (random.nextDouble(-12, 12));
                };
            }
            return v;
        }

        private void fold(DeviceBuffer buffer, float[] host) {
            buffer.read(0, host, 0, host.length);
            for (float v : host) {
                // Every NaN counts as one: the CPU backend's NaN sign bit differs between interpreted and
                // JIT-compiled code (0x7fc00000 vs 0xffc00000 for gelu(NaN)), on one thread as on many.
                digest = digest * 1_000_003 + Float.floatToIntBits(v);
            }
        }
    }
}
