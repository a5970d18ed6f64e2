package dev.gpuact.cuda;

import dev.gpuact.spi.AbstractBuffer;

/**
 * Aliasing between buffers that the argument checks cannot see: two {@link CudaBackend#wrap} buffers are distinct
 * objects over possibly the same device memory. A kernel may write in place, over exactly its input, but a
 * partial overlap would let one thread's writes reach another thread's inputs.
 */
final class DeviceRanges {
    private DeviceRanges() {
    }

    /** Rejects {@code out} overlapping {@code in} unless both start at the same address (in place). */
    static void requireApartOrSame(AbstractBuffer in, String inName, AbstractBuffer out, String outName) {
        CudaBuffer a = (CudaBuffer) in;
        CudaBuffer b = (CudaBuffer) out;
        if (a.address() != b.address() && overlap(a.address(), a.byteSize(), b.address(), b.byteSize())) {
            throw partial(inName, a, outName, b);
        }
    }

    /** Rejects any overlap of the two buffers' memory. */
    static void requireApart(AbstractBuffer in, String inName, AbstractBuffer out, String outName) {
        CudaBuffer a = (CudaBuffer) in;
        CudaBuffer b = (CudaBuffer) out;
        if (overlap(a.address(), a.byteSize(), b.address(), b.byteSize())) {
            throw new IllegalArgumentException(outName + " must not share device memory with " + inName + ": "
                    + describe(outName, b) + " overlaps " + describe(inName, a));
        }
    }

    /** Whether the byte ranges [a, a + aBytes) and [b, b + bBytes) share a byte; empty ranges share none. */
    static boolean overlap(long a, long aBytes, long b, long bBytes) {
        return aBytes > 0 && bBytes > 0 && Long.compareUnsigned(a, b + bBytes) < 0
                && Long.compareUnsigned(b, a + aBytes) < 0;
    }

    private static IllegalArgumentException partial(String inName, CudaBuffer a, String outName, CudaBuffer b) {
        return new IllegalArgumentException(outName + " must be exactly " + inName + " (in place) or apart from it, "
                + "not partly overlapping: " + describe(outName, b) + ", " + describe(inName, a));
    }

    private static String describe(String name, CudaBuffer b) {
        return name + " at 0x" + Long.toHexString(b.address()) + " + " + b.byteSize() + " bytes";
    }
}
