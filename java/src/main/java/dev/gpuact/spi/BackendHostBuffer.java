package dev.gpuact.spi;

import dev.gpuact.HostBuffer;
import java.nio.ByteBuffer;

/** Host memory of one backend: counted by it while open, and closed by the backend's close at the latest. */
public abstract class BackendHostBuffer extends HostBuffer {
    private final AbstractBackend<?> backend;

    protected BackendHostBuffer(AbstractBackend<?> backend, ByteBuffer bytes, boolean pinned) {
        super(bytes, pinned);
        this.backend = backend;
    }

    @Override
    protected final void closed() {
        backend.hostBufferClosed(this);
    }
}
