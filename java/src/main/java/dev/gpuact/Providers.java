package dev.gpuact;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The backend providers of a class loader, each probed on first need and its answer kept: opening a backend by name
 * probes that one alone, so forcing {@code cpu} never loads another backend's native code. A provider that fails
 * to load (its class or a library it needs, such as JOCL or JCuda, missing from the class path) or whose probe
 * throws is an unusable entry that says why, never an error for the others.
 */
final class Providers {
    /** What a provider that failed to load is listed as: it could not say its own name. */
    static final String UNLOADABLE = "unloadable provider";

    private final List<Entry> entries;

    private Providers(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** One provider, or the error that kept it from loading; its probe runs at most once. */
    static final class Entry {
        private final String name;
        private final BackendProvider provider;
        private Probe probe;

        private Entry(String name, BackendProvider provider, Probe probe) {
            this.name = name;
            this.provider = provider;
            this.probe = probe;
        }

        /** A loaded provider, not yet probed. */
        static Entry of(BackendProvider provider) {
            return new Entry(provider.name(), provider, null);
        }

        /** A provider that failed to load, unusable for {@code error}. */
        static Entry unloadable(Throwable error) {
            return new Entry(UNLOADABLE, null, Probe.unusable("the provider failed to load: " + describe(error),
                    List.of("a backend artifact needs its binding on the class path: JOCL for gpuact-opencl, JCuda for "
                            + "gpuact-cuda")));
        }

        String name() {
            return name;
        }

        synchronized Probe probe() {
            if (probe == null) {
                try {
                    probe = provider.probe();
                } catch (RuntimeException | LinkageError e) {
                    probe = Probe.unusable("probe failed: " + e, List.of());
                }
            }
            return probe;
        }

        /** Opens the backend; only after a usable {@link #probe()}. */
        Backend open() {
            return provider.open();
        }
    }

    /** The providers {@link ServiceLoader} finds through {@code loader}, none probed yet. */
    static Providers load(ClassLoader loader) {
        List<Entry> found = new ArrayList<>();
        Iterator<BackendProvider> providers = ServiceLoader.load(BackendProvider.class, loader).iterator();
        while (true) {
            try {
                // An error is thrown once for the provider that caused it; the iteration then goes on to the next.
                if (!providers.hasNext()) {
                    break;
                }
                found.add(Entry.of(providers.next()));
            } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
                found.add(Entry.unloadable(e));
            }
        }
        return new Providers(found);
    }

    /** The named provider, probing none. */
    Optional<Entry> named(String name) {
        return entries.stream().filter(e -> e.provider != null && e.name.equals(name)).findFirst();
    }

    /** Every entry, probed, usable ones first in order of preference. */
    List<Entry> probed() {
        entries.forEach(Entry::probe);
        return entries.stream()
                .sorted(Comparator.comparingInt((Entry e) -> e.probe().rank()).thenComparing(Entry::name)).toList();
    }

    /** The names of the providers that loaded, probing none. */
    List<String> names() {
        return entries.stream().filter(e -> e.provider != null).map(Entry::name).toList();
    }

    /** Why each provider that failed to load did, probing none. */
    List<String> loadErrors() {
        return entries.stream().filter(e -> e.provider == null).map(e -> e.probe.reason()).toList();
    }

    private static String describe(Throwable error) {
        StringBuilder text = new StringBuilder(String.valueOf(error));
        for (Throwable cause = error.getCause(); cause != null; cause = cause.getCause()) {
            text.append(" (caused by ").append(cause).append(')');
        }
        return text.toString();
    }
}
