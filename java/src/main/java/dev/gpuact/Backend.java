package dev.gpuact;

import java.util.Objects;

/**
 * A place where activations run: the Java CPU fallback, an OpenCL device, or a CUDA device.
 *
 * <p>Calls are synchronous: when one returns, its result is in the output buffer. Outputs may alias inputs
 * exactly (in place); partial overlap is rejected. Every argument is checked before any work starts, and a
 * rejected call leaves every buffer untouched. A backend is safe to share between threads.
 *
 * <p>Closing it waits for the work of its streams, then frees what is still open: buffers, streams
 * ({@link #newStream()}) and host buffers ({@link #allocateHost}). If any was open, close throws an
 * {@link IllegalStateException} naming how many of each (they are freed anyway); from then on using any of them is
 * an {@link IllegalStateException} too.
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

    /**
     * Host memory used in place, no copy: the buffer reads and writes {@code memory}'s bytes [position, limit), seen
     * as elements of {@code dtype} in {@code memory}'s byte order. What a kernel writes is in {@code memory} when the
     * call returns, and what the caller puts there is what the next call reads.
     *
     * <p>{@code memory} must be a direct, writable buffer whose remaining bytes are a whole number of elements; a
     * backend that cannot compute in place in that byte order, or at that address, says so in an {@link
     * IllegalArgumentException} (a heap buffer, a read-only one, a byte count that is not a multiple of the element
     * size are the same). The buffer keeps {@code memory} reachable while it is open; its {@code close()} never frees
     * the memory, which stays the caller's. Memory that the caller frees itself (a closed {@code Arena}, a freed raw
     * address) must outlive the buffer. {@link HostMemory} takes a {@code MemorySegment} or a raw address on JDK 22+.
     *
     * @throws UnsupportedOperationException where this backend cannot use host memory in place at all
     */
    default DeviceBuffer wrap(java.nio.ByteBuffer memory, DType dtype) {
        throw new UnsupportedOperationException(name() + " cannot use host memory in place");
    }

    /** y = f(x) elementwise; x and y have the same length. Not for row-wise ops or PReLU. */
    void apply(Activation activation, DeviceBuffer x, DeviceBuffer y);

    /** dx = dy * f'(x) elementwise. */
    void applyBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx);

    /**
     * dx = dy * f'(x) from the saved output y = f(x) instead of x, as autograd runs it (sigmoid: y(1 - y), tanh:
     * 1 - y^2, ...): only for activations whose {@link Activation#hasBackwardFromOutput()} holds, else an
     * {@link IllegalArgumentException}. The result is the true derivative at the float y given, within the bounds of
     * {@link #applyBackward}. dx may be dy's buffer or y's.
     */
    void applyBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx);

    /**
     * The row-wise backward pass from the saved output y (softmax: dx = y (dy - sum dy y) / T; log_softmax:
     * dx = (dy - e^y sum dy) / T). y and dy are laid out as the forward output ({@code yStride}), dx as the input
     * ({@code xStride}); dx is a buffer of its own. Maxout has no such form (an {@link IllegalArgumentException}).
     */
    void applyRowsBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx,
                                     RowLayout layout);

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

    /** PReLU backward: dx, and dweight[c] = sum over channel c of dy * x where x &lt;= 0 (overwritten, not added to). */
    void preluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dweight,
                       long channels, long inner);

    /**
     * dst = src, device to device; both buffers of this backend and of the same length. Between buffers of different
     * types it converts (float32 to a 16-bit type rounds once, to nearest even); between 16-bit buffers of one type
     * it copies the bits. The default goes through the host in chunks (correct, slow): a device backend overrides it
     * with its own copy ({@link #deviceCopyIsNative()} then says so).
     */
    default void copy(DeviceBuffer src, DeviceBuffer dst) {
        if (src.length() != dst.length()) {
            throw new IllegalArgumentException("src and dst differ in length: " + src.length() + " vs " + dst.length());
        }
        float[] chunk = new float[(int) Math.min(src.length(), 1 << 20)];
        for (long at = 0; at < src.length(); at += chunk.length) {
            int count = (int) Math.min(chunk.length, src.length() - at);
            src.read(at, chunk, 0, count);
            dst.write(at, chunk, 0, count);
        }
    }

    /** Whether {@link #copy} stays on the device; false where it goes through the host. */
    default boolean deviceCopyIsNative() {
        return false;
    }

    /**
     * Host memory for fast transfers: page-locked (pinned) where the backend has it, else a direct buffer
     * ({@link HostBuffer#pinned()} says which). Close it when done.
     */
    default HostBuffer allocateHost(int length) {
        return HostBuffer.direct(length);
    }

    /**
     * A queue of work that runs in order, apart from other streams, so uploads, kernels and downloads on different
     * streams can overlap: a CUDA stream or an OpenCL command queue; the Java backend's runs each call at once
     * (correct, no overlap: {@link Stream#isAsynchronous()} is false). Close it when done.
     */
    Stream newStream();

    /**
     * Runs {@code work} (calls on this backend) and says how long the device spent on it: device events where the
     * backend has them, else the wall clock around the synchronous calls ({@link Timing#clock()} says which).
     */
    default Timing time(Runnable work) {
        long start = System.nanoTime();
        work.run();
        return new Timing(System.nanoTime() - start, Clock.WALL);
    }

    /** A measured duration and the clock that measured it. */
    record Timing(long nanos, Clock clock) {
    }

    /** Where a duration comes from. */
    enum Clock {
        DEVICE("device events"),
        WALL("wall clock around a synchronous call");

        private final String description;

        Clock(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    /** Buffers this backend has handed out and not yet seen closed, and their bytes. */
    MemoryStats memory();

    @Override
    void close();

    /** What a backend holds. */
    record MemoryStats(long liveBuffers, long bytesInUse) {
    }
    /**
     * Softmax or log_softmax of each row under a mask ({@link RowMask}: additive, valid lengths, causal); the
     * masked columns are written too (0, or -inf for log_softmax). {@link RowMask#none()} is {@link
     * #applyRows(Activation, DeviceBuffer, DeviceBuffer, RowLayout)}. y may be x's buffer with equal strides, never the
     * mask's.
     */
    void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout, RowMask mask);

    /**
     * The backward pass of the masked forward from x: the unmasked gradient at z = x + mask (0 in a masked column
     * for softmax, dy / T for log_softmax). From the saved output, {@link #applyRowsBackwardFromOutput} needs no mask.
     */
    void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, RowLayout layout,
                           RowMask mask);

    // ---- bias and activation ------------------------------------------------------------------------------

    /**
     * Bias and activation fused: y[i] = f(x[i] + bias[c]) with c = (i / inner) % channels, as {@link #prelu} finds
     * a channel ({@code inner} 1 for [N, C] or a bias per last-axis column, H*W for NCHW). The sum is rounded to
     * float first, then f is applied with its usual accuracy. y may be x's buffer, not the bias's. Elementwise ops
     * only.
     */
    void applyBias(Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer y, long channels,
                   long inner);

    /**
     * The backward pass of {@link #applyBias}: dx = dy * f'(x + bias[c]), and dbias[c] = the sum of dx over channel
     * c (overwritten, not added to; the same bits on every call). dx may be x's or dy's buffer; dbias is a buffer
     * of its own.
     */
    void applyBiasBackward(Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer dy, DeviceBuffer dx,
                           DeviceBuffer dbias, long channels, long inner);

    // ---- gated activations ----------------------------------------------------------------------------------

    /**
     * A gated activation (glu, swiglu, geglu, geglu_tanh, reglu) over x [rows, 2 * hidden] into y [rows, hidden]:
     * with a the first half of each row and b the second, y = a * sigmoid(b) for glu and f(a) * b for the others
     * (silu, gelu, gelu_tanh, relu). y is a buffer of its own.
     */
    void gated(Activation gate, DeviceBuffer x, DeviceBuffer y, long rows, long hidden);

    /** The same with the halves in two buffers of equal length, a and b; y may be a's or b's buffer (in place). */
    void gated(Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y);

    /**
     * The gated backward pass: from x [rows, 2 * hidden] and dy [rows, hidden], dx [rows, 2 * hidden] holding da
     * and db in x's halves. dx may be x's buffer (in place).
     */
    void gatedBackward(Activation gate, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long rows, long hidden);

    /** The same with the halves in two buffers; da may be a's or dy's buffer, db b's or dy's. */
    void gatedBackward(Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy, DeviceBuffer da,
                       DeviceBuffer db);
}
