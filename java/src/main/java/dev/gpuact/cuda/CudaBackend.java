package dev.gpuact.cuda;

import dev.gpuact.Activation;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import dev.gpuact.spi.AbstractBackend;
import dev.gpuact.spi.AbstractBuffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

/**
 * The CUDA backend: one device's primary context, the kernels of {@code gpuact.fatbin}, a stream of its own.
 *
 * <p>Every call pushes the context on the calling thread and pops it on return, so any number of Java threads may
 * share one backend, and a thread's own current context (an inference engine's) is the same afterwards. Work goes
 * on the calling thread's stream ({@link #useStream}, else the backend's own) and each call waits for it, as
 * {@link dev.gpuact.Backend} promises; a {@link #newStream()} enqueues without waiting. Transfers of Java arrays go
 * through a double-buffered pinned staging buffer ({@link PinnedStaging}); direct native-order
 * {@link FloatBuffer}s, such as {@link #allocateHost} memory, are copied from and to directly.
 */
public final class CudaBackend extends AbstractBackend {
    /** The most floats one {@link #allocateHost} buffer holds: its byte view is a {@link ByteBuffer}. */

    private final CudaDeviceInfo info;
    private final CudaDriver driver;
    private final CUcontext context;
    private final CUmodule module;
    private final CUstream ownStream;
    /** Synchronous calls: the backend's stream, and the scratch every waiting call shares under its monitor. */
    private final Target ownTarget;
    /** Set while a thread's calls go elsewhere: an engine's stream, or a {@link CudaStream}. */
    private final ThreadLocal<Target> redirected = new ThreadLocal<>();
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();
    private final ThreadLocal<KernelArgs> launchArgs = ThreadLocal.withInitial(KernelArgs::new);
    private final Set<CudaStream> openStreams = ConcurrentHashMap.newKeySet();
    private final Set<PinnedHostBuffer> openHostBuffers = ConcurrentHashMap.newKeySet();
    private final PinnedStaging staging;
    /** Shared memory a block may have once its kernel opts in (227 KiB on an H100 or H200). */
    private final int blockSharedBytes;
    /** Set once the device reported an error while closing: later driver errors are its echo, not news. */
    private volatile CudaException fault;

    /**
     * Where a call's work goes: its stream, whether the call waits for it, and the scratch of its multi-kernel
     * ops (shared by the waiting targets, one per {@link CudaStream}).
     */
    record Target(CUstream stream, boolean waits, DeviceScratch scratch) {
    }

    CudaBackend(CudaDeviceInfo info, Fatbin fatbin) {
        this("cuda", info, fatbin, new JCudaCalls());
    }

    /** A backend named {@code name} over {@code driver}; when a step fails, the steps before it are undone. */
    CudaBackend(String name, CudaDeviceInfo info, Fatbin fatbin, CudaDriver driver) {
        super(name);
        this.info = info;
        this.driver = driver;
        context = driver.retainPrimaryContext(info.ordinal());
        CUmodule loaded = null;
        CUstream stream = null;
        try (Current c = current()) {
            loaded = driver.loadModule(fatbin.image());
            stream = driver.createStream();
            blockSharedBytes = Math.max(SoftmaxPlan.DEFAULT_SHARED_BYTES, driver.sharedBytesPerBlockOptIn(info.ordinal()));
            staging = new PinnedStaging(driver);
        } catch (RuntimeException e) {
            try (Current c = current()) {
                if (stream != null) {
                    driver.destroyStream(stream);
                }
                if (loaded != null) {
                    driver.unloadModule(loaded);
                }
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            } finally {
                driver.releasePrimaryContext(info.ordinal());
            }
            throw e;
        }
        module = loaded;
        ownStream = stream;
        ownTarget = new Target(ownStream, true, new DeviceScratch(driver));
    }

    @Override
    public String device() {
        return info.describe();
    }

    int multiprocessors() {
        return info.multiprocessors();
    }

    CudaDriver driver() {
        return driver;
    }

    // ---- the context -----------------------------------------------------------------------------------------------

    /** The backend's context, current on this thread until closed; the thread's own current context comes back. */
    interface Current extends AutoCloseable {
        @Override
        void close();
    }

    Current current() {
        driver.pushContext(context);
        return driver::popContext;
    }

    private <T> T inContext(Supplier<T> call) {
        try (Current c = current()) {
            return call.get();
        }
    }

    private void inContext(Runnable call) {
        try (Current c = current()) {
            call.run();
        }
    }

