package dev.gpuact;

import java.util.Objects;

/**
 * A place where activations run: the Java CPU fallback, an OpenCL device, or a CUDA device.
 *
 * <p>Calls are synchronous: when one returns, its result is in the output buffer. Outputs may alias inputs
 * exactly (in place); partial overlap is rejected. Every argument is checked before any work starts, and a
 * rejected call leaves every buffer untouched. A backend is safe to share between threads. Closing it with
 * buffers still open is an {@link IllegalStateException} that names how many (they are freed anyway).
 */
public interface Backend extends AutoCloseable {
    /** {@code cpu}, {@code opencl} or {@code cuda}. */
    String name();

    /** The device in words, e.g. {@code "NVIDIA H100 80GB HBM3 (CUDA 12.4, driver 550.54)"}. */
    String device();

    /** A new zero-filled buffer of {@code length} elements. */
    DeviceBuffer allocate(DType dtype, long length);

    default DeviceBuffer allocate(long length) {
        return allocate(DType.FLOAT32, length);
    }

    /** A new buffer holding a copy of {@code host}. */
    default DeviceBuffer upload(float[] host) {
        Objects.requireNonNull(host, "host");
        DeviceBuffer b = allocate(host.length);
        try {
            b.upload(host);
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return b;
    }

    /** y = f(x) elementwise; x and y have the same length. Not for row-wise ops or PReLU. */
    void apply(Activation activation, DeviceBuffer x, DeviceBuffer y);

    /** dx = dy * f'(x) elementwise. */
    void applyBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx);

    /** A row-wise op (softmax, log_softmax, maxout) on each row of x into y. */
    void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout);

    /** The row-wise backward pass: dx from the forward input x and the upstream gradient dy. */
    void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, RowLayout layout);

    /** Softmax over the rows of a dense rows x cols matrix with the default temperature. */
    default void softmax(DeviceBuffer x, DeviceBuffer y, long rows, long cols) {
        applyRows(Activation.SOFTMAX, x, y, RowLayout.of(rows, cols));
    }

    /**
     * PReLU: y[i] = x[i] > 0 ? x[i] : weight[c] x[i] with c = (i / inner) % channels;
     * {@code inner} is 1 for [N, C] or channels-last, H*W for NCHW.
     */
    void prelu(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y, long channels, long inner);

    /** PReLU backward: dx, and dweight[c] = sum over channel c of dy * x where x <= 0 (overwritten, not added to). */
    void preluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dweight,
                       long channels, long inner);

    /** Buffers this backend has handed out and not yet seen closed, and their bytes. */
    MemoryStats memory();

    @Override
    void close();

    /** What a backend holds. */
    record MemoryStats(long liveBuffers, long bytesInUse) {
    }
}
