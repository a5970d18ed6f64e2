package dev.gpuact;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Native memory as buffers used in place: a {@link MemorySegment} or a raw address, through {@link
 * Backend#wrap(java.nio.ByteBuffer, DType)} with the segment's bytes as a direct ByteBuffer in native byte order
 * (as {@code ValueLayout.JAVA_FLOAT} reads and writes them). A buffer wraps at most 2 GiB - 1 bytes (one ByteBuffer):
 * wrap slices of a larger segment. The memory must stay alive while the buffer is open: an {@code Arena} closed, or
 * an address freed, under an open buffer leaves it pointing at freed memory.
 *
 * <p>{@link #wrap} calls no restricted method; {@link #wrapAddress} calls {@link MemorySegment#reinterpret(long)},
 * so the JVM warns once about native access unless it runs with {@code --enable-native-access} for gpuact-core's
 * module (or ALL-UNNAMED on the class path).
 */
public final class HostMemory {
    private HostMemory() {
    }

    /** {@code segment}'s bytes as a buffer of {@code backend}, used in place; a heap segment is refused. */
    public static DeviceBuffer wrap(Backend backend, MemorySegment segment, DType dtype) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(segment, "segment");
        if (!segment.scope().isAlive()) {
            // asByteBuffer does not check it: the buffer would point at freed memory.
            throw new IllegalStateException(backend.name() + ": segment's arena is closed; its memory is freed");
        }
        if (!segment.isNative()) {
            throw new IllegalArgumentException(backend.name() + ": segment is a heap segment; only native memory "
                    + "(an Arena's, a mapped file's, a raw address) can be used in place");
        }
        if (segment.byteSize() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(backend.name() + ": segment has " + segment.byteSize() + " bytes; a "
                    + "buffer wraps at most " + Integer.MAX_VALUE + " (wrap slices of it)");
        }
        return backend.wrap(segment.asByteBuffer().order(ByteOrder.nativeOrder()), dtype);
    }

    /** {@code byteSize} bytes at the native {@code address} as a buffer of {@code backend}, used in place. */
    public static DeviceBuffer wrapAddress(Backend backend, long address, long byteSize, DType dtype) {
        Objects.requireNonNull(backend, "backend");
        if (address == 0) {
            throw new IllegalArgumentException(backend.name() + ": the address is 0 (NULL)");
        }
        if (byteSize < 0) {
            throw new IllegalArgumentException(backend.name() + ": byteSize must be >= 0, got " + byteSize);
        }
        return wrap(backend, MemorySegment.ofAddress(address).reinterpret(byteSize), dtype);
    }
}
