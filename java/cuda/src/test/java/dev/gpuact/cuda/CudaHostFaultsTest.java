package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import dev.gpuact.NativeCallException;
import dev.gpuact.OutOfDeviceMemoryException;
import dev.gpuact.Stream;
import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The host side of the CUDA backend against the emulated driver, which keeps the real driver's rules (a context
 * current for every call, sticky faults, resources that must be freed) and injects the failures a device has.
 */
class CudaHostFaultsTest {
    @BeforeAll
    static void emulator() {
        EmulatorLibrary.requireOrSkip();
    }

    @Test
    void callsLeaveTheThreadsOwnCurrentContextInPlace() {
        EmulatedDriver driver = new EmulatedDriver();
        try (CudaBackend cuda = EmulatedCudaProvider.open(132, driver); DeviceBuffer x = cuda.upload(new float[] {-1, 2})) {
            CUcontext engine = new CUcontext();
            driver.setCurrent(engine);
            cuda.apply(Activation.RELU, x, x);
            assertThat(x.toArray()).containsExactly(0, 2);
            assertThat(driver.currentContext()).as("the engine's context after the calls").isSameAs(engine);
        }
    }

    @Test
    void pinnedHostBuffersOverAByteBuffersReachAreRefusedBeforeAllocating() {
        EmulatedDriver driver = new EmulatedDriver();
        try (CudaBackend cuda = EmulatedCudaProvider.open(132, driver)) {
            int before = driver.liveResources();
            assertThatThrownBy(() -> cuda.allocateHost(1 << 29)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("a Java buffer holds");
            assertThat(driver.liveResources()).as("driver resources after the refusal").isEqualTo(before);
            cuda.allocateHost(HostBuffer.MAX_LENGTH / 1024).close();
        }
    }

    @Test
    void closingAfterAStickyFaultFreesEverythingAndReleasesTheContext() {
        EmulatedDriver driver = new EmulatedDriver();
        CudaBackend cuda = EmulatedCudaProvider.open(132, driver);
        DeviceBuffer x = cuda.upload(new float[] {1, 2, 3});
        driver.faultNextLaunch();
        assertThatThrownBy(() -> cuda.apply(Activation.TANH, x, x)).isInstanceOf(NativeCallException.class)
                .hasMessageContaining("ILLEGAL_ADDRESS")
                .hasCauseInstanceOf(CudaException.class);
        assertThatThrownBy(cuda::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("device fault")
                .hasMessageContaining("ILLEGAL_ADDRESS");
        assertThat(cuda.isClosed()).isTrue();
        assertThat(driver.retainedContexts()).as("primary context references").isZero();
        assertThat(driver.liveResources()).as("device memory, pinned memory, streams, events, modules").isZero();
    }

    @Test
    void aConstructorThatFailsUndoesWhatItSetUp() {
        EmulatedDriver driver = new EmulatedDriver();
        driver.failHostAllocations(0);
        assertThatThrownBy(() -> EmulatedCudaProvider.open(132, driver)).isInstanceOf(CudaException.class)
                .hasMessageContaining("OUT_OF_MEMORY");
        assertThat(driver.retainedContexts()).as("primary context references").isZero();
        assertThat(driver.liveResources()).as("stream and module left behind").isZero();
    }

    @Test
    void everyCallNeedsItsContextCurrent() {
        EmulatedDriver driver = new EmulatedDriver();
        try (CudaBackend cuda = EmulatedCudaProvider.open(132, driver)) {
            assertThatThrownBy(() -> driver.alloc(4)).isInstanceOf(CudaException.class)
                    .hasMessageContaining("INVALID_CONTEXT");
        }
    }

    @Test
    void anAllocationIsOutOfMemoryOnlyWhenTheDriverSaysSo() {
        EmulatedDriver driver = new EmulatedDriver();
        try (CudaBackend cuda = EmulatedCudaProvider.open(132, driver)) {
            driver.failNextAllocation("CUDA_ERROR_INVALID_VALUE");
            assertThatThrownBy(() -> cuda.allocate(16)).isExactlyInstanceOf(NativeCallException.class)
                    .hasMessage("cuda-emu: cuMemAlloc failed: CUDA_ERROR_INVALID_VALUE (1)")
                    .satisfies(e -> {
                        NativeCallException n = (NativeCallException) e;
                        assertThat(n.backend()).isEqualTo("cuda-emu");
                        assertThat(n.call()).isEqualTo("cuMemAlloc");
                        assertThat(n.code()).isEqualTo(CUresult.CUDA_ERROR_INVALID_VALUE);
                        assertThat(n.outOfMemory()).isFalse();
                    });
            driver.failNextAllocation("CUDA_ERROR_OUT_OF_MEMORY");
            assertThatThrownBy(() -> cuda.allocate(16)).isExactlyInstanceOf(OutOfDeviceMemoryException.class)
                    .hasMessageStartingWith("cuda-emu: cannot allocate 16 FLOAT32 elements (64 bytes): cuda-emu: "
                            + "cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (2)")
                    .hasCauseInstanceOf(NativeCallException.class);
            driver.failHostAllocations(0);
            assertThatThrownBy(() -> cuda.allocateHost(16)).isExactlyInstanceOf(OutOfDeviceMemoryException.class)
                    .hasMessage("cuda-emu: cannot allocate 16 floats of host memory: cuda-emu: cuMemAllocHost failed: "
                            + "CUDA_ERROR_OUT_OF_MEMORY (2)");
            assertThat(cuda.memory()).isEqualTo(new Backend.MemoryStats(0, 0));
            assertThat(cuda.openHostBuffers()).isZero();
            try (DeviceBuffer x = cuda.upload(new float[] {-1, 2})) {
                cuda.apply(Activation.RELU, x, x);
                assertThat(x.toArray()).containsExactly(0, 2);
            }
        }
    }

    @Test
    void aStreamOnTheEnginesOwnCudaStreamLeavesItAlive() {
        EmulatedDriver driver = new EmulatedDriver();
        try (CudaBackend cuda = EmulatedCudaProvider.open(132, driver); DeviceBuffer x = cuda.upload(new float[] {-1, 2})) {
            CUstream engine;
            try (CudaBackend.Current c = cuda.current()) {
                engine = driver.createStream();
            }
            try (Stream onEngine = cuda.wrap(engine)) {
                assertThat(onEngine.isAsynchronous()).isTrue();
                onEngine.apply(Activation.RELU, x, x);
                onEngine.synchronize();
            }
            assertThat(x.toArray()).containsExactly(0, 2);
            assertThat(cuda.openStreams()).isZero();
            try (CudaBackend.Current c = cuda.current()) {
                driver.destroyStream(engine); // still the engine's: the backend did not destroy it
            }
        }
    }
}
