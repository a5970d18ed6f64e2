package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Stream;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Device memory and streams an engine holds as plain numbers (JavaCPP's CUDA presets, Panama, its own JNI), under
 * the emulated driver, whose device addresses are real addresses of emulator memory.
 */
class CudaRawHandlesTest {
    @BeforeAll
    static void emulator() {
        EmulatorLibrary.requireOrSkip();
    }

    @Test
    void aRawDeviceAddressIsTheEnginesMemoryWithoutACopy() {
        EmulatedDriver driver = new EmulatedDriver();
        try (CudaBackend cuda = EmulatedCudaProvider.open(132, driver)) {
            CUdeviceptr engine;
            try (CudaBackend.Current c = cuda.current()) {
                engine = driver.alloc(8 * Float.BYTES);
            }
            long address = DeviceAddress.of(engine);
            try (DeviceBuffer raw = cuda.wrapDevicePointer(address + 2 * Float.BYTES, 4, DType.FLOAT32);
                 DeviceBuffer typed = cuda.wrap(engine, 8)) {
                assertThat(raw.length()).isEqualTo(4);
                typed.upload(new float[] {9, 9, -1, 2, -3, 4, 9, 9});
                cuda.apply(Activation.RELU, raw, raw);
                assertThat(typed.toArray()).as("the engine's memory, seen through its JCuda pointer")
                        .containsExactly(9, 9, 0, 2, 0, 4, 9, 9);
            }
            try (CudaBackend.Current c = cuda.current()) {
                driver.free(engine); // still the engine's: closing the wrappers freed nothing
            }
        }
    }

    @Test
    void rawDeviceAddressesOutsideAnAllocationAreRefused() {
        EmulatedDriver driver = new EmulatedDriver();
        try (CudaBackend cuda = EmulatedCudaProvider.open(132, driver); DeviceBuffer owned = cuda.allocate(4)) {
            long address = ((CudaBuffer) owned).address();
            assertThatThrownBy(() -> cuda.wrapDevicePointer(0, 4, DType.FLOAT32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("the device address is 0 (NULL)");
            assertThatThrownBy(() -> cuda.wrapDevicePointer(0x1000, 1, DType.FLOAT32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not device memory");
            assertThatThrownBy(() -> cuda.wrapDevicePointer(address + Float.BYTES, 4, DType.FLOAT32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must lie inside its allocation");
            assertThatThrownBy(() -> cuda.wrapDevicePointer(address + 2, 1, DType.FLOAT32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4-byte aligned");
            assertThatThrownBy(() -> cuda.wrapDevicePointer(address, 4, DType.FLOAT64))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("FLOAT64");
        }
    }

    @Test
    void aRawStreamHandleCarriesTheCallsToThatStream() {
        EmulatedDriver driver = new EmulatedDriver();
        try (CudaBackend cuda = EmulatedCudaProvider.open(132, driver); DeviceBuffer x = cuda.upload(new float[] {-1, 2})) {
            try (Stream onEngine = cuda.wrapStream(0x5eedL)) {
                assertThat(onEngine.isAsynchronous()).isTrue();
                onEngine.apply(Activation.RELU, x, x);
                onEngine.synchronize();
                assertThat(driver.lastLaunchStream()).hasToString("CUstream[nativePointer=0x5eed]");
            }
            assertThat(x.toArray()).containsExactly(0, 2);
            try (Stream legacy = cuda.wrapStream(0)) {
                legacy.apply(Activation.SQUARE, x, x);
                assertThat(driver.lastLaunchStream()).hasToString("CUstream[nativePointer=0x0]");
            }
            assertThat(x.toArray()).containsExactly(0, 4);
        }
    }
}
