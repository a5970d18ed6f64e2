package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.OpenAndListNativeLibraries;
import org.junit.jupiter.api.Test;

/** With this artifact on the class path, the JCuda natives and the CUDA driver load only when CUDA is used. */
class LazyLoadingTest {
    @Test
    void forcingTheJavaBackendLoadsNoNativeLibrary() throws Exception {
        OpenAndListNativeLibraries.Run run = OpenAndListNativeLibraries.inNewJvm("cpu");
        assertThat(run.exitCode()).as("exit code; stderr:%n%s", run.stderr()).isZero();
        assertThat(run.lines()).contains("backend: cpu");
        assertThat(run.nativeLibraries()).isEmpty();
    }
}
