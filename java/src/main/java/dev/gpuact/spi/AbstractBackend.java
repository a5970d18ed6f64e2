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
import dev.gpuact.RowMask;
import dev.gpuact.Stream;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Every argument check and the accounting of buffers, streams and host buffers, written once for all backends. A
 * subclass implements the {@code compute*} methods and sees only open buffers of its own, of the right sizes, on
 * non-empty work, with the queue {@code Q} the work goes on: its own ({@link #ownQueue()}) for this backend's
 * methods, a stream's ({@link #newStreamQueue()}) for that stream's.
 */
public abstract class AbstractBackend<Q extends WorkQueue> implements Backend {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final System.Logger LOG = System.getLogger("dev.gpuact");
    /** {@code -Dgpuact.leakDetection=false} turns off the report of buffers collected without close (benchmarks). */
    static final boolean LEAK_DETECTION = !"false".equalsIgnoreCase(System.getProperty("gpuact.leakDetection"));

    private final String name;
    private final Set<AbstractBuffer.Memory> live = ConcurrentHashMap.newKeySet();
    private final Set<QueueStream<Q>> streams = ConcurrentHashMap.newKeySet();
    private final Set<BackendHostBuffer> hostBuffers = ConcurrentHashMap.newKeySet();
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

    // ---- queues and streams --------------------------------------------------------------------------------

    /** The queue of this backend's own methods: each call waits for its work ({@link WorkQueue#waits()}). */
    protected abstract Q ownQueue();

    /**
     * A new queue for a {@link #newStream() stream}, released by the stream's close. The default is the backend's
     * own queue, for a backend whose calls run at once: such a stream is not asynchronous.
     */
    protected Q newStreamQueue() {
        return ownQueue();
    }

    /** A stream on a queue of its own; refused once the backend is closed. */
    @Override
    public final Stream newStream() {
        return openStream(this::newStreamQueue);
    }

    /**
     * A stream on the queue {@code queue} makes (a host engine's own, say), counted and closed with this backend as
     * {@link #newStream()}'s are; refused once the backend is closed.
     */
    protected final Stream openStream(Supplier<Q> queue) {
        return guarded(() -> {
            requireOpen();
            QueueStream<Q> stream = new QueueStream<>(this, queue.get());
            streams.add(stream);
            return stream;
        });
    }

    void streamClosed(QueueStream<Q> stream) {
        streams.remove(stream);
    }

    /** Streams from {@link #newStream()} not yet closed. */
    public final int openStreams() {
        return streams.size();
    }

    // ---- host memory ---------------------------------------------------------------------------------------

    /**
     * Host memory from {@link #newHostBuffer}; refused once the backend is closed or beyond one Java buffer's size.
     * Memory the runtime or the heap cannot give is an {@link OutOfDeviceMemoryException}, any other failure of
     * the runtime a {@link NativeCallException}.
     */
    @Override
    public final HostBuffer allocateHost(int length) {
        return guarded(() -> {
            requireOpen();
            HostBuffer.checkLength(length);
            HostBuffer.reclaimClosed();
            BackendHostBuffer host;
            try {
                host = newHostBuffer(length);
            } catch (RuntimeException e) {
                throw outOfMemoryOrNative(e, n -> hostAllocationFailed(length, n.getMessage(), n));
            } catch (OutOfMemoryError e) {
                throw hostAllocationFailed(length, "out of Java memory (" + e.getMessage() + ")", e);
            }
            hostBuffers.add(host);
            return host;
        });
    }

    /**
     * A failed allocation: where the runtime reported itself out of memory, {@code outOfMemory}'s exception; any
     * other native failure the typed {@link NativeCallException}; the backend's own refusals as they are.
     */
    private RuntimeException outOfMemoryOrNative(RuntimeException e,
                                                 Function<NativeCallException, OutOfDeviceMemoryException> outOfMemory) {
        RuntimeException failure = nativeFailure(e);
        return failure instanceof NativeCallException n && n.outOfMemory() ? outOfMemory.apply(n) : failure;
    }

    private OutOfDeviceMemoryException hostAllocationFailed(int length, String why, Throwable cause) {
        return new OutOfDeviceMemoryException(name + ": cannot allocate " + length + " floats of host memory: " + why,
                cause);
    }

    /** Host memory for transfers; the default is a direct buffer (not pinned), which the garbage collector frees. */
    protected BackendHostBuffer newHostBuffer(int length) {
        return new BackendHostBuffer(this, ByteBuffer.allocateDirect(length * Float.BYTES), false) {
            @Override
            protected void free() {
                // the garbage collector frees a direct buffer
            }
        };
    }

    void hostBufferClosed(BackendHostBuffer host) {
        hostBuffers.remove(host);
    }

    /** Host buffers from {@link #allocateHost} not yet closed. */
    public final int openHostBuffers() {
        return hostBuffers.size();
    }

    // ---- device memory -------------------------------------------------------------------------------------

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
        } catch (RuntimeException e) {
            throw outOfMemoryOrNative(e, n -> allocationFailed(dtype, length, n.getMessage(), freeMemory(), n));
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

    /**
     * A new zero-filled buffer; the constructor of {@link AbstractBuffer} registers it. A runtime that reports
     * itself out of memory throws a {@link NativeCallException} saying so (made an {@link OutOfDeviceMemoryException}
     * here), any other failure the exception that names it.
     */
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

    /**
     * Waits for the device, closes the streams (each waits for its work), frees the buffers and host buffers still
     * open, then the device. Anything that was open is named in the {@link IllegalStateException} thrown at the
     * end; a failure of the device rides along with it, or is thrown itself.
     */
    @Override
    public final void close() {
        String open;
        RuntimeException failure = null;
        Lock exclusive = lifecycle.writeLock();
        exclusive.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            failure = attempt(failure, this::awaitDeviceIdle);
            List<QueueStream<Q>> openStreams = List.copyOf(streams);
            List<BackendHostBuffer> openHost = List.copyOf(hostBuffers);
            open = stillOpen(live.size(), bytesInUse.get(), openStreams.size(), openHost.size());
            for (QueueStream<Q> stream : openStreams) {
                failure = attempt(failure, stream::close);
            }
            for (AbstractBuffer.Memory m : live) {
                untrack(m);
                m.release();
            }
            for (BackendHostBuffer host : openHost) {
                failure = attempt(failure, host::close);
            }
            failure = attempt(failure, this::releaseDevice);
        } finally {
            exclusive.unlock();
        }
        if (open != null) {
            // What was left open is the caller's first mistake to hear of; what the device said rides along.
            IllegalStateException leaked = new IllegalStateException("backend '" + name + "' closed with " + open
                    + "; they were freed, but each should be closed first"
                    + (failure == null ? "" : "; also: " + failure.getMessage()));
            if (failure != null) {
                leaked.addSuppressed(failure);
            }
            throw leaked;
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** What close found open, in words ("2 buffer(s) and 1 stream(s) still open (512 bytes)"), or null for nothing. */
    private static String stillOpen(int buffers, long bytes, int streams, int hostBuffers) {
        List<String> parts = new ArrayList<>();
        if (buffers > 0) {
            parts.add(buffers + " buffer(s)");
        }
        if (streams > 0) {
            parts.add(streams + " stream(s)");
        }
        if (hostBuffers > 0) {
            parts.add(hostBuffers + " host buffer(s)");
        }
        if (parts.isEmpty()) {
            return null;
        }
        String last = parts.remove(parts.size() - 1);
        return (parts.isEmpty() ? last : String.join(", ", parts) + " and " + last) + " still open"
                + (buffers > 0 ? " (" + bytes + " bytes)" : "");
    }

    /** Runs one step of closing; its failure is kept if it is the first, else added to the first. */
    private static RuntimeException attempt(RuntimeException failure, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            if (failure == null) {
                return e;
            }
            failure.addSuppressed(e);
        }
        return failure;
    }

    /**
     * Waits for work already enqueued on the device (the backend's queue and its streams' queues) to finish, so
     * that closing frees no buffer a kernel or copy still uses. Called by {@link #close()} before anything is
     * freed; synchronous backends need nothing.
     */
    protected void awaitDeviceIdle() {
    }

    /** Frees the context, queues and programs. Buffers, streams and host buffers are already closed. */
    protected abstract void releaseDevice();

    // ---- checked entry points: the Backend's methods on the backend's own queue, a stream's on its queue ----

    @Override
    public final void apply(Activation activation, DeviceBuffer x, DeviceBuffer y) {
        apply(ownQueue(), activation, x, y);
    }

    final void apply(Q queue, Activation activation, DeviceBuffer x, DeviceBuffer y) {
        guarded(() -> {
            elementwise(activation, "apply");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer by = own(y, "y");
            sameLength(bx, "x", by, "y");
            if (bx.length() > 0) {
                staged(queue, Work.FORWARD, List.of(bx), List.of(by),
                        w -> computeForward(queue, activation, w.apply(bx), w.apply(by), bx.length()));
            }
        }, x, y);
    }

    @Override
    public final void applyBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx) {
        applyBackward(ownQueue(), activation, x, dy, dx);
    }

    final void applyBackward(Q queue, Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx) {
        elementwiseBackward(queue, "applyBackward", activation, x, "x", dy, dx, false);
    }

    @Override
    public final void applyBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
        applyBackwardFromOutput(ownQueue(), activation, y, dy, dx);
    }

    final void applyBackwardFromOutput(Q queue, Activation activation, DeviceBuffer y, DeviceBuffer dy,
                                       DeviceBuffer dx) {
        elementwiseBackward(queue, "applyBackwardFromOutput", activation, y, "y", dy, dx, true);
    }

    /** dx from dy and the saved tensor of the forward pass: its input x, or its output y ({@code fromOutput}). */
    private void elementwiseBackward(Q queue, String method, Activation activation, DeviceBuffer saved,
                                     String savedName, DeviceBuffer dy, DeviceBuffer dx, boolean fromOutput) {
        guarded(() -> {
            elementwise(activation, method);
            if (fromOutput) {
                requireFromOutput(activation, method);
            }
            AbstractBuffer bs = own(saved, savedName);
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            sameLength(bs, savedName, bdy, "dy");
            sameLength(bs, savedName, bdx, "dx");
            if (bs.length() == 0) {
                return;
            }
            if (fromOutput) {
                staged(queue, Work.BACKWARD_FROM_OUTPUT, List.of(bs, bdy), List.of(bdx), w ->
                        computeBackwardFromOutput(queue, activation, w.apply(bs), w.apply(bdy), w.apply(bdx), bs.length()));
            } else {
                staged(queue, Work.BACKWARD, List.of(bs, bdy), List.of(bdx), w ->
                        computeBackward(queue, activation, w.apply(bs), w.apply(bdy), w.apply(bdx), bs.length()));
            }
        }, saved, dy, dx);
    }

    @Override
    public final void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout) {
        applyRows(ownQueue(), activation, x, y, layout);
    }

    final void applyRows(Q queue, Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout) {
        guarded(() -> {
            Op op = rowwise(activation, "applyRows");
            Objects.requireNonNull(layout, "layout");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer by = own(y, "y");
            long outCols = outputColumns(activation, layout);
            checkRows(layout, bx, "x", layout.xExtent(), by, "y", outCols);
            if (bx.aliases(by) && (op == Op.MAXOUT || layout.xStride() != layout.yStride())) {
                throw new IllegalArgumentException(op.id() + ": y may be the same buffer as x only for softmax and "
                        + "log_softmax with equal strides");
            }
            if (!layout.isEmpty()) {
                staged(queue, Work.ROWS, List.of(bx), List.of(by),
                        w -> computeRows(queue, activation, w.apply(bx), w.apply(by), layout));
            }
        }, x, y);
    }

    @Override
    public final void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx,
                                        RowLayout layout) {
        applyRowsBackward(ownQueue(), activation, x, dy, dx, layout);
    }

    final void applyRowsBackward(Q queue, Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx,
                                 RowLayout layout) {
        rowsBackward(queue, "applyRowsBackward", activation, x, "x", dy, dx, layout, false);
    }

    @Override
    public final void applyRowsBackwardFromOutput(Activation activation, DeviceBuffer y, DeviceBuffer dy,
                                                  DeviceBuffer dx, RowLayout layout) {
        applyRowsBackwardFromOutput(ownQueue(), activation, y, dy, dx, layout);
    }

    final void applyRowsBackwardFromOutput(Q queue, Activation activation, DeviceBuffer y, DeviceBuffer dy,
                                           DeviceBuffer dx, RowLayout layout) {
        rowsBackward(queue, "applyRowsBackwardFromOutput", activation, y, "y", dy, dx, layout, true);
    }

    /**
     * The row-wise dx from dy and the saved tensor of the forward pass: its input x (laid out by {@code xStride}),
     * or its output y ({@code fromOutput}, laid out by {@code yStride} as dy is).
     */
    private void rowsBackward(Q queue, String method, Activation activation, DeviceBuffer saved, String savedName,
                              DeviceBuffer dy, DeviceBuffer dx, RowLayout layout, boolean fromOutput) {
        guarded(() -> {
            rowwise(activation, method);
            if (fromOutput) {
                requireFromOutput(activation, method);
            }
            Objects.requireNonNull(layout, "layout");
            AbstractBuffer bs = own(saved, savedName);
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            long outCols = outputColumns(activation, layout);
            checkRows(layout, bs, savedName, fromOutput ? layout.yExtent(outCols) : layout.xExtent(), bdy, "dy", outCols);
            if (bdx.length() < layout.xExtent()) {
                throw new IllegalArgumentException("dx holds " + bdx.length() + " elements but " + layout
                        + " needs " + layout.xExtent());
            }
            if (bdx.aliases(bs) || bdx.aliases(bdy)) {
                throw new IllegalArgumentException("dx must be a buffer of its own, not " + savedName + " or dy, for a "
                        + "row-wise backward pass");
            }
            if (layout.isEmpty()) {
                return;
            }
            if (fromOutput) {
                staged(queue, Work.ROWS, List.of(bs, bdy), List.of(bdx), w ->
                        computeRowsBackwardFromOutput(queue, activation, w.apply(bs), w.apply(bdy), w.apply(bdx), layout));
            } else {
                staged(queue, Work.ROWS, List.of(bs, bdy), List.of(bdx), w ->
                        computeRowsBackward(queue, activation, w.apply(bs), w.apply(bdy), w.apply(bdx), layout));
            }
        }, saved, dy, dx);
    }

    private static void requireFromOutput(Activation activation, String method) {
        if (!activation.hasBackwardFromOutput()) {
            throw new IllegalArgumentException(method + ": " + activation + " has no backward pass from its output "
                    + "(its derivative is not a function of y there); use the backward pass from x");
        }
    }

    @Override
    public final void prelu(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y, long channels, long inner) {
        prelu(ownQueue(), x, weight, y, channels, inner);
    }

    final void prelu(Q queue, DeviceBuffer x, DeviceBuffer weight, DeviceBuffer y, long channels, long inner) {
        guarded(() -> {
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer bw = own(weight, "weight");
            AbstractBuffer by = own(y, "y");
            sameLength(bx, "x", by, "y");
            checkChannels(bw, "weight", channels, inner);
            if (bw.aliases(by)) {
                throw new IllegalArgumentException("y must not be the weight buffer");
            }
            if (bx.length() > 0) {
                staged(queue, Work.PRELU, List.of(bx, bw), List.of(by), w ->
                        computePrelu(queue, w.apply(bx), w.apply(bw), w.apply(by), bx.length(), channels, inner));
            }
        }, x, weight, y);
    }

    @Override
    public final void preluBackward(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, DeviceBuffer dx,
                                    DeviceBuffer dweight, long channels, long inner) {
        preluBackward(ownQueue(), x, weight, dy, dx, dweight, channels, inner);
    }

    final void preluBackward(Q queue, DeviceBuffer x, DeviceBuffer weight, DeviceBuffer dy, DeviceBuffer dx,
                             DeviceBuffer dweight, long channels, long inner) {
        guarded(() -> {
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer bw = own(weight, "weight");
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            AbstractBuffer bdw = own(dweight, "dweight");
            sameLength(bx, "x", bdy, "dy");
            sameLength(bx, "x", bdx, "dx");
            checkChannels(bw, "weight", channels, inner);
            sameLength(bw, "weight", bdw, "dweight");
            if (bdx.aliases(bx) || bdx.aliases(bw) || bdw.aliases(bx) || bdw.aliases(bw) || bdw.aliases(bdy)
                    || bdw.aliases(bdx)) {
                throw new IllegalArgumentException("preluBackward: dx and dweight must be buffers of their own "
                        + "(dx may only share dy's buffer)");
            }
            staged(queue, Work.PRELU, List.of(bx, bw, bdy), List.of(bdx, bdw), w -> computePreluBackward(queue,
                    w.apply(bx), w.apply(bw), w.apply(bdy), w.apply(bdx), w.apply(bdw), bx.length(), channels, inner));
        }, x, weight, dy, dx, dweight);
    }

    @Override
    public final void copy(DeviceBuffer src, DeviceBuffer dst) {
        copy(ownQueue(), src, dst);
    }

    final void copy(Q queue, DeviceBuffer src, DeviceBuffer dst) {
        guarded(() -> {
            AbstractBuffer from = own(src, "src");
            AbstractBuffer to = own(dst, "dst");
            sameLength(from, "src", to, "dst");
            if (from.dtype() != to.dtype() || from.dtype().isHalf() && from != to) {
                if (from.length() > 0) {
                    // Across types this converts; between 16-bit buffers the conversion kernel copies the bits.
                    computeConvert(queue, from, to, from.length());
                }
            } else if (from != to && from.length() > 0) {
                computeCopy(queue, from, to, from.length());
            }
        }, src, dst);
    }

    // ---- transfers: a buffer's read and write on the backend's own queue, a stream's on its queue ------------

    final void write(AbstractBuffer dst, long offset, float[] src, int srcOffset, int count) {
        guarded(() -> {
            Objects.requireNonNull(src, "src");
            owned(dst, "destination");
            checkArrayRange("src", src.length, srcOffset, count);
            dst.checkRange(offset, count);
            if (count > 0 && dst.dtype().isHalf()) {
                writeRounded(ownQueue(), dst, offset, FloatBuffer.wrap(src, srcOffset, count));
            } else if (count > 0) {
                computeWrite(ownQueue(), dst, offset, src, srcOffset, count);
            }
        }, dst);
    }

    final void read(AbstractBuffer src, long offset, float[] dst, int dstOffset, int count) {
        guarded(() -> {
            Objects.requireNonNull(dst, "dst");
            owned(src, "source");
            checkArrayRange("dst", dst.length, dstOffset, count);
            src.checkRange(offset, count);
            if (count > 0 && src.dtype().isHalf()) {
                readWidened(ownQueue(), src, offset, FloatBuffer.wrap(dst, dstOffset, count));
            } else if (count > 0) {
                computeRead(ownQueue(), src, offset, dst, dstOffset, count);
            }
        }, src);
    }

    final void write(AbstractBuffer dst, long offset, FloatBuffer src) {
        write(ownQueue(), dst, offset, src);
    }

    final void write(Q queue, DeviceBuffer dst, long offset, FloatBuffer src) {
        guarded(() -> {
            Objects.requireNonNull(src, "src");
            AbstractBuffer to = owned(dst, "destination");
            int count = src.remaining();
            to.checkRange(offset, count);
            if (count > 0 && to.dtype().isHalf()) {
                writeRounded(queue, to, offset, src);
            } else if (count > 0) {
                computeWrite(queue, to, offset, src);
            }
        }, dst);
    }

    final void read(AbstractBuffer src, long offset, FloatBuffer dst) {
        read(ownQueue(), src, offset, dst);
    }

    final void read(Q queue, DeviceBuffer src, long offset, FloatBuffer dst) {
        guarded(() -> {
            Objects.requireNonNull(dst, "dst");
            AbstractBuffer from = owned(src, "source");
            if (dst.isReadOnly()) {
                throw new IllegalArgumentException("dst is a read-only FloatBuffer");
            }
            int count = dst.remaining();
            from.checkRange(offset, count);
            if (count > 0 && from.dtype().isHalf()) {
                readWidened(queue, from, offset, dst);
            } else if (count > 0) {
                computeRead(queue, from, offset, dst);
            }
        }, src);
    }

    final void writeBits(AbstractBuffer dst, long offset, short[] bits, int srcOffset, int count) {
        guarded(() -> {
            Objects.requireNonNull(bits, "bits");
            owned(dst, "destination");
            requireHalf(dst, "destination");
            checkArrayRange("bits", bits.length, srcOffset, count);
            dst.checkRange(offset, count);
            if (count > 0) {
                computeWriteBits(ownQueue(), dst, offset, bits, srcOffset, count);
            }
        }, dst);
    }

    final void readBits(AbstractBuffer src, long offset, short[] bits, int dstOffset, int count) {
        guarded(() -> {
            Objects.requireNonNull(bits, "bits");
            owned(src, "source");
            requireHalf(src, "source");
            checkArrayRange("bits", bits.length, dstOffset, count);
            src.checkRange(offset, count);
            if (count > 0) {
                computeReadBits(ownQueue(), src, offset, bits, dstOffset, count);
            }
        }, src);
    }

    private static void requireHalf(AbstractBuffer buffer, String role) {
        if (!buffer.dtype().isHalf()) {
            throw new IllegalArgumentException(role + " is a " + buffer.dtype() + " buffer: raw 16-bit access takes "
                    + "a FLOAT16 or BFLOAT16 buffer (use the float transfers)");
        }
    }

    /** Elements per chunk when floats are rounded to, or widened from, 16-bit storage on the host. */
    private static final int CONVERSION_CHUNK = 1 << 16;

    /** The remaining floats of {@code src} rounded once to {@code dst}'s 16-bit type, in chunks; advances {@code src}. */
    private void writeRounded(Q queue, AbstractBuffer dst, long offset, FloatBuffer src) {
        DType type = dst.dtype();
        short[] bits = new short[Math.min(src.remaining(), CONVERSION_CHUNK)];
        for (long at = offset; src.hasRemaining(); at += bits.length) {
            int n = Math.min(bits.length, src.remaining());
            for (int i = 0; i < n; i++) {
                bits[i] = type.toBits(src.get());
            }
            computeWriteBits(queue, dst, at, bits, 0, n);
        }
    }

    /** Fills the remaining space of {@code dst} with {@code src}'s 16-bit elements widened, in chunks. */
    private void readWidened(Q queue, AbstractBuffer src, long offset, FloatBuffer dst) {
        DType type = src.dtype();
        short[] bits = new short[Math.min(dst.remaining(), CONVERSION_CHUNK)];
        for (long at = offset; dst.hasRemaining(); at += bits.length) {
            int n = Math.min(bits.length, dst.remaining());
            computeReadBits(queue, src, at, bits, 0, n);
            for (int i = 0; i < n; i++) {
                dst.put(type.fromBits(bits[i]));
            }
        }
    }

    private static void checkArrayRange(String name, int arrayLength, int offset, int count) {
        if (offset < 0 || count < 0 || offset > arrayLength - count) {
            throw new IndexOutOfBoundsException(name + ": offset " + offset + " + count " + count
                    + " is outside an array of " + arrayLength);
        }
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

    /** The output stride, then {@code x} (holding at least {@code xExtent}) and {@code y} against the layout. */
    private static void checkRows(RowLayout layout, AbstractBuffer x, String xName, long xExtent, AbstractBuffer y,
                                  String yName, long outCols) {
        if (layout.yStride() < outCols) {
            throw new IllegalArgumentException("yStride must be >= the output row length (" + outCols + "), got "
                    + layout.yStride());
        }
        if (x.length() < xExtent) {
            throw new IllegalArgumentException(xName + " holds " + x.length() + " elements but " + layout
                    + " needs " + xExtent);
        }
        if (y.length() < layout.yExtent(outCols)) {
            throw new IllegalArgumentException(yName + " holds " + y.length() + " elements but " + layout
                    + " needs " + layout.yExtent(outCols));
        }
    }

    /** channels and inner of a per-channel layout, and the per-channel buffer ({@code role}) against channels. */
    private static void checkChannels(AbstractBuffer perChannel, String role, long channels, long inner) {
        if (channels < 1) {
            throw new IllegalArgumentException("channels must be >= 1, got " + channels);
        }
        if (inner < 1) {
            throw new IllegalArgumentException("inner must be >= 1, got " + inner);
        }
        if (perChannel.length() != channels) {
            throw new IllegalArgumentException(role + " holds " + perChannel.length() + " elements but channels is "
                    + channels);
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
        return owned(buffer, role);
    }

    /** As {@link #own}, for a buffer's transfers: a closed backend is named as the buffer's (its memory went with it). */
    private AbstractBuffer owned(DeviceBuffer buffer, String role) {
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

    // ---- 16-bit storage: calls a backend has no kernel for run on float32 scratch ------------------------------

    /** The kinds of call, for {@link #computesNatively}. */
    protected enum Work {
        FORWARD, BACKWARD, BACKWARD_FROM_OUTPUT, ROWS, MASKED_ROWS, PRELU, BIAS, GATED
    }

    /**
     * Whether the {@code compute*} method of {@code work} handles these buffers itself (the call's buffers, inputs
     * then outputs). The default is: when none {@link #needsScratch needs scratch}. Any other call is staged: each
     * buffer that needs it is copied into a float32 scratch buffer of this backend ({@link #computeConvert}), the
     * float32 method run on those, and the outputs copied back.
     */
    protected boolean computesNatively(Work work, List<AbstractBuffer> buffers) {
        return buffers.stream().noneMatch(this::needsScratch);
    }

    /**
     * Whether a call the backend does not compute natively must stage {@code buffer} through float32 scratch: by
     * default a buffer of a 16-bit type; a backend whose kernels cannot address some float32 buffers (host memory
     * in place) says so too.
     */
    protected boolean needsScratch(AbstractBuffer buffer) {
        return buffer.dtype() != DType.FLOAT32;
    }

    /**
     * Runs {@code call} with each buffer mapped to the one to compute on: itself where the backend computes the
     * types natively, else its float32 scratch copy. Every buffer is widened, outputs too (a row-wise output keeps
     * what lies between its rows); an in-place call stays in place, on one scratch buffer. The outputs are rounded
     * back once the call has run; the scratch is freed on every path, after the queue has finished with it.
     */
    private void staged(Q queue, Work work, List<AbstractBuffer> inputs, List<AbstractBuffer> outputs,
                        Consumer<UnaryOperator<AbstractBuffer>> call) {
        List<AbstractBuffer> all = new ArrayList<>(inputs);
        all.addAll(outputs);
        all.removeIf(Objects::isNull);
        if (computesNatively(work, all)) {
            call.accept(UnaryOperator.identity());
            return;
        }
        Map<AbstractBuffer, AbstractBuffer> scratch = new IdentityHashMap<>();
        try {
            for (AbstractBuffer b : all) {
                if (needsScratch(b) && !scratch.containsKey(b)) {
                    AbstractBuffer wide = (AbstractBuffer) checkedAllocate(DType.FLOAT32, b.length());
                    scratch.put(b, wide);
                    if (b.length() > 0) {
                        computeConvert(queue, b, wide, b.length());
                    }
                }
            }
            call.accept(b -> b == null ? null : scratch.getOrDefault(b, b));
            for (AbstractBuffer b : outputs) {
                AbstractBuffer wide = scratch.get(b);
                if (wide != null && b.length() > 0) {
                    computeConvert(queue, wide, b, b.length());
                }
            }
        } finally {
            if (!scratch.isEmpty() && !queue.waits()) {
                queue.synchronize();
            }
            scratch.values().forEach(AbstractBuffer::releaseScratch);
        }
    }

    /**
     * dst[i] = src[i] for i in [0, n), converting between the buffers' types (float32, float16, bfloat16): widening
     * is exact, narrowing rounds to nearest, ties to even, NaN kept and quiet. The buffers are distinct.
     */
    protected abstract void computeConvert(Q queue, AbstractBuffer src, AbstractBuffer dst, long n);

    /** Copies {@code count} raw 16-bit elements of {@code src[srcOffset..]} to the 16-bit buffer {@code dst} at {@code offset}. */
    protected abstract void computeWriteBits(Q queue, AbstractBuffer dst, long offset, short[] src, int srcOffset,
                                             int count);

    /** Copies {@code count} raw 16-bit elements of {@code src} at {@code offset} into {@code dst[dstOffset..]}. */
    protected abstract void computeReadBits(Q queue, AbstractBuffer src, long offset, short[] dst, int dstOffset,
                                            int count);

    // ---- what a backend implements: each call's work goes on the queue given ---------------------------------

    protected abstract void computeForward(Q queue, Activation activation, AbstractBuffer x, AbstractBuffer y, long n);

    protected abstract void computeBackward(Q queue, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                            AbstractBuffer dx, long n);

    /** dx = dy * f'(y); the activation has the form ({@link Activation#hasBackwardFromOutput()}). */
    protected abstract void computeBackwardFromOutput(Q queue, Activation activation, AbstractBuffer y,
                                                      AbstractBuffer dy, AbstractBuffer dx, long n);

    protected abstract void computeRows(Q queue, Activation activation, AbstractBuffer x, AbstractBuffer y,
                                        RowLayout layout);

    /** Softmax or log_softmax backward from y; y and dy use {@code yStride}, dx {@code xStride}. */
    protected abstract void computeRowsBackwardFromOutput(Q queue, Activation activation, AbstractBuffer y,
                                                          AbstractBuffer dy, AbstractBuffer dx, RowLayout layout);

    protected abstract void computeRowsBackward(Q queue, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                                AbstractBuffer dx, RowLayout layout);

    protected abstract void computePrelu(Q queue, AbstractBuffer x, AbstractBuffer weight, AbstractBuffer y, long n,
                                         long channels, long inner);

    /** Also called for n = 0, where dweight must still be set to zeros. */
    protected abstract void computePreluBackward(Q queue, AbstractBuffer x, AbstractBuffer weight, AbstractBuffer dy,
                                                 AbstractBuffer dx, AbstractBuffer dweight, long n, long channels,
                                                 long inner);

    /** Copies {@code count} floats from {@code src[srcOffset..]} to {@code dst} at element {@code offset}. */
    protected abstract void computeWrite(Q queue, AbstractBuffer dst, long offset, float[] src, int srcOffset,
                                         int count);

    /** Copies {@code count} floats of {@code src} at element {@code offset} into {@code dst[dstOffset..]}. */
    protected abstract void computeRead(Q queue, AbstractBuffer src, long offset, float[] dst, int dstOffset,
                                        int count);

    /**
     * Copies the remaining floats of {@code src} to {@code dst} at {@code offset} and advances {@code src}. The
     * default goes through a heap array in chunks; a backend with a direct path overrides it.
     */
    protected void computeWrite(Q queue, AbstractBuffer dst, long offset, FloatBuffer src) {
        float[] chunk = new float[Math.min(src.remaining(), 1 << 16)];
        for (long at = offset; src.hasRemaining(); at += chunk.length) {
            int n = Math.min(chunk.length, src.remaining());
            src.get(chunk, 0, n);
            computeWrite(queue, dst, at, chunk, 0, n);
        }
    }

    /** Fills the remaining space of {@code dst} from {@code src} at {@code offset}; as {@link #computeWrite}. */
    protected void computeRead(Q queue, AbstractBuffer src, long offset, FloatBuffer dst) {
        float[] chunk = new float[Math.min(dst.remaining(), 1 << 16)];
        for (long at = offset; dst.hasRemaining(); at += chunk.length) {
            int n = Math.min(chunk.length, dst.remaining());
            computeRead(queue, src, at, chunk, 0, n);
            dst.put(chunk, 0, n);
        }
    }

    /**
     * dst = src on distinct buffers of {@code n} floats. The default goes through the host in chunks (correct,
     * slow); a device backend copies on the device and says so in {@link #deviceCopyIsNative()}.
     */
    protected void computeCopy(Q queue, AbstractBuffer src, AbstractBuffer dst, long n) {
        float[] chunk = new float[(int) Math.min(n, 1 << 20)];
        for (long at = 0; at < n; at += chunk.length) {
            int count = (int) Math.min(chunk.length, n - at);
            computeRead(queue, src, at, chunk, 0, count);
            computeWrite(queue, dst, at, chunk, 0, count);
        }
    }

    // ---- masked and causal softmax / log_softmax ----------------------------------------------------------------

    @Override
    public final void applyRows(Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout,
                                RowMask mask) {
        applyRows(ownQueue(), activation, x, y, layout, mask);
    }

    final void applyRows(Q queue, Activation activation, DeviceBuffer x, DeviceBuffer y, RowLayout layout,
                         RowMask mask) {
        if (Objects.requireNonNull(mask, "mask").isNone()) {
            applyRows(queue, activation, x, y, layout);
            return;
        }
        guarded(() -> {
            maskable(activation, "applyRows");
            Objects.requireNonNull(layout, "layout");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer by = own(y, "y");
            checkRows(layout, bx, "x", layout.xExtent(), by, "y", layout.cols());
            if (bx.aliases(by) && layout.xStride() != layout.yStride()) {
                throw new IllegalArgumentException(activation.op().id() + ": y may be the same buffer as x only with "
                        + "equal strides");
            }
            AbstractBuffer additive = checkMask(mask, layout, by, "y");
            if (!layout.isEmpty()) {
                staged(queue, Work.MASKED_ROWS, Arrays.asList(bx, additive), List.of(by), w -> computeMaskedRows(queue,
                        activation, w.apply(bx), w.apply(by), layout, mask, w.apply(additive)));
            }
        }, x, y, mask.additive());
    }

    @Override
    public final void applyRowsBackward(Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx,
                                        RowLayout layout, RowMask mask) {
        applyRowsBackward(ownQueue(), activation, x, dy, dx, layout, mask);
    }

    final void applyRowsBackward(Q queue, Activation activation, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx,
                                 RowLayout layout, RowMask mask) {
        if (Objects.requireNonNull(mask, "mask").isNone()) {
            applyRowsBackward(queue, activation, x, dy, dx, layout);
            return;
        }
        guarded(() -> {
            maskable(activation, "applyRowsBackward");
            Objects.requireNonNull(layout, "layout");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            checkRows(layout, bx, "x", layout.xExtent(), bdy, "dy", layout.cols());
            if (bdx.length() < layout.xExtent()) {
                throw new IllegalArgumentException("dx holds " + bdx.length() + " elements but " + layout
                        + " needs " + layout.xExtent());
            }
            if (bdx.aliases(bx) || bdx.aliases(bdy)) {
                throw new IllegalArgumentException("dx must be a buffer of its own, not x or dy, for a row-wise "
                        + "backward pass");
            }
            AbstractBuffer additive = checkMask(mask, layout, bdx, "dx");
            if (!layout.isEmpty()) {
                staged(queue, Work.MASKED_ROWS, Arrays.asList(bx, bdy, additive), List.of(bdx), w ->
                        computeMaskedRowsBackward(queue, activation, w.apply(bx), w.apply(bdy), w.apply(bdx), layout,
                                mask, w.apply(additive)));
            }
        }, x, dy, dx, mask.additive());
    }

    private static void maskable(Activation activation, String method) {
        Op op = rowwise(activation, method);
        if (op != Op.SOFTMAX && op != Op.LOG_SOFTMAX) {
            throw new IllegalArgumentException(method + ": only softmax and log_softmax take a RowMask, not " + op.id());
        }
    }

    /**
     * The mask against the layout: the additive buffer (returned, or null) holds exactly one row of cols per group
     * of rows and is not the output; there is one length per group of rows, none beyond cols.
     */
    private AbstractBuffer checkMask(RowMask mask, RowLayout layout, AbstractBuffer out, String outName) {
        AbstractBuffer additive = null;
        if (mask.additive() != null) {
            additive = own(mask.additive(), "mask");
            long groups = RowMask.groups(layout.rows(), mask.rowsPerMaskRow());
            if (additive.length() != groups * layout.cols()) {
                throw new IllegalArgumentException("mask holds " + additive.length() + " elements but " + layout.rows()
                        + " rows in groups of " + mask.rowsPerMaskRow() + " need " + groups + " rows of " + layout.cols()
                        + " (" + groups * layout.cols() + ")");
            }
            if (additive.aliases(out)) {
                throw new IllegalArgumentException(outName + " must not be the mask buffer");
            }
        }
        int[] lengths = mask.lengths();
        if (lengths != null) {
            long groups = RowMask.groups(layout.rows(), mask.rowsPerLength());
            if (lengths.length != groups) {
                throw new IllegalArgumentException("lengths holds " + lengths.length + " values but " + layout.rows()
                        + " rows in groups of " + mask.rowsPerLength() + " need " + groups);
            }
            for (int i = 0; i < lengths.length; i++) {
                if (lengths[i] > layout.cols()) {
                    throw new IllegalArgumentException("lengths[" + i + "] is " + lengths[i] + ", more than the "
                            + layout.cols() + " columns of a row");
                }
            }
        }
        return additive;
    }

    /**
     * Softmax or log_softmax of each row of x + mask over its valid columns ({@link RowMask}); every column of a
     * row is written. The additive mask, if any, is {@code additive}, of the checked size.
     */
    protected abstract void computeMaskedRows(Q queue, Activation activation, AbstractBuffer x, AbstractBuffer y,
                                              RowLayout layout, RowMask mask, AbstractBuffer additive);

    /** The backward pass of {@link #computeMaskedRows} from x: the unmasked one at z = x + mask. */
    protected abstract void computeMaskedRowsBackward(Q queue, Activation activation, AbstractBuffer x,
                                                      AbstractBuffer dy, AbstractBuffer dx, RowLayout layout,
                                                      RowMask mask, AbstractBuffer additive);

    // ---- gated activations: y = f(gate) * other over two halves ----------------------------------------------

    @Override
    public final void gated(Activation gate, DeviceBuffer x, DeviceBuffer y, long rows, long hidden) {
        gated(ownQueue(), gate, x, y, rows, hidden);
    }

    final void gated(Q queue, Activation gate, DeviceBuffer x, DeviceBuffer y, long rows, long hidden) {
        guarded(() -> {
            Op op = gatedOp(gate, "gated");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer by = own(y, "y");
            long outputs = checkGatedShape(rows, hidden);
            checkGatedLength(bx, "x", 2 * outputs, "[rows, 2 * hidden]", rows, hidden);
            checkGatedLength(by, "y", outputs, "[rows, hidden]", rows, hidden);
            if (by.aliases(bx)) {
                throw new IllegalArgumentException("gated: y must not share x's buffer (y is half as long)");
            }
            if (outputs > 0) {
                staged(queue, Work.GATED, List.of(bx), List.of(by), w ->
                        computeGated(queue, gate, halves(op, rows, hidden), w.apply(bx), w.apply(bx), w.apply(by)));
            }
        }, x, y);
    }

    @Override
    public final void gated(Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) {
        gated(ownQueue(), gate, a, b, y);
    }

    final void gated(Q queue, Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y) {
        guarded(() -> {
            Op op = gatedOp(gate, "gated");
            AbstractBuffer ba = own(a, "a");
            AbstractBuffer bb = own(b, "b");
            AbstractBuffer by = own(y, "y");
            sameLength(ba, "a", bb, "b");
            sameLength(ba, "a", by, "y");
            if (ba.aliases(bb)) {
                throw new IllegalArgumentException("gated: a and b must be buffers of their own, not one buffer");
            }
            requireExactOrApart("gated", by, "y", ba, "a", bb, "b");
            if (ba.length() > 0) {
                GatedLayout layout = new GatedLayout(1, ba.length(), ba.length(), 0, 0);
                AbstractBuffer gateInput = op.activatesFirstHalf() ? ba : bb;
                AbstractBuffer otherInput = op.activatesFirstHalf() ? bb : ba;
                staged(queue, Work.GATED, List.of(ba, bb), List.of(by), w ->
                        computeGated(queue, gate, layout, w.apply(gateInput), w.apply(otherInput), w.apply(by)));
            }
        }, a, b, y);
    }

    @Override
    public final void gatedBackward(Activation gate, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long rows,
                                    long hidden) {
        gatedBackward(ownQueue(), gate, x, dy, dx, rows, hidden);
    }

    final void gatedBackward(Q queue, Activation gate, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long rows,
                             long hidden) {
        guarded(() -> {
            Op op = gatedOp(gate, "gatedBackward");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            long outputs = checkGatedShape(rows, hidden);
            checkGatedLength(bx, "x", 2 * outputs, "[rows, 2 * hidden]", rows, hidden);
            checkGatedLength(bdy, "dy", outputs, "[rows, hidden]", rows, hidden);
            checkGatedLength(bdx, "dx", 2 * outputs, "[rows, 2 * hidden]", rows, hidden);
            if (bdx.aliases(bdy)) {
                throw new IllegalArgumentException("gatedBackward: dx must not share dy's buffer (dy is half as long)");
            }
            requireExactOrApart("gatedBackward", bdx, "dx", bx, "x");
            if (outputs > 0) {
                staged(queue, Work.GATED, List.of(bx, bdy), List.of(bdx), w -> computeGatedBackward(queue, gate,
                        halves(op, rows, hidden), w.apply(bx), w.apply(bx), w.apply(bdy), w.apply(bdx), w.apply(bdx)));
            }
        }, x, dy, dx);
    }

    @Override
    public final void gatedBackward(Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy,
                                    DeviceBuffer da, DeviceBuffer db) {
        gatedBackward(ownQueue(), gate, a, b, dy, da, db);
    }

    final void gatedBackward(Q queue, Activation gate, DeviceBuffer a, DeviceBuffer b, DeviceBuffer dy,
                             DeviceBuffer da, DeviceBuffer db) {
        guarded(() -> {
            Op op = gatedOp(gate, "gatedBackward");
            AbstractBuffer ba = own(a, "a");
            AbstractBuffer bb = own(b, "b");
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bda = own(da, "da");
            AbstractBuffer bdb = own(db, "db");
            sameLength(ba, "a", bb, "b");
            sameLength(ba, "a", bdy, "dy");
            sameLength(ba, "a", bda, "da");
            sameLength(ba, "a", bdb, "db");
            if (ba.aliases(bb)) {
                throw new IllegalArgumentException("gatedBackward: a and b must be buffers of their own, not one buffer");
            }
            // Each output may replace its own input or dy, element by element; crossed, a half would be read after
            // the other gradient overwrote it.
            if (bda.aliases(bdb) || bda.aliases(bb) || bdb.aliases(ba)) {
                throw new IllegalArgumentException("gatedBackward: da and db must be buffers of their own (da may "
                        + "only share a's or dy's buffer, db only b's or dy's)");
            }
            requireExactOrApart("gatedBackward", bda, "da", ba, "a", bdy, "dy");
            requireExactOrApart("gatedBackward", bdb, "db", bb, "b", bdy, "dy");
            if (ba.length() > 0) {
                GatedLayout layout = new GatedLayout(1, ba.length(), ba.length(), 0, 0);
                boolean first = op.activatesFirstHalf();
                staged(queue, Work.GATED, List.of(ba, bb, bdy), List.of(bda, bdb), w -> computeGatedBackward(queue,
                        gate, layout, w.apply(first ? ba : bb), w.apply(first ? bb : ba), w.apply(bdy),
                        w.apply(first ? bda : bdb), w.apply(first ? bdb : bda)));
            }
        }, a, b, dy, da, db);
    }

    /** An output that shares memory with an input must be that very buffer (in place), never a part of it. */
    private static void requireExactOrApart(String method, AbstractBuffer output, String outputName,
                                            Object... inputsAndNames) {
        for (int i = 0; i < inputsAndNames.length; i += 2) {
            AbstractBuffer input = (AbstractBuffer) inputsAndNames[i];
            if (output != input && output.aliases(input)) {
                throw new IllegalArgumentException(method + ": " + outputName + " overlaps " + inputsAndNames[i + 1]
                        + " in part; an output may only be an input's own buffer");
            }
        }
    }

    private static Op gatedOp(Activation activation, String method) {
        Objects.requireNonNull(activation, "activation");
        Op op = activation.op();
        if (op.kind() != Op.Kind.GATED) {
            throw new IllegalArgumentException(method + ": " + op.id() + " is not a gated activation (glu, swiglu, "
                    + "geglu, geglu_tanh, reglu)");
        }
        return op;
    }

    /** rows x hidden, checked to be a valid count whose input width 2 * hidden does not overflow. */
    private static long checkGatedShape(long rows, long hidden) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        }
        if (hidden < 0) {
            throw new IllegalArgumentException("hidden must be >= 0, got " + hidden);
        }
        if (hidden > 0 && rows > Long.MAX_VALUE / 2 / hidden) {
            throw new IllegalArgumentException("rows x 2 * hidden overflows: rows=" + rows + ", hidden=" + hidden);
        }
        return rows * hidden;
    }

    private static void checkGatedLength(AbstractBuffer buffer, String role, long wanted, String shape, long rows,
                                         long hidden) {
        if (buffer.length() != wanted) {
            throw new IllegalArgumentException(role + " holds " + buffer.length() + " elements but " + shape
                    + " with rows=" + rows + ", hidden=" + hidden + " is " + wanted);
        }
    }

    /** One buffer [rows, 2H]: the gate half is the first (swiglu) or the second (glu), the other half the rest. */
    private static GatedLayout halves(Op op, long rows, long hidden) {
        return new GatedLayout(rows, hidden, 2 * hidden, op.activatesFirstHalf() ? 0 : hidden,
                op.activatesFirstHalf() ? hidden : 0);
    }

    /** y = f(gate) * other ({@link GatedLayout}); y may be the gate's or the other's buffer when they are dense. */
    protected abstract void computeGated(Q queue, Activation gate, GatedLayout layout, AbstractBuffer gateInput,
                                         AbstractBuffer otherInput, AbstractBuffer y);

    /**
     * dGate = dy * other * f'(gate), dOther = dy * f(gate), the gradients laid out as the inputs. dGate may be the
     * gate's or dy's buffer, dOther the other's or dy's; never crossed (checked).
     */
    protected abstract void computeGatedBackward(Q queue, Activation gate, GatedLayout layout,
                                                 AbstractBuffer gateInput, AbstractBuffer otherInput,
                                                 AbstractBuffer dy, AbstractBuffer dGate, AbstractBuffer dOther);

    @Override
    public String toString() {
        return name + " (" + device() + ")";
    }

    // ---- bias and activation ------------------------------------------------------------------------------

    @Override
    public final void applyBias(Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer y,
                                long channels, long inner) {
        applyBias(ownQueue(), activation, x, bias, y, channels, inner);
    }

    final void applyBias(Q queue, Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer y,
                         long channels, long inner) {
        guarded(() -> {
            elementwise(activation, "applyBias");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer bb = own(bias, "bias");
            AbstractBuffer by = own(y, "y");
            sameLength(bx, "x", by, "y");
            checkChannels(bb, "bias", channels, inner);
            if (bb.aliases(by)) {
                throw new IllegalArgumentException("applyBias: y must not be the bias buffer");
            }
            if (bx.length() > 0) {
                staged(queue, Work.BIAS, List.of(bx, bb), List.of(by), w -> computeBias(queue, activation,
                        w.apply(bx), w.apply(bb), w.apply(by), bx.length(), channels, inner));
            }
        }, x, bias, y);
    }

    @Override
    public final void applyBiasBackward(Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer dy,
                                        DeviceBuffer dx, DeviceBuffer dbias, long channels, long inner) {
        applyBiasBackward(ownQueue(), activation, x, bias, dy, dx, dbias, channels, inner);
    }

    final void applyBiasBackward(Q queue, Activation activation, DeviceBuffer x, DeviceBuffer bias, DeviceBuffer dy,
                                 DeviceBuffer dx, DeviceBuffer dbias, long channels, long inner) {
        guarded(() -> {
            elementwise(activation, "applyBiasBackward");
            AbstractBuffer bx = own(x, "x");
            AbstractBuffer bb = own(bias, "bias");
            AbstractBuffer bdy = own(dy, "dy");
            AbstractBuffer bdx = own(dx, "dx");
            AbstractBuffer bdb = own(dbias, "dbias");
            sameLength(bx, "x", bdy, "dy");
            sameLength(bx, "x", bdx, "dx");
            checkChannels(bb, "bias", channels, inner);
            sameLength(bb, "bias", bdb, "dbias");
            if (bdx.aliases(bb) || bdb.aliases(bx) || bdb.aliases(bb) || bdb.aliases(bdy) || bdb.aliases(bdx)) {
                throw new IllegalArgumentException("applyBiasBackward: dx and dbias must be buffers of their own "
                        + "(dx may only share x's or dy's buffer)");
            }
            staged(queue, Work.BIAS, List.of(bx, bb, bdy), List.of(bdx, bdb), w -> computeBiasBackward(queue,
                    activation, w.apply(bx), w.apply(bb), w.apply(bdy), w.apply(bdx), w.apply(bdb), bx.length(),
                    channels, inner));
        }, x, bias, dy, dx, dbias);
    }

    /** y = f(x + bias[c]) on n > 0 elements; the sum is rounded to float before f. */
    protected abstract void computeBias(Q queue, Activation activation, AbstractBuffer x, AbstractBuffer bias,
                                        AbstractBuffer y, long n, long channels, long inner);

    /**
     * dx = dy * f'(x + bias[c]) and dbias[c] = the sum of dx over channel c, the same bits on every call. Also
     * called for n = 0, where dbias must still be set to zeros. dx may be x's or dy's buffer.
     */
    protected abstract void computeBiasBackward(Q queue, Activation activation, AbstractBuffer x, AbstractBuffer bias,
                                                AbstractBuffer dy, AbstractBuffer dx, AbstractBuffer dbias, long n,
                                                long channels, long inner);
}
