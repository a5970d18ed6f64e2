package dev.gpuact.spi;

import dev.gpuact.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Host memory a backend was asked to use in place ({@link dev.gpuact.Backend#wrap(ByteBuffer, DType)}), checked as
 * every backend needs it: {@code bytes} is the caller's [position, limit) of {@code memory} as a buffer of its own,
 * in the caller's byte order, and holds {@code length} elements of {@code dtype}. A buffer over the region holds
 * the record, and so the caller's {@code memory} itself, reachable.
 */
public record HostRegion(ByteBuffer memory, ByteBuffer bytes, DType dtype, long length) {
    /**
     * Checks {@code memory} for use in place by {@code backend} (named in each message): a direct, writable buffer
     * holding a whole number of elements of a supported {@code dtype}.
     */
    public static HostRegion of(String backend, ByteBuffer memory, DType dtype) {
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(dtype, "dtype");
        dtype.requireSupported();
        if (!memory.isDirect()) {
            throw new IllegalArgumentException(backend + ": memory is a heap ByteBuffer; only a direct one can be used "
                    + "in place (a heap array moves with the garbage collector): use ByteBuffer.allocateDirect, or "
                    + "upload a copy");
        }
        if (memory.isReadOnly()) {
            throw new IllegalArgumentException(backend + ": memory is a read-only ByteBuffer; results are written into "
                    + "the memory a buffer wraps");
        }
        int bytes = memory.remaining();
        if (bytes % dtype.bytes() != 0) {
            throw new IllegalArgumentException(backend + ": memory has " + bytes + " bytes remaining, not a whole "
                    + "number of " + dtype + " elements of " + dtype.bytes() + " bytes");
        }
        return new HostRegion(memory, memory.slice().order(memory.order()), dtype, bytes / dtype.bytes());
    }

    /** The region's size in bytes. */
    public long byteSize() {
        return length * dtype.bytes();
    }

    /** Throws unless the caller's byte order is {@code computed}, the order the backend's kernels read and write. */
    public void requireOrder(String backend, ByteOrder computed, String device) {
        if (bytes.order() != computed) {
            throw new IllegalArgumentException(backend + ": memory is in " + bytes.order() + " byte order, but "
                    + device + " computes in place only in " + computed + " order: if the bytes are " + computed
                    + ", say so with memory.order(ByteOrder." + computed + "); otherwise upload a copy");
        }
    }

    /** Throws unless the region starts on a multiple of {@code alignment} bytes (a power of two); {@code why} says who needs it. */
    public void requireAligned(String backend, int alignment, String why) {
        int past = bytes.alignmentOffset(0, alignment);
        if (past != 0) {
            throw new IllegalArgumentException(backend + ": memory starts " + past + " bytes past a " + alignment
                    + "-byte boundary; " + why + " (memory.alignedSlice(" + alignment + ") starts on one)");
        }
    }
}
