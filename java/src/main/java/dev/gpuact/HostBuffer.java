package dev.gpuact;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Host memory for transfers to and from a backend: page-locked where the backend can pin it (the device copies
 * it by DMA, without a staging copy), else an ordinary direct buffer.
 */
public abstract class HostBuffer implements AutoCloseable {
    private final FloatBuffer floats;
    private final boolean pinned;
    private volatile boolean closed;

    protected HostBuffer(ByteBuffer bytes, boolean pinned) {
        this.floats = bytes.order(ByteOrder.nativeOrder()).asFloatBuffer();
        this.pinned = pinned;
    }

    /** A direct (not pinned) buffer of {@code length} floats, freed by the garbage collector. */
    public static HostBuffer direct(int length) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        return new HostBuffer(ByteBuffer.allocateDirect(Math.multiplyExact(length, Float.BYTES)), false) {
            @Override
            protected void free() {
                // the garbage collector frees a direct buffer
            }
        };
    }

    /** A view of the whole buffer (position 0, limit = length), independent of other views. */
    public FloatBuffer floats() {
        if (closed) {
            throw new IllegalStateException("host buffer is closed");
        }
        return floats.duplicate().clear();
    }

    public int length() {
        return floats.capacity();
    }

    /** Whether the memory is page-locked for the device. */
    public boolean pinned() {
        return pinned;
    }

    /** Frees the memory; views must not be used afterwards. */
    protected abstract void free();

    @Override
    public final synchronized void close() {
        if (!closed) {
            closed = true;
            free();
        }
    }
}
