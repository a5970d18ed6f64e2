package dev.gpuact.cuda;

import dev.gpuact.spi.BackendHostBuffer;
import java.nio.ByteBuffer;
import jcuda.Pointer;

/**
 * Page-locked host memory from {@code cuMemAllocHost}: the device copies it by DMA, and a copy on a stream
 * returns at once. Freed by {@link #close()}, or by the backend's close at the latest.
 */
final class PinnedHostBuffer extends BackendHostBuffer {
    private final CudaBackend backend;
    /** Null for an empty buffer, which holds no native memory. */
    private final Pointer memory;

    PinnedHostBuffer(CudaBackend backend, Pointer memory, ByteBuffer bytes) {
        super(backend, bytes, true);
        this.backend = backend;
        this.memory = memory;
    }

    @Override
    protected void free() {
        backend.freeHost(memory);
    }
}
