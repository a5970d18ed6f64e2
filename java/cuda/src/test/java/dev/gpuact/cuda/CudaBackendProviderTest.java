package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.gpuact.Backend;
import dev.gpuact.BackendUnavailableException;
import dev.gpuact.Backends;
import dev.gpuact.Probe;
import org.junit.jupiter.api.Test;

/** The provider on a machine without a usable CUDA device (this project's CI); see CudaBackendGpuTest for one with. */
class CudaBackendProviderTest {
    private static final Probe PROBE = new CudaBackendProvider().probe();

    @Test
    void probeIsAnsweredOnceAndKept() {
        CudaBackendProvider provider = new CudaBackendProvider();
        Probe first = provider.probe();
        assertThat(provider.probe()).isSameAs(first);
        assertThat(provider.name()).isEqualTo("cuda");
    }

    @Test
    void withoutCudaTheProbeSaysWhyAndOpenRefuses() {
        assumeThat(PROBE.usable()).as("a CUDA device is usable here: " + PROBE.reason()).isFalse();
        assertThat(PROBE.reason()).containsAnyOf("no CUDA driver", "no CUDA device", "no usable CUDA device",
                "need a driver for CUDA", "compute capability", "loading gpuact.fatbin");
        assertThat(PROBE.rank()).isEqualTo(Integer.MAX_VALUE);
        // A second provider in the same JVM meets NoClassDefFoundError instead of UnsatisfiedLinkError: still a reason.
        CudaBackendProvider again = new CudaBackendProvider();
        assertThat(again.probe().usable()).isFalse();
        assertThat(again.probe().reason()).isNotBlank();
        assertThatThrownBy(again::open).isInstanceOf(BackendUnavailableException.class)
                .hasMessageStartingWith("backend 'cuda' is not usable: ");
    }

    @Test
    void backendsReportCudaAndFallThroughToAnotherBackend() {
        assumeThat(PROBE.usable()).as("a CUDA device is usable here").isFalse();
        // Backends holds its own provider instance, so its reason may be the NoClassDefFoundError variant.
        Backends.Status cuda = Backends.statuses().stream().filter(s -> s.name().equals("cuda")).findFirst().orElseThrow();
        assertThat(cuda.usable()).isFalse();
        assertThat(cuda.probe().reason()).isNotBlank();
        assertThatThrownBy(() -> Backends.get("cuda")).isInstanceOf(BackendUnavailableException.class)
                .hasMessage("backend 'cuda' is not usable: " + cuda.probe().reason());
        assertThat(Backends.usableNames()).doesNotContain("cuda");
        if (Backends.usableNames().isEmpty()) {
            assertThatThrownBy(Backends::best).isInstanceOf(BackendUnavailableException.class)
                    .hasMessageContaining("cuda: " + cuda.probe().reason());
        } else {
            try (Backend best = Backends.best()) {
                assertThat(best.name()).isEqualTo(Backends.usableNames().get(0)).isNotEqualTo("cuda");
            }
        }
    }

    @Test
    void linkageErrorsBecomeAReasonAUserCanActOn() {
        String reason = CudaBackendProvider.noDriverReason(
                new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver-12.0.0-linux-x86_64\"\nStack..."));
        assertThat(reason).isEqualTo("no CUDA driver: the JCuda native library or libcuda.so.1 (NVIDIA driver) could not be "
                + "loaded (UnsatisfiedLinkError: Error while loading native library \"JCudaDriver-12.0.0-linux-x86_64\")");
    }

    @Test
    void theDevicePropertyIsAnOrdinal() {
        assertThat(CudaBackendProvider.requestedDevice(null)).isZero();
        assertThat(CudaBackendProvider.requestedDevice(" ")).isZero();
        assertThat(CudaBackendProvider.requestedDevice("2")).isEqualTo(2);
        assertThatThrownBy(() -> CudaBackendProvider.requestedDevice("-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("-Dgpuact.cuda.device must be a device ordinal >= 0, got '-1'");
        assertThatThrownBy(() -> CudaBackendProvider.requestedDevice("gpu1"))
                .hasMessage("-Dgpuact.cuda.device must be a device ordinal >= 0, got 'gpu1'");
    }

    @Test
    void deviceDescriptionNamesWhatMatters() {
        CudaDeviceInfo h100 = new CudaDeviceInfo(0, "NVIDIA H100 80GB HBM3", 9, 0, 132, 85_045_870_592L, 12040);
        assertThat(h100.describe()).isEqualTo("cuda:0 NVIDIA H100 80GB HBM3 (compute 9.0, 132 SMs, 79.2 GiB, driver CUDA 12.4)");
    }
}
