package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SignalChainingTest {
    @Test
    void llvmBasedPlatformsAreRecognisedByName() {
        assertThat(SignalChaining.replacesJvmHandlers("Portable Computing Language")).isTrue();
        assertThat(SignalChaining.replacesJvmHandlers("Clover")).isTrue();
        assertThat(SignalChaining.replacesJvmHandlers("rusticl")).isTrue();
        assertThat(SignalChaining.replacesJvmHandlers("NVIDIA CUDA")).isFalse();
        assertThat(SignalChaining.replacesJvmHandlers("Intel(R) OpenCL Graphics")).isFalse();
    }

    /** The test build preloads libjsig (parent pom); without it the OpenCL tests would run on a JVM that can crash. */
    @Test
    void theTestJvmChainsSignals() {
        assertThat(SignalChaining.active()).as("libjsig loaded in the test JVM (LD_PRELOAD from the parent pom)").isTrue();
        assertThat(SignalChaining.advice()).contains("LD_PRELOAD=").contains("libjsig.so");
    }
}
