package dev.gpuact.report;

import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.measure.Measurement;
import dev.gpuact.measure.Meter;
import dev.gpuact.measure.Phase;
import dev.gpuact.measure.Sample;
import dev.gpuact.measure.Sizes;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs a benchmark: the host array copy, then every phase per backend and size, then the overlap pipeline. */
public final class BenchRun {
    /** Bytes of heap a size needs per element: two float[], three backend buffers, two pinned, row leftovers. */
    static final long HEAP_BYTES_PER_ELEMENT = 10L * Float.BYTES;
    private static final String HOST_NOTE = "java array copy skipped at ";

    /** Told of each step (a backend at a size, or an overlap pipeline) as it starts. */
    public interface Progress {
        void step(String what);
    }

    private final BenchSettings settings;
    private final Progress progress;
    private final List<Measurement> measurements = new ArrayList<>();
    private final List<Overlap> overlaps = new ArrayList<>();
    private final List<Fusion> fusions = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final Map<String, String> devices = new LinkedHashMap<>();

    private BenchRun(BenchSettings settings, Progress progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /** How many steps {@link Progress} will be told of. */
    public static int steps(BenchSettings settings) {
        return settings.backends().size() * (settings.sizes().size() + 1 + settings.fusedSizes().size()) + 1;
    }

    public static BenchReport run(BenchSettings settings, Progress progress) {
        return new BenchRun(settings, progress).run();
    }

    private BenchReport run() {
        String date = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        Map<String, String> machine = Machine.describe();
        progress.step("java array copy");
        measureHostCopy();
        for (String name : settings.backends()) {
            measureBackend(name);
        }
        return new BenchReport(date, machine, devices, settings.workloads().stream().map(w -> w.key()).toList(),
                measurements, overlaps, fusions, notes);
    }

    private void measureHostCopy() {
        for (long n : settings.sizes()) {
            if (!heapHolds(n, 3 * Float.BYTES)) {
                notes.add(HOST_NOTE + Sizes.format(n) + " and up: not enough heap");
                return;
            }
            float[] src = Meter.randomInput((int) n);
            float[] dst = new float[(int) n];
            Sample s = Sample.measure(settings.plan(), () -> {
                long start = System.nanoTime();
                System.arraycopy(src, 0, dst, 0, src.length);
                return System.nanoTime() - start;
            });
            measurements.add(new Measurement(BenchReport.HOST, "", Phase.HOST_COPY, n, s, Backend.Clock.WALL));
        }
    }

    private void measureBackend(String name) {
        Meter meter = new Meter(settings.plan(), EnumSet.allOf(Phase.class));
        try (Backend backend = Backends.get(name)) {
            devices.put(name, backend.device() + "; device copy " + (backend.deviceCopyIsNative() ? "on the device"
                    : "through the host") + "; kernel clock: " + backend.time(() -> { }).clock().description());
            long lastN = 0;
            long lastNanos = 0;
            int measuredUpTo = 0;
            for (long n : settings.sizes()) {
                progress.step(name + " " + Sizes.format(n));
                String skip = skipReason(n, lastN, lastNanos);
                if (skip != null) {
                    notes.add(name + ": sizes from " + Sizes.format(n) + " skipped: " + skip);
                    break;
                }
                long start = System.nanoTime();
                try {
                    meter.measure(backend, settings.workloads(), (int) n, measurements::add);
                } catch (RuntimeException | OutOfMemoryError e) {
                    notes.add(name + ": sizes from " + Sizes.format(n) + " skipped: " + e);
                    break;
                }
                lastN = n;
                lastNanos = System.nanoTime() - start;
                measuredUpTo = (int) n;
            }
            progress.step(name + " overlap");
            if (measuredUpTo > 0) {
                measureOverlap(backend, measuredUpTo);
            }
            measureFusions(backend);
        } catch (RuntimeException e) {
            notes.add(name + ": not measured: " + e.getMessage());
        }
    }

    /** Why a size is skipped, or null: the heap must hold it and, for default sizes, the time must fit. */
    private String skipReason(long n, long lastN, long lastNanos) {
        if (n > Integer.MAX_VALUE - 8) {
            return "larger than a Java array";
        }
        if (!heapHolds(n, HEAP_BYTES_PER_ELEMENT)) {
            return "needs about " + n * HEAP_BYTES_PER_ELEMENT / (1 << 20) + " MiB of heap, more than is free (raise -Xmx)";
        }
        if (settings.timeBounded() && lastN > 0) {
            double predicted = (double) lastNanos * n / lastN;
            if (predicted > settings.maxSizeNanos()) {
                return String.format("predicted %.0f s at this size (from %s at %s), over the %d s bound per size; "
                                + "name sizes with --sizes to measure them anyway", predicted / 1e9,
                        Sizes.formatNanos(lastNanos), Sizes.format(lastN), settings.maxSizeNanos() / 1_000_000_000L);
            }
        }
        return null;
    }

    private static boolean heapHolds(long n, long bytesPerElement) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        return n * bytesPerElement < free * 0.8;
    }

    private void measureFusions(Backend backend) {
        for (long n : settings.fusedSizes()) {
            progress.step(backend.name() + " fused " + Sizes.format(n));
            if (!heapHolds(n, Fusion.FLOATS_PER_ELEMENT * Float.BYTES)) {
                notes.add(backend.name() + ": fused from " + Sizes.format(n) + " skipped: needs about "
                        + n * Fusion.FLOATS_PER_ELEMENT * Float.BYTES / (1 << 20) + " MiB of heap (raise -Xmx)");
                return;
            }
            try {
                fusions.addAll(Fusion.measure(backend, (int) n, settings.plan()));
            } catch (RuntimeException | OutOfMemoryError e) {
                notes.add(backend.name() + ": fused from " + Sizes.format(n) + " skipped: " + e);
                return;
            }
        }
    }

    private void measureOverlap(Backend backend, int n) {
        int streams = settings.overlapStreams();
        var workload = settings.workloads().get(0);
        BenchReport partial = new BenchReport("", Map.of(), Map.of(), List.of(), measurements, List.of(), List.of(),
                List.of());
        double pinnedUpload = partial.limit(backend.name(), Phase.UPLOAD_PINNED, n).map(BenchReport.Limit::bytesPerSecond)
                .orElse(Double.NaN);
        try {
            overlaps.add(Overlap.measure(backend, workload, n, streams, 4 * streams, settings.plan(), pinnedUpload));
        } catch (RuntimeException | OutOfMemoryError e) {
            notes.add(backend.name() + ": overlap pipeline failed: " + e);
        }
    }
}
