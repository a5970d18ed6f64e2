package dev.gpuact.measure;

import dev.gpuact.Choice;
import dev.gpuact.Residency;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Measured times as a function of size, per backend, and what they predict: the time a workload takes on each
 * backend for data on the host or on the device, the fastest backend, and the size from which a device wins.
 *
 * <p>Each curve is piecewise linear in the element count through the measured medians; below the smallest
 * measured size it stays at that size's time (the fixed cost of a call), above the largest it grows with the
 * slope of the last segment. The CPU backend is named {@value #CPU}; every other backend is a device.
 *
 * <p>Costs: on host data, a backend pays its end-to-end time (upload from a float[], the activation, download;
 * for the CPU the copies are array copies). On device data, a device pays its resident time and the CPU pays
 * its end-to-end time plus the cheapest device's download and upload of the same elements.
 */
public final class CostModel {
    public static final String CPU = "cpu";
    /** A device is chosen over the CPU only when predicted faster by more than this share: it has costs no curve sees. */
    public static final double DEVICE_MARGIN = 0.10;
    /**
     * Medians of separate runs differ: on a loaded machine, or when the JIT warms up between phases, a resident time
     * was seen at 4 times its end-to-end time. Up to this factor it is a measurement; beyond it, a corrupt file.
     */
    static final double RESIDENT_SLACK = 10;
    private static final String UPLOAD = "upload";
    private static final String DOWNLOAD = "download";
    private static final String RESIDENT = "resident:";
    private static final String END_TO_END = "e2e:";

    /** backend -> curve key -> elements -> median nanos. */
    private final Map<String, Map<String, TreeMap<Long, Double>>> curves = new TreeMap<>();

    /** The model of the measurements of the phases it uses (pageable transfers, resident, end to end). */
    public static CostModel of(Collection<Measurement> measurements) {
        CostModel model = new CostModel();
        measurements.forEach(model::add);
        return model;
    }

    /** Adds a measurement; phases the model does not use are ignored. */
    public void add(Measurement m) {
        String key = switch (m.phase()) {
            case UPLOAD_PAGEABLE -> UPLOAD;
            case DOWNLOAD_PAGEABLE -> DOWNLOAD;
            case RESIDENT -> RESIDENT + m.workload();
            case END_TO_END -> END_TO_END + m.workload();
            default -> null;
        };
        if (key != null) {
            put(m.backend(), key, m.elements(), m.sample().median());
        }
    }

    private void put(String backend, String key, long elements, double nanos) {
        curves.computeIfAbsent(backend, b -> new TreeMap<>()).computeIfAbsent(key, k -> new TreeMap<>())
                .put(elements, nanos);
    }

    public Set<String> backends() {
        return curves.keySet();
    }

    /** Whether every backend has both curves of the workload. */
    public boolean covers(String workload) {
        return !curves.isEmpty() && curves.values().stream().allMatch(c -> c.containsKey(RESIDENT + workload)
                && c.containsKey(END_TO_END + workload));
    }

    private List<String> devices() {
        return curves.keySet().stream().filter(b -> !b.equals(CPU)).toList();
    }

    /** The predicted time of {@code n} elements of a workload on a backend; empty if it was not measured. */
    public OptionalDouble cost(String backend, String workload, long n, Residency where) {
        OptionalDouble endToEnd = at(backend, END_TO_END + workload, n);
        if (where == Residency.HOST) {
            return endToEnd;
        }
        if (!backend.equals(CPU)) {
            return at(backend, RESIDENT + workload, n);
        }
        if (endToEnd.isEmpty() || devices().isEmpty()) {
            return devices().isEmpty() ? at(CPU, RESIDENT + workload, n) : OptionalDouble.empty();
        }
        OptionalDouble roundTrip = devices().stream().map(d -> sum(at(d, DOWNLOAD, n), at(d, UPLOAD, n)))
                .filter(OptionalDouble::isPresent).mapToDouble(OptionalDouble::getAsDouble).min();
        return sum(endToEnd, roundTrip);
    }

    private static OptionalDouble sum(OptionalDouble a, OptionalDouble b) {
        return a.isPresent() && b.isPresent() ? OptionalDouble.of(a.getAsDouble() + b.getAsDouble()) : OptionalDouble.empty();
    }

    private OptionalDouble at(String backend, String key, long n) {
        Map<String, TreeMap<Long, Double>> byKey = curves.get(backend);
        TreeMap<Long, Double> points = byKey == null ? null : byKey.get(key);
        return points == null || points.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(interpolate(points, n));
    }

    static double interpolate(TreeMap<Long, Double> points, long n) {
        Map.Entry<Long, Double> below = points.floorEntry(n);
        Map.Entry<Long, Double> above = points.ceilingEntry(n);
        if (below == null) {
            return above.getValue();
        }
        if (above == null) {
            Map.Entry<Long, Double> previous = points.lowerEntry(below.getKey());
            double proportional = below.getValue() / below.getKey();
            double slope = previous == null ? proportional
                    : (below.getValue() - previous.getValue()) / (below.getKey() - previous.getKey());
            return below.getValue() + (n - below.getKey()) * (slope > 0 ? slope : proportional);
        }
        if (below.getKey().equals(above.getKey())) {
            return below.getValue();
        }
        double t = (double) (n - below.getKey()) / (above.getKey() - below.getKey());
        return below.getValue() + t * (above.getValue() - below.getValue());
    }

    /**
     * The backend predicted fastest for {@code n} elements of the workload with its reason; the CPU unless a
     * device beats it by more than {@link #DEVICE_MARGIN}.
     *
     * @throws IllegalStateException if no backend has the workload's curves
     */
    public Choice choose(Workload workload, long n, Residency where) {
        String key = workload.key();
        Map<String, Double> costs = new TreeMap<>();
        for (String b : curves.keySet()) {
            cost(b, key, n, where).ifPresent(c -> costs.put(b, c));
        }
        if (costs.isEmpty()) {
            throw new IllegalStateException("the model has no measurement of " + key);
        }
        String fastest = costs.entrySet().stream().min(Map.Entry.comparingByValue()).orElseThrow().getKey();
        Double cpu = costs.get(CPU);
        String best = cpu != null && costs.get(fastest) > cpu * (1 - DEVICE_MARGIN) ? CPU : fastest;
        String what = Sizes.format(n) + " " + key + " on " + where.name().toLowerCase(Locale.ROOT) + " data: ";
        List<String> parts = new ArrayList<>();
        parts.add(describe(best, costs.get(best), where));
        costs.forEach((b, c) -> {
            if (!b.equals(best)) {
                parts.add(describe(b, c, where));
            }
        });
        return new Choice(best, costs.get(best), best + ": " + what + String.join(" vs ", parts));
    }

    private String describe(String backend, double nanos, Residency where) {
        String how = backend.equals(CPU)
                ? (where == Residency.HOST || devices().isEmpty() ? "" : " with the device round trip")
                : (where == Residency.HOST ? " end to end" : " resident");
        return Sizes.formatNanos(nanos) + how + " on " + backend;
    }

    /**
     * The smallest size in [{@code from}, {@code to}] from which {@code device} is predicted faster than the CPU at
     * every larger size up to {@code to} (checked on a grid of eight points per doubling); empty if it is slower at
     * {@code to} or either lacks the workload.
     */
    public OptionalLong crossover(String device, String workload, Residency where, long from, long to) {
        long winningFrom = -1;
        for (long n : grid(from, to)) {
            OptionalDouble d = cost(device, workload, n, where);
            OptionalDouble c = cost(CPU, workload, n, where);
            if (d.isEmpty() || c.isEmpty()) {
                return OptionalLong.empty();
            }
            boolean wins = d.getAsDouble() < c.getAsDouble();
            if (!wins) {
                winningFrom = -1;
            } else if (winningFrom < 0) {
                winningFrom = n;
            }
        }
        return winningFrom < 0 ? OptionalLong.empty() : OptionalLong.of(winningFrom);
    }

    private static Set<Long> grid(long from, long to) {
        Set<Long> sizes = new TreeSet<>();
        for (double n = from; n < to; n *= Math.pow(2, 1.0 / 8)) {
            sizes.add(Math.round(n));
        }
        sizes.add(to);
        return sizes;
    }

    /** Tab-separated lines {@code backend key elements nanos}, what {@link #parse} reads. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        curves.forEach((backend, byKey) -> byKey.forEach((key, points) -> points.forEach((n, nanos) ->
                sb.append(backend).append('\t').append(key).append('\t').append(n).append('\t')
                        .append(String.format(Locale.ROOT, "%.1f", nanos)).append('\n'))));
        return sb.toString();
    }

    /** Reads {@link #toText()}; lines starting with {@code #} are comments. */
    public static CostModel parse(String text) {
        CostModel model = new CostModel();
        int lineNumber = 0;
        for (String line : text.split("\n")) {
            lineNumber++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t");
            if (f.length != 4) {
                throw new IllegalArgumentException("cost model line " + lineNumber + ": expected 4 tab-separated fields, got "
                        + f.length + ": " + line);
            }
            try {
                model.put(f[0], f[1], Long.parseLong(f[2]), Double.parseDouble(f[3]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cost model line " + lineNumber + ": " + e.getMessage() + ": " + line);
            }
        }
        return model;
    }

    /**
     * Why this model cannot be trusted, if it cannot: a backend that is not among {@code usable} (a model naming a
     * backend that does not exist here would choose it), a time that is not finite and positive, a size below 1,
     * or a resident time above the end-to-end time of the same work (which includes it), beyond
     * {@link #RESIDENT_SLACK} of measurement noise.
     */
    public Optional<String> problem(Set<String> usable) {
        for (var backend : curves.entrySet()) {
            if (!usable.contains(backend.getKey())) {
                return Optional.of("backend '" + backend.getKey() + "' is not usable here (usable: " + usable + ")");
            }
            for (var curve : backend.getValue().entrySet()) {
                for (var point : curve.getValue().entrySet()) {
                    double nanos = point.getValue();
                    if (point.getKey() < 1 || !Double.isFinite(nanos) || nanos <= 0) {
                        return Optional.of(backend.getKey() + " " + curve.getKey() + " at " + point.getKey()
                                + " elements: " + nanos + " ns is not a finite positive time of at least one element");
                    }
                    if (curve.getKey().startsWith(RESIDENT)) {
                        String workload = curve.getKey().substring(RESIDENT.length());
                        Double endToEnd = backend.getValue().getOrDefault(END_TO_END + workload, new TreeMap<>())
                                .get(point.getKey());
                        if (endToEnd != null && nanos > endToEnd * RESIDENT_SLACK) {
                            return Optional.of(backend.getKey() + " " + workload + " at " + point.getKey()
                                    + " elements: resident " + nanos + " ns is more than end to end " + endToEnd + " ns");
                        }
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** Adds every curve point of {@code other}, replacing points at the same size. */
    public void merge(CostModel other) {
        other.curves.forEach((backend, byKey) -> byKey.forEach((key, points) -> points.forEach((n, nanos) ->
                put(backend, key, n, nanos))));
    }
}
