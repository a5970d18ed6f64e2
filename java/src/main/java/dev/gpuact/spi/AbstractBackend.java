package dev.gpuact.spi;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import dev.gpuact.NativeCallException;
import dev.gpuact.Op;
import dev.gpuact.OutOfDeviceMemoryException;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * Every argument check and the memory accounting, written once for all backends. A subclass implements the
 * {@code compute*} methods and sees only open buffers of its own, of the right sizes, on non-empty work.
 */
public abstract class AbstractBackend implements Backend {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final System.Logger LOG = System.getLogger("dev.gpuact");
    /** {@code -Dgpuact.leakDetection=false} turns off the report of buffers collected without close (benchmarks). */
    static final boolean LEAK_DETECTION = !"false".equalsIgnoreCase(System.getProperty("gpuact.leakDetection"));

    private final String name;
    private final Set<AbstractBuffer.Memory> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytesInUse = new AtomicLong();
    private final AtomicLong leaksReported = new AtomicLong();
    /** Calls hold it shared; close() holds it alone, so it never frees memory or a context under a running call. */
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    /** Checking the memory limit and allocating are one step, so two threads cannot both take the last bytes. */
    private final Object allocation = new Object();
    private volatile boolean closed;

    protected AbstractBackend(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    // ---- memory accounting -------------------------------------------------------------------------------

    Cleaner.Cleanable track(AbstractBuffer buffer, AbstractBuffer.Memory memory) {
        live.add(memory);
        bytesInUse.addAndGet(memory.bytes());
        if (!LEAK_DETECTION) {
            return () -> memory.release();
        }
        String what = buffer.toString();
        return CLEANER.register(buffer, () -> {
            if (live.contains(memory)) {
                // Untracked before it is counted: whoever sees the count sees the memory given back.
                untrack(memory);
                leaksReported.incrementAndGet();
                LOG.log(System.Logger.Level.WARNING, "gpuact: a " + what + " buffer was garbage-collected without close(); freed it");
            }
            memory.release();
        });
    }

    void untrack(AbstractBuffer.Memory memory) {
        if (live.remove(memory)) {
            bytesInUse.addAndGet(-memory.bytes());
        }
    }

    @Override
    public MemoryStats memory() {
        return new MemoryStats(live.size(), bytesInUse.get());
    }

    /** How many buffers were found garbage-collected without {@code close()}. */
    public long leaksReported() {
        return leaksReported.get();
    }

    /**
     * Runs a call while this backend cannot close, and keeps its buffers reachable until the call returns: a
     * buffer the caller no longer references must not be collected, and its memory freed, while a kernel uses it.
     */
    protected final <T> T guarded(Supplier<T> call, Object... operands) {
        Lock shared = lifecycle.readLock();
        shared.lock();
        try {
            return call.get();
        } catch (NativeCallException | OutOfDeviceMemoryException e) {
            throw e;
        } catch (RuntimeException e) {
            throw nativeFailure(e);
        } finally {
            shared.unlock();
            Reference.reachabilityFence(operands);
        }
    }

    protected final void guarded(Runnable call, Object... operands) {
        guarded(() -> {
            call.run();
            return null;
        }, operands);
    }

    /**
     * Runs {@code release} (a buffer's close) once no call of this backend is running, so no kernel or transfer
     * can be using the memory it frees. Closing a buffer from inside a call of its backend would wait forever, so
     * that is an error instead.
     */
    final void exclusive(Runnable release) {
        if (lifecycle instanceof ReentrantReadWriteLock rw && rw.getReadHoldCount() > 0) {
            throw new IllegalStateException("a buffer of backend '" + name + "' cannot be closed inside a call of it");
        }
        Lock exclusive = lifecycle.writeLock();
        exclusive.lock();
        try {
            release.run();
        } finally {
            exclusive.unlock();
        }
    }

    /**
     * The exception a failed native call throws, as the typed {@link NativeCallException} naming this backend, the
     * call and the native code; a backend whose native library throws its own exceptions translates them here.
     * Exceptions of the Java API (illegal arguments, closed objects) pass unchanged.
     */
    protected RuntimeException nativeFailure(RuntimeException e) {
        return e;
    }

    /** A stream that runs each call at once; refused once the backend is closed. */
    @Override
    public Stream newStream() {
        requireOpen();
        return new SynchronousStream(this);
    }

    /** Direct host memory (not pinned); refused once the backend is closed or beyond one direct buffer's size. */
    @Override
    public HostBuffer allocateHost(int length) {
        requireOpen();
        HostBuffer.checkLength(length);
        HostBuffer.reclaimClosed();
        return HostBuffer.direct(length);
    }

    @Override
    public final DeviceBuffer allocate(DType dtype, long length) {
        return guarded(() -> checkedAllocate(dtype, length));
    }

    private DeviceBuffer checkedAllocate(DType dtype, long length) {
        Objects.requireNonNull(dtype, "dtype");
        requireOpen();
        dtype.requireSupported();
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        if (length > Long.MAX_VALUE / dtype.bytes()) {
            throw new IllegalArgumentException("length " + length + " x " + dtype.bytes() + " bytes overflows");
        }
        long bytes = length * dtype.bytes();
        try {
            synchronized (allocation) {
                if (bytes > deviceMemoryLimit() - bytesInUse.get()) {
                    throw allocationFailed(dtype, length, "more than is left of the device's reported memory ("
                            + deviceMemoryLimit() + " bytes)", freeMemory(), null);
                }
                return newBuffer(dtype, length);
            }
        } catch (IllegalArgumentException | OutOfDeviceMemoryException e) {
            throw e; // a limit of the backend, already named in the message
        } catch (NativeCallException e) {
            if (!e.outOfMemory()) {
                throw e;
            }
            throw allocationFailed(dtype, length, e.getMessage(), freeMemory(), e);
        } catch (RuntimeException e) {
            throw allocationFailed(dtype, length, e.toString(), freeMemory(), e);
        } catch (OutOfMemoryError e) {
            // Caught right where the one big request failed, so the heap has room again for the message.
            Runtime rt = Runtime.getRuntime();
            long heapFree = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
            throw allocationFailed(dtype, length, "out of Java memory (" + e.getMessage() + ")",
                    "at most " + heapFree + " bytes free in the Java heap (-Xmx " + rt.maxMemory() + ")", e);
        }
    }

    private OutOfDeviceMemoryException allocationFailed(DType dtype, long length, String why, String free, Throwable cause) {
        MemoryStats held = memory();
        return new OutOfDeviceMemoryException(name + ": cannot allocate " + length + " " + dtype + " elements ("
                + length * dtype.bytes() + " bytes): " + why + "; " + free + "; this backend holds "
                + held.bytesInUse() + " bytes in " + held.liveBuffers() + " buffer(s)", cause);
    }

    /**
     * What the device has free, in words, for the message of a failed allocation; a device backend overrides this
     * with what its runtime reports (OpenCL: global and largest-allocation sizes, CUDA: {@code cuMemGetInfo}).
     */
    protected String freeMemory() {
        return "free device memory not reported by this backend";
    }

    /**
     * The bytes this backend may hold in buffers at once; an allocation beyond it is refused before the runtime
     * sees it. A device whose runtime overcommits (PoCL hands out more than the device reports) sets its size.
     */
    protected long deviceMemoryLimit() {
        return Long.MAX_VALUE;
    }

    /** A new zero-filled buffer; the constructor of {@link AbstractBuffer} registers it. */
    protected abstract AbstractBuffer newBuffer(DType dtype, long length);

    /** Whether {@link #close()} has begun: from then on every buffer of this backend is unusable. */
    public final boolean isClosed() {
        return closed;
    }

    protected final void requireOpen() {
        if (closed) {
            throw new IllegalStateException("backend '" + name + "' is closed");
        }
    }

    @Override
    public final void close() {
        int leaked;
        long bytes;
        RuntimeException deviceFailure = null;
        Lock exclusive = lifecycle.writeLock();
        exclusive.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            awaitDeviceIdle();
            leaked = live.size();
            bytes = bytesInUse.get();
            for (AbstractBuffer.Memory m : live) {
                untrack(m);
                m.release();
            }
            try {
                releaseDevice();
            } catch (RuntimeException e) {
                deviceFailure = e;
            }
        } finally {
            exclusive.unlock();
        }
        if (leaked > 0) {
            // Open buffers are the caller's first mistake to hear of; what the device said (open streams, say) rides along.
            IllegalStateException open = new IllegalStateException("backend '" + name + "' closed with " + leaked
                    + " buffer(s) still open (" + bytes + " bytes); they were freed, but every buffer should be closed first"
                    + (deviceFailure == null ? "" : "; also: " + deviceFailure.getMessage()));
            if (deviceFailure != null) {
                open.addSuppressed(deviceFailure);
            }
            throw open;
        }
        if (deviceFailure != null) {
            throw deviceFailure;
        }
    }

