package dev.gpuact.spi;

import dev.gpuact.Backend;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import java.lang.ref.Cleaner;
import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * The bookkeeping every buffer shares: closed state, and the link to its backend's accounting and transfers
 * (the backend checks and copies them, {@code AbstractBackend.computeWrite} and {@code computeRead}). Subclasses
 * hold the memory.
 *
 * <p>The native memory lives in a {@link Memory} that does not point back at the buffer, so a buffer dropped
 * without {@code close()} can be noticed by a {@link Cleaner}: the memory is freed and the leak reported.
 */
public abstract class AbstractBuffer implements DeviceBuffer {
    /** The releasable part of a buffer. Must not reference the buffer itself. */
    public abstract static class Memory {
        private final long bytes;
        private boolean released;

        protected Memory(long bytes) {
            this.bytes = bytes;
        }

        public long bytes() {
            return bytes;
        }

        /** Frees the native memory; called exactly once. */
        protected abstract void free();

        final synchronized boolean release() {
            if (released) {
                return false;
            }
            released = true;
            free();
            return true;
        }
    }

    /**
     * Where a buffer's bytes lie, for the aliasing checks: {@code bytes} bytes from {@code start} in the address
     * space {@code space} (compared with {@code equals}).
     */
    public record Range(Object space, long start, long bytes) {
        /** Whether the two share a byte; empty ranges share none. */
        public boolean overlaps(Range other) {
            return space.equals(other.space) && bytes > 0 && other.bytes > 0
                    && Long.compareUnsigned(start, other.start + other.bytes) < 0
                    && Long.compareUnsigned(other.start, start + bytes) < 0;
        }
    }

    private final AbstractBackend<?> backend;
    private final DType dtype;
    private final long length;
    private final Memory memory;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean closed;

    protected AbstractBuffer(AbstractBackend<?> backend, DType dtype, long length, Memory memory) {
        this.backend = Objects.requireNonNull(backend);
        this.dtype = dtype;
        this.length = length;
        this.memory = memory;
        this.cleanable = backend.track(this, memory);
    }

    /**
     * This buffer's memory, for the aliasing checks. By default a buffer is an address space of its own, so it
     * aliases only itself; a backend whose buffers may wrap memory they do not own (two wraps of one device
     * pointer are two buffers over the same bytes) overrides this with the real address range.
     */
    protected Range range() {
        return new Range(this, 0, byteSize());
    }

    /** Whether this buffer and {@code other} share memory: the same buffer, or two over overlapping bytes. */
    public final boolean aliases(AbstractBuffer other) {
        return this == other || range().overlaps(other.range());
    }

    @Override
    public final Backend backend() {
        return backend;
    }

    @Override
    public final DType dtype() {
        return dtype;
    }

    @Override
    public final long length() {
        return length;
    }

    protected Memory memory() {
        return memory;
    }

    @Override
    public final boolean isClosed() {
        return closed;
    }

    /**
     * Throws if this buffer or its backend is closed; {@code role} names the argument in the message. Closing the
     * backend frees its buffers' device memory, so touching one afterwards must fail here, before native code.
     */
    public final void requireOpen(String role) {
        if (closed) {
            throw new IllegalStateException(role + " is a closed buffer (" + this + ")");
        }
        if (backend.isClosed()) {
            throw new IllegalStateException(role + " belongs to backend '" + backend.name()
                    + "', which is closed: its memory was freed with it");
        }
    }

    /** Transfers go through the backend, which checks them and runs them on its own queue. */
    @Override
    public final void write(long offset, float[] src, int srcOffset, int count) {
        backend.write(this, offset, src, srcOffset, count);
    }

    @Override
    public final void read(long offset, float[] dst, int dstOffset, int count) {
        backend.read(this, offset, dst, dstOffset, count);
    }

    @Override
    public final void write(long offset, FloatBuffer src) {
        backend.write(this, offset, src);
    }

    @Override
    public final void read(long offset, FloatBuffer dst) {
        backend.read(this, offset, dst);
    }

    @Override
    public final void write(long offset, short[] bits, int srcOffset, int count) {
        backend.writeBits(this, offset, bits, srcOffset, count);
    }

    @Override
    public final void read(long offset, short[] bits, int dstOffset, int count) {
        backend.readBits(this, offset, bits, dstOffset, count);
    }

    /** Throws unless elements {@code [offset, offset + count)} lie in this buffer. */
    final void checkRange(long offset, long count) {
        if (offset < 0 || count < 0 || offset > length - count) {
            throw new IndexOutOfBoundsException("buffer offset " + offset + " + count " + count
                    + " is outside a buffer of " + length + " elements");
        }
    }

    @Override
    public final void close() {
        if (closed) {
            return;
        }
        // Freed only while no call of the backend runs: a kernel or transfer may be using this memory.
        backend.exclusive(() -> {
            if (!closed) {
                closed = true;
                backend.untrack(memory);
                cleanable.clean();
            }
        });
    }

    /**
     * Frees a scratch buffer of the backend's own from inside one of its calls, where {@link #close()} would wait
     * for that very call: nothing else ever saw the buffer, so nothing else can be using it.
     */
    final void releaseScratch() {
        closed = true;
        backend.untrack(memory);
        cleanable.clean();
    }

    @Override
    public String toString() {
        return backend.name() + " " + dtype + "[" + length + "]" + (closed ? " (closed)" : "");
    }
}
