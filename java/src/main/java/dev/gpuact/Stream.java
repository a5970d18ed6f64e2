package dev.gpuact;

import java.nio.FloatBuffer;

/**
 * An ordered queue of transfers and kernels on one backend (a CUDA stream, an OpenCL command queue). Calls only
 * enqueue: the host memory passed to {@link #write} and {@link #read} must stay untouched, and results unread,
 * until {@link #synchronize()} returns. Work on different streams may overlap. Arguments are checked as the
 * synchronous calls of {@link Backend} check them, when enqueued; each call means what the {@link Backend} method of
 * the same name means. A stream closed, or whose backend was closed, throws an {@link IllegalStateException}.
 */
public interface Stream extends AutoCloseable {
    Backend backend();

    /** Enqueues a copy of the remaining floats of {@code src} to {@code dst} at element {@code offset}. */
    void write(DeviceBuffer dst, long offset, FloatBuffer src);

    /** Enqueues a copy from {@code src} at element {@code offset} into the remaining space of {@code dst}. */
    void read(DeviceBuffer src, long offset, FloatBuffer dst);

    /** Enqueues y = f(x) elementwise. */
    void apply(Activation activation, DeviceBuffer x, DeviceBuffer y);

    /** Enqueues dx = dy * f'(x) elementwise. */
    void applyBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx);

    /** Enqueues dx = dy * f'(x) from the saved output y ({@link Backend#applyBackwardFromOutput}). */
    void applyBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx);

    /** Enqueues a row-wise op. */
    void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout);

    /** Enqueues a row-wise backward pass from the forward input x. */
    void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, RowLayout layout);

    /** Enqueues a row-wise backward pass from the saved output y ({@link Backend#applyRowsBackwardFromOutput}). */
    void applyRowsBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx,
                                     RowLayout layout);

    /** Enqueues PReLU ({@link Backend#prelu}). */
    void prelu(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y, long channels, long inner);

    /** Enqueues PReLU's backward pass ({@link Backend#preluBackward}). */
    void preluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dweight,
                       long channels, long inner);

    /** Enqueues dst = src, device to device. */
    void copy(DeviceBuffer src, DeviceBuffer dst);

    /** Waits until everything enqueued so far has finished. */
    void synchronize();

    /** False for a stream that runs each call as it is enqueued (the Java backend's). */
    boolean isAsynchronous();

    /** Waits for the enqueued work, then releases the stream; a second close does nothing. */
    @Override
    void close();

    /** Enqueues a masked softmax or log_softmax ({@link Backend#applyRows(Activation, DeviceBuffer, DeviceBuffer, RowLayout, RowMask)}). */
    void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout, RowMask mask);

    /** Enqueues its backward pass from x. */
    void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, RowLayout layout,
                           RowMask mask);

    // ---- bias and activation ------------------------------------------------------------------------------

    /** Enqueues bias and activation ({@link Backend#applyBias}). */
    void applyBias(Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer y, long channels,
                   long inner);

    /** Enqueues the backward pass of bias and activation ({@link Backend#applyBiasBackward}). */
    void applyBiasBackward(Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer dy, DeviceBuffer dx,
                           DeviceBuffer dbias, long channels, long inner);

    // ---- gated activations ----------------------------------------------------------------------------------

    /** Enqueues a gated activation over x [rows, 2 * hidden] ({@link Backend#gated(Activation, DeviceBuffer, DeviceBuffer, long, long)}). */
    void gated(Activation gate, DeviceBuffer x, DeviceBuffer y, long rows, long hidden);

    /** Enqueues a gated activation over two buffers ({@link Backend#gated(Activation, DeviceBuffer, DeviceBuffer, DeviceBuffer)}). */
    void gated(Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y);

    /** Enqueues the gated backward pass over x [rows, 2 * hidden]. */
    void gatedBackward(Activation gate, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long rows, long hidden);

    /** Enqueues the gated backward pass over two buffers. */
    void gatedBackward(Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da,
                       DeviceBuffer db);
}