    // ---- interop -------------------------------------------------------------------------------------------------

    /**
     * A buffer over {@code length} floats of device memory the caller owns (for example an inference engine's
     * tensor), without a copy. Closing it does not free the memory; the memory must outlive it.
     *
     * @throws IllegalArgumentException if the range is not inside one allocation of this backend's device
     */
    public DeviceBuffer wrap(CUdeviceptr pointer, long length) {
        Objects.requireNonNull(pointer, "pointer");
        requireOpen();
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        long address = DeviceAddress.of(pointer);
        long[] range;
        try (Current c = current()) {
            range = driver.addressRange(pointer);
        } catch (CudaException e) {
            throw new IllegalArgumentException("pointer 0x" + Long.toHexString(address) + " is not device memory of "
                    + info.describe() + " (" + e.getMessage() + ")", e);
        }
        long offset = address - range[0];
        long size = range[1];
        if (offset % Float.BYTES != 0 || length > (size - offset) / Float.BYTES) {
            throw new IllegalArgumentException("pointer + " + length + " floats must lie inside its allocation of "
                    + size + " bytes (the pointer is " + offset + " bytes into it, 4-byte aligned)");
        }
        return new CudaBuffer(this, length, new CudaBuffer.DeviceMemory(this, pointer, address, length * Float.BYTES, false));
    }

    /** Runs this thread's calls on the engine's {@code stream}, each waiting for it, until the scope is closed. */
    public StreamScope useStream(CUstream stream) {
        Objects.requireNonNull(stream, "stream");
        Target previous = redirected.get();
        redirected.set(new Target(stream, true, ownTarget.scratch()));
        return () -> restore(previous);
    }

    /** Restores the previous stream of the thread that opened it. */
    public interface StreamScope extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Device time of {@code work}, from CUDA events recorded around it on this thread's stream (the backend's own,
     * or the engine's of {@link #useStream}): what the device spent, without launch overhead before the first call.
     */
    @Override
    public Timing time(Runnable work) {
        Objects.requireNonNull(work, "work");
        try (Current c = current()) {
            Target t = target();
            CUevent start = driver.createEvent(true);
            try {
                CUevent stop = driver.createEvent(true);
                try {
                    driver.record(start, t.stream());
                    work.run();
                    driver.record(stop, t.stream());
                    driver.synchronize(stop);
                    return new Timing(millisToNanos(driver.elapsedMillis(start, stop)), Clock.DEVICE);
                } finally {
                    driver.destroyEvent(stop);
                }
            } finally {
                driver.destroyEvent(start);
            }
        }
    }

    static long millisToNanos(float millis) {
        return Math.round(millis * 1e6);
    }

    /**
     * A CUDA stream of its own (non-blocking, so it never waits for the legacy default stream): transfers of
     * direct buffers and kernels enqueue without waiting, so work on several streams overlaps.
     */
    @Override
    public Stream newStream() {
        requireOpen();
        CudaStream s = new CudaStream(this, inContext(driver::createStream));
        openStreams.add(s);
        return s;
    }

    /** Runs {@code call} with this thread's work going to {@code target}. */
    void enqueue(Target target, Runnable call) {
        Target previous = redirected.get();
        redirected.set(target);
        try {
            call.run();
        } finally {
            restore(previous);
        }
    }

    private void restore(Target previous) {
        if (previous == null) {
            redirected.remove();
        } else {
            redirected.set(previous);
        }
    }

    void waitFor(Target target) {
        inContext(() -> driver.synchronize(target.stream()));
    }

    /** A stream's synchronize: refused once the backend is closing, whose context may already be gone. */
    void synchronizeStream(Target target) {
        guarded(() -> {
            requireOpen();
            waitFor(target);
        });
    }

    /** Forgets a closing stream and runs its release with the context current. */
    void release(CudaStream stream, Runnable release) {
        openStreams.remove(stream);
        inContext(release);
    }

    /** The buffer as this backend's own open buffer, else an exception naming {@code role}. */
    CudaBuffer ownBuffer(DeviceBuffer buffer, String role) {
        return (CudaBuffer) own(buffer, role);
    }

    // ---- memory --------------------------------------------------------------------------------------------------

