package dev.gpuact.cuda;

import dev.gpuact.HostBuffer;
import java.nio.ByteBuffer;
import jcuda.Pointer;

/**
 * Page-locked host memory from {@code cuMemAllocHost}: the device copies it by DMA, and a copy on a stream
 * returns at once. Freed by {@link #close()}, or by the backend's close at the latest.
 */
final class PinnedHostBuffer extends HostBuffer {
    private final CudaBackend backend;
    /** Null for an empty buffer, which holds no native memory. */
    private final Pointer memory;

    PinnedHostBuffer(CudaBackend backend, Pointer memory, ByteBuffer bytes) {
        super(bytes, true);
        this.backend = backend;
        this.memory = memory;
    }

    @Override
    protected void closed() {
        backend.hostBufferClosed(this);
    }

    @Override
    protected void free() {
        backend.freeHost(memory);
    }
}
