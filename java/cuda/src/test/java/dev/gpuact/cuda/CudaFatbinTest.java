package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The committed fatbin holds exactly the kernels the host code launches, and says which driver it needs. */
class CudaFatbinTest {
    private static Fatbin fatbin;

    @BeforeAll
    static void load() {
        fatbin = Fatbin.load();
    }

    @Test
    void everyKernelTheHostLaunchesIsInTheFatbinBytes() {
        String bytes = new String(fatbin.image(), StandardCharsets.ISO_8859_1);
        for (String name : KernelNames.all()) {
            // The cubin section name, NUL-terminated, so warp1 is not found inside warp16.
            assertThat(bytes).as("kernel %s in gpuact.fatbin", name).contains(".text." + name + "\0");
        }
    }

    @Test
    void theManifestListsExactlyTheLaunchableKernels() {
        assertThat(fatbin.kernels()).containsExactlyInAnyOrderElementsOf(new TreeSet<>(KernelNames.all()));
        assertThat(Set.copyOf(KernelNames.all())).hasSameSizeAs(KernelNames.all());
    }

    @Test
    void theManifestSaysHowItWasBuilt() {
        assertThat(fatbin.fields()).containsKeys("sources-sha256", "nvcc", "sass", "ptx", "flags");
        assertThat(fatbin.fields().get("sass").split(" ")).contains("75", "80", "86", "89", "90");
        assertThat(fatbin.fields().get("flags")).contains("-O3").doesNotContain("fast_math");
    }

    @Test
    void anOlderDriverIsRefusedWithBothVersions() {
        int needed = fatbin.minDriverApi();
        assertThat(needed).isGreaterThanOrEqualTo(12000);
        assertThat(fatbin.driverProblem(needed)).isNull();
        assertThat(fatbin.driverProblem(needed + 10)).isNull();
        assertThat(fatbin.driverProblem(12040)).contains("supports CUDA 12.4").contains("need a driver for CUDA "
                + Fatbin.cudaVersion(needed)).contains("update the NVIDIA driver");
    }

    @Test
    void manifestParsing() {
        String manifest = "# comment: ignored\nnvcc: release 13.0, V13.0.88\nmin-driver-api: 13000\nkernel: gpuact_a\nkernel: gpuact_b\n";
        assertThat(Fatbin.parseFields(manifest)).containsEntry("nvcc", "release 13.0, V13.0.88")
                .containsEntry("min-driver-api", "13000").doesNotContainKeys("kernel", "# comment");
        assertThat(Fatbin.kernelsOf(manifest)).containsExactly("gpuact_a", "gpuact_b");
        assertThat(Fatbin.cudaVersion(13000)).isEqualTo("13.0");
        assertThat(Fatbin.cudaVersion(12080)).isEqualTo("12.8");
    }
}