    /** Page-locked host memory from {@code cuMemAllocHost}: copies from and to it go straight to the device. */
    @Override
    public HostBuffer allocateHost(int length) {
        requireOpen();
        HostBuffer.checkLength(length);
        HostBuffer.reclaimClosed();
        PinnedHostBuffer host;
        if (length == 0) {
            host = new PinnedHostBuffer(this, null, ByteBuffer.allocateDirect(0));
        } else {
            long bytes = (long) length * Float.BYTES;
            try (Current c = current()) {
                Pointer memory;
                try {
                    memory = driver.allocHost(bytes);
                } catch (CudaException e) {
                    throw new IllegalStateException("cuda: cannot allocate " + length + " floats (" + bytes
                            + " bytes) of pinned host memory for " + info.describe() + ": " + e.getMessage(), e);
                }
                try {
                    host = new PinnedHostBuffer(this, memory, driver.hostBytes(memory, 0, bytes));
                } catch (RuntimeException e) {
                    driver.freeHost(memory);
                    throw e;
                }
            }
        }
        openHostBuffers.add(host);
        return host;
    }

    void hostBufferClosed(PinnedHostBuffer host) {
        openHostBuffers.remove(host);
    }

    /** Frees pinned memory once no view of it is left (see HostBuffer); the context's end has freed it already. */
    void freeHost(Pointer memory) {
        guarded(() -> {
            if (memory != null && !isClosed()) {
                inContext(() -> driver.freeHost(memory));
            }
        });
    }

    /** Frees device memory this backend allocated; after a fault the context's release frees it instead. */
    void freeDevice(CUdeviceptr pointer) {
        try (Current c = current()) {
            driver.free(pointer);
        } catch (CudaException e) {
            if (fault == null) {
                throw e;
            }
        }
    }

    @Override
    protected AbstractBuffer newBuffer(DType dtype, long length) {
        try (Current c = current()) {
            Target t = target();
            long bytes = length * Float.BYTES;
            CUdeviceptr pointer = new CUdeviceptr();
            if (bytes > 0) {
                try {
                    pointer = driver.alloc(bytes);
                } catch (CudaException e) {
                    throw new IllegalStateException("cuda: cannot allocate " + length + " floats (" + bytes + " bytes) on "
                            + info.describe() + ": " + e.getMessage(), e);
                }
                try {
                    driver.memsetD32(pointer, 0, length, t.stream());
                    driver.synchronize(t.stream());
                } catch (RuntimeException e) {
                    driver.free(pointer);
                    throw e;
                }
            }
            long address = DeviceAddress.of(pointer);
            return new CudaBuffer(this, length, new CudaBuffer.DeviceMemory(this, pointer, address, bytes, true));
        }
    }

    /** Through the shared staging buffer, which waits for the copy even on a {@link CudaStream}. */
    void upload(CudaBuffer to, long offset, float[] src, int srcOffset, int count) {
        try (Current c = current()) {
            staging.upload(to.pointer().withByteOffset(offset * Float.BYTES), src, srcOffset, count, target().stream());
        }
    }

    void download(CudaBuffer from, long offset, float[] dst, int dstOffset, int count) {
        try (Current c = current()) {
            staging.download(from.pointer().withByteOffset(offset * Float.BYTES), dst, dstOffset, count, target().stream());
        }
    }

    /** In stream order: from pinned memory the copy is asynchronous, from pageable memory the driver stages it. */
    void uploadDirect(CudaBuffer to, long offset, FloatBuffer src) {
        try (Current c = current()) {
            Target t = target();
            driver.copyHostToDevice(to.pointer().withByteOffset(offset * Float.BYTES), Pointer.toBuffer(src),
                    (long) src.remaining() * Float.BYTES, t.stream());
            src.position(src.limit());
            finish(t);
        }
    }

    void downloadDirect(CudaBuffer from, long offset, FloatBuffer dst) {
        try (Current c = current()) {
            Target t = target();
            driver.copyDeviceToHost(Pointer.toBuffer(dst), from.pointer().withByteOffset(offset * Float.BYTES),
                    (long) dst.remaining() * Float.BYTES, t.stream());
            dst.position(dst.limit());
            finish(t);
        }
    }

    @Override
    public boolean deviceCopyIsNative() {
        return true;
    }

    @Override
    protected void computeCopy(AbstractBuffer src, AbstractBuffer dst, long n) {
        CudaBuffer from = (CudaBuffer) src;
        CudaBuffer to = (CudaBuffer) dst;
        if (from.address() == to.address()) {
            return;  // two wrappers of the same memory
        }
        DeviceRanges.requireApartOrSame(from, "src", to, "dst");
        try (Current c = current()) {
            Target t = target();
            driver.copyDeviceToDevice(to.pointer(), from.pointer(), n * Float.BYTES, t.stream());
            finish(t);
        }
    }

