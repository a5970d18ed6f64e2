package dev.gpuact.spi;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import java.nio.FloatBuffer;
import java.util.Objects;

/** The stream every backend has: each call runs at once through the synchronous API, so nothing overlaps. */
public final class SynchronousStream implements Stream {
    private final Backend backend;
    private volatile boolean closed;

    public SynchronousStream(Backend backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public void write(DeviceBuffer dst, long offset, FloatBuffer src) {
        requireOpen();
        ownBuffer(dst, "dst").write(offset, src);
    }

    @Override
    public void read(DeviceBuffer src, long offset, FloatBuffer dst) {
        requireOpen();
        ownBuffer(src, "src").read(offset, dst);
    }

    @Override
    public void apply(Activation activation, DeviceBuffer x, DeviceBuffer y) {
        requireOpen();
        backend.apply(activation, x, y);
    }

    @Override
    public void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout) {
        requireOpen();
        backend.applyRows(activation, x, y, layout);
    }

    @Override
    public void synchronize() {
        requireOpen();
    }

    @Override
    public boolean isAsynchronous() {
        return false;
    }

    @Override
    public void close() {
        closed = true;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("stream of backend '" + backend.name() + "' is closed");
        }
    }

    private DeviceBuffer ownBuffer(DeviceBuffer buffer, String role) {
        Objects.requireNonNull(buffer, role);
        if (buffer.backend() != backend) {
            throw new IllegalArgumentException(role + " belongs to backend '" + buffer.backend().name()
                    + "', not to this stream's '" + backend.name() + "' backend");
        }
        return buffer;
    }
}
