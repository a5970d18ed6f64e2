package dev.gpuact.measure;

import dev.gpuact.Backend;
import dev.gpuact.Backends;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The cost model behind {@link Backends#forWork}, measured once per machine and kept on disk.
 *
 * <p>A calibration opens each usable backend and times, at {@link #SIZES} elements, the pageable upload and
 * download and, for each workload, the resident and end-to-end times (a few seconds in all). The result is kept
 * in {@code <cache dir>/cost-model-<key>.tsv}, where the cache dir is {@code -Dgpuact.cache.dir}, else
 * {@code $XDG_CACHE_HOME/gpuact}, else {@code ~/.cache/gpuact}, and the key is a hash of the CPU, the Java
 * version and every usable backend with its devices: other hardware or drivers make another file. A workload the
 * file lacks is measured on first use and added. Delete the file to measure again.
 */
public final class Calibration {
    /** Sizes the calibration measures: the fixed cost of a call, the middle, and the bandwidth. */
    public static final long[] SIZES = {4096, 65536, 1 << 20};
    /** Measured up front, as they are what {@code gpuact bench} shows by default. */
    public static final List<String> INITIAL_WORKLOADS = List.of("relu", "sigmoid", "gelu", "silu", "softmax:1024");
    /** Property naming the cache folder. */
    public static final String CACHE_DIR_PROPERTY = "gpuact.cache.dir";
    // Warm-up runs enough for the JIT to compile the kernels, so the first backend measured is not the slowest.
    private static final Sample.Plan PLAN = new Sample.Plan(20, 3, 200, 40_000_000L);
    private static final Set<Phase> PHASES = EnumSet.of(Phase.UPLOAD_PAGEABLE, Phase.DOWNLOAD_PAGEABLE,
            Phase.RESIDENT, Phase.END_TO_END);
    private static final System.Logger LOG = System.getLogger("dev.gpuact");

    private static CostModel model;
    private static Path modelFile;

    private Calibration() {
    }

    /** The cached model, calibrated now if this machine has none, and covering {@code workload}. */
    public static synchronized CostModel model(Workload workload) {
        Path file = cacheFile();
        if (model == null || !file.equals(modelFile)) {
            model = load(file);
            modelFile = file;
        }
        if (!model.covers(workload.key())) {
            Set<Workload> missing = new LinkedHashSet<>();
            if (model.backends().isEmpty()) {
                INITIAL_WORKLOADS.forEach(w -> missing.add(Workload.parse(w)));
            }
            missing.add(workload);
            model.merge(measure(List.copyOf(missing)));
            save(file, model);
        }
        return model;
    }

    /** Drops the model held in memory, so the next use reads the cache file again. */
    public static synchronized void forget() {
        model = null;
        modelFile = null;
    }

    /** Times the workloads on every usable backend that opens; one that fails to open is left out and logged. */
    static CostModel measure(List<Workload> workloads) {
        Meter meter = new Meter(PLAN, PHASES);
        List<Measurement> all = new ArrayList<>();
        for (String name : Backends.selectableNames()) {
            try (Backend backend = Backends.get(name)) {
                for (long n : SIZES) {
                    meter.measure(backend, workloads, (int) n, all::add);
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "gpuact: calibration leaves out backend '" + name + "': " + e);
            }
        }
        return CostModel.of(all);
    }

    /** The cached model, or an empty one (all measured again) when the file is unreadable or not plausible. */
    private static CostModel load(Path file) {
        try {
            if (!Files.exists(file)) {
                return new CostModel();
            }
            CostModel cached = CostModel.parse(Files.readString(file));
            Optional<String> problem = cached.problem(Set.copyOf(Backends.selectableNames()));
            if (problem.isPresent()) {
                LOG.log(System.Logger.Level.WARNING, "gpuact: calibrating again: the cached cost model " + file
                        + " is not valid: " + problem.get());
                return new CostModel();
            }
            return cached;
        } catch (IOException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "gpuact: ignoring unreadable cost model " + file + ": " + e);
            return new CostModel();
        }
    }

    /** Writes through a temporary file so a concurrent reader never sees half a model; failure only costs a re-run. */
    private static void save(Path file, CostModel m) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), "cost-model", ".tmp");
            Files.writeString(tmp, "# gpuact cost model: " + machine() + "\n" + m.toText(), StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "gpuact: could not keep the cost model in " + file + ": " + e);
        }
    }

    /** The file this machine's model lives in. */
    public static Path cacheFile() {
        return cacheDir().resolve(String.format(Locale.ROOT, "cost-model-%08x.tsv", machine().hashCode()));
    }

    static Path cacheDir() {
        String dir = System.getProperty(CACHE_DIR_PROPERTY);
        if (dir != null && !dir.isBlank()) {
            return Path.of(dir);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                .resolve("gpuact");
    }

    /** What the timings depend on: the CPU, the JVM, and each usable backend with its devices. */
    static String machine() {
        StringBuilder sb = new StringBuilder(cpuModel()).append("; ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores; Java ").append(System.getProperty("java.version"));
        for (Backends.Status s : Backends.statuses()) {
            if (s.usable()) {
                sb.append("; ").append(s.name()).append(' ').append(s.probe().devices());
            }
        }
        return sb.toString();
    }

    /** The CPU's model name from /proc/cpuinfo, else the architecture. */
    public static String cpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (Files.isReadable(cpuinfo)) {
            try (Stream<String> lines = Files.lines(cpuinfo)) {
                return lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                        .findFirst().orElse(System.getProperty("os.arch"));
            } catch (IOException | java.io.UncheckedIOException e) {
                return System.getProperty("os.arch");
            }
        }
        return System.getProperty("os.arch");
    }
}
