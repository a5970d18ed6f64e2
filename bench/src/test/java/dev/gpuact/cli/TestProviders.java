package dev.gpuact.cli;

import dev.gpuact.Backend;
import dev.gpuact.spi.BackendProvider;
import dev.gpuact.spi.Probe;
import java.util.List;

/**
 * Backends that exist only on the test class path (META-INF/services), so the CLI's handling of an unusable
 * backend and of a backend failing unexpectedly can be tested on any machine.
 */
final class TestProviders {
    private TestProviders() {
    }

    /** Never usable: selecting it by name must be a one-line error with this reason. */
    public static final class Unusable implements BackendProvider {
        static final String REASON = "no such device here (test-only provider)";

        @Override
        public String name() {
            return "test-unusable";
        }

        @Override
        public Probe probe() {
            return Probe.unusable(REASON, List.of("detail line of the test provider"));
        }

        @Override
        public Backend open() {
            throw new AssertionError("Backends opened an unusable backend");
        }
    }

    /** Usable but last in preference, and opening it fails: an internal error, exit 1. */
    public static final class Broken implements BackendProvider {
        static final String FAILURE = "driver crashed on open (test-only provider)";

        @Override
        public String name() {
            return "test-broken";
        }

        @Override
        public Probe probe() {
            return Probe.usable(Integer.MAX_VALUE - 1, "usable but fails to open (test-only provider)", List.of(), List.of());
        }

        @Override
        public Backend open() {
            throw new IllegalStateException(FAILURE);
        }
    }
}
