package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The reports: info and the version (bench has its own tests in dev.gpuact.report). */
class InfoBenchTest {
    @Test
    void infoListsEveryBackendWithWhyAndWhatAutoPicks() {
        String out = Cli.run("info").succeeded().out();
        assertThat(out).contains("gpuact ", "Java " + System.getProperty("java.version"), "OS " + System.getProperty("os.name"));
        assertThat(out).containsPattern("(?m)^  cpu +usable: ");
        assertThat(out).contains("  test-unusable NOT usable: " + TestProviders.Unusable.REASON,
                "          detail line of the test provider");
        // auto picks the most preferred usable backend: opencl where PoCL or a GPU is installed, else cpu
        assertThat(out).contains("auto picks: " + dev.gpuact.Backends.usableNames().get(0) + "\n");
        // the test build starts the JVM with --add-modules jdk.incubator.vector, as the launchers do
        assertThat(out).containsPattern("(?m)^cpu kernels: Vector API \\(\\d+-bit vectors, \\d+ float lanes\\)$");
        assertThat(out).contains("Activations: identity, step, abs,", "softmax, log_softmax, maxout\n");
    }

    @Test
    void versionNamesJavaAndTheOs() {
        String out = Cli.run("--version").succeeded().out();
        assertThat(out.lines().toList()).hasSize(3).first().asString().startsWith("gpuact ");
    }
}
