package dev.gpuact.spi;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import dev.gpuact.Stream;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The stream of every backend: its calls go through the backend's checked entry points with its own
 * {@link WorkQueue}. On a queue that leaves work in flight, the host buffers of its transfers are held here until
 * {@link #synchronize()}, so the garbage collector cannot free a direct buffer the device still copies.
 *
 * <p>Every call takes the backend's lifecycle lock before this stream's monitor, the order in which the backend's
 * close takes them (it closes its streams while holding the lock); the other order would deadlock.
 */
final class QueueStream<Q extends WorkQueue> implements Stream {
    private final AbstractBackend<Q> backend;
    private final Q queue;
    private final List<Buffer> inFlight = new ArrayList<>();
    private boolean closed;

    QueueStream(AbstractBackend<Q> backend, Q queue) {
        this.backend = backend;
        this.queue = queue;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public void write(DeviceBuffer dst, long offset, FloatBuffer src) {
        transfer(dst, "dst", src, "src", () -> backend.write(queue, dst, offset, src));
    }

    @Override
    public void read(DeviceBuffer src, long offset, FloatBuffer dst) {
        transfer(src, "src", dst, "dst", () -> backend.read(queue, src, offset, dst));
    }

    /** A transfer between a buffer of this stream's backend and {@code host}, held until synchronized. */
    private void transfer(DeviceBuffer buffer, String bufferRole, FloatBuffer host, String hostRole, Runnable call) {
        ownBuffer(buffer, bufferRole);
        Objects.requireNonNull(host, hostRole);
        enqueue(() -> {
            call.run();
            if (!queue.waits()) {
                inFlight.add(host);
            }
        });
    }

    @Override
    public void apply(Activation activation, DeviceBuffer x, DeviceBuffer y) {
        enqueue(() -> backend.apply(queue, activation, x, y));
    }

    @Override
    public void applyBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx) {
        enqueue(() -> backend.applyBackward(queue, activation, x, dy, dx));
    }

    @Override
    public void applyBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
        enqueue(() -> backend.applyBackwardFromOutput(queue, activation, y, dy, dx));
    }

    @Override
    public void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout) {
        enqueue(() -> backend.applyRows(queue, activation, x, y, layout));
    }

    @Override
    public void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx,
                                  RowLayout layout) {
        enqueue(() -> backend.applyRowsBackward(queue, activation, x, dy, dx, layout));
    }

    @Override
    public void applyRowsBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx,
                                            RowLayout layout) {
        enqueue(() -> backend.applyRowsBackwardFromOutput(queue, activation, y, dy, dx, layout));
    }

    @Override
    public void prelu(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y, long channels, long inner) {
        enqueue(() -> backend.prelu(queue, x, weight, y, channels, inner));
    }

    @Override
    public void preluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, DeviceBuffer dx,
                              DeviceBuffer dweight, long channels, long inner) {
        enqueue(() -> backend.preluBackward(queue, x, weight, dy, dx, dweight, channels, inner));
    }

    @Override
    public void copy(DeviceBuffer src, DeviceBuffer dst) {
        enqueue(() -> backend.copy(queue, src, dst));
    }

    @Override
    public void synchronize() {
        enqueue(() -> {
            queue.synchronize();
            inFlight.clear();
        });
    }

    @Override
    public boolean isAsynchronous() {
        return !queue.waits();
    }

    /** Waits for the enqueued work and releases the queue; a second close, or one after the backend's, does nothing. */
    @Override
    public void close() {
        backend.guarded(() -> {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                try {
                    queue.release();
                } finally {
                    inFlight.clear();
                    backend.streamClosed(this);
                }
            }
        }, this);
    }

    @Override
    public void gated(Activation gate, DeviceBuffer x, DeviceBuffer y, long rows, long hidden) {
        enqueue(() -> backend.gated(queue, gate, x, y, rows, hidden));
    }

    @Override
    public void gated(Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) {
        enqueue(() -> backend.gated(queue, gate, a, b, y));
    }

    @Override
    public void gatedBackward(Activation gate, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long rows,
                              long hidden) {
        enqueue(() -> backend.gatedBackward(queue, gate, x, dy, dx, rows, hidden));
    }

    @Override
    public void gatedBackward(Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da,
                              DeviceBuffer db) {
        enqueue(() -> backend.gatedBackward(queue, gate, a, b, dy, da, db));
    }

    private void enqueue(Runnable call) {
        backend.guarded(() -> {
            synchronized (this) {
                if (closed) {
                    throw new IllegalStateException("stream of backend '" + backend.name() + "' is closed");
                }
                call.run();
            }
        }, this);
    }

    /** A transfer's buffer of another backend is named as the stream's mistake. */
    private void ownBuffer(DeviceBuffer buffer, String role) {
        Objects.requireNonNull(buffer, role);
        if (buffer.backend() != backend) {
            throw new IllegalArgumentException(role + " belongs to backend '" + buffer.backend().name()
                    + "', not to this stream's '" + backend.name() + "' backend");
        }
    }

    @Override
    public void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout, RowMask mask) {
        enqueue(() -> backend.applyRows(queue, activation, x, y, layout, mask));
    }

    @Override
    public void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx,
                                  RowLayout layout, RowMask mask) {
        enqueue(() -> backend.applyRowsBackward(queue, activation, x, dy, dx, layout, mask));
    }

    // ---- bias and activation ------------------------------------------------------------------------------

    @Override
    public void applyBias(Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer y, long channels,
                          long inner) {
        enqueue(() -> backend.applyBias(queue, activation, x, bias, y, channels, inner));
    }

    @Override
    public void applyBiasBackward(Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer dy,
                                  DeviceBuffer dx, DeviceBuffer dbias, long channels, long inner) {
        enqueue(() -> backend.applyBiasBackward(queue, activation, x, bias, dy, dx, dbias, channels, inner));
    }
}
