package dev.gpuact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** auto takes the first usable backend that opens, and says why it passed over one that probed usable. */
class AutoSelectionTest {
    /** Probes usable, as a driver that lists a device can, then fails to create a context on it. */
    private static BackendProvider failsToOpen(String name) {
        return new BackendProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Probe probe() {
                return Probe.usable(0, "lists a device", List.of("device 0"), List.of());
            }

            @Override
            public Backend open() {
                throw new IllegalStateException("cannot create a context (CL_OUT_OF_HOST_MEMORY)");
            }
        };
    }

    private static Providers.Entry entry(BackendProvider p) {
        return Providers.Entry.of(p);
    }

    @Test
    void aBackendThatProbesUsableButFailsToOpenIsLoggedAndPassedOver() {
        List<String> logged = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record.getLevel() + " " + record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger jul = Logger.getLogger("dev.gpuact");
        jul.addHandler(handler);
        try {
            BackendProvider cpu = new dev.gpuact.cpu.CpuBackendProvider();
            try (Backend b = Backends.openBest(List.of(entry(failsToOpen("flaky")), entry(cpu)))) {
                assertThat(b.name()).isEqualTo("cpu");
            }
            assertThat(logged).anyMatch(l -> l.startsWith("WARNING") && l.contains("'flaky' probed usable but failed "
                    + "to open") && l.contains("cannot create a context"));
            assertThatThrownBy(() -> Backends.openBest(List.of(entry(failsToOpen("a")), entry(failsToOpen("b")))))
                    .isInstanceOf(BackendUnavailableException.class)
                    .hasMessageContaining("a: failed to open: java.lang.IllegalStateException: cannot create a context")
                    .hasMessageContaining("b: failed to open");
        } finally {
            jul.removeHandler(handler);
        }
    }
}
