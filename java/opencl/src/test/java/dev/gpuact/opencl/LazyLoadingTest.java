package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Backends;
import dev.gpuact.OpenAndListNativeLibraries;
import dev.gpuact.RequiredBackends;
import org.junit.jupiter.api.Test;

/** With this artifact on the class path, JOCL and the OpenCL runtime load only when OpenCL is used. */
class LazyLoadingTest {
    @Test
    void forcingTheJavaBackendLoadsNoNativeLibrary() throws Exception {
        OpenAndListNativeLibraries.Run run = OpenAndListNativeLibraries.inNewJvm("cpu");
        assertThat(run.exitCode()).as("exit code; stderr:%n%s", run.stderr()).isZero();
        assertThat(run.lines()).contains("backend: cpu");
        assertThat(run.nativeLibraries()).isEmpty();
    }

    @Test
    void openingOpenClLoadsJoclAndTheRuntime() throws Exception {
        RequiredBackends.requireOrSkip("opencl", Backends.usableNames().contains("opencl"), "opencl is not usable here");
        OpenAndListNativeLibraries.Run run = OpenAndListNativeLibraries.inNewJvm("opencl");
        assertThat(run.exitCode()).as("exit code; stderr:%n%s", run.stderr()).isZero();
        assertThat(run.lines()).contains("backend: opencl");
        assertThat(run.nativeLibraries()).anyMatch(lib -> lib.contains("JOCL")).anyMatch(lib -> lib.contains("libOpenCL"));
    }
}
