package dev.gpuact.report;

import dev.gpuact.measure.Measurement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes a report folder: the table, CSV, JSON, the cost model, the machine and the charts. */
public final class ReportWriter {
    public static final String TABLE = "table.txt";
    public static final String MEASUREMENTS_CSV = "measurements.csv";
    public static final String CROSSOVER_CSV = "crossover.csv";
    public static final String OVERLAP_CSV = "overlap.csv";
    public static final String FUSED_CSV = "fused.csv";
    public static final String JSON = "report.json";
    public static final String MACHINE = "machine.txt";
    public static final String MODEL = "cost-model.tsv";

    private ReportWriter() {
    }

    /** Writes every file; returns their names. */
    public static List<String> write(BenchReport r, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> files = new ArrayList<>();
        write(dir, TABLE, TerminalTable.render(r), files);
        write(dir, MEASUREMENTS_CSV, measurementsCsv(r), files);
        write(dir, CROSSOVER_CSV, Csv.write(List.of("device", "workload", "data_on", "device_wins_from_elements",
                "smallest", "largest", "text"), r.crossovers().stream().<List<?>>map(c -> List.of(c.device(), c.workload(),
                c.where().name().toLowerCase(), c.from().isPresent() ? c.from().getAsLong() : "", c.smallest(),
                c.largest(), c.text())).toList()), files);
        write(dir, OVERLAP_CSV, Csv.write(List.of("backend", "workload", "elements", "streams", "chunks", "asynchronous",
                "pinned", "median_ns", "p10_ns", "p90_ns", "throughput_gbps", "pinned_upload_gbps", "fraction_of_limit"),
                r.overlaps().stream().<List<?>>map(o -> List.of(o.backend(), o.workload(), o.elements(), o.streams(),
                        o.chunks(), o.asynchronous(), o.pinned(), o.sample().median(), o.sample().p10(), o.sample().p90(),
                        o.throughput() / 1e9, o.pinnedUpload() / 1e9, o.fractionOfLimit())).toList()), files);
        if (!r.fusions().isEmpty()) {
            write(dir, FUSED_CSV, Csv.write(List.of("backend", "fused_op", "elements", "on_cpu", "copy_ns", "plain_ns",
                    "fused_ns", "unfused_ns", "fused_over_plain", "unfused_over_fused", "verdict", "clock"),
                    r.fusions().stream().<List<?>>map(f -> List.of(f.backend(), f.op().label(), f.elements(), f.onCpu(),
                            f.copy().median(), f.plain().median(), f.fused().median(), f.unfused().median(),
                            f.fusedOverPlain(), f.unfusedOverFused(), f.verdict(), f.clock())).toList()), files);
        }
        write(dir, JSON, Json.write(json(r)), files);
        write(dir, MACHINE, machineText(r), files);
        write(dir, MODEL, "# backend\tcurve\telements\tmedian_ns\n" + r.model().toText(), files);
        files.addAll(Charts.write(r, dir));
        return files;
    }

    private static void write(Path dir, String name, String text, List<String> files) throws IOException {
        Files.writeString(dir.resolve(name), text);
        files.add(name);
    }

    static String measurementsCsv(BenchReport r) {
        List<List<?>> rows = new ArrayList<>();
        for (Measurement m : r.measurements()) {
            String limit = r.limit(m.backend(), m.phase(), m.elements()).map(BenchReport.Limit::name).orElse("");
            rows.add(List.of(m.backend(), m.workload(), m.phase().label(), m.elements(), m.sample().median(),
                    m.sample().p10(), m.sample().p90(), m.sample().min(), m.sample().max(), m.sample().runs(),
                    m.bytesPerSecond() / 1e9, limit, r.fractionOfLimit(m), m.clock().description()));
        }
        return Csv.write(List.of("backend", "workload", "phase", "elements", "median_ns", "p10_ns", "p90_ns", "min_ns",
                "max_ns", "runs", "gbps", "limit", "fraction_of_limit", "clock"), rows);
    }

    static String machineText(BenchReport r) {
        StringBuilder sb = new StringBuilder("date: " + r.date() + "\n");
        r.machine().forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
        r.devices().forEach((k, v) -> sb.append("backend ").append(k).append(": ").append(v).append('\n'));
        return sb.toString();
    }

    static Map<String, Object> json(BenchReport r) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("date", r.date());
        root.put("machine", new LinkedHashMap<>(r.machine()));
        root.put("backends", new LinkedHashMap<>(r.devices()));
        root.put("workloads", r.workloads());
        root.put("measurements", r.measurements().stream().map(m -> {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("backend", m.backend());
            o.put("workload", m.workload());
            o.put("phase", m.phase().label());
            o.put("elements", m.elements());
            o.put("median_ns", m.sample().median());
            o.put("p10_ns", m.sample().p10());
            o.put("p90_ns", m.sample().p90());
            o.put("runs", m.sample().runs());
            o.put("gbps", m.bytesPerSecond() / 1e9);
            o.put("limit", r.limit(m.backend(), m.phase(), m.elements()).map(BenchReport.Limit::name).orElse(null));
            o.put("fraction_of_limit", r.fractionOfLimit(m));
            o.put("clock", m.clock().description());
            return (Object) o;
        }).toList());
        root.put("crossovers", r.crossovers().stream().map(c -> {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("device", c.device());
            o.put("workload", c.workload());
            o.put("data_on", c.where().name().toLowerCase());
            o.put("device_wins_from_elements", c.from().isPresent() ? c.from().getAsLong() : null);
            o.put("text", c.text());
            return (Object) o;
        }).toList());
        root.put("overlaps", r.overlaps().stream().map(o -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", o.backend());
            m.put("workload", o.workload());
            m.put("elements", o.elements());
            m.put("streams", o.streams());
            m.put("chunks", o.chunks());
            m.put("asynchronous", o.asynchronous());
            m.put("pinned", o.pinned());
            m.put("median_ns", o.sample().median());
            m.put("throughput_gbps", o.throughput() / 1e9);
            m.put("pinned_upload_gbps", o.pinnedUpload() / 1e9);
            m.put("fraction_of_limit", o.fractionOfLimit());
            return (Object) m;
        }).toList());
        root.put("fused", r.fusions().stream().map(f -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("backend", f.backend());
            m.put("fused_op", f.op().label());
            m.put("elements", f.elements());
            m.put("on_cpu", f.onCpu());
            m.put("copy_ns", f.copy().median());
            m.put("plain_ns", f.plain().median());
            m.put("fused_ns", f.fused().median());
            m.put("unfused_ns", f.unfused().median());
            m.put("fused_over_plain", f.fusedOverPlain());
            m.put("unfused_over_fused", f.unfusedOverFused());
            m.put("verdict", f.verdict());
            return (Object) m;
        }).toList());
        root.put("notes", r.notes());
        return root;
    }
}