    /**
     * Waits for work already enqueued on the device (streams, queues) to finish, so that closing frees no buffer a
     * kernel or copy still uses. Called by {@link #close()} before any buffer is freed; synchronous backends need
     * nothing.
     */
    protected void awaitDeviceIdle() {
    }

    /** Frees the context, queues and programs. Buffers are already freed. */
    protected abstract void releaseDevice();

    // ---- checked entry points ------------------------------------------------------------------------------

    @Override
    public final void apply(Activation activation, DeviceBuffer x, DeviceBuffer y) {
        guarded(() -> {
            elementwise(activation, "apply");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer by = own(y, "y");
            sameLength(bx, "x", by, "y");
            if (bx.length() > 0) {
                computeForward(activation, bx, by, bx.length());
            }
        }, x, y);
    }

    @Override
    public final void applyBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx) {
        guarded(() -> {
            elementwise(activation, "applyBackward");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            sameLength(bx, "x", bdy, "dy");
            sameLength(bx, "x", bdx, "dx");
            if (bx.length() > 0) {
                computeBackward(activation, bx, bdy, bdx, bx.length());
            }
        }, x, dy, dx);
    }

    @Override
    public final void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout) {
        guarded(() -> {
            Op op = rowwise(activation, "applyRows");
            Objects.requireNonNull(layout, "layout");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer by = own(y, "y");
            long outCols = outputColumns(activation, layout);
            checkRows(layout, bx, "x", by, "y", outCols);
            if (bx.aliases(by) && (op == Op.MAXOUT || layout.xStride() != layout.yStride())) {
                throw new IllegalArgumentException(op.id() + ": y may be the same buffer as x only for softmax and "
                        + "log_softmax with equal strides");
            }
            if (!layout.isEmpty()) {
                computeRows(activation, bx, by, layout);
            }
        }, x, y);
    }

    @Override
    public final void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx,
                                        RowLayout layout) {
        guarded(() -> {
            rowwise(activation, "applyRowsBackward");
            Objects.requireNonNull(layout, "layout");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            long outCols = outputColumns(activation, layout);
            checkRows(layout, bx, "x", bdy, "dy", outCols);
            if (bdx.length() < layout.xExtent()) {
                throw new IllegalArgumentException("dx holds " + bdx.length() + " elements but " + layout
                        + " needs " + layout.xExtent());
            }
            if (bdx.aliases(bx) || bdx.aliases(bdy)) {
                throw new IllegalArgumentException("dx must be a buffer of its own, not x or dy, for a row-wise backward pass");
            }
            if (!layout.isEmpty()) {
                computeRowsBackward(activation, bx, bdy, bdx, layout);
            }
        }, x, dy, dx);
    }

    @Override
    public final void applyBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
        guarded(() -> {
            elementwise(activation, "applyBackwardFromOutput");
            fromOutput(activation, "applyBackwardFromOutput");
            AbstractBuffer by = own(y, "y");
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            sameLength(by, "y", bdy, "dy");
            sameLength(by, "y", bdx, "dx");
            if (by.length() > 0) {
                computeBackwardFromOutput(activation, by, bdy, bdx, by.length());
            }
        }, y, dy, dx);
    }

    @Override
    public final void applyRowsBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy,
                                                  DeviceBuffer dx, RowLayout layout) {
        guarded(() -> {
            rowwise(activation, "applyRowsBackwardFromOutput");
            fromOutput(activation, "applyRowsBackwardFromOutput");
            Objects.requireNonNull(layout, "layout");
            AbstractBuffer by = own(y, "y");
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            for (AbstractBuffer b : new AbstractBuffer[] {by, bdy}) {
                if (b.length() < layout.yExtent(layout.cols())) {
                    throw new IllegalArgumentException((b == by ? "y" : "dy") + " holds " + b.length()
                            + " elements but " + layout + " needs " + layout.yExtent(layout.cols()));
                }
            }
            if (bdx.length() < layout.xExtent()) {
                throw new IllegalArgumentException("dx holds " + bdx.length() + " elements but " + layout + " needs "
                        + layout.xExtent());
            }
            if (bdx == by || bdx == bdy) {
                throw new IllegalArgumentException("dx must be a buffer of its own, not y or dy, for a row-wise backward pass");
            }
            if (!layout.isEmpty()) {
                computeRowsBackwardFromOutput(activation, by, bdy, bdx, layout);
            }
        }, y, dy, dx);
    }

    private static void fromOutput(Activation activation, String method) {
        if (!activation.hasBackwardFromOutput()) {
            throw new IllegalArgumentException(method + ": " + activation + " has no backward pass from its output "
                    + "(its derivative is not a function of y there); use the backward pass from x");
        }
    }

    @Override
    public final void prelu(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y, long channels, long inner) {
        guarded(() -> {
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer bw = own(weight, "weight");
            AbstractBuffer by = own(y, "y");
            sameLength(bx, "x", by, "y");
            checkChannels(bw, channels, inner);
            if (bw.aliases(by)) {
                throw new IllegalArgumentException("y must not be the weight buffer");
            }
            if (bx.length() > 0) {
                computePrelu(bx, bw, by, bx.length(), channels, inner);
            }
        }, x, weight, y);
    }

    @Override
    public final void preluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, DeviceBuffer dx,
                                    DeviceBuffer dweight, long channels, long inner) {
        guarded(() -> {
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer bw = own(weight, "weight");
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            AbstractBuffer bdw = own(dweight, "dweight");
            sameLength(bx, "x", bdy, "dy");
            sameLength(bx, "x", bdx, "dx");
            checkChannels(bw, channels, inner);
            sameLength(bw, "weight", bdw, "dweight");
            if (bdx.aliases(bx) || bdx.aliases(bw) || bdw.aliases(bx) || bdw.aliases(bw) || bdw.aliases(bdy)
                    || bdw.aliases(bdx)) {
                throw new IllegalArgumentException("preluBackward: dx and dweight must be buffers of their own "
                        + "(dx may only share dy's buffer)");
            }
            computePreluBackward(bx, bw, bdy, bdx, bdw, bx.length(), channels, inner);
        }, x, weight, dy, dx, dweight);
    }

    @Override
    public final void copy(DeviceBuffer src, DeviceBuffer dst) {
        guarded(() -> {
            AbstractBuffer from = own(src, "src");
            AbstractBuffer to = own(dst, "dst");
            sameLength(from, "src", to, "dst");
            if (from != to && from.length() > 0) {
                computeCopy(from, to, from.length());
            }
        }, src, dst);
    }

    /** dst = src on distinct buffers; the default goes through the host, a device backend copies on the device. */
    protected void computeCopy(AbstractBuffer src, AbstractBuffer dst, long n) {
        Backend.super.copy(src, dst);
    }

    private static void elementwise(Activation activation, String method) {
        Objects.requireNonNull(activation, "activation");
        Op op = activation.op();
        if (op.kind() != Op.Kind.ELEMENTWISE) {
            throw new IllegalArgumentException(method + ": " + op.id() + " is not elementwise; use "
                    + (op == Op.PRELU ? "prelu()" : "applyRows()"));
        }
    }

    private static Op rowwise(Activation activation, String method) {
        Objects.requireNonNull(activation, "activation");
        Op op = activation.op();
        if (op.kind() != Op.Kind.ROWWISE) {
            throw new IllegalArgumentException(method + ": " + op.id() + " is not row-wise; use "
                    + (op == Op.PRELU ? "prelu()" : "apply()"));
        }
        return op;
    }

    /** Output columns of a row-wise op; maxout's pieces must divide cols. */
    public static long outputColumns(Activation activation, RowLayout layout) {
        if (activation.op() != Op.MAXOUT) {
            return layout.cols();
        }
        long k = (long) activation.param("pieces");
        if (layout.cols() % k != 0) {
            throw new IllegalArgumentException("maxout: pieces (" + k + ") must divide cols (" + layout.cols() + ")");
        }
        return layout.cols() / k;
    }

    private static void checkRows(RowLayout layout, AbstractBuffer x, String xName, AbstractBuffer y, String yName,
                                  long outCols) {
        if (layout.yStride() < outCols) {
            throw new IllegalArgumentException("yStride must be >= the output row length (" + outCols + "), got "
                    + layout.yStride());
        }
        if (x.length() < layout.xExtent()) {
            throw new IllegalArgumentException(xName + " holds " + x.length() + " elements but " + layout
                    + " needs " + layout.xExtent());
        }
        if (y.length() < layout.yExtent(outCols)) {
            throw new IllegalArgumentException(yName + " holds " + y.length() + " elements but " + layout
                    + " needs " + layout.yExtent(outCols));
        }
    }

    private static void checkChannels(AbstractBuffer weight, long channels, long inner) {
        if (channels < 1) {
            throw new IllegalArgumentException("channels must be >= 1, got " + channels);
        }
        if (inner < 1) {
            throw new IllegalArgumentException("inner must be >= 1, got " + inner);
        }
        if (weight.length() != channels) {
            throw new IllegalArgumentException("weight holds " + weight.length() + " elements but channels is " + channels);
        }
    }

    private static void sameLength(AbstractBuffer a, String aName, AbstractBuffer b, String bName) {
        if (a.length() != b.length()) {
            throw new IllegalArgumentException(aName + " and " + bName + " differ in length: " + a.length()
                    + " vs " + b.length());
        }
    }

    /** The buffer as this backend's own, open buffer; otherwise an exception naming the argument. */
    protected final AbstractBuffer own(DeviceBuffer buffer, String role) {
        requireOpen();
        Objects.requireNonNull(buffer, role);
        if (!(buffer instanceof AbstractBuffer b)) {
            throw new IllegalArgumentException(role + " is not a buffer of this '" + name + "' backend: a "
                    + buffer.getClass().getName() + " that no backend's allocate() or upload() made");
        }
        if (b.backend() != this) {
            // Two instances of one kind have separate contexts, so their buffers do not mix either.
            String owner = b.backend().name().equals(name) ? "another '" + name + "' backend instance"
                    : "backend '" + b.backend().name() + "'";
            throw new IllegalArgumentException(role + " belongs to " + owner + ", not to this '" + name + "' backend");
        }
        b.requireOpen(role);
        return b;
    }

    // ---- what a backend implements -------------------------------------------------------------------------

    protected abstract void computeForward(Activation activation, AbstractBuffer x, AbstractBuffer y, long n);

    protected abstract void computeBackward(Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                            AbstractBuffer dx, long n);

    /** dx = dy * f'(y); the activation has the form ({@link Activation#hasBackwardFromOutput()}). */
    protected abstract void computeBackwardFromOutput(Activation activation, AbstractBuffer y, AbstractBuffer dy,
                                                      AbstractBuffer dx, long n);

    protected abstract void computeRows(Activation activation, AbstractBuffer x, AbstractBuffer y, RowLayout layout);

    /** Softmax or log_softmax backward from y; y and dy use {@code yStride}, dx {@code xStride}. */
    protected abstract void computeRowsBackwardFromOutput(Activation activation, AbstractBuffer y, AbstractBuffer dy,
                                                          AbstractBuffer dx, RowLayout layout);

    protected abstract void computeRowsBackward(Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                                AbstractBuffer dx, RowLayout layout);

    protected abstract void computePrelu(AbstractBuffer x, AbstractBuffer weight, AbstractBuffer y, long n,
                                         long channels, long inner);

    /** Also called for n = 0, where dweight must still be set to zeros. */
    protected abstract void computePreluBackward(AbstractBuffer x, AbstractBuffer weight, AbstractBuffer dy,
                                                 AbstractBuffer dx, AbstractBuffer dweight, long n, long channels,
                                                 long inner);

    @Override
    public String toString() {
        return name + " (" + device() + ")";
    }
}
