package dev.gpuact;

/**
 * Native memory as buffers used in place, on JDK 22 or newer: {@code HostMemory.wrap(backend, segment, dtype)} takes a
 * {@code java.lang.foreign.MemorySegment} and {@code wrapAddress(backend, address, byteSize, dtype)} a raw address,
 * as {@link Backend#wrap(java.nio.ByteBuffer, DType)} takes a direct ByteBuffer. The gpuact-core jar is a
 * multi-release jar: this is the class Java 17 to 21 load, which has no foreign memory API; JDK 22+ load the one
 * under {@code META-INF/versions/22}, which does both.
 */
public final class HostMemory {
    private HostMemory() {
    }

    /**
     * On JDK 22+ (with a jar built with its versioned class), {@code byteSize} bytes at the native {@code address} as
     * a buffer of {@code backend}, used in place. Here it always throws.
     *
     * @throws UnsupportedOperationException always: this runtime is older than JDK 22, or the jar was built without
     *         its JDK 22 class
     */
    public static DeviceBuffer wrapAddress(Backend backend, long address, long byteSize, DType dtype) {
        throw new UnsupportedOperationException("HostMemory needs JDK 22 or newer (java.lang.foreign) and a gpuact-core "
                + "jar built with its JDK 22 class; this is Java " + Runtime.version().feature()
                + ": wrap a direct ByteBuffer with Backend.wrap instead");
    }
}
