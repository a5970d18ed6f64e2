package dev.gpuact.cuda;

import java.nio.ByteBuffer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * Device memory for the partial results that pass between the kernels of one call (long softmax statistics,
 * PReLU weight-gradient slices), grown on demand and kept. Whoever reserves it holds its monitor until the
 * kernels that use it are ordered before any later user: by waiting for them, or by sharing their stream.
 * The caller makes the context current.
 */
final class DeviceScratch {
    private final CudaDriver driver;
    private CUdeviceptr memory;
    private long bytes;

    DeviceScratch(CudaDriver driver) {
        this.driver = driver;
    }

    /** The address of room for at least {@code doubles} doubles; growing first waits for {@code stream}. */
    long reserve(long doubles, CUstream stream) {
        long wanted = bytesFor(doubles);
        if (wanted > bytes) {
            if (memory != null) {
                driver.synchronize(stream);  // earlier kernels on the stream may still read the old memory
                driver.free(memory);
                memory = null;
                bytes = 0;
            }
            memory = driver.alloc(wanted);
            bytes = wanted;
        }
        return DeviceAddress.of(memory);
    }

    /** The address of a copy of {@code bytes} (a direct buffer, its remaining bytes) at the start of the scratch. */
    long reserveCopy(ByteBuffer bytes, CUstream stream) {
        long address = reserve((bytes.remaining() + Double.BYTES - 1) / Double.BYTES, stream);
        driver.copyHostToDevice(memory, Pointer.toBuffer(bytes), bytes.remaining(), stream);
        return address;
    }

    /** Bytes of {@code doubles} doubles; refuses counts a device could never hold rather than wrapping around. */
    static long bytesFor(long doubles) {
        if (doubles < 1) {
            throw new IllegalArgumentException("scratch needs at least one double, got " + doubles);
        }
        return Math.multiplyExact(doubles, Double.BYTES);
    }

    /** Frees the memory; the caller has waited for every kernel that used it. */
    void free() {
        if (memory != null) {
            driver.free(memory);
            memory = null;
            bytes = 0;
        }
    }
}
