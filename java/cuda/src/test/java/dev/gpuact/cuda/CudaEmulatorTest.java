package dev.gpuact.cuda;

import dev.gpuact.Backends;
import org.junit.jupiter.api.BeforeAll;

/**
 * Every check of {@link CudaBackendGpuTest} on the emulated device with one SM, where the launch shapes differ
 * most from the 132 SMs of the conformance suite's {@code cuda-emu} (a long row splits into fewer chunks, and
 * three rows already take the one-chunk-per-row kernel).
 */
class CudaEmulatorTest extends CudaBackendGpuTest {
    @BeforeAll
    static void open() {
        EmulatorLibrary.requireOrSkip();
        cuda = EmulatedCudaProvider.open(1, new EmulatedDriver());
        cpu = Backends.get("cpu");
        another = () -> EmulatedCudaProvider.open(1, new EmulatedDriver());
        timedElements = 1 << 16;  // a GPU's second is minutes on the CPU
    }
}
