package dev.gpuact;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Finds the backends on this machine and picks one.
 *
 * <p>Providers come from {@link ServiceLoader}; each is probed once per JVM, on first need and under a lock, and
 * the answer is kept: opening a backend by name probes that one alone, so {@code Backends.get("cpu")} loads no
 * native code. A provider that fails to load or to probe is listed as unusable with the reason. {@link #best()}
 * honours {@code -Dgpuact.backend=NAME} and then {@code GPUACT_BACKEND=NAME}; a named backend that cannot run is an
 * error that says why, never a silent fallback.
 */
public final class Backends {
    /** System property naming the backend to use instead of the best one. */
    public static final String PROPERTY = "gpuact.backend";
    /** Environment variable naming the backend, read when the property is not set. */
    public static final String ENVIRONMENT = "GPUACT_BACKEND";

    /** A provider with its probe answer. */
    public record Status(String name, Probe probe) {
        public boolean usable() {
            return probe.usable();
        }
    }

    private static Providers providers;
    private static WorkChooser chooser;

    private static final System.Logger LOG = System.getLogger("dev.gpuact");
    /** Calibrates for {@link #forWorkAsync}: one daemon thread, so a program may exit while it measures. */
    private static final Executor CALIBRATION = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "gpuact calibration");
        t.setDaemon(true);
        return t;
    });

    private Backends() {
    }

    private static synchronized Providers providers() {
        if (providers == null) {
            providers = Providers.load(Backends.class.getClassLoader());
        }
        return providers;
    }

    /**
     * Every backend found, usable ones first in order of preference, each with why it is or is not usable (probing
     * every one); a provider that failed to load is listed as {@value Providers#UNLOADABLE} with the error.
     */
    public static List<Status> statuses() {
        return providers().probed().stream().map(e -> new Status(e.name(), e.probe())).toList();
    }

    /** The names of the usable backends, best first. */
    public static List<String> usableNames() {
        return providers().probed().stream().filter(e -> e.probe().usable()).map(Providers.Entry::name).toList();
    }

    /** The usable backends automatic selection and {@link #forWork} consider: those not opened by name only. */
    public static List<String> selectableNames() {
        return providers().probed().stream()
                .filter(e -> e.probe().usable() && e.probe().rank() < Probe.RANK_BY_NAME_ONLY)
                .map(Providers.Entry::name).toList();
    }

    /** The backend named by the property or environment variable, else the best usable one. */
    public static Backend best() {
        String wanted = System.getProperty(PROPERTY);
        if (wanted == null || wanted.isBlank()) {
            wanted = System.getenv(ENVIRONMENT);
        }
        return get(wanted == null || wanted.isBlank() ? "auto" : wanted);
    }

    /**
     * Opens the named backend ({@code cpu}, {@code opencl}, {@code cuda}; {@code java} means {@code cpu};
     * {@code auto} the best usable one).
     *
     * @throws BackendUnavailableException if it cannot run here, with the reason
     * @throws IllegalArgumentException for a name no provider has
     */
    public static Backend get(String name) {
        Objects.requireNonNull(name, "name");
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        if (wanted.equals("java")) {
            wanted = "cpu";
        }
        if (wanted.equals("auto")) {
            return openBest(providers().probed());
        }
        Providers.Entry entry = providers().named(wanted).orElseThrow(() -> new IllegalArgumentException(
                "unknown backend '" + name + "'; known: auto, " + String.join(", ", providers().names())
                        + providers().loadErrors().stream().map(error -> "; " + Providers.UNLOADABLE + ": " + error)
                                .reduce("", String::concat)));
        if (!entry.probe().usable()) {
            throw new BackendUnavailableException("backend '" + wanted + "' is not usable: " + entry.probe().reason());
        }
        return entry.open();
    }

    /**
     * The backend the measured cost model predicts fastest for {@code elements} of {@code activation} on data that
     * lives in {@code where}, with the reason in words. Row-wise ops are costed on rows of 1024 elements
     * ({@code dev.gpuact.measure.Workload.DEFAULT_ROW_WIDTH}); PReLU as leaky_relu.
     *
     * <p><b>Blocks on first use:</b> the model is calibrated once per machine and cached on disk (see
     * {@code dev.gpuact.measure.Calibration}); the first call on a machine, and the first for a workload the cache
     * lacks, measures every usable backend, which takes a few seconds. A caller that must not wait uses
     * {@link #forWorkAsync}. The model comes from the {@link WorkChooser} on the class path.
     */
    public static Choice forWork(Activation activation, long elements, Residency where) {
        checkWork(activation, elements, where);
        return chooser().choose(activation, elements, where);
    }

    private static synchronized WorkChooser chooser() {
        if (chooser == null) {
            chooser = ServiceLoader.load(WorkChooser.class, Backends.class.getClassLoader()).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no " + WorkChooser.class.getName()
                            + " provider on the class path: a repackaged jar lost gpuact-core's META-INF/services"));
        }
        return chooser;
    }

    /**
     * {@link #forWork} without blocking the caller: the answer (and any calibration it needs) is computed on a
     * background daemon thread. Arguments are checked at once.
     */
    public static CompletableFuture<Choice> forWorkAsync(Activation activation, long elements, Residency where) {
        checkWork(activation, elements, where);
        return CompletableFuture.supplyAsync(() -> forWork(activation, elements, where), CALIBRATION);
    }

    private static void checkWork(Activation activation, long elements, Residency where) {
        Objects.requireNonNull(activation, "activation");
        Objects.requireNonNull(where, "where");
        if (elements < 0) {
            throw new IllegalArgumentException("elements must be >= 0, got " + elements);
        }
    }

    /**
     * The first usable backend that opens: one that probes usable but fails to open (a driver that lists a device
     * and then cannot create a context on it) is logged and passed over for the next.
     */
    static Backend openBest(List<Providers.Entry> candidates) {
        StringBuilder why = new StringBuilder();
        for (Providers.Entry e : candidates) {
            Probe probe = e.probe();
            if (probe.rank() >= Probe.RANK_BY_NAME_ONLY && probe.usable()) {
                why.append(e.name()).append(": opened by name only; ");
                continue;
            }
            if (!probe.usable()) {
                why.append(e.name()).append(": ").append(probe.reason()).append("; ");
                continue;
            }
            try {
                return e.open();
            } catch (RuntimeException | LinkageError failure) {
                LOG.log(System.Logger.Level.WARNING, "gpuact: auto: backend '" + e.name()
                        + "' probed usable but failed to open (" + failure + "); trying the next");
                why.append(e.name()).append(": failed to open: ").append(failure).append("; ");
            }
        }
        throw new BackendUnavailableException("no backend is usable: " + why);
    }
}