    // ---- compute -------------------------------------------------------------------------------------------------

    @Override
    protected void computeForward(Activation activation, AbstractBuffer x, AbstractBuffer y, long n) {
        DeviceRanges.requireApartOrSame(x, "x", y, "y");
        elementwise(KernelNames.forward(activation.op()), activation, n, addr(x), addr(y));
    }

    @Override
    protected void computeBackward(Activation activation, AbstractBuffer x, AbstractBuffer dy, AbstractBuffer dx, long n) {
        DeviceRanges.requireApartOrSame(x, "x", dx, "dx");
        DeviceRanges.requireApartOrSame(dy, "dy", dx, "dx");
        elementwise(KernelNames.backward(activation.op()), activation, n, addr(x), addr(dy), addr(dx));
    }

    @Override
    protected void computeBackwardFromOutput(Activation activation, AbstractBuffer y, AbstractBuffer dy,
                                             AbstractBuffer dx, long n) {
        DeviceRanges.requireApartOrSame(y, "y", dx, "dx");
        DeviceRanges.requireApartOrSame(dy, "dy", dx, "dx");
        elementwise(KernelNames.backwardFromOutput(activation.op()), activation, n, addr(y), addr(dy), addr(dx));
    }

    /** One warp per row (from_output.cuh), eight rows to a block. */
    @Override
    protected void computeRowsBackwardFromOutput(Activation activation, AbstractBuffer y, AbstractBuffer dy,
                                                 AbstractBuffer dx, RowLayout layout) {
        DeviceRanges.requireApart(y, "y", dx, "dx");
        DeviceRanges.requireApart(dy, "dy", dx, "dx");
        try (Current c = current()) {
            Target t = target();
            args().i64(addr(y)).i64(addr(dy)).i64(addr(dx)).i64(layout.rows()).i64(layout.cols())
                    .i64(layout.xStride()).i64(layout.yStride()).f32(activation.a());
            long rowsPerBlock = LaunchGeometry.BLOCK / 32;
            launch(t, KernelNames.softmaxFromOutput(activation.op()), new Launch(
                    Math.toIntExact((layout.rows() + rowsPerBlock - 1) / rowsPerBlock), LaunchGeometry.BLOCK, 0));
            finish(t);
        }
    }

    private void elementwise(String kernel, Activation activation, long n, long... buffers) {
        try (Current c = current()) {
            Target t = target();
            boolean vectorized = LaunchGeometry.vectorizable(buffers);
            KernelArgs args = args();
            for (long b : buffers) {
                args.i64(b);
            }
            args.i64(n).f32(activation.a()).f32(activation.b()).i32(vectorized ? 1 : 0);
            launch(t, kernel, LaunchGeometry.elementwise(n, vectorized, info.multiprocessors()));
            finish(t);
        }
    }

    @Override
    protected void computePrelu(AbstractBuffer x, AbstractBuffer weight, AbstractBuffer y, long n, long channels, long inner) {
        DeviceRanges.requireApartOrSame(x, "x", y, "y");
        DeviceRanges.requireApart(weight, "weight", y, "y");
        try (Current c = current()) {
            Target t = target();
            boolean vectorized = LaunchGeometry.vectorizable(addr(x), addr(y));
            args().i64(addr(x)).i64(addr(weight)).i64(addr(y)).i64(n)
                    .channelOf(channels, LaunchGeometry.preluInner(n, inner)).i32(vectorized ? 1 : 0);
            launch(t, KernelNames.PRELU_FORWARD, LaunchGeometry.elementwise(n, vectorized, info.multiprocessors()));
            finish(t);
        }
    }

