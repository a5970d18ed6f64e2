package dev.gpuact.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemGetAddressRange;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

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
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * The CUDA backend: one device's primary context, the kernels of {@code gpuact.fatbin}, a stream of its own.
 *
 * <p>Every call makes the context current on the calling thread, so any number of Java threads may share one
 * backend. Work goes on the calling thread's stream ({@link #useStream}, else the backend's own) and each call
 * waits for it, as {@link dev.gpuact.Backend} promises; a {@link #newStream()} enqueues without waiting.
 * Transfers of Java arrays go through a double-buffered pinned staging buffer ({@link PinnedStaging}); direct
 * native-order {@link FloatBuffer}s, such as {@link #allocateHost} memory, are copied from and to directly.
 */
public final class CudaBackend extends AbstractBackend {
    private final CudaDeviceInfo info;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUmodule module = new CUmodule();
    private final CUstream ownStream = new CUstream();
    /** Synchronous calls: the backend's stream, and the scratch every waiting call shares under its monitor. */
    private final Target ownTarget = new Target(ownStream, true, new DeviceScratch());
    /** Set while a thread's calls go elsewhere: an engine's stream, or a {@link CudaStream}. */
    private final ThreadLocal<Target> redirected = new ThreadLocal<>();
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();
    private final ThreadLocal<Launcher> launchers = ThreadLocal.withInitial(Launcher::new);
    private final Set<CudaStream> openStreams = ConcurrentHashMap.newKeySet();
    private final Set<PinnedHostBuffer> openHostBuffers = ConcurrentHashMap.newKeySet();
    private final PinnedStaging staging;

    /**
     * Where a call's work goes: its stream, whether the call waits for it, and the scratch of its multi-kernel
     * ops (shared by the waiting targets, one per {@link CudaStream}).
     */
    record Target(CUstream stream, boolean waits, DeviceScratch scratch) {
    }

    CudaBackend(CudaDeviceInfo info, Fatbin fatbin) {
        super("cuda");
        this.info = info;
        JCudaDriver.setExceptionsEnabled(true);
        cuDeviceGet(device, info.ordinal());
        cuDevicePrimaryCtxRetain(context, device);
        try {
            cuCtxSetCurrent(context);
            cuModuleLoadData(module, fatbin.image());
            cuStreamCreate(ownStream, CUstream_flags.CU_STREAM_NON_BLOCKING);
            staging = new PinnedStaging();
        } catch (RuntimeException e) {
            cuDevicePrimaryCtxRelease(device);
            throw e;
        }
    }

    @Override
    public String device() {
        return info.describe();
    }

    int multiprocessors() {
        return info.multiprocessors();
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
        makeCurrent();
        long address = DeviceAddress.of(pointer);
        CUdeviceptr base = new CUdeviceptr();
        long[] size = new long[1];
        try {
            cuMemGetAddressRange(base, size, pointer);
        } catch (CudaException e) {
            throw new IllegalArgumentException("pointer 0x" + Long.toHexString(address) + " is not device memory of "
                    + info.describe() + " (" + e.getMessage() + ")", e);
        }
        long offset = address - DeviceAddress.of(base);
        if (offset % Float.BYTES != 0 || length > (size[0] - offset) / Float.BYTES) {
            throw new IllegalArgumentException("pointer + " + length + " floats must lie inside its allocation of "
                    + size[0] + " bytes (the pointer is " + offset + " bytes into it, 4-byte aligned)");
        }
        return new CudaBuffer(this, length, new CudaBuffer.DeviceMemory(pointer, address, length * Float.BYTES, context, false));
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
        Target t = begin();
        CUevent start = new CUevent();
        CUevent stop = new CUevent();
        cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
        try {
            cuEventCreate(stop, CUevent_flags.CU_EVENT_DEFAULT);
            try {
                cuEventRecord(start, t.stream());
                work.run();
                makeCurrent();  // the work may have made another context current
                cuEventRecord(stop, t.stream());
                cuEventSynchronize(stop);
                float[] ms = new float[1];
                cuEventElapsedTime(ms, start, stop);
                return new Timing(millisToNanos(ms[0]), Clock.DEVICE);
            } finally {
                cuEventDestroy(stop);
            }
        } finally {
            cuEventDestroy(start);
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
        makeCurrent();
        CUstream stream = new CUstream();
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        CudaStream s = new CudaStream(this, stream);
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
        makeCurrent();
        cuStreamSynchronize(target.stream());
    }

    /** Forgets a closing stream and runs its release with the context current. */
    void release(CudaStream stream, Runnable release) {
        openStreams.remove(stream);
        makeCurrent();
        release.run();
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
            makeCurrent();
            long bytes = (long) length * Float.BYTES;
            Pointer memory = new Pointer();
            try {
                cuMemAllocHost(memory, bytes);
            } catch (CudaException e) {
                throw new IllegalStateException("cuda: cannot allocate " + length + " floats (" + bytes
                        + " bytes) of pinned host memory for " + info.describe() + ": " + e.getMessage(), e);
            }
            host = new PinnedHostBuffer(this, memory, memory.getByteBuffer(0, bytes));
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
                makeCurrent();
                cuMemFreeHost(memory);
            }
        });
    }

    @Override
    protected AbstractBuffer newBuffer(DType dtype, long length) {
        Target t = begin();
        long bytes = length * Float.BYTES;
        CUdeviceptr pointer = new CUdeviceptr();
        if (bytes > 0) {
            try {
                cuMemAlloc(pointer, bytes);
            } catch (CudaException e) {
                throw new IllegalStateException("cuda: cannot allocate " + length + " floats (" + bytes + " bytes) on "
                        + info.describe() + ": " + e.getMessage(), e);
            }
            try {
                cuMemsetD32Async(pointer, 0, length, t.stream());
                cuStreamSynchronize(t.stream());
            } catch (RuntimeException e) {
                cuMemFree(pointer);
                throw e;
            }
        }
        long address = DeviceAddress.of(pointer);
        return new CudaBuffer(this, length, new CudaBuffer.DeviceMemory(pointer, address, bytes, context, true));
    }

    /** Through the shared staging buffer, which waits for the copy even on a {@link CudaStream}. */
    void upload(CudaBuffer to, long offset, float[] src, int srcOffset, int count) {
        Target t = begin();
        staging.upload(to.pointer().withByteOffset(offset * Float.BYTES), src, srcOffset, count, t.stream());
    }

    void download(CudaBuffer from, long offset, float[] dst, int dstOffset, int count) {
        Target t = begin();
        staging.download(from.pointer().withByteOffset(offset * Float.BYTES), dst, dstOffset, count, t.stream());
    }

    /** In stream order: from pinned memory the copy is asynchronous, from pageable memory the driver stages it. */
    void uploadDirect(CudaBuffer to, long offset, FloatBuffer src) {
        Target t = begin();
        cuMemcpyHtoDAsync(to.pointer().withByteOffset(offset * Float.BYTES), Pointer.toBuffer(src),
                (long) src.remaining() * Float.BYTES, t.stream());
        src.position(src.limit());
        finish(t);
    }

    void downloadDirect(CudaBuffer from, long offset, FloatBuffer dst) {
        Target t = begin();
        cuMemcpyDtoHAsync(Pointer.toBuffer(dst), from.pointer().withByteOffset(offset * Float.BYTES),
                (long) dst.remaining() * Float.BYTES, t.stream());
        dst.position(dst.limit());
        finish(t);
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
        Target t = begin();
        cuMemcpyDtoDAsync(to.pointer(), from.pointer(), n * Float.BYTES, t.stream());
        finish(t);
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

    private void elementwise(String kernel, Activation activation, long n, long... buffers) {
        Target t = begin();
        boolean vectorized = LaunchGeometry.vectorizable(buffers);
        KernelArgs args = args();
        for (long b : buffers) {
            args.i64(b);
        }
        args.i64(n).f32(activation.a()).f32(activation.b()).i32(vectorized ? 1 : 0);
        launch(t, kernel, LaunchGeometry.elementwise(n, vectorized, info.multiprocessors()));
        finish(t);
    }

    @Override
    protected void computePrelu(AbstractBuffer x, AbstractBuffer weight, AbstractBuffer y, long n, long channels, long inner) {
        DeviceRanges.requireApartOrSame(x, "x", y, "y");
        DeviceRanges.requireApart(weight, "weight", y, "y");
        Target t = begin();
        boolean vectorized = LaunchGeometry.vectorizable(addr(x), addr(y));
        args().i64(addr(x)).i64(addr(weight)).i64(addr(y)).i64(n).i64(channels).i64(LaunchGeometry.preluInner(n, inner))
                .i32(vectorized ? 1 : 0);
        launch(t, KernelNames.PRELU_FORWARD, LaunchGeometry.elementwise(n, vectorized, info.multiprocessors()));
        finish(t);
    }

    @Override
    protected void computePreluBackward(AbstractBuffer x, AbstractBuffer weight, AbstractBuffer dy, AbstractBuffer dx,
                                        AbstractBuffer dweight, long n, long channels, long inner) {
        Target t = begin();
        if (n == 0) {
            cuMemsetD32Async(((CudaBuffer) dweight).pointer(), 0, channels, t.stream());
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
            args().i64(addr(x)).i64(addr(weight)).i64(addr(dy)).i64(addr(dx)).i64(n).i64(channels).i64(period)
                    .i32(vectorized ? 1 : 0);
            launch(t, KernelNames.PRELU_BACKWARD, LaunchGeometry.elementwise(n, vectorized, sms));
            finish(t);
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
        Target t = begin();
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
        SoftmaxPlan plan = SoftmaxPlan.of(layout.rows(), layout.cols(), sms);
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

    /**
     * Makes the context current on this thread (first thing in every call: a thread of a pool may never have had
     * it) and says where the call's work goes.
     */
    private Target begin() {
        makeCurrent();
        Target t = redirected.get();
        return t != null ? t : ownTarget;
    }

    /** This thread's argument slots, emptied. */
    private KernelArgs args() {
        return launchers.get().args.reset();
    }

    private void launch(Target t, String kernel, Launch shape) {
        CUfunction f = functions.computeIfAbsent(kernel, name -> {
            CUfunction fn = new CUfunction();
            cuModuleGetFunction(fn, module, name);
            return fn;
        });
        cuLaunchKernel(f, shape.grid(), 1, 1, shape.block(), 1, 1, shape.sharedBytes(), t.stream(),
                launchers.get().parameters(), null);
    }

    /** A synchronous call waits for its work; a {@link CudaStream}'s call leaves it queued. */
    private static void finish(Target t) {
        if (t.waits()) {
            cuStreamSynchronize(t.stream());
        }
    }

    private void makeCurrent() {
        cuCtxSetCurrent(context);
    }

    private static long addr(AbstractBuffer b) {
        return ((CudaBuffer) b).address();
    }

    /** Closes what is still open (streams, pinned host memory), then the stream, module and context. */
    @Override
    protected String freeMemory() {
        makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        cuMemGetInfo(free, total);
        return free[0] + " of " + total[0] + " bytes free on the device (cuMemGetInfo)";
    }

    @Override
    protected void awaitDeviceIdle() {
        makeCurrent();
        cuCtxSynchronize();
    }

    @Override
    protected void releaseDevice() {
        int streams = openStreams.size();
        int hostBuffers = openHostBuffers.size();
        openStreams.forEach(CudaStream::close);
        openHostBuffers.forEach(HostBuffer::close);
        makeCurrent();
        cuStreamSynchronize(ownStream);
        synchronized (ownTarget.scratch()) {
            ownTarget.scratch().free();
        }
        staging.free();
        cuStreamDestroy(ownStream);
        cuModuleUnload(module);
        cuDevicePrimaryCtxRelease(device);
        if (streams + hostBuffers > 0) {
            throw new IllegalStateException("backend 'cuda' closed with " + streams + " stream(s) and " + hostBuffers
                    + " pinned host buffer(s) still open; they were freed, but each should be closed first");
        }
    }

    /** A thread's argument slots and the native parameter arrays built over them, one per signature. */
    private static final class Launcher {
        final KernelArgs args = new KernelArgs();
        private final long[] signatures = new long[32];
        private final Pointer[] built = new Pointer[32];
        private int size;

        Pointer parameters() {
            long signature = args.signature();
            for (int i = 0; i < size; i++) {
                if (signatures[i] == signature) {
                    return built[i];
                }
            }
            Pointer[] slots = new Pointer[args.count()];
            for (int i = 0; i < slots.length; i++) {
                slots[i] = switch (args.type(i)) {
                    case I64 -> Pointer.to(args.longs[i]);
                    case F32 -> Pointer.to(args.floats[i]);
                    case I32 -> Pointer.to(args.ints[i]);
                    case LONG_ARGS -> Pointer.to(args.longArgs);
                };
            }
            Pointer p = Pointer.to(slots);
            if (size < signatures.length) {
                signatures[size] = signature;
                built[size++] = p;
            }
            return p;
        }
    }
}
