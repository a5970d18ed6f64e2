package dev.gpuact.cli;

import dev.gpuact.Backends;
import dev.gpuact.cpu.CpuBackend;
import dev.gpuact.measure.Sample;
import dev.gpuact.measure.Sizes;
import dev.gpuact.measure.Workload;
import dev.gpuact.report.BenchReport;
import dev.gpuact.report.BenchRun;
import dev.gpuact.report.BenchSettings;
import dev.gpuact.report.Fusion;
import dev.gpuact.report.ReportWriter;
import dev.gpuact.report.TerminalTable;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpuact bench}: transfers, kernels and end-to-end times per backend, workload and size, each next to its
 * limit measured in the same run, the crossover sizes and the overlap pipeline; a table on the terminal and a
 * report folder (CSV, JSON, PNG charts, the machine).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        header = "Transfer versus compute, device versus CPU: timings, limits, crossover and charts.",
        description = "Measures upload, kernel, download and end-to-end time of activations on every usable backend over a "
                + "range of sizes, with the limits (transfer and copy bandwidth) measured in the same run, and writes a "
                + "report folder: table.txt, measurements.csv, crossover.csv, overlap.csv, fused.csv, report.json, "
                + "machine.txt, cost-model.tsv and PNG charts. The fused ops (bias + activation forward and backward, swiglu, "
                + "masked and causal softmax) are measured against the same work done unfused through gpuact and against their "
                + "plain op, with the targets' verdicts.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--backend", split = ",", paramLabel = "NAME",
            description = "Backends to measure, comma-separated (default: every usable one).")
    List<String> backends;

    @Option(names = "--ops", split = ",", paramLabel = "OP[:ROW_WIDTH]",
            description = "Workloads, comma-separated; row-wise ops take a row width (default: "
                    + BenchSettings.DEFAULT_WORKLOADS + ").")
    List<String> ops;

    @Option(names = "--sizes", split = ",", paramLabel = "N",
            description = "Element counts, comma-separated, with K/M/G (x1024) suffixes (default: 1K, 4K, ..., 256M, "
                    + "cut by free memory and by --max-seconds-per-size).")
    List<String> sizes;

    @Option(names = "--fused-sizes", split = ",", paramLabel = "N",
            description = "Output sizes of the fused-versus-unfused table, multiples of 1M, or 'none' (default: 1M,16M "
                    + "with the default sizes, none when --sizes names sizes).")
    List<String> fusedSizes;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench-out",
            description = "Report folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--warmup", defaultValue = "5", description = "Untimed runs per cell (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--min-runs", defaultValue = "5", description = "Timed runs per cell at least (default: ${DEFAULT-VALUE}).")
    int minRuns;

    @Option(names = "--max-runs", defaultValue = "50", description = "Timed runs per cell at most (default: ${DEFAULT-VALUE}).")
    int maxRuns;

    @Option(names = "--cell-ms", defaultValue = "150",
            description = "Time per cell after which no more runs start once --min-runs are done (default: ${DEFAULT-VALUE}).")
    int cellMillis;

    @Option(names = "--max-seconds-per-size", defaultValue = "30",
            description = "Default sizes only: skip a backend's larger sizes once one is predicted to take longer "
                    + "(default: ${DEFAULT-VALUE}).")
    int maxSecondsPerSize;

    @Option(names = "--streams", defaultValue = "4", description = "Streams of the overlap pipeline (default: ${DEFAULT-VALUE}).")
    int streams;

    @Override
    public Integer call() {
        BenchSettings settings = settings();
        StagedOutputs.checkFolderWritable("--out", out);
        PrintWriter stdout = spec.commandLine().getOut();
        BenchReport report;
        // A bar only on a terminal: redirected output and tests get the table alone.
        if (System.console() != null) {
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("bench").setInitialMax(BenchRun.steps(settings))
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).build()) {
                report = BenchRun.run(settings, what -> bar.step().setExtraMessage(what));
            }
        } else {
            report = BenchRun.run(settings, what -> { });
        }
        stdout.print(TerminalTable.render(report));
        // Staged in a hidden folder beside --out, so a full disk leaves no half-written report.
        try (StagedOutputs outputs = new StagedOutputs()) {
            List<String> files = ReportWriter.write(report, outputs.folder("--out", out));
            outputs.commit();
            stdout.println();
            stdout.println("Report in " + out.toAbsolutePath().normalize() + ": " + String.join(", ", files));
        } catch (IOException e) {
            throw new BadInputException("--out: cannot write the report to " + out + ": " + StagedOutputs.describe(e));
        } catch (UncheckedIOException e) {
            throw new BadInputException("--out: cannot write the report to " + out + ": "
                    + StagedOutputs.describe(e.getCause()));
        }
        stdout.flush();
        return 0;
    }

    /** The options checked and turned into settings; any bad value is one line and exit 2. */
    BenchSettings settings() {
        if (warmup < 0 || minRuns < 1 || maxRuns < minRuns || cellMillis < 0 || maxSecondsPerSize < 1 || streams < 1) {
            throw new BadInputException("need --warmup >= 0, 1 <= --min-runs <= --max-runs, --cell-ms >= 0, "
                    + "--max-seconds-per-size >= 1 and --streams >= 1; got " + warmup + ", " + minRuns + ", " + maxRuns
                    + ", " + cellMillis + ", " + maxSecondsPerSize + ", " + streams);
        }
        List<Workload> workloads = new ArrayList<>();
        for (String op : ops == null ? List.of(BenchSettings.DEFAULT_WORKLOADS.split(",")) : ops) {
            try {
                workloads.add(Workload.parse(op));
            } catch (IllegalArgumentException e) {
                throw new BadInputException("--ops: " + e.getMessage());
            }
        }
        List<Long> counts = new ArrayList<>();
        if (sizes != null) {
            for (String s : sizes) {
                long count;
                try {
                    count = Sizes.parse(s);
                } catch (IllegalArgumentException e) {
                    throw new BadInputException("--sizes: " + e.getMessage());
                }
                // Every size is also measured on host arrays (upload, download, the Java backend's copy).
                if (count > CpuBackend.MAX_LENGTH) {
                    throw new BadInputException("--sizes: " + s + " is more than the largest host array, "
                            + CpuBackend.MAX_LENGTH + " floats");
                }
                counts.add(count);
            }
        }
        List<Long> fused = fusedSizes();
        List<String> names = backends == null ? Backends.usableNames() : backends;
        if (backends != null) {
            for (String name : names) {
                BackendOption.open(name).close(); // an unknown or unusable name is bad input before any measuring
            }
        }
        return new BenchSettings(names, workloads, sizes == null ? BenchSettings.defaultSizes() : counts, sizes == null,
                new Sample.Plan(warmup, minRuns, maxRuns, cellMillis * 1_000_000L), maxSecondsPerSize * 1_000_000_000L,
                streams, fused);
    }

    /** The fused sizes: whole [1024, 1024] causal blocks, so every fused case has whole rows. */
    private List<Long> fusedSizes() {
        if (fusedSizes == null) {
            return sizes == null ? BenchSettings.defaultFusedSizes() : List.of();
        }
        if (fusedSizes.equals(List.of("none"))) {
            return List.of();
        }
        List<Long> counts = new ArrayList<>();
        for (String s : fusedSizes) {
            long count;
            try {
                count = Sizes.parse(s);
            } catch (IllegalArgumentException e) {
                throw new BadInputException("--fused-sizes: " + e.getMessage());
            }
            if (count % Fusion.BLOCK != 0 || count > CpuBackend.MAX_LENGTH / 2) {
                throw new BadInputException("--fused-sizes: " + s + " is not a multiple of 1M (whole [1024, 1024] "
                        + "blocks) up to " + Sizes.format(CpuBackend.MAX_LENGTH / 2 / Fusion.BLOCK * Fusion.BLOCK)
                        + " (the gated input holds twice as many floats)");
            }
            counts.add(count);
        }
        return counts;
    }
}
