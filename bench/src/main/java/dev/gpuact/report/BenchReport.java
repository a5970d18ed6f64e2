package dev.gpuact.report;

import dev.gpuact.measure.CostModel;
import dev.gpuact.measure.Measurement;
import dev.gpuact.measure.Phase;
import dev.gpuact.Residency;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Everything one {@code gpuact bench} run measured, and what follows from it: each figure's limit, the fraction
 * of it reached, and the crossovers. Host array copies are under the backend name {@value #HOST}.
 *
 * @param devices  each measured backend's device in words
 * @param fusions  fused ops against their unfused sequence and their plain op
 * @param notes    what was left out and why (sizes over the memory or time bound, failures)
 */
public record BenchReport(String date, Map<String, String> machine, Map<String, String> devices,
                          List<String> workloads, List<Measurement> measurements, List<Overlap> overlaps,
                          List<Fusion> fusions, List<String> notes) {
    public static final String HOST = "java";

    public BenchReport {
        machine = Collections.unmodifiableMap(new LinkedHashMap<>(machine));
        devices = Collections.unmodifiableMap(new LinkedHashMap<>(devices));
        workloads = List.copyOf(workloads);
        measurements = List.copyOf(measurements);
        overlaps = List.copyOf(overlaps);
        fusions = List.copyOf(fusions);
        notes = List.copyOf(notes);
    }

    /** The backends measured, in the order measured. */
    public List<String> backends() {
        return measurements.stream().map(Measurement::backend).filter(b -> !b.equals(HOST)).distinct().toList();
    }

    /** The highest bandwidth a backend reached in a phase over all sizes. */
    public OptionalDouble peak(String backend, Phase phase) {
        return measurements.stream().filter(m -> m.backend().equals(backend) && m.phase() == phase)
                .mapToDouble(Measurement::bytesPerSecond).max();
    }

    /** The bandwidth of a phase at a size; its peak where that size was not measured. */
    private OptionalDouble at(String backend, Phase phase, long elements) {
        OptionalDouble same = measurements.stream().filter(m -> m.backend().equals(backend) && m.phase() == phase
                && m.elements() == elements).mapToDouble(Measurement::bytesPerSecond).max();
        return same.isPresent() ? same : peak(backend, phase);
    }

    /** A limit: what a figure is measured against. */
    public record Limit(String name, double bytesPerSecond) {
    }

    /**
     * The limit of a measurement, taken at the same size (the fixed cost of a call is part of it): transfers
     * against the better of pinned and pageable in their direction, kernels against the device's copy (the CPU's
     * against the Java array copy), end to end against an upload and a download, copies against their peak.
     */
    public OptionalDouble limitOf(Measurement m) {
        return limit(m.backend(), m.phase(), m.elements()).map(l -> OptionalDouble.of(l.bytesPerSecond()))
                .orElse(OptionalDouble.empty());
    }

    /** The limit of a phase at a size. */
    public Optional<Limit> limit(String backend, Phase phase, long elements) {
        return switch (phase) {
            case UPLOAD_PAGEABLE, UPLOAD_PINNED -> transfer(backend, Phase.UPLOAD_PINNED, Phase.UPLOAD_PAGEABLE, elements)
                    .map(bw -> new Limit("best upload", bw));
            case DOWNLOAD_PAGEABLE, DOWNLOAD_PINNED -> transfer(backend, Phase.DOWNLOAD_PINNED, Phase.DOWNLOAD_PAGEABLE,
                    elements).map(bw -> new Limit("best download", bw));
            case DEVICE_COPY -> present(peak(backend, Phase.DEVICE_COPY)).map(bw -> new Limit("peak device copy", bw));
            case HOST_COPY -> present(peak(HOST, Phase.HOST_COPY)).map(bw -> new Limit("peak java array copy", bw));
            case KERNEL, RESIDENT -> backend.equals(CostModel.CPU)
                    ? present(at(HOST, Phase.HOST_COPY, elements)).map(bw -> new Limit("java array copy", bw))
                    : present(at(backend, Phase.DEVICE_COPY, elements)).map(bw -> new Limit("device copy", bw));
            case END_TO_END -> transfer(backend, Phase.UPLOAD_PINNED, Phase.UPLOAD_PAGEABLE, elements).flatMap(up ->
                    transfer(backend, Phase.DOWNLOAD_PINNED, Phase.DOWNLOAD_PAGEABLE, elements).map(down ->
                            new Limit("best upload + download", 2 / (1 / up + 1 / down))));
        };
    }

    /** The better of pinned and pageable at a size: pageable beating pinned (no real pinning) still bounds. */
    private Optional<Double> transfer(String backend, Phase pinned, Phase pageable, long elements) {
        OptionalDouble a = at(backend, pinned, elements);
        OptionalDouble b = at(backend, pageable, elements);
        if (a.isEmpty() && b.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(Math.max(a.orElse(0), b.orElse(0)));
    }

    private static Optional<Double> present(OptionalDouble d) {
        return d.isPresent() ? Optional.of(d.getAsDouble()) : Optional.empty();
    }

    /** The share of its limit a measurement reached; NaN where no limit was measured. */
    public double fractionOfLimit(Measurement m) {
        OptionalDouble limit = limitOf(m);
        return limit.isPresent() ? m.bytesPerSecond() / limit.getAsDouble() : Double.NaN;
    }

    /** The cost model of this run's measurements. */
    public CostModel model() {
        return CostModel.of(measurements);
    }

    /** The measurement of a cell, if it was made. */
    public Optional<Measurement> find(String backend, String workload, Phase phase, long elements) {
        return measurements.stream().filter(m -> m.backend().equals(backend) && m.workload().equals(workload)
                && m.phase() == phase && m.elements() == elements).findFirst();
    }

    /** Per device backend, workload and residency, from what size the device wins (needs the cpu backend). */
    public List<Crossover> crossovers() {
        List<Crossover> out = new ArrayList<>();
        if (!backends().contains(CostModel.CPU)) {
            return out;
        }
        CostModel model = model();
        for (String device : backends()) {
            if (device.equals(CostModel.CPU)) {
                continue;
            }
            for (String w : workloads) {
                long[] deviceSizes = sizes(device, w);
                long[] cpuSizes = sizes(CostModel.CPU, w);
                if (deviceSizes.length == 0 || cpuSizes.length == 0) {
                    continue;
                }
                // Both measured there: the model extrapolates neither.
                long smallest = Math.max(deviceSizes[0], cpuSizes[0]);
                long largest = Math.min(deviceSizes[deviceSizes.length - 1], cpuSizes[cpuSizes.length - 1]);
                if (smallest > largest) {
                    continue;
                }
                for (Residency where : Residency.values()) {
                    out.add(new Crossover(device, w, where, model.crossover(device, w, where, smallest, largest),
                            smallest, largest));
                }
            }
        }
        return out;
    }

    private long[] sizes(String backend, String workload) {
        return measurements.stream().filter(m -> m.backend().equals(backend) && m.workload().equals(workload)
                && m.phase() == Phase.END_TO_END).mapToLong(Measurement::elements).sorted().toArray();
    }
}
