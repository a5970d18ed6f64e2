package dev.gpuact;

import java.nio.FloatBuffer;

/**
 * Memory owned by one {@link Backend}: device memory on a GPU backend, an off-heap or heap array on the CPU.
 * Closed exactly once (a second close is harmless, any other use after close is an {@link IllegalStateException}).
 * Offsets and lengths count elements of {@link #dtype()}. The float transfers convert: a write to a 16-bit buffer
 * rounds each float once to its type ({@link DType#toBits}), a read widens exactly; the {@code short[]} transfers
 * move a 16-bit buffer's raw bits.
 */
public interface DeviceBuffer extends AutoCloseable {
    Backend backend();

    DType dtype();

    /** Number of elements. */
    long length();

    default long byteSize() {
        return length() * dtype().bytes();
    }

    /** Copies {@code count} floats from {@code src[srcOffset..]} to this buffer at element {@code offset}. */
    void write(long offset, float[] src, int srcOffset, int count);

    /** Copies {@code count} elements at {@code offset} of this buffer into {@code dst[dstOffset..]}. */
    void read(long offset, float[] dst, int dstOffset, int count);

    /** Copies the remaining floats of {@code src} to this buffer at element {@code offset}; advances {@code src}. */
    void write(long offset, FloatBuffer src);

    /** Fills the remaining space of {@code dst} from this buffer at element {@code offset}; advances {@code dst}. */
    void read(long offset, FloatBuffer dst);

    /**
     * Copies {@code count} raw 16-bit elements (float16 or bfloat16 bits, as {@link #dtype()} says) from
     * {@code bits[srcOffset..]} to this buffer at element {@code offset}; an {@link IllegalArgumentException} on a
     * buffer of another type.
     */
    void write(long offset, short[] bits, int srcOffset, int count);

    /** Copies {@code count} raw 16-bit elements at {@code offset} into {@code bits[dstOffset..]}; as {@link #write(long, short[], int, int)}. */
    void read(long offset, short[] bits, int dstOffset, int count);

    /** Copies all of {@code src} to the start of this buffer. */
    default void upload(float[] src) {
        write(0, src, 0, src.length);
    }

    /** Copies the start of this buffer into all of {@code dst}. */
    default void download(float[] dst) {
        read(0, dst, 0, dst.length);
    }

    /** The whole buffer as a new heap array (it must fit in one). */
    default float[] toArray() {
        if (length() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("buffer of " + length() + " elements does not fit in a Java array");
        }
        float[] out = new float[(int) length()];
        download(out);
        return out;
    }

    boolean isClosed();

    @Override
    void close();
}
