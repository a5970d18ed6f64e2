package dev.gpuact.bench;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Kernel time of forward and backward passes on one backend, each next to the device copy of the same floats
 * measured in the same run (the copy reads n and writes n floats; a forward reads n and writes n, a backward reads
 * 2n and writes n). Ops with a backward pass from the saved output also get that pass ("from y"; the x buffer
 * stands in for y, as the formulas have no value-dependent branches). A row-wise op names its row length after a
 * colon (softmax:1024 runs n / 1024 rows of 1024). Rounds alternate between the copy and the op, so a machine whose
 * load drifts shifts both.
 *
 * <pre>java -cp bench/target/gpuact.jar dev.gpuact.bench.OpTimes opencl 16M 15 relu,sigmoid,softmax:8192,...</pre>
 * Prints one line per op and direction: median milliseconds, the median copy of the same rounds, their ratio, and
 * the median of each round's own ratio ("paired": a load that comes and goes between rounds cancels in it).
 */
public final class OpTimes {
    /**
     * Untimed rounds first: the JIT compiles an op's loops during its first calls, and its compiler threads take the
     * cores from the op's own (the first op of a run read 1.37x the copy where it reads 0.9x warm).
     */
    private static final int WARM_UP_ROUNDS = 5;

    private OpTimes() {
    }

    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: OpTimes BACKEND SIZE[K|M] ROUNDS OP[:ROW LENGTH][,OP...]");
            System.exit(2);
        }
        int n = parseSize(args[1]);
        int rounds = Integer.parseInt(args[2]);
        List<String> specs = Arrays.asList(args[3].split(","));
        try (Backend backend = Backends.get(args[0])) {
            System.out.printf(Locale.ROOT, "%s, %d floats, median of %d rounds%n", backend, n, rounds);
            System.out.printf(Locale.ROOT, "%-16s %-9s %9s %9s %7s %7s%n", "op", "pass", "ms", "copy ms", "ratio",
                    "paired");
            float[] host = new float[n];
            SplittableRandom random = new SplittableRandom(n);
            for (int i = 0; i < n; i++) {
                host[i] = (float) random.nextGaussian();  // N(0, 1), as the figures of PyTorch it is compared with
            }
            try (DeviceBuffer x = backend.upload(host); DeviceBuffer dy = backend.upload(host);
                 DeviceBuffer out = backend.allocate(n); DeviceBuffer copy = backend.allocate(n)) {
                for (String spec : specs) {
                    String[] parts = spec.split(":", 2);
                    Activation activation = Op.byName(parts[0]).defaults();
                    if (parts.length == 2) {
                        long columns = parseSize(parts[1]);
                        if (columns <= 0 || n % columns != 0) {
                            throw new IllegalArgumentException(spec + ": the row length must divide " + n);
                        }
                        RowLayout layout = RowLayout.of(n / columns, columns);
                        report(backend, spec, "forward", rounds, x, copy,
                                () -> backend.applyRows(activation, x, out, layout));
                        report(backend, spec, "backward", rounds, x, copy,
                                () -> backend.applyRowsBackward(activation, x, dy, out, layout));
                        report(backend, spec, "from y", rounds, x, copy,
                                () -> backend.applyRowsBackwardFromOutput(activation, x, dy, out, layout));
                        continue;
                    }
                    report(backend, spec, "forward", rounds, x, copy,
                            () -> backend.apply(activation, x, out));
                    report(backend, spec, "backward", rounds, x, copy,
                            () -> backend.applyBackward(activation, x, dy, out));
                    if (activation.hasBackwardFromOutput()) {
                        report(backend, spec, "from y", rounds, x, copy,
                                () -> backend.applyBackwardFromOutput(activation, x, dy, out));
                    }
                }
            }
        }
    }

    private static void report(Backend backend, String op, String pass, int rounds, DeviceBuffer x, DeviceBuffer copy,
                               Runnable work) {
        for (int r = 0; r < WARM_UP_ROUNDS; r++) {
            work.run();
            backend.copy(x, copy);
        }
        List<Double> opMs = new ArrayList<>();
        List<Double> copyMs = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            copyMs.add(backend.time(() -> backend.copy(x, copy)).nanos() / 1e6);
            opMs.add(backend.time(work).nanos() / 1e6);
        }
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            ratios.add(opMs.get(r) / copyMs.get(r));
        }
        System.out.printf(Locale.ROOT, "%-16s %-9s %9.2f %9.2f %7.2f %7.2f%n", op, pass, median(opMs), median(copyMs),
                median(opMs) / median(copyMs), median(ratios));
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static int parseSize(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        int unit = t.endsWith("K") ? 1 << 10 : t.endsWith("M") ? 1 << 20 : 1;
        return Integer.parseInt(unit == 1 ? t : t.substring(0, t.length() - 1)) * unit;
    }
}