    @Override
    protected void computePreluBackward(AbstractBuffer x, AbstractBuffer weight, AbstractBuffer dy, AbstractBuffer dx,
                                        AbstractBuffer dweight, long n, long channels, long inner) {
        try (Current c = current()) {
            Target t = target();
            if (n == 0) {
                driver.memsetD32(((CudaBuffer) dweight).pointer(), 0, channels, t.stream());
                finish(t);
                return;
            }
            DeviceRanges.requireApartOrSame(dy, "dy", dx, "dx");
            DeviceRanges.requireApart(x, "x", dx, "dx");
            DeviceRanges.requireApart(weight, "weight", dx, "dx");
            DeviceRanges.requireApart(x, "x", dweight, "dweight");
            DeviceRanges.requireApart(weight, "weight", dweight, "dweight");
            DeviceRanges.requireApart(dy, "dy", dweight, "dweight");
            DeviceRanges.requireApart(dx, "dx", dweight, "dweight");
            long period = LaunchGeometry.preluInner(n, inner);
            int sms = info.multiprocessors();
            int slices = LaunchGeometry.preluSlices(n, channels, period, sms);
            synchronized (t.scratch()) {
                // dweight first: dx may be dy's buffer.
                long partials = t.scratch().reserve(channels * slices, t.stream());
                args().i64(addr(x)).i64(addr(dy)).i64(partials).i64(n).i64(channels).i64(period).i32(slices);
                launch(t, KernelNames.PRELU_DWEIGHT_PARTIAL, new Launch(
                        (int) Math.min(channels * slices, LaunchGeometry.gridCap(sms, LaunchGeometry.BLOCK)), LaunchGeometry.BLOCK, 0));
                args().i64(partials).i64(addr(dweight)).i64(channels).i32(slices);
                launch(t, KernelNames.PRELU_DWEIGHT_FINISH, new Launch(LaunchGeometry.grid(channels, LaunchGeometry.BLOCK, sms),
                        LaunchGeometry.BLOCK, 0));
                boolean vectorized = LaunchGeometry.vectorizable(addr(x), addr(dy), addr(dx));
                args().i64(addr(x)).i64(addr(weight)).i64(addr(dy)).i64(addr(dx)).i64(n).channelOf(channels, period)
                        .i32(vectorized ? 1 : 0);
                launch(t, KernelNames.PRELU_BACKWARD, LaunchGeometry.elementwise(n, vectorized, sms));
                finish(t);
            }
        }
    }

    @Override
    protected void computeRows(Activation activation, AbstractBuffer x, AbstractBuffer y, RowLayout layout) {
        DeviceRanges.requireApartOrSame(x, "x", y, "y");
        rows(activation, layout, false, addr(x), 0, addr(y));
    }

    @Override
    protected void computeRowsBackward(Activation activation, AbstractBuffer x, AbstractBuffer dy, AbstractBuffer dx,
                                       RowLayout layout) {
        DeviceRanges.requireApart(x, "x", dx, "dx");
        DeviceRanges.requireApart(dy, "dy", dx, "dx");
        rows(activation, layout, true, addr(x), addr(dy), addr(dx));
    }

    /** A row-wise op; {@code dy} is used only when {@code backward}, and {@code out} is y or dx. */
    private void rows(Activation activation, RowLayout layout, boolean backward, long x, long dy, long out) {
        try (Current c = current()) {
            rowsInContext(target(), activation, layout, backward, x, dy, out);
        }
    }

    private void rowsInContext(Target t, Activation activation, RowLayout layout, boolean backward, long x, long dy, long out) {
        Op op = activation.op();
        int sms = info.multiprocessors();
        if (op == Op.MAXOUT) {
            int pieces = (int) activation.a();
            long outCols = layout.cols() / pieces;
            KernelArgs args = args().i64(x);
            if (backward) {
                args.i64(dy);
            }
            args.i64(out).i64(layout.rows()).i64(outCols).i32(pieces).i64(layout.xStride()).i64(layout.yStride());
            launch(t, backward ? KernelNames.MAXOUT_BACKWARD : KernelNames.MAXOUT_FORWARD,
                    new Launch(LaunchGeometry.grid(layout.rows() * outCols, LaunchGeometry.BLOCK, sms), LaunchGeometry.BLOCK, 0));
            finish(t);
            return;
        }
        SoftmaxPlan plan = SoftmaxPlan.of(layout.rows(), layout.cols(), sms, blockSharedBytes);
        float temperature = activation.a();
        int maskedNan = activation.b() != 0 ? 1 : 0;
        if (plan.path() != SoftmaxPlan.Path.LONG) {
            KernelArgs args = args().i64(x);
            if (backward) {
                args.i64(dy);
            }
            args.i64(out).i64(layout.rows()).i64(layout.cols()).i64(layout.xStride()).i64(layout.yStride())
                    .f32(temperature).i32(maskedNan);
            if (plan.path() == SoftmaxPlan.Path.WARP) {
                args.i32(plan.lanesPerRow());
            }
            launch(t, plan.kernel(op, backward), plan.launch());
            finish(t);
            return;
        }
        synchronized (t.scratch()) {
            long partials = plan.usesPartials() ? t.scratch().reserve(plan.partialDoubles() + plan.dotDoubles(), t.stream()) : 0;
            long dots = plan.usesPartials() ? partials + plan.partialDoubles() * Double.BYTES : 0;
            if (plan.usesPartials()) {
                longArgs(args().i64(x).i64(partials), layout, plan, temperature, maskedNan);
                launch(t, KernelNames.SOFTMAX_ROW_STATS, plan.launch());
                if (backward) {
                    longArgs(args().i64(x).i64(dy).i64(partials).i64(dots), layout, plan, temperature, maskedNan);
                    launch(t, KernelNames.softmaxLongDot(op), plan.launch());
                }
            }
            KernelArgs args = args().i64(x);
            if (backward) {
                args.i64(dy).i64(out).i64(partials).i64(dots);
            } else {
                args.i64(out).i64(partials);
            }
            longArgs(args, layout, plan, temperature, maskedNan);
            launch(t, plan.kernel(op, backward), plan.launch());
            finish(t);
        }
    }

