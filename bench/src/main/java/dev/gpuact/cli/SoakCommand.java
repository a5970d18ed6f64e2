package dev.gpuact.cli;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.Param;
import dev.gpuact.RowLayout;
import dev.gpuact.conformance.Conformance;
import dev.gpuact.conformance.OpReport;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code gpuact soak}: threads make random calls on one backend for a bounded time, each result checked against the
 * double-precision reference (elementwise ops within the conformance bounds, softmax and log_softmax within 8 ULP,
 * maxout and PReLU exactly). Prints calls/s, errors and the backend's memory before and after; exit 1 on any error
 * or on memory not given back.
 * The report lists the calls and errors per op and the first failure of each failing op.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        header = "Random checked calls from several threads on one backend, for a bounded time.",
        description = "Random calls from several threads on one backend for a bounded time, every result checked. Not part "
                + "of the test suite: run it for minutes on a machine you want to trust.")
final class SoakCommand implements Callable<Integer> {
    private static final int MAX_MINUTES = 24 * 60;
    private static final int MAX_THREADS = 256;

    @Spec
    CommandSpec spec;

    @Mixin
    BackendOption backend;

    @Option(names = "--minutes", paramLabel = "N", defaultValue = "2",
            description = "How long to run, fractions allowed (default ${DEFAULT-VALUE}, at most " + MAX_MINUTES + ").")
    double minutes;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "4",
            description = "Threads calling the backend at once (default ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the random calls (default ${DEFAULT-VALUE}).")
    long seed;

    private final AtomicLong calls = new AtomicLong();
    /** The ops the soak calls: every op but the gated ones, which the conformance suite covers. */
    private static final List<Op> SOAKED = Arrays.stream(Op.values()).filter(op -> op.kind() != Op.Kind.GATED).toList();

    /** Calls per op, so a run says whether it reached every op. */
    private final Map<Op, LongAdder> callsPerOp = new ConcurrentHashMap<>();
    private final Map<Op, LongAdder> errorsPerOp = new ConcurrentHashMap<>();
    private final AtomicLong errors = new AtomicLong();
    /** The first failure of each op: one line per kind of error, rather than many of the commonest. */
    private final Map<Op, String> firstErrors = new ConcurrentHashMap<>();

    @Override
    public Integer call() throws Exception {
        if (!(minutes > 0 && minutes <= MAX_MINUTES)) {
            throw new BadInputException("--minutes must be > 0 and <= " + MAX_MINUTES + ", got " + minutes);
        }
        if (threads < 1 || threads > MAX_THREADS) {
            throw new BadInputException("--threads must be between 1 and " + MAX_THREADS + ", got " + threads);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Backend b = backend.open()) {
            Backend.MemoryStats before = b.memory();
            long start = System.nanoTime();
            long deadline = start + (long) (minutes * 60e9);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> workers = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    SplittableRandom random = new SplittableRandom(seed * 1_000_003 + t);
                    workers.add(pool.submit(() -> soak(b, random, deadline)));
                }
                for (Future<?> w : workers) {
                    w.get();
                }
            } finally {
                pool.shutdownNow();
                pool.awaitTermination(1, TimeUnit.MINUTES);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Backend.MemoryStats after = b.memory();
            out.printf(Locale.ROOT, "soak on %s (%s): %d threads for %.1f s%n", b.name(), b.device(), threads, seconds);
            out.printf(Locale.ROOT, "calls: %d (%.0f calls/s), errors: %d%n", calls.get(), calls.get() / seconds, errors.get());
            out.printf(Locale.ROOT, "memory before: %d buffers, %d bytes; after: %d buffers, %d bytes%n",
                    before.liveBuffers(), before.bytesInUse(), after.liveBuffers(), after.bytesInUse());
            long fewest = SOAKED.stream().mapToLong(op -> callsPerOp.getOrDefault(op, new LongAdder()).sum())
                    .min().orElse(0);
            out.printf(Locale.ROOT, "ops: %d of %d called, each at least %d times%n", callsPerOp.size(),
                    SOAKED.size(), fewest);
            if (!errorsPerOp.isEmpty()) {
                out.println("errors by op: " + Arrays.stream(Op.values()).filter(errorsPerOp::containsKey)
                        .map(op -> op.id() + " " + errorsPerOp.get(op).sum()).collect(Collectors.joining(", ")));
            }
            Arrays.stream(Op.values()).filter(firstErrors::containsKey)
                    .forEach(op -> out.println("error: " + firstErrors.get(op)));
            out.flush();
            return errors.get() == 0 && after.equals(before) ? 0 : 1;
        }
    }

    /** Random checked calls until the deadline; an exception is an error like a wrong result, and the loop goes on. */
    private void soak(Backend b, SplittableRandom random, long deadline) {
        while (System.nanoTime() < deadline) {
            String failure;
            Op op = randomOp(random);
            try {
                failure = switch (op) {
                    case SOFTMAX, LOG_SOFTMAX -> softmax(b, op, random);
                    case MAXOUT -> maxout(b, random);
                    case PRELU -> prelu(b, random);
                    default -> elementwise(b, op, random);
                };
            } catch (RuntimeException e) {
                failure = op.id() + ": unexpected " + e;
            }
            calls.incrementAndGet();
            callsPerOp.computeIfAbsent(op, o -> new LongAdder()).increment();
            if (failure != null) {
                errors.incrementAndGet();
                errorsPerOp.computeIfAbsent(op, o -> new LongAdder()).increment();
                firstErrors.putIfAbsent(op, failure);
            }
        }
    }

    /** A quarter of the calls elementwise, the rest spread over the row-wise ops and PReLU, as before. */
    private static Op randomOp(SplittableRandom random) {
        return switch (random.nextInt(4)) {
            case 0 -> Op.ELEMENTWISE.get(random.nextInt(Op.ELEMENTWISE.size()));
            case 1 -> random.nextBoolean() ? Op.SOFTMAX : Op.LOG_SOFTMAX;
            case 2 -> Op.MAXOUT;
            default -> Op.PRELU;
        };
    }

    private static String elementwise(Backend b, Op op, SplittableRandom random) {
        Activation activation = randomParameters(op, random);
        float[] x = inputs(random, 1 + random.nextInt(4096));
        float[] dy = inputs(random, x.length);
        OpReport report = Conformance.checkElementwise(b, activation, x, dy);
        return report.passed() ? null : activation + ": " + report.failures().get(0);
    }

    /** The op with each parameter drawn from its range, or its defaults. */
    private static Activation randomParameters(Op op, SplittableRandom random) {
        Map<String, Double> values = new HashMap<>();
        for (Param p : op.params()) {
            double v = random.nextDouble(0.05, 3);
            values.put(p.name(), p.range() == Param.Range.FINITE && random.nextBoolean() ? -v : v);
        }
        if (op == Op.HARDTANH && values.get("min") > values.get("max")) {
            values.put("min", -values.get("min"));
            values.put("max", Math.abs(values.get("max")));
        }
        return random.nextBoolean() ? op.defaults() : Activation.of(op, values);
    }

    /** Rows checked forward and backward by the conformance suite's own reference, at temperatures from 1/4 to 4. */
    private static String softmax(Backend b, Op op, SplittableRandom random) {
        boolean log = op == Op.LOG_SOFTMAX;
        double temperature = (float) random.nextDouble(0.25, 4);
        Activation activation = log ? Activation.logSoftmax(temperature, false) : Activation.softmax(temperature, false);
        RowLayout layout = RowLayout.of(1 + random.nextInt(8), 1 + random.nextInt(1100));
        float[] x = inputs(random, (int) layout.xExtent());
        OpReport report = Conformance.checkRows(b, activation, x, layout);
        return report.passed() ? null : report.failures().get(0);
    }

    private static String maxout(Backend b, SplittableRandom random) {
        int pieces = 1 + random.nextInt(4);
        int rows = 1 + random.nextInt(16);
        int outCols = 1 + random.nextInt(64);
        float[] x = inputs(random, rows * outCols * pieces);
        float[] y = compute(b, x, rows * outCols, (bx, by) ->
                b.applyRows(Activation.maxout(pieces), bx, by, RowLayout.of(rows, outCols * pieces, outCols)));
        for (int j = 0; j < y.length; j++) {
            float want = x[j * pieces];
            for (int p = 1; p < pieces; p++) {
                want = Math.max(want, x[j * pieces + p]); // NaN in gives NaN out
            }
            if (!sameValue(y[j], want)) {
                return "maxout(pieces=" + pieces + ") output " + j + ": got " + y[j] + " want " + want;
            }
        }
        return null;
    }

    private static String prelu(Backend b, SplittableRandom random) {
        int channels = 1 + random.nextInt(8);
        int inner = 1 + random.nextInt(16);
        float[] x = inputs(random, channels * inner * (1 + random.nextInt(8)));
        float[] weight = new float[channels];
        for (int c = 0; c < channels; c++) {
            weight[c] = (float) random.nextDouble(-1, 1);
        }
        float[] y;
        try (DeviceBuffer w = b.upload(weight)) {
            y = compute(b, x, x.length, (bx, by) -> b.prelu(bx, w, by, channels, inner));
        }
        for (int i = 0; i < x.length; i++) {
            float want = x[i] > 0 ? x[i] : weight[(i / inner) % channels] * x[i];
            if (!sameValue(y[i], want)) {
                return "prelu channels=" + channels + " inner=" + inner + " at " + i + " (x=" + x[i] + "): got " + y[i]
                        + " want " + want;
            }
        }
        return null;
    }

    /** Equal as values: NaN matches NaN, and -0 matches +0. */
    private static boolean sameValue(float got, float want) {
        return got == want || Float.isNaN(got) && Float.isNaN(want);
    }

    private interface Call {
        void run(DeviceBuffer x, DeviceBuffer y);
    }

    /** Uploads x, runs the call into a new buffer of {@code outLength}, and returns what it holds. */
    private static float[] compute(Backend b, float[] x, int outLength, Call call) {
        try (DeviceBuffer bx = b.upload(x); DeviceBuffer by = b.allocate(outLength)) {
            call.run(bx, by);
            return by.toArray();
        }
    }

    /** Mostly values in [-20, 20], with NaN, the infinities and -0 now and then. */
    private static float[] inputs(SplittableRandom random, int length) {
        float[] v = new float[length];
        for (int i = 0; i < length; i++) {
            v[i] = switch (random.nextInt(200)) {
                case 0 -> Float.NaN;
                case 1 -> Float.POSITIVE_INFINITY;
                case 2 -> Float.NEGATIVE_INFINITY;
                case 3 -> -0.0f;
                default -> (float) random.nextDouble(-20, 20);
            };
        }
        return v;
    }
}
