package dev.gpuact.report;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import dev.gpuact.measure.Meter;
import dev.gpuact.measure.Sample;
import dev.gpuact.opencl.OpenClBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A fused op against the same work done unfused through gpuact, and against the plain op it is judged by, on
 * resident buffers of {@code elements} output floats. The four are timed in rounds that alternate them (a copy of
 * the output size, the plain op, the fused op, the unfused sequence), so a machine whose load drifts shifts all.
 *
 * @param onCpu whether the backend computes on the CPU (the cpu backend, OpenCL on a CPU device, the CUDA
 *              emulator): there the fusion targets are stated, not judged
 * @param clock how the backend timed its calls
 */
public record Fusion(String backend, Case op, long elements, boolean onCpu, Sample copy, Sample plain, Sample fused,
                     Sample unfused, String clock) {
    /** Columns of a softmax row, of a per-column bias, and the side of a square causal block. */
    public static final int COLS = 1024;
    /** The gated ops' hidden size: x is [rows, 2 x HIDDEN]. */
    public static final int HIDDEN = 4096;
    /** Fused sizes are whole [COLS, COLS] causal blocks. */
    public static final long BLOCK = (long) COLS * COLS;
    /** On a device, a fused op costs at most this many times its plain op... */
    public static final double MAX_FUSED_OVER_PLAIN = 1.15;
    /** ...and runs at least this many times faster than the unfused sequence. */
    public static final double MIN_UNFUSED_OVER_FUSED = 1.6;
    /** A square causal mask costs at most this share of the unmasked softmax, on every backend. */
    public static final double MAX_CAUSAL_OVER_PLAIN = 0.6;
    /** Host and backend floats a measurement holds at once per output element (the cpu backend's are on the heap). */
    public static final int FLOATS_PER_ELEMENT = 10;

    /** What is fused, what it is judged by, and the unfused sequence of gpuact calls doing the same work. */
    public enum Case {
        BIAS_GELU("bias+gelu", "gelu(x + b) with a bias per column of [n/1024, 1024]", "gelu",
                "bias add (applyBias with identity), then gelu"),
        BIAS_GELU_BACKWARD("bias+gelu bwd", "dx and dbias of gelu(x + b), a bias per column of [n/1024, 1024]",
                "gelu's backward pass", "gelu's backward pass, then identity's bias backward over dx in place (dbias)"),
        SWIGLU("swiglu", "silu(a) * b over x [n/4096, 2 x 4096]", "silu over n",
                "silu(a), then the product with b (square's backward pass, b * 2t: two reads, one write)"),
        MASKED_SOFTMAX("masked softmax", "softmax(x + mask), a mask row per row of 1024", "softmax",
                "mask add (applyBias with a bias of n values), then softmax"),
        CAUSAL_SOFTMAX("causal softmax", "softmax under RowMask.causal in square [1024, 1024] blocks", "softmax",
                "add of the materialised causal mask, then softmax");

        private final String label;
        private final String fused;
        private final String plain;
        private final String unfused;

        Case(String label, String fused, String plain, String unfused) {
            this.label = label;
            this.fused = fused;
            this.plain = plain;
            this.unfused = unfused;
        }

        public String label() {
            return label;
        }

        /** One line: the fused op, the plain op it is judged by, the unfused sequence. */
        public String describe() {
            return label + ": " + fused + "; plain: " + plain + "; unfused: " + unfused;
        }
    }

    public double fusedOverPlain() {
        return fused.median() / plain.median();
    }

    public double unfusedOverFused() {
        return unfused.median() / fused.median();
    }

    /**
     * The verdict against the targets: the causal mask's share of the softmax on every backend (the work it skips
     * is skipped on any processor); the fusion ratios on a device only.
     */
    public String verdict() {
        if (op == Case.CAUSAL_SOFTMAX) {
            return fusedOverPlain() <= MAX_CAUSAL_OVER_PLAIN ? "meets <= 0.6x softmax"
                    : String.format(Locale.ROOT, "misses: %.2fx softmax, target 0.6x", fusedOverPlain());
        }
        if (onCpu) {
            return "stated (CPU)";
        }
        List<String> misses = new ArrayList<>();
        if (fusedOverPlain() > MAX_FUSED_OVER_PLAIN) {
            misses.add(String.format(Locale.ROOT, "%.2fx plain, target 1.15x", fusedOverPlain()));
        }
        if (unfusedOverFused() < MIN_UNFUSED_OVER_FUSED) {
            misses.add(String.format(Locale.ROOT, "%.2fx faster than unfused, target 1.6x", unfusedOverFused()));
        }
        return misses.isEmpty() ? "meets both" : "misses: " + String.join(", ", misses);
    }

    /** Whether a backend computes on the CPU, where the fusion targets are stated, not judged. */
    public static boolean computesOnCpu(Backend backend) {
        if (backend instanceof OpenClBackend openCl) {
            return openCl.openClDevice().isCpu();
        }
        return !backend.name().equals("cuda"); // cpu and the CUDA emulator
    }

    /** Measures every case at {@code n} output elements, a whole number of {@link #BLOCK}s. */
    public static List<Fusion> measure(Backend backend, int n, Sample.Plan plan) {
        if (n <= 0 || n % BLOCK != 0) {
            throw new IllegalArgumentException("fused sizes are whole [1024, 1024] blocks (multiples of 1M), got " + n);
        }
        float[] host = Meter.randomInput(2 * n);
        float[] causal = new float[(int) BLOCK];
        for (int i = 0; i < COLS; i++) {
            Arrays.fill(causal, i * COLS + i + 1, (i + 1) * COLS, Float.NEGATIVE_INFINITY);
        }
        boolean onCpu = computesOnCpu(backend);
        String clock = backend.time(() -> { }).clock().description();
        RowLayout rows = RowLayout.of(n / COLS, COLS);
        List<Fusion> out = new ArrayList<>();
        try (DeviceBuffer x = backend.upload(host);
             DeviceBuffer a = backend.upload(Arrays.copyOf(host, n));
             DeviceBuffer b = backend.upload(Arrays.copyOfRange(host, n, 2 * n));
             DeviceBuffer bias = backend.upload(Arrays.copyOf(host, COLS));
             DeviceBuffer dbias = backend.allocate(COLS);
             DeviceBuffer causalMask = backend.upload(causal);
             DeviceBuffer y = backend.allocate(n);
             DeviceBuffer t = backend.allocate(n)) {
            Runnable copy = () -> backend.copy(a, y);
            Runnable softmax = () -> backend.applyRows(Activation.SOFTMAX, a, y, rows);
            for (Case c : Case.values()) {
                Runnable plain;
                Runnable fused;
                Runnable unfused;
                switch (c) {
                    case BIAS_GELU -> {
                        plain = () -> backend.apply(Activation.GELU, a, y);
                        fused = () -> backend.applyBias(Activation.GELU, a, bias, y, COLS, 1);
                        unfused = () -> {
                            backend.applyBias(Activation.IDENTITY, a, bias, t, COLS, 1);
                            backend.apply(Activation.GELU, t, y);
                        };
                    }
                    case BIAS_GELU_BACKWARD -> {
                        plain = () -> backend.applyBackward(Activation.GELU, a, b, y);
                        fused = () -> backend.applyBiasBackward(Activation.GELU, a, bias, b, y, dbias, COLS, 1);
                        unfused = () -> {
                            backend.applyBackward(Activation.GELU, a, b, t);
                            backend.applyBiasBackward(Activation.IDENTITY, a, bias, t, t, dbias, COLS, 1);
                        };
                    }
                    case SWIGLU -> {
                        Activation swiglu = Op.SWIGLU.defaults();
                        plain = () -> backend.apply(Activation.SILU, a, y);
                        fused = () -> backend.gated(swiglu, x, y, n / HIDDEN, HIDDEN);
                        unfused = () -> {
                            backend.apply(Activation.SILU, a, t);
                            backend.applyBackward(Activation.SQUARE, t, b, y);
                        };
                    }
                    case MASKED_SOFTMAX -> {
                        RowMask mask = RowMask.none().add(b);
                        plain = softmax;
                        fused = () -> backend.applyRows(Activation.SOFTMAX, a, y, rows, mask);
                        unfused = () -> {
                            backend.applyBias(Activation.IDENTITY, a, b, t, n, 1);
                            backend.applyRows(Activation.SOFTMAX, t, y, rows);
                        };
                    }
                    case CAUSAL_SOFTMAX -> {
                        RowMask mask = RowMask.none().causal(0, COLS);
                        plain = softmax;
                        fused = () -> backend.applyRows(Activation.SOFTMAX, a, y, rows, mask);
                        unfused = () -> {
                            backend.applyBias(Activation.IDENTITY, a, causalMask, t, BLOCK, 1);
                            backend.applyRows(Activation.SOFTMAX, t, y, rows);
                        };
                    }
                    default -> throw new AssertionError(c);
                }
                Sample[] samples = alternate(backend, plan, copy, plain, fused, unfused);
                out.add(new Fusion(backend.name(), c, n, onCpu, samples[0], samples[1], samples[2], samples[3], clock));
            }
        }
        return out;
    }

    /**
     * Rounds of one timed call of each piece of work in turn: warm-up rounds, then at least {@code minRuns} rounds
     * and at most {@code maxRuns}, stopping once the plan's budget per piece is spent.
     */
    private static Sample[] alternate(Backend backend, Sample.Plan plan, Runnable... work) {
        for (int i = 0; i < plan.warmup(); i++) {
            for (Runnable w : work) {
                w.run();
            }
        }
        long[][] nanos = new long[work.length][plan.maxRuns()];
        long start = System.nanoTime();
        long budget = plan.budgetNanos() * work.length;
        int runs = 0;
        while (runs < plan.maxRuns() && (runs < plan.minRuns() || System.nanoTime() - start < budget)) {
            for (int w = 0; w < work.length; w++) {
                nanos[w][runs] = backend.time(work[w]).nanos();
            }
            runs++;
        }
        Sample[] samples = new Sample[work.length];
        for (int w = 0; w < work.length; w++) {
            samples[w] = Sample.of(Arrays.copyOf(nanos[w], runs));
        }
        return samples;
    }
}
