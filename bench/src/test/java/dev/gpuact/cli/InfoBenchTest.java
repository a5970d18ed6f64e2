package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The reports: info and the version (bench has its own tests in dev.gpuact.report). */
class InfoBenchTest {
    @Test
    void infoListsEveryBackendWithWhyAndWhatAutoPicks() {
        String out = Cli.run("info").succeeded().out();
        assertThat(out).contains("gpuact ", "Java " + System.getProperty("java.version"), "OS " + System.getProperty("os.name"));
        assertThat(out).containsPattern("(?m)^  cpu +usable: ");
        assertThat(out).contains("  test-unusable NOT usable: " + TestProviders.Unusable.REASON)
                .doesNotContain("detail line of the test provider");
        // One line per backend and device, whatever a probe's details hold (JCuda's nested stack traces without a
        // driver): those are for --verbose.
        List<String> backendSection = out.lines().dropWhile(l -> !l.startsWith("Backends")).skip(1)
                .takeWhile(l -> !l.startsWith("  (--verbose")).toList();
        assertThat(backendSection).allMatch(l -> l.matches("  \\S+ +(usable|NOT usable): .*|          device: .*"));
        assertThat(backendSection).hasSize(dev.gpuact.Backends.statuses().stream()
                .mapToInt(s -> 1 + s.probe().devices().size()).sum());
        assertThat(Cli.run("info", "--verbose").succeeded().out()).contains("          detail line of the test provider");
        // auto picks the most preferred usable backend: opencl where PoCL or a GPU is installed, else cpu
        assertThat(out).contains("auto picks: " + dev.gpuact.Backends.usableNames().get(0) + "\n");
        // the test build starts the JVM with --add-modules jdk.incubator.vector, as the launchers do
        assertThat(out).containsPattern("(?m)^cpu kernels: Vector API \\(\\d+-bit vectors, \\d+ float lanes\\)$");
        assertThat(out).contains("Activations: identity, step, abs,", "softmax, log_softmax, maxout, glu, swiglu,");
    }

    @Test
    void infoSaysWhenTheNamedBackendIsNoBackendOrCannotRun() {
        try {
            System.setProperty(dev.gpuact.Backends.PROPERTY, "garbage");
            assertThat(Cli.run("info").succeeded().out()).contains("auto picks: nothing: -Dgpuact.backend=garbage names "
                    + "no backend; known: auto, ");
            System.setProperty(dev.gpuact.Backends.PROPERTY, "test-unusable");
            assertThat(Cli.run("info").succeeded().out()).contains("auto picks: nothing: -Dgpuact.backend names "
                    + "test-unusable, which is not usable: " + TestProviders.Unusable.REASON);
            System.setProperty(dev.gpuact.Backends.PROPERTY, "Java");
            assertThat(Cli.run("info").succeeded().out()).contains("auto picks: cpu (set by -Dgpuact.backend)");
        } finally {
            System.clearProperty(dev.gpuact.Backends.PROPERTY);
        }
    }

    @Test
    void versionNamesJavaAndTheOs() {
        String out = Cli.run("--version").succeeded().out();
        assertThat(out.lines().toList()).hasSize(3).first().asString().startsWith("gpuact ");
    }
}
