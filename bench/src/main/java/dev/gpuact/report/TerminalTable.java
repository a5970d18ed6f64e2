package dev.gpuact.report;

import dev.gpuact.measure.CostModel;
import dev.gpuact.measure.Measurement;
import dev.gpuact.measure.Phase;
import dev.gpuact.measure.Sizes;
import java.util.Locale;
import java.util.Optional;

/** The report as text: one line per backend, workload and size, then limits, crossovers, overlap and notes. */
public final class TerminalTable {
    private TerminalTable() {
    }

    public static String render(BenchReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append("Times are medians (p10-p90 in brackets) in ms; '% lim' is the share of the figure's limit measured in this run\n");
        sb.append("(kernel: device copy, cpu: java array copy; end to end: pinned upload + download); 'vs cpu' is the cpu's end-to-end\n");
        sb.append("time over this backend's (above 1: this backend wins on host data).\n\n");
        sb.append(String.format(Locale.ROOT, "%-7s %-13s %6s %9s %9s %6s %9s %23s %6s %7s%n", "backend", "workload",
                "size", "upload", "kernel", "% lim", "download", "end to end", "% lim", "vs cpu"));
        for (String backend : r.backends()) {
            for (String w : r.workloads()) {
                r.measurements().stream().filter(m -> m.backend().equals(backend) && m.workload().equals(w)
                        && m.phase() == Phase.END_TO_END).forEach(e2e -> sb.append(line(r, e2e)));
            }
        }
        sb.append("\nLimits (peak over the sizes measured):\n");
        r.measurements().stream().filter(m -> m.workload().isEmpty()).map(m -> m.backend() + "|" + m.phase()).distinct()
                .forEach(key -> {
                    String[] parts = key.split("\\|");
                    Phase phase = Phase.valueOf(parts[1]);
                    r.peak(parts[0], phase).ifPresent(bw -> sb.append(String.format(Locale.ROOT,
                            "  %-7s %-16s %8.2f GB/s%s%n", parts[0], phase.label(), bw / 1e9,
                            phase == Phase.DEVICE_COPY || phase == Phase.HOST_COPY ? " (read + write)" : "")));
                });
        if (!r.crossovers().isEmpty()) {
            sb.append("\nCrossover (the device beats the cpu, by the model of the measured sizes):\n");
            r.crossovers().forEach(c -> sb.append(String.format(Locale.ROOT, "  %-7s %-13s data on the %-6s %s%n",
                    c.device(), c.workload(), c.where().name().toLowerCase(Locale.ROOT), c.text())));
        }
        if (!r.overlaps().isEmpty()) {
            sb.append("\nOverlap (chunked pipeline of upload, kernel, download over several streams):\n");
            r.overlaps().forEach(o -> sb.append(String.format(Locale.ROOT,
                    "  %-7s %-13s %6s in %d chunks on %d streams: %s, %.2f GB/s = %.0f%% of the %s upload (%.2f GB/s)%s%n",
                    o.backend(), o.workload(), Sizes.format(o.elements()), o.chunks(), o.streams(),
                    Sizes.formatNanos(o.sample().median()), o.throughput() / 1e9, 100 * o.fractionOfLimit(),
                    o.pinned() ? "pinned" : "direct-buffer", o.pinnedUpload() / 1e9,
                    o.asynchronous() ? "" : " [synchronous stream: no overlap on this backend]")));
        }
        if (!r.fusions().isEmpty()) {
            sb.append(fusedTable(r));
        }
        if (!r.notes().isEmpty()) {
            sb.append("\nNotes:\n");
            r.notes().forEach(n -> sb.append("  ").append(n).append('\n'));
        }
        return sb.toString();
    }

    /** The fused ops next to their plain op and their unfused sequence, with the targets' verdicts. */
    static String fusedTable(BenchReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append("\nFused versus unfused (resident buffers; ms, medians of rounds alternating copy, plain, fused and "
                + "unfused).\nTargets on a device: fused <= 1.15x plain and >= 1.6x faster than unfused; on every backend a "
                + "square causal\nmask <= 0.6x the softmax. On the CPU (cpu, OpenCL on a CPU device, the CUDA emulator) the "
                + "fusion ratios are stated.\n");
        for (Fusion.Case c : Fusion.Case.values()) {
            sb.append("  ").append(c.describe()).append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%-8s %-15s %5s %8s %8s %8s %8s %11s %13s  %s%n", "backend", "fused op",
                "size", "copy", "plain", "fused", "unfused", "fused/plain", "unfused/fused", "verdict"));
        for (Fusion f : r.fusions()) {
            sb.append(String.format(Locale.ROOT, "%-8s %-15s %5s %8s %8s %8s %8s %10.2fx %12.2fx  %s%n", f.backend(),
                    f.op().label(), Sizes.format(f.elements()), ms(f.copy().median()), ms(f.plain().median()),
                    ms(f.fused().median()), ms(f.unfused().median()), f.fusedOverPlain(), f.unfusedOverFused(),
                    f.verdict()));
        }
        return sb.toString();
    }

    private static String line(BenchReport r, Measurement e2e) {
        String b = e2e.backend();
        long n = e2e.elements();
        Optional<Measurement> kernel = r.find(b, e2e.workload(), Phase.KERNEL, n);
        Optional<Measurement> cpu = r.find(CostModel.CPU, e2e.workload(), Phase.END_TO_END, n);
        return String.format(Locale.ROOT, "%-7s %-13s %6s %9s %9s %6s %9s %9s [%5s-%5s] %6s %7s%n", b, e2e.workload(),
                Sizes.format(n), ms(r.find(b, "", Phase.UPLOAD_PAGEABLE, n)), ms(kernel),
                percent(r, kernel), ms(r.find(b, "", Phase.DOWNLOAD_PAGEABLE, n)), ms(e2e.sample().median()),
                shortMs(e2e.sample().p10()), shortMs(e2e.sample().p90()), percent(r, Optional.of(e2e)),
                cpu.map(c -> String.format(Locale.ROOT, "%.2fx", c.sample().median() / e2e.sample().median())).orElse("-"));
    }

    private static String ms(Optional<Measurement> m) {
        return m.map(x -> ms(x.sample().median())).orElse("-");
    }

    private static String ms(double nanos) {
        return String.format(Locale.ROOT, nanos < 1e7 ? "%.4f" : "%.1f", nanos / 1e6);
    }

    private static String shortMs(double nanos) {
        return String.format(Locale.ROOT, nanos < 1e6 ? "%.3f" : nanos < 1e8 ? "%.1f" : "%.0f", nanos / 1e6);
    }

    private static String percent(BenchReport r, Optional<Measurement> m) {
        return m.map(r::fractionOfLimit).filter(f -> !f.isNaN())
                .map(f -> String.format(Locale.ROOT, "%.0f%%", 100 * f)).orElse("-");
    }
}
