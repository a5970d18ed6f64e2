package dev.gpuact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backends are probed only when needed, and a provider that fails to load or to probe is reported, never thrown
 * at the user of another backend.
 */
public class ProvidersTest {
    /** Counts its probes. */
    public static class Counting implements BackendProvider {
        static final AtomicInteger PROBES = new AtomicInteger();

        @Override
        public String name() {
            return "counting";
        }

        @Override
        public Probe probe() {
            PROBES.incrementAndGet();
            return Probe.unusable("counted", List.of());
        }

        @Override
        public Backend open() {
            throw new AssertionError("never usable");
        }
    }

    /** As a provider whose native binding is missing from the class path fails to construct. */
    public static final class FailsToConstruct extends Counting {
        public FailsToConstruct() {
            throw new NoClassDefFoundError("org/jocl/CL");
        }
    }

    /** As a binding whose native library is missing fails its probe. */
    public static final class ProbeThrows extends Counting {
        @Override
        public String name() {
            return "probe-throws";
        }

        @Override
        public Probe probe() {
            throw new UnsatisfiedLinkError("no fake in java.library.path");
        }
    }

    /** A folder for the class path that lists {@code providers} as backends. */
    static Path servicesListing(Path dir, String... providers) throws IOException {
        Path services = dir.resolve("META-INF/services");
        Files.createDirectories(services);
        Files.write(services.resolve(BackendProvider.class.getName()), List.of(providers));
        return dir;
    }

    private static Providers load(Path dir) throws IOException {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()},
                ProvidersTest.class.getClassLoader())) {
            return Providers.load(loader);
        }
    }

    @Test
    void openingABackendByNameProbesNoOther(@TempDir Path dir) throws IOException {
        Providers providers = load(servicesListing(dir, Counting.class.getName()));
        int probesBefore = Counting.PROBES.get();
        try (Backend cpu = providers.named("cpu").orElseThrow().open()) {
            assertThat(cpu.name()).isEqualTo("cpu");
        }
        assertThat(Counting.PROBES.get()).as("probes of another backend").isEqualTo(probesBefore);
        providers.probed();
        providers.probed();
        assertThat(Counting.PROBES.get()).as("a provider is probed once").isEqualTo(probesBefore + 1);
    }

    @Test
    void aProviderThatFailsToLoadOrToProbeIsListedWithItsErrorAndBreaksNoOther(@TempDir Path dir) throws IOException {
        Providers providers = load(servicesListing(dir, "dev.gpuact.NoSuchProvider", FailsToConstruct.class.getName(),
                ProbeThrows.class.getName()));
        assertThat(providers.names()).contains("cpu", "probe-throws").doesNotContain(Providers.UNLOADABLE);
        assertThat(providers.loadErrors()).satisfiesExactlyInAnyOrder(
                error -> assertThat(error).contains("dev.gpuact.NoSuchProvider", "not found"),
                error -> assertThat(error).contains(FailsToConstruct.class.getName(), "org/jocl/CL"));
        assertThat(providers.named("cpu").orElseThrow().probe().usable()).isTrue();
        assertThat(providers.probed()).anySatisfy(entry -> {
            assertThat(entry.name()).isEqualTo("probe-throws");
            assertThat(entry.probe().usable()).isFalse();
            assertThat(entry.probe().reason()).isEqualTo("probe failed: java.lang.UnsatisfiedLinkError: no fake in "
                    + "java.library.path");
        }).filteredOn(entry -> entry.name().equals(Providers.UNLOADABLE)).hasSize(2);
        assertThat(providers.probed().get(0).name()).as("the best usable backend comes first").isEqualTo("cpu");
    }

    @Test
    void inAJvmWithoutJoclOrJcudaTheJavaBackendOpensAndLoadsNoNativeLibrary() throws Exception {
        assertThatThrownBy(() -> Class.forName("org.jocl.CL")).isInstanceOf(ClassNotFoundException.class);
        assertThatThrownBy(() -> Class.forName("jcuda.driver.JCudaDriver")).isInstanceOf(ClassNotFoundException.class);
        OpenAndListNativeLibraries.Run run = OpenAndListNativeLibraries.inNewJvm("cpu");
        assertThat(run.exitCode()).as("exit code; stderr:%n%s", run.stderr()).isZero();
        assertThat(run.lines()).contains("backend: cpu");
        assertThat(run.nativeLibraries()).isEmpty();
    }

    @Test
    void aBrokenProviderOnTheClassPathLeavesBackendsGetCpuWorking(@TempDir Path dir) throws Exception {
        OpenAndListNativeLibraries.Run run = OpenAndListNativeLibraries.inNewJvm("cpu",
                servicesListing(dir, "dev.gpuact.NoSuchProvider", FailsToConstruct.class.getName(),
                        ProbeThrows.class.getName()));
        assertThat(run.exitCode()).as("exit code; stderr:%n%s", run.stderr()).isZero();
        assertThat(run.lines()).contains("backend: cpu");
    }
}
