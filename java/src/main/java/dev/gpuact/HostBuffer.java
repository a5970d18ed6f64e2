package dev.gpuact;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Host memory for transfers to and from a backend: page-locked where the backend can pin it (the device copies
 * it by DMA, without a staging copy), else an ordinary direct buffer.
 *
 * <p>{@link #close()} ends the buffer at once ({@link #floats()} then throws), but its memory is freed only when
 * no view of it is reachable any more: a view kept and used after close, which Java cannot stop, then reads and
 * writes memory still held, never memory freed or handed to someone else.
 */
public abstract class HostBuffer implements AutoCloseable {
    /** The most floats one buffer holds: a Java buffer has at most 2^31 - 1 bytes. */
    public static final int MAX_LENGTH = Integer.MAX_VALUE / Float.BYTES;
    private static final Cleaner CLEANER = Cleaner.create();
    /** Bytes of closed buffers whose views are not yet collected: beyond this, a new allocation asks for a GC. */
    private static final long RECLAIM_THRESHOLD = 256L << 20;
    private static final long RECLAIM_WAIT_NANOS = 200_000_000L;
    private static final AtomicLong CLOSED_NOT_FREED = new AtomicLong();

    private final int length;
    private final boolean pinned;
    /** Null once closed, so that only views handed out earlier keep the memory reachable. */
    private volatile FloatBuffer floats;

    protected HostBuffer(ByteBuffer bytes, boolean pinned) {
        this.floats = bytes.order(ByteOrder.nativeOrder()).asFloatBuffer();
        this.length = floats.capacity();
        this.pinned = pinned;
    }

    /** A direct (not pinned) buffer of {@code length} floats, freed by the garbage collector. */
    public static HostBuffer direct(int length) {
        checkLength(length);
        return new HostBuffer(ByteBuffer.allocateDirect(length * Float.BYTES), false) {
            @Override
            protected void free() {
                // the garbage collector frees a direct buffer
            }
        };
    }

    /**
     * Called by a backend before it allocates host memory: when much memory of closed buffers waits for their views
     * to be collected, asks for a garbage collection and waits briefly for it, as the JDK does for direct buffers,
     * so a loop of allocate and close does not pile up memory that only a GC would free.
     */
    public static void reclaimClosed() {
        if (CLOSED_NOT_FREED.get() < RECLAIM_THRESHOLD) {
            return;
        }
        System.gc();
        long deadline = System.nanoTime() + RECLAIM_WAIT_NANOS;
        while (CLOSED_NOT_FREED.get() >= RECLAIM_THRESHOLD && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Bytes of closed buffers not yet freed (their views not yet collected). */
    static long closedNotFreedBytes() {
        return CLOSED_NOT_FREED.get();
    }

    /** Throws unless {@code length} floats fit one host buffer: 0 to {@link #MAX_LENGTH}. */
    public static void checkLength(int length) {
        if (length < 0 || length > MAX_LENGTH) {
            throw new IllegalArgumentException("length must be in [0, " + MAX_LENGTH + "] floats (a Java buffer holds "
                    + "at most 2^31 - 1 bytes), got " + length);
        }
    }

    /** A view of the whole buffer (position 0, limit = length), independent of other views. */
    public FloatBuffer floats() {
        FloatBuffer f = floats;
        if (f == null) {
            throw new IllegalStateException("host buffer is closed");
        }
        return f.duplicate().clear();
    }

    public int length() {
        return length;
    }

    /** Whether the memory is page-locked for the device. */
    public boolean pinned() {
        return pinned;
    }

    public boolean isClosed() {
        return floats == null;
    }

    /**
     * Frees the memory; called once, after {@link #close()}, when no view of it is reachable. Runs on a cleaner
     * thread, and must not reference the memory's buffer (the subclass must not keep it in a field).
     */
    protected abstract void free();

    /** Called by {@link #close()} at once, before the memory is freed: e.g. to stop counting the buffer as open. */
    protected void closed() {
    }

    @Override
    public final synchronized void close() {
        FloatBuffer f = floats;
        if (f != null) {
            floats = null;
            closed();
            // Every view shares f's memory and keeps f's backing buffer reachable; the free waits for all of them.
            long bytes = (long) length * Float.BYTES;
            CLOSED_NOT_FREED.addAndGet(bytes);
            CLEANER.register(f, () -> {
                try {
                    free();
                } finally {
                    CLOSED_NOT_FREED.addAndGet(-bytes);
                }
            });
        }
    }
}
