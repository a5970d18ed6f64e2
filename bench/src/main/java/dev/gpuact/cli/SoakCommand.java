package dev.gpuact.cli;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.Param;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import dev.gpuact.conformance.Conformance;
import dev.gpuact.conformance.OpReport;
import dev.gpuact.conformance.Ulp;
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
 * maxout and PReLU exactly); the fused ops (gated, bias + activation, masked and causal softmax) forward against
 * the unfused definition in double precision, within the same bounds (gated: one ULP more for the product). Prints calls/s, errors and the backend's memory before and after; exit 1 on any error or on
 * memory not given back.
 * The report lists the calls and errors per kind of call (an op, {@code <op>+bias}, {@code <op>+mask}) and the
 * first failure of each failing kind.
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
    private static final List<Op> GATED = Arrays.stream(Op.values()).filter(op -> op.kind() == Op.Kind.GATED).toList();
    /** The kinds of call the soak makes: every op, and the fused forms (bias + activation, masked softmax). */
    private static final List<String> SOAKED = soaked();

    /** Calls per kind, so a run says whether it reached every kind. */
    private final Map<String, LongAdder> callsPerKind = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errorsPerKind = new ConcurrentHashMap<>();
    private final AtomicLong errors = new AtomicLong();
    /** The first failure of each kind: one line per kind of error, rather than many of the commonest. */
    private final Map<String, String> firstErrors = new ConcurrentHashMap<>();

    private static List<String> soaked() {
        List<String> kinds = new ArrayList<>(Arrays.stream(Op.values()).map(Op::id).toList());
        Op.ELEMENTWISE.forEach(op -> kinds.add(biasKind(op)));
        Conformance.MASKABLE.forEach(op -> kinds.add(maskKind(op)));
        return List.copyOf(kinds);
    }

    private static String biasKind(Op op) {
        return op.id() + "+bias";
    }

    private static String maskKind(Op op) {
        return op.id() + "+mask";
    }

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
            long fewest = SOAKED.stream().mapToLong(kind -> callsPerKind.getOrDefault(kind, new LongAdder()).sum())
                    .min().orElse(0);
            out.printf(Locale.ROOT, "kinds of call (ops, <op>+bias, <op>+mask): %d of %d made, each at least %d times%n",
                    callsPerKind.size(), SOAKED.size(), fewest);
            out.printf(Locale.ROOT, "fused calls (gated, <op>+bias, <op>+mask): %d%n", callsPerKind.entrySet().stream()
                    .filter(e -> e.getKey().contains("+") || GATED.stream().anyMatch(op -> op.id().equals(e.getKey())))
                    .mapToLong(e -> e.getValue().sum()).sum());
            if (!errorsPerKind.isEmpty()) {
                out.println("errors by kind: " + SOAKED.stream().filter(errorsPerKind::containsKey)
                        .map(kind -> kind + " " + errorsPerKind.get(kind).sum()).collect(Collectors.joining(", ")));
            }
            SOAKED.stream().filter(firstErrors::containsKey)
                    .forEach(kind -> out.println("error: " + firstErrors.get(kind)));
            out.flush();
            return errors.get() == 0 && after.equals(before) ? 0 : 1;
        }
    }

    /** Random checked calls until the deadline; an exception is an error like a wrong result, and the loop goes on. */
    private void soak(Backend b, SplittableRandom random, long deadline) {
        while (System.nanoTime() < deadline) {
            String failure;
            boolean fused = random.nextInt(8) == 0; // one call in eight: a fused op
            Op op = fused ? randomFusedOp(random) : randomOp(random);
            String kind = !fused || op.kind() == Op.Kind.GATED ? op.id() : op.isRowwise() ? maskKind(op) : biasKind(op);
            try {
                failure = fused ? switch (op.kind()) {
                    case GATED -> gated(b, op, random);
                    case ROWWISE -> masked(b, op, random);
                    default -> bias(b, op, random);
                } : switch (op) {
                    case SOFTMAX, LOG_SOFTMAX -> softmax(b, op, random);
                    case MAXOUT -> maxout(b, random);
                    case PRELU -> prelu(b, random);
                    default -> elementwise(b, op, random);
                };
            } catch (RuntimeException e) {
                failure = kind + ": unexpected " + e;
            }
            calls.incrementAndGet();
            callsPerKind.computeIfAbsent(kind, k -> new LongAdder()).increment();
            if (failure != null) {
                errors.incrementAndGet();
                errorsPerKind.computeIfAbsent(kind, k -> new LongAdder()).increment();
                firstErrors.putIfAbsent(kind, failure);
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

    /** A gated op, an elementwise op with a bias, or softmax or log_softmax under a mask. */
    private static Op randomFusedOp(SplittableRandom random) {
        return switch (random.nextInt(3)) {
            case 0 -> GATED.get(random.nextInt(GATED.size()));
            case 1 -> Op.ELEMENTWISE.get(random.nextInt(Op.ELEMENTWISE.size()));
            default -> Conformance.MASKABLE.get(random.nextInt(Conformance.MASKABLE.size()));
        };
    }

    /** y = f(x + bias[c]) against f at the float sum, within the forward bound. */
    private static String bias(Backend b, Op op, SplittableRandom random) {
        Activation activation = randomParameters(op, random);
        int channels = 1 + random.nextInt(40);
        int inner = random.nextBoolean() ? 1 : 1 + random.nextInt(40);
        float[] x = finite(random, channels * inner * (1 + random.nextInt(8)) + random.nextInt(inner));
        float[] bias = finite(random, channels);
        float[] y;
        try (DeviceBuffer bb = b.upload(bias)) {
            y = compute(b, x, x.length, (bx, by) -> b.applyBias(activation, bx, bb, by, channels, inner));
        }
        for (int i = 0; i < x.length; i++) {
            float z = x[i] + bias[(i / inner) % channels];
            double want = op.reference(z, activation.a(), activation.b());
            if (!(Ulp.distance(y[i], want) <= Conformance.FORWARD_ULP)) {
                return activation + " bias channels=" + channels + " inner=" + inner + " at " + i + " (x + bias = "
                        + z + "): got " + y[i] + " want " + want;
            }
        }
        return null;
    }

    /** f(gate) * other on [rows, 2 * hidden] against the double product, within the forward bound and one ULP. */
    private static String gated(Backend b, Op op, SplittableRandom random) {
        Activation gate = op.defaults();
        int rows = 1 + random.nextInt(16);
        int hidden = 1 + random.nextInt(300);
        float[] x = finite(random, rows * 2 * hidden);
        float[] y = compute(b, x, rows * hidden, (bx, by) -> b.gated(gate, bx, by, rows, hidden));
        for (int i = 0; i < y.length; i++) {
            int first = i / hidden * 2 * hidden + i % hidden;
            double want = op.referenceGated(x[first], x[first + hidden], gate.a(), gate.b());
            if (!(Ulp.distance(y[i], want) <= Conformance.FORWARD_ULP + 1)) {
                return op.id() + " rows=" + rows + " hidden=" + hidden + " output " + i + " (halves " + x[first] + ", "
                        + x[first + hidden] + "): got " + y[i] + " want " + want;
            }
        }
        return null;
    }

    /** Rows under an additive mask (a quarter -inf) and a causal limit, against softmax of z in double. */
    private static String masked(Backend b, Op op, SplittableRandom random) {
        boolean log = op == Op.LOG_SOFTMAX;
        int rows = 1 + random.nextInt(8);
        int cols = 1 + random.nextInt(300);
        long offset = random.nextInt(cols + 1) - 1;
        float[] x = finite(random, rows * cols);
        float[] additive = finite(random, rows * cols);
        for (int i = 0; i < additive.length; i++) {
            if (random.nextInt(4) == 0) {
                additive[i] = Float.NEGATIVE_INFINITY;
            }
        }
        float[] y;
        try (DeviceBuffer mask = b.upload(additive)) {
            RowMask rowMask = RowMask.none().add(mask).causal(offset);
            Activation activation = log ? Activation.LOG_SOFTMAX : Activation.SOFTMAX;
            y = compute(b, x, x.length, (bx, by) -> b.applyRows(activation, bx, by, RowLayout.of(rows, cols), rowMask));
        }
        for (int r = 0; r < rows; r++) {
            double[] z = new double[cols];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) {
                z[j] = j <= r + offset ? x[r * cols + j] + additive[r * cols + j] : Double.NEGATIVE_INFINITY;
                max = Math.max(max, z[j]);
            }
            // The sum is 1 (one maximum's term) and the others, whose log is log1p(others): log(sum) in double
            // would lose the others' digits when they are tiny, and the maximum's log_softmax is -log1p(others).
            double others = 0;
            boolean maximumSeen = false;
            for (int j = 0; j < cols; j++) {
                if (z[j] == max && !maximumSeen) {
                    maximumSeen = true;
                } else if (max != Double.NEGATIVE_INFINITY) {
                    others += Math.exp(z[j] - max);
                }
            }
            for (int j = 0; j < cols; j++) {
                // A fully masked row gives zeros (softmax) or -inf (log_softmax), the default masked_nan choice.
                double want = max == Double.NEGATIVE_INFINITY ? (log ? Double.NEGATIVE_INFINITY : 0)
                        : log ? z[j] - max - Math.log1p(others) : Math.exp(z[j] - max) / (1 + others);
                float got = y[r * cols + j];
                if (!(Ulp.distance(got, want) <= Conformance.BACKWARD_ULP)) {
                    return op.id() + " masked rows=" + rows + " cols=" + cols + " causal offset=" + offset + " at ["
                            + r + ", " + j + "]: got " + got + " want " + want;
                }
            }
        }
        return null;
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

    /** Values in [-8, 8]: the fused checks leave the special values to the conformance suite. */
    private static float[] finite(SplittableRandom random, int length) {
        float[] v = new float[length];
        for (int i = 0; i < length; i++) {
            v[i] = (float) random.nextDouble(-8, 8);
        }
        return v;
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