    private static void longArgs(KernelArgs args, RowLayout layout, SoftmaxPlan plan, float temperature, int maskedNan) {
        args.longArgs(layout.rows(), layout.cols(), layout.xStride(), layout.yStride(), plan.chunkCols(), temperature,
                maskedNan, plan.chunks());
    }

    // ---- launching -----------------------------------------------------------------------------------------------

    /** Where this thread's work goes; the caller has made the context current. */
    private Target target() {
        Target t = redirected.get();
        return t != null ? t : ownTarget;
    }

    /** This thread's argument slots, emptied. */
    private KernelArgs args() {
        return launchArgs.get().reset();
    }

    private void launch(Target t, String kernel, Launch shape) {
        CUfunction f = functions.computeIfAbsent(kernel, name -> {
            CUfunction fn = driver.function(module, name);
            if (shape.sharedBytes() > 0) {  // the block softmax kernels: let them have the opt-in shared memory
                driver.allowDynamicShared(fn, blockSharedBytes);
            }
            return fn;
        });
        driver.launch(f, shape, t.stream(), launchArgs.get());
    }

    /** A synchronous call waits for its work; a {@link CudaStream}'s call leaves it queued. */
    private void finish(Target t) {
        if (t.waits()) {
            driver.synchronize(t.stream());
        }
    }

    private static long addr(AbstractBuffer b) {
        return ((CudaBuffer) b).address();
    }

    @Override
    protected String freeMemory() {
        long[] info = inContext(driver::memInfo);
        return info[0] + " of " + info[1] + " bytes free on the device (cuMemGetInfo)";
    }

    /**
     * Waits for the device. A fault it reports (a kernel's illegal access is sticky: every later call fails the
     * same way) is kept for {@link #releaseDevice()} to throw, so that closing still frees what it can and
     * releases the context, which is what clears the fault.
     */
    @Override
    protected void awaitDeviceIdle() {
        try {
            inContext(driver::synchronizeContext);
        } catch (CudaException e) {
            fault = e;
        }
    }

    /** Closes what is still open (streams, pinned host memory), then the stream, module and context. */
    @Override
    protected void releaseDevice() {
        int streams = openStreams.size();
        int hostBuffers = openHostBuffers.size();
        RuntimeException failure = fault != null
                ? new IllegalStateException("backend '" + name() + "' closed after a device fault, its memory freed "
                + "with its context: " + fault.getMessage(), fault)
                : null;
        failure = attempt(failure, () -> openStreams.forEach(CudaStream::close));
        failure = attempt(failure, () -> openHostBuffers.forEach(HostBuffer::close));
        try (Current c = current()) {
            failure = attempt(failure, () -> {
                synchronized (ownTarget.scratch()) {
                    ownTarget.scratch().free();
                }
            });
            failure = attempt(failure, staging::free);
            failure = attempt(failure, () -> driver.destroyStream(ownStream));
            failure = attempt(failure, () -> driver.unloadModule(module));
        } finally {
            driver.releasePrimaryContext(info.ordinal());
        }
        if (failure != null) {
            throw failure;
        }
        if (streams + hostBuffers > 0) {
            throw new IllegalStateException("backend '" + name() + "' closed with " + streams + " stream(s) and " + hostBuffers
                    + " pinned host buffer(s) still open; they were freed, but each should be closed first");
        }
    }

    /** Runs one step of closing; after a fault its errors are expected and dropped, else the first is kept. */
    private RuntimeException attempt(RuntimeException failure, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            if (fault == null && failure == null) {
                return e;
            }
            if (fault == null) {
                failure.addSuppressed(e);
            }
        }
        return failure;
    }
}
