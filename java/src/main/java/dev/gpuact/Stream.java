package dev.gpuact;

import java.nio.FloatBuffer;

/**
 * An ordered queue of transfers and kernels on one backend (a CUDA stream, an OpenCL command queue). Calls only
 * enqueue: the host memory passed to {@link #write} and {@link #read} must stay untouched, and results unread,
 * until {@link #synchronize()} returns. Work on different streams may overlap. Arguments are checked as the
 * synchronous calls check them, when enqueued.
 */
public interface Stream extends AutoCloseable {
    Backend backend();

    /** Enqueues a copy of the remaining floats of {@code src} to {@code dst} at element {@code offset}. */
    void write(DeviceBuffer dst, long offset, FloatBuffer src);

    /** Enqueues a copy from {@code src} at element {@code offset} into the remaining space of {@code dst}. */
    void read(DeviceBuffer src, long offset, FloatBuffer dst);

    /** Enqueues y = f(x) elementwise. */
    void apply(Activation activation, DeviceBuffer x, DeviceBuffer y);

    /** Enqueues a row-wise op. */
    void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout);

    /** Waits until everything enqueued so far has finished. */
    void synchronize();

    /** False for the default stream that runs each call as it is enqueued. */
    boolean isAsynchronous();

    /** Waits for the enqueued work, then releases the stream. */
    @Override
    void close();
}
