package dev.gpuact.opencl;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A stream on a command queue of its own: its commands run in order, apart from the backend's queue and other
 * streams, so one stream's transfer can overlap another's kernel. Calls go through the backend's checked entry
 * points, which enqueue on this queue without waiting. Direct host buffers are transferred asynchronously and
 * held here until {@link #synchronize()}, so the garbage collector cannot free them while the device uses them;
 * heap buffers, which the JVM may move, are transferred at once.
 */
final class OpenClStream implements Stream {
    private final OpenClBackend backend;
    private final OpenClQueue queue;
    private final List<Buffer> inFlight = new ArrayList<>();
    private boolean closed;

    OpenClStream(OpenClBackend backend, OpenClQueue queue) {
        this.backend = backend;
        this.queue = queue;
    }

    OpenClQueue queue() {
        return queue;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public void write(DeviceBuffer dst, long offset, FloatBuffer src) {
        DeviceBuffer own = ownBuffer(dst, "dst");
        Objects.requireNonNull(src, "src");
        backend.enqueueOn(this, () -> {
            own.write(offset, src);
            inFlight.add(src);
        });
    }

    @Override
    public void read(DeviceBuffer src, long offset, FloatBuffer dst) {
        DeviceBuffer own = ownBuffer(src, "src");
        Objects.requireNonNull(dst, "dst");
        backend.enqueueOn(this, () -> {
            own.read(offset, dst);
            inFlight.add(dst);
        });
    }

    @Override
    public void apply(Activation activation, DeviceBuffer x, DeviceBuffer y) {
        backend.enqueueOn(this, () -> backend.apply(activation, x, y));
    }

    @Override
    public void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout) {
        backend.enqueueOn(this, () -> backend.applyRows(activation, x, y, layout));
    }

    @Override
    public synchronized void synchronize() {
        requireOpen();
        queue.finish();
        inFlight.clear();
    }

    @Override
    public boolean isAsynchronous() {
        return true;
    }

    /** Waits for the enqueued work and releases the queue; a second close does nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            queue.finish();
        } finally {
            inFlight.clear();
            queue.release();
            backend.streamClosed(this);
        }
    }

    /** Called by the backend with this stream's monitor held, just before it enqueues. */
    void requireOpen() {
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
