package dev.gpuact.cli;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpuact bench}: a quick table of resident compute (y = f(x), data already in the backend's buffers) per
 * backend, next to the bandwidth of a plain Java array copy of the same bytes measured in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Times relu, sigmoid, gelu, silu and softmax (rows of 1024) on each usable backend and",
                "compares the bytes moved per second with a plain Java array copy of the same size."})
final class BenchCommand implements Callable<Integer> {
    private static final int SOFTMAX_COLUMNS = 1024;
    private static final List<Activation> CASES = List.of(Activation.RELU, Activation.SIGMOID, Activation.GELU,
            Activation.SILU, Activation.SOFTMAX);

    @Spec
    CommandSpec spec;

    @Option(names = "--backend", paramLabel = "NAME", description = "Only this backend (default: every usable one).")
    String backendName;

    @Option(names = "--sizes", split = ",", paramLabel = "FLOATS", defaultValue = "1048576,16777216",
            description = "Elements per case, multiples of " + SOFTMAX_COLUMNS + " (default ${DEFAULT-VALUE}).")
    int[] sizes;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed runs per case (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--repeat", defaultValue = "5", description = "Timed runs per case; the median is shown (default ${DEFAULT-VALUE}).")
    int repeat;

    @Override
    public Integer call() {
        for (int n : sizes) {
            if (n < SOFTMAX_COLUMNS || n % SOFTMAX_COLUMNS != 0) {
                throw new BadInputException("--sizes: " + n + " is not a positive multiple of " + SOFTMAX_COLUMNS);
            }
        }
        if (warmup < 0 || repeat < 1) {
            throw new BadInputException("--warmup must be >= 0 and --repeat >= 1, got " + warmup + " and " + repeat);
        }
        List<String> names = backendName == null ? Backends.usableNames() : List.of(backendName);
        double[] copyGbps = Arrays.stream(sizes).mapToDouble(n -> gbps(n, medianNanos(copyOf(n)))).toArray();
        PrintWriter out = spec.commandLine().getOut();
        for (int b = 0; b < names.size(); b++) {
            try (Backend backend = BackendOption.open(names.get(b))) {
                if (b == 0) { // only once a backend opened: a bad --backend prints nothing but its error
                    out.printf("median of %d runs after %d warm-up; GB/s counts x read + y written; 'of copy' is the"
                            + " share of a plain Java array copy of the same bytes%n", repeat, warmup);
                    out.printf("%-8s %-12s %10s %10s %8s %10s %8s%n", "backend", "op", "floats", "ms", "GB/s",
                            "copy GB/s", "of copy");
                }
                for (int s = 0; s < sizes.length; s++) {
                    for (Activation activation : CASES) {
                        double nanos = timeCase(backend, activation, sizes[s]);
                        double gbps = gbps(sizes[s], nanos);
                        out.printf("%-8s %-12s %10d %10.3f %8.2f %10.2f %7.1f%%%n", backend.name(), activation.op().id(),
                                sizes[s], nanos / 1e6, gbps, copyGbps[s], 100 * gbps / copyGbps[s]);
                        out.flush();
                    }
                }
            }
        }
        return 0;
    }

    private double timeCase(Backend backend, Activation activation, int n) {
        float[] host = new float[n];
        SplittableRandom random = new SplittableRandom(n);
        for (int i = 0; i < n; i++) {
            host[i] = (float) random.nextDouble(-4, 4);
        }
        try (DeviceBuffer x = backend.upload(host); DeviceBuffer y = backend.allocate(n)) {
            Runnable run = activation.op().isElementwise()
                    ? () -> backend.apply(activation, x, y)
                    : () -> backend.applyRows(activation, x, y, RowLayout.of(n / SOFTMAX_COLUMNS, SOFTMAX_COLUMNS));
            return medianNanos(run);
        }
    }

    private static Runnable copyOf(int n) {
        float[] src = new float[n];
        float[] dst = new float[n];
        Arrays.fill(src, 1f);
        return () -> System.arraycopy(src, 0, dst, 0, n);
    }

    private long medianNanos(Runnable run) {
        for (int i = 0; i < warmup; i++) {
            run.run();
        }
        long[] times = new long[repeat];
        for (int i = 0; i < repeat; i++) {
            long start = System.nanoTime();
            run.run();
            times[i] = System.nanoTime() - start;
        }
        Arrays.sort(times);
        return times[repeat / 2];
    }

    /** Bytes read plus bytes written, per second, in 10^9. */
    private static double gbps(long floats, double nanos) {
        return 2.0 * floats * Float.BYTES / Math.max(nanos, 1);
    }
}
