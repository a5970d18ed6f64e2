package dev.gpuact.cuda;

import dev.gpuact.Activation;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import dev.gpuact.Stream;
import dev.gpuact.spi.AbstractBackend;
import dev.gpuact.spi.AbstractBuffer;
import dev.gpuact.spi.BackendHostBuffer;
import dev.gpuact.spi.GatedLayout;
import dev.gpuact.spi.KernelName;
import dev.gpuact.spi.WorkQueue;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Objects;
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
 * on the {@link Target} each {@code compute*} method is given: the backend's own stream, whose work each call waits
 * for as {@link dev.gpuact.Backend} promises, or a stream's ({@link #newStream()}, {@link #wrap(CUstream)}), whose
 * work is left in flight. Transfers of Java arrays go through a double-buffered pinned staging buffer
 * ({@link PinnedStaging}); direct native-order {@link FloatBuffer}s, such as {@link #allocateHost} memory, are copied
 * from and to directly.
 */
public final class CudaBackend extends AbstractBackend<CudaBackend.Target> {
    /** Threads per row of the masked softmax kernels (their __launch_bounds__). */
    static final int MASKED_BLOCK = 256;

    private final CudaDeviceInfo info;
    private final CudaDriver driver;
    private final CUcontext context;
    private final CUmodule module;
    private final CUstream ownStream;
    /** Synchronous calls: the backend's stream, and the scratch every waiting call shares under its monitor. */
    private final Target ownTarget;
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();
    private final ThreadLocal<KernelArgs> launchArgs = ThreadLocal.withInitial(KernelArgs::new);
    private final PinnedStaging staging;
    /** Shared memory a block may have once its kernel opts in (227 KiB on an H100 or H200). */
    private final int blockSharedBytes;
    /** Set once the device reported an error while closing: later driver errors are its echo, not news. */
    private volatile CudaException fault;

    /**
     * Where a call's work goes: its stream, whether the call waits for it, the scratch of its multi-kernel ops (one
     * per stream), and whether the backend created the stream (and so destroys it when the queue is released).
     */
    record Target(CudaBackend backend, CUstream stream, boolean waits, DeviceScratch scratch, boolean ownsStream)
            implements WorkQueue {
        @Override
        public void synchronize() {
            backend.inContext(() -> backend.driver.synchronize(stream));
        }

        @Override
        public void release() {
            backend.release(this);
        }
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
        ownTarget = new Target(this, ownStream, true, new DeviceScratch(driver), true);
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

    <T> T inContext(Supplier<T> call) {
        try (Current c = current()) {
            return call.get();
        }
    }

    void inContext(Runnable call) {
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
        return wrap(pointer, length, DType.FLOAT32);
    }

    /** As {@link #wrap(CUdeviceptr, long)}, for {@code length} elements of {@code dtype}. */
    public DeviceBuffer wrap(CUdeviceptr pointer, long length, DType dtype) {
        Objects.requireNonNull(pointer, "pointer");
        Objects.requireNonNull(dtype, "dtype");
        requireOpen();
        dtype.requireSupported();
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
        if (offset % dtype.bytes() != 0 || length > (size - offset) / dtype.bytes()) {
            throw new IllegalArgumentException("pointer + " + length + " " + dtype + " elements must lie inside its "
                    + "allocation of " + size + " bytes (the pointer is " + offset + " bytes into it, "
                    + dtype.bytes() + "-byte aligned)");
        }
        return new CudaBuffer(this, dtype, length,
                new CudaBuffer.DeviceMemory(this, pointer, address, length * dtype.bytes(), false));
    }

    /**
     * As {@link #wrap(CUdeviceptr, long, DType)}, for a device address the engine holds as a number (a
     * {@code CUdeviceptr} from JavaCPP's CUDA presets, Panama or its own JNI). The driver checks that the range lies
     * in one allocation of this device, so a wrong address is an {@link IllegalArgumentException}.
     */
    public DeviceBuffer wrapDevicePointer(long address, long length, DType dtype) {
        if (address == 0) {
            throw new IllegalArgumentException("the device address is 0 (NULL)");
        }
        return wrap(new CUdeviceptr().withByteOffset(address), length, dtype);
    }

    /**
     * As {@link #wrap(CUstream)}, for a {@code CUstream} (or {@code cudaStream_t}) the engine holds as a number. 0 is
     * the legacy default stream, as in CUDA. A handle that names no live stream of this context is undefined
     * behaviour in CUDA; the driver reports what it notices as a {@link dev.gpuact.NativeCallException}.
     */
    public Stream wrapStream(long handle) {
        return wrap(RawStreams.stream(handle));
    }

    /**
     * A {@link Stream} on a CUDA stream the caller owns (an inference engine's): its calls are enqueued there without
     * waiting, in order with the engine's own work on that stream. Closing it waits for the stream and frees the
     * scratch memory it used, but does not destroy the stream, which must outlive it.
     */
    public Stream wrap(CUstream stream) {
        Objects.requireNonNull(stream, "stream");
        return openStream(() -> new Target(this, stream, false, new DeviceScratch(driver), false));
    }

    /**
     * Device time of {@code work}, from CUDA events recorded around it on the backend's own stream: what the device
     * spent, without launch overhead before the first call.
     */
    @Override
    public Timing time(Runnable work) {
        Objects.requireNonNull(work, "work");
        try (Current c = current()) {
            Target t = ownTarget;
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

    @Override
    protected Target ownQueue() {
        return ownTarget;
    }

    /**
     * A CUDA stream of its own (non-blocking, so it never waits for the legacy default stream): transfers of
     * direct buffers and kernels enqueue without waiting, so work on several streams overlaps.
     */
    @Override
    protected Target newStreamQueue() {
        return new Target(this, inContext(driver::createStream), false, new DeviceScratch(driver), true);
    }

    /** A stream's release: waits for its work, frees its scratch, and destroys the stream if it is ours. */
    private void release(Target t) {
        inContext(() -> {
            RuntimeException failure = attempt(null, () -> driver.synchronize(t.stream()));
            failure = attempt(failure, () -> {
                synchronized (t.scratch()) {
                    t.scratch().free();
                }
            });
            if (t.ownsStream()) {
                failure = attempt(failure, () -> driver.destroyStream(t.stream()));
            }
            if (failure != null) {
                throw failure;
            }
        });
    }

    // ---- memory --------------------------------------------------------------------------------------------------

    /** Page-locked host memory from {@code cuMemAllocHost}: copies from and to it go straight to the device. */
    @Override
    protected BackendHostBuffer newHostBuffer(int length) {
        if (length == 0) {
            return new PinnedHostBuffer(this, null, ByteBuffer.allocateDirect(0));
        }
        long bytes = (long) length * Float.BYTES;
        try (Current c = current()) {
            Pointer memory;
            try {
                memory = driver.allocHost(bytes);
            } catch (CudaException e) {
                throw CudaErrors.failure(name(), "cuMemAllocHost", e);
            }
            try {
                return new PinnedHostBuffer(this, memory, driver.hostBytes(memory, 0, bytes));
            } catch (RuntimeException e) {
                driver.freeHost(memory);
                throw e;
            }
        }
    }

    /** A driver failure inside any call of this backend is the typed {@link dev.gpuact.NativeCallException}. */
    @Override
    protected RuntimeException nativeFailure(RuntimeException e) {
        return e instanceof CudaException cuda ? CudaErrors.failure(name(), CudaErrors.callOf(cuda), cuda) : e;
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
            Target t = ownTarget;
            long bytes = length * dtype.bytes();
            // Zeroed in 32-bit words, so an odd count of 16-bit elements gets a whole word (allocations are
            // 256-byte aligned anyway).
            long words = (bytes + Integer.BYTES - 1) / Integer.BYTES;
            CUdeviceptr pointer = new CUdeviceptr();
            if (bytes > 0) {
                try {
                    pointer = driver.alloc(words * Integer.BYTES);
                } catch (CudaException e) {
                    throw CudaErrors.failure(name(), "cuMemAlloc", e);
                }
                try {
                    driver.memsetD32(pointer, 0, words, t.stream());
                    driver.synchronize(t.stream());
                } catch (RuntimeException e) {
                    driver.free(pointer);
                    throw e;
                }
            }
            long address = DeviceAddress.of(pointer);
            return new CudaBuffer(this, dtype, length, new CudaBuffer.DeviceMemory(this, pointer, address, bytes, true));
        }
    }

    /** Through the shared staging buffer, which waits for the copy even on a stream. */
    @Override
    protected void computeWrite(Target t, AbstractBuffer dst, long offset, float[] src, int srcOffset, int count) {
        try (Current c = current()) {
            staging.upload(pointer(dst, offset), src, srcOffset, count, t.stream());
        }
    }

    @Override
    protected void computeRead(Target t, AbstractBuffer src, long offset, float[] dst, int dstOffset, int count) {
        try (Current c = current()) {
            staging.download(pointer(src, offset), dst, dstOffset, count, t.stream());
        }
    }

    /**
     * Direct native-order buffers in stream order: from pinned memory the copy is asynchronous, from pageable memory
     * the driver stages it. Other buffers take the chunked path through the staging buffer.
     */
    @Override
    protected void computeWrite(Target t, AbstractBuffer dst, long offset, FloatBuffer src) {
        if (!directNativeOrder(src)) {
            super.computeWrite(t, dst, offset, src);
            return;
        }
        try (Current c = current()) {
            driver.copyHostToDevice(pointer(dst, offset), Pointer.toBuffer(src), (long) src.remaining() * Float.BYTES,
                    t.stream());
            src.position(src.limit());
            finish(t);
        }
    }

    @Override
    protected void computeRead(Target t, AbstractBuffer src, long offset, FloatBuffer dst) {
        if (!directNativeOrder(dst)) {
            super.computeRead(t, src, offset, dst);
            return;
        }
        try (Current c = current()) {
            driver.copyDeviceToHost(Pointer.toBuffer(dst), pointer(src, offset), (long) dst.remaining() * Float.BYTES,
                    t.stream());
            dst.position(dst.limit());
            finish(t);
        }
    }

    private static boolean directNativeOrder(FloatBuffer host) {
        return host.isDirect() && host.order() == ByteOrder.nativeOrder();
    }

    /** The device address of element {@code offset} of a buffer. */
    private static CUdeviceptr pointer(AbstractBuffer buffer, long offset) {
        return ((CudaBuffer) buffer).pointer().withByteOffset(offset * buffer.dtype().bytes());
    }

    @Override
    protected void computeWriteBits(Target t, AbstractBuffer dst, long offset, short[] src, int srcOffset, int count) {
        try (Current c = current()) {
            staging.upload(pointer(dst, offset), src, srcOffset, count, t.stream());
        }
    }

    @Override
    protected void computeReadBits(Target t, AbstractBuffer src, long offset, short[] dst, int dstOffset, int count) {
        try (Current c = current()) {
            staging.download(pointer(src, offset), dst, dstOffset, count, t.stream());
        }
    }

    /**
     * storage.cuh. Every op on a 16-bit buffer is staged through float32 scratch with these kernels (the default of
     * {@link #computesNatively}): correct for every op, at the cost of the conversion passes and the scratch.
     */
    @Override
    protected void computeConvert(Target t, AbstractBuffer src, AbstractBuffer dst, long n) {
        DeviceRanges.requireApart(src, "src", dst, "dst");
        try (Current c = current()) {
            args().i64(addr(src)).i64(addr(dst)).i64(n);
            launch(t, KernelName.convert(src.dtype(), dst.dtype()), LaunchGeometry.elementwise(n, false,
                    info.multiprocessors()));
            finish(t);
        }
    }

    @Override
    public boolean deviceCopyIsNative() {
        return true;
    }

    @Override
    protected void computeCopy(Target t, AbstractBuffer src, AbstractBuffer dst, long n) {
        CudaBuffer from = (CudaBuffer) src;
        CudaBuffer to = (CudaBuffer) dst;
        if (from.address() == to.address()) {
            return;  // two wrappers of the same memory
        }
        DeviceRanges.requireApartOrSame(from, "src", to, "dst");
        try (Current c = current()) {
            driver.copyDeviceToDevice(to.pointer(), from.pointer(), n * Float.BYTES, t.stream());
            finish(t);
        }
    }

    // ---- compute -------------------------------------------------------------------------------------------------

    @Override
    protected void computeForward(Target t, Activation activation, AbstractBuffer x, AbstractBuffer y, long n) {
        DeviceRanges.requireApartOrSame(x, "x", y, "y");
        elementwise(t, KernelNames.forward(activation.op()), activation, n, addr(x), addr(y));
    }

    @Override
    protected void computeBackward(Target t, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                   AbstractBuffer dx, long n) {
        backward(t, KernelNames.backward(activation.op()), activation, x, "x", dy, dx, n);
    }

    @Override
    protected void computeBackwardFromOutput(Target t, Activation activation, AbstractBuffer y, AbstractBuffer dy,
                                             AbstractBuffer dx, long n) {
        backward(t, KernelNames.backwardFromOutput(activation.op()), activation, y, "y", dy, dx, n);
    }

    /** dx from dy and the saved forward input or output, which may each be dx itself (in place). */
    private void backward(Target t, String kernel, Activation activation, AbstractBuffer saved, String savedName,
                          AbstractBuffer dy, AbstractBuffer dx, long n) {
        DeviceRanges.requireApartOrSame(saved, savedName, dx, "dx");
        DeviceRanges.requireApartOrSame(dy, "dy", dx, "dx");
        elementwise(t, kernel, activation, n, addr(saved), addr(dy), addr(dx));
    }

    /** One warp per row (from_output.cuh), eight rows to a block. */
    @Override
    protected void computeRowsBackwardFromOutput(Target t, Activation activation, AbstractBuffer y, AbstractBuffer dy,
                                                 AbstractBuffer dx, RowLayout layout) {
        DeviceRanges.requireApart(y, "y", dx, "dx");
        DeviceRanges.requireApart(dy, "dy", dx, "dx");
        try (Current c = current()) {
            args().i64(addr(y)).i64(addr(dy)).i64(addr(dx)).i64(layout.rows()).i64(layout.cols())
                    .i64(layout.xStride()).i64(layout.yStride()).f32(activation.a());
            long rowsPerBlock = LaunchGeometry.BLOCK / 32;
            launch(t, KernelNames.softmaxFromOutput(activation.op()), new Launch(
                    Math.toIntExact((layout.rows() + rowsPerBlock - 1) / rowsPerBlock), LaunchGeometry.BLOCK, 0));
            finish(t);
        }
    }

    private void elementwise(Target t, String kernel, Activation activation, long n, long... buffers) {
        try (Current c = current()) {
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
    protected void computeGated(Target t, Activation gate, GatedLayout layout, AbstractBuffer gateInput,
                                AbstractBuffer otherInput, AbstractBuffer y) {
        DeviceRanges.requireApartOrSame(gateInput, "gate", y, "y");
        DeviceRanges.requireApartOrSame(otherInput, "other", y, "y");
        try (Current c = current()) {
            gatedArgs(args().i64(addr(gateInput, layout.gateOffset())).i64(addr(otherInput, layout.otherOffset()))
                    .i64(addr(y)), gate, layout);
            launch(t, KernelNames.gated(gate.op(), false), LaunchGeometry.elementwise(layout.outputs(), false,
                    info.multiprocessors()));
            finish(t);
        }
    }

    @Override
    protected void computeGatedBackward(Target t, Activation gate, GatedLayout layout, AbstractBuffer gateInput,
                                        AbstractBuffer otherInput, AbstractBuffer dy, AbstractBuffer dGate,
                                        AbstractBuffer dOther) {
        DeviceRanges.requireApartOrSame(gateInput, "gate", dGate, "dgate");
        DeviceRanges.requireApartOrSame(otherInput, "other", dOther, "dother");
        try (Current c = current()) {
            gatedArgs(args().i64(addr(gateInput, layout.gateOffset())).i64(addr(otherInput, layout.otherOffset()))
                    .i64(addr(dy)).i64(addr(dGate, layout.gateOffset())).i64(addr(dOther, layout.otherOffset())),
                    gate, layout);
            launch(t, KernelNames.gated(gate.op(), true), LaunchGeometry.elementwise(layout.outputs(), false,
                    info.multiprocessors()));
            finish(t);
        }
    }

    /** The GPUACT_GATED_ARGS of gated.cuh: sizes, the fast division by hidden and the parameters. */
    private static void gatedArgs(KernelArgs args, Activation gate, GatedLayout layout) {
        FastDivision byHidden = FastDivision.of(layout.hidden());
        args.i64(layout.outputs()).i64(layout.hidden()).i64(layout.inputStride()).i64(byHidden.magic())
                .i32(byHidden.shift()).f32(gate.a()).f32(gate.b());
    }

    /** The device address of element {@code offset} of a buffer (a half of a gated op's rows). */
    private static long addr(AbstractBuffer b, long offset) {
        return addr(b) + offset * Float.BYTES;
    }

    @Override
    protected void computePrelu(Target t, AbstractBuffer x, AbstractBuffer weight, AbstractBuffer y, long n,
                                long channels, long inner) {
        DeviceRanges.requireApartOrSame(x, "x", y, "y");
        DeviceRanges.requireApart(weight, "weight", y, "y");
        try (Current c = current()) {
            boolean vectorized = LaunchGeometry.vectorizable(addr(x), addr(y));
            args().i64(addr(x)).i64(addr(weight)).i64(addr(y)).i64(n)
                    .channelOf(channels, LaunchGeometry.preluInner(n, inner)).i32(vectorized ? 1 : 0);
            launch(t, KernelNames.PRELU_FORWARD, LaunchGeometry.elementwise(n, vectorized, info.multiprocessors()));
            finish(t);
        }
    }

    @Override
    protected void computePreluBackward(Target t, AbstractBuffer x, AbstractBuffer weight, AbstractBuffer dy,
                                        AbstractBuffer dx, AbstractBuffer dweight, long n, long channels, long inner) {
        try (Current c = current()) {
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
            synchronized (t.scratch()) {
                // dweight first: dx may be dy's buffer.
                channelSum(t, KernelNames.PRELU_DWEIGHT_PARTIAL, new long[] {addr(x), addr(dy)}, dweight, n, channels,
                        inner);
                boolean vectorized = LaunchGeometry.vectorizable(addr(x), addr(dy), addr(dx));
                args().i64(addr(x)).i64(addr(weight)).i64(addr(dy)).i64(addr(dx)).i64(n)
                        .channelOf(channels, LaunchGeometry.preluInner(n, inner)).i32(vectorized ? 1 : 0);
                launch(t, KernelNames.PRELU_BACKWARD, LaunchGeometry.elementwise(n, vectorized, info.multiprocessors()));
                finish(t);
            }
        }
    }

    @Override
    protected void computeRows(Target t, Activation activation, AbstractBuffer x, AbstractBuffer y, RowLayout layout) {
        DeviceRanges.requireApartOrSame(x, "x", y, "y");
        rows(t, activation, layout, false, addr(x), 0, addr(y));
    }

    @Override
    protected void computeRowsBackward(Target t, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                       AbstractBuffer dx, RowLayout layout) {
        DeviceRanges.requireApart(x, "x", dx, "dx");
        DeviceRanges.requireApart(dy, "dy", dx, "dx");
        rows(t, activation, layout, true, addr(x), addr(dy), addr(dx));
    }

    /** A row-wise op; {@code dy} is used only when {@code backward}, and {@code out} is y or dx. */
    private void rows(Target t, Activation activation, RowLayout layout, boolean backward, long x, long dy, long out) {
        try (Current c = current()) {
            rowsInContext(t, activation, layout, backward, x, dy, out);
        }
    }

    private void rowsInContext(Target t, Activation activation, RowLayout layout, boolean backward, long x, long dy,
                               long out) {
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

    /** A synchronous call waits for its work; a stream's call leaves it queued. */
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

    /** Frees the backend's own stream and scratch, the staging buffer, the module and the context. */
    @Override
    protected void releaseDevice() {
        RuntimeException failure = fault != null
                ? new IllegalStateException("backend '" + name() + "' closed after a device fault, its memory freed "
                + "with its context: " + fault.getMessage(), fault)
                : null;
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

    @Override
    protected void computeMaskedRows(Target t, Activation activation, AbstractBuffer x, AbstractBuffer y,
                                     RowLayout layout, RowMask mask, AbstractBuffer additive) {
        DeviceRanges.requireApartOrSame(x, "x", y, "y");
        maskedRows(t, activation, layout, mask, additive, false, addr(x), 0, addr(y));
    }

    @Override
    protected void computeMaskedRowsBackward(Target t, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                             AbstractBuffer dx, RowLayout layout, RowMask mask,
                                             AbstractBuffer additive) {
        DeviceRanges.requireApart(x, "x", dx, "dx");
        DeviceRanges.requireApart(dy, "dy", dx, "dx");
        maskedRows(t, activation, layout, mask, additive, true, addr(x), addr(dy), addr(dx));
    }

    /**
     * gpuact_&lt;op&gt;_&lt;fwd|bwd&gt;_masked, a block per row: the plain row arguments, then the mask (0 for none), the
     * lengths (copied into the stream's scratch, which the call holds until its kernel is ordered) and the causal
     * limit.
     */
    private void maskedRows(Target t, Activation activation, RowLayout layout, RowMask mask, AbstractBuffer additive,
                            boolean backward, long x, long dy, long out) {
        int[] lengths = mask.lengths();
        try (Current c = current()) {
            synchronized (t.scratch()) {
                long lengthsAddress = 0;
                if (lengths != null) {
                    ByteBuffer bytes = ByteBuffer.allocateDirect(lengths.length * Integer.BYTES)
                            .order(ByteOrder.nativeOrder());
                    bytes.asIntBuffer().put(lengths);
                    lengthsAddress = t.scratch().reserveCopy(bytes, t.stream());
                }
                KernelArgs args = args().i64(x);
                if (backward) {
                    args.i64(dy);
                }
                args.i64(out).i64(layout.rows()).i64(layout.cols()).i64(layout.xStride()).i64(layout.yStride())
                        .f32(activation.a()).i32(activation.b() != 0 ? 1 : 0)
                        .i64(additive == null ? 0 : addr(additive)).i64(mask.rowsPerMaskRow())
                        .i64(lengthsAddress).i64(mask.rowsPerLength())
                        .i32(mask.isCausal() ? 1 : 0).i64(mask.offset()).i64(mask.rowsPerQuery());
                int grid = LaunchGeometry.grid(layout.rows() * MASKED_BLOCK, MASKED_BLOCK, info.multiprocessors());
                launch(t, KernelNames.softmax(activation.op(), backward, KernelNames.MASKED),
                        new Launch(grid, MASKED_BLOCK, 0));
                finish(t);
            }
        }
    }

    /**
     * A per-channel sum into {@code sums} in two fixed stages (PReLU's dweight, the bias gradient): {@code
     * partialKernel} sums PReLU's fixed slices of each channel into scratch partials, taking the addresses {@code
     * inputs}, the partials, n, channels, inner's fast division, the slice count, then {@code trailing}; then each
     * channel adds its slices in order. The slices depend only on n, channels, inner and the device, so the bits do
     * not change from call to call. The caller holds the scratch's lock, n > 0.
     */
    private void channelSum(Target t, String partialKernel, long[] inputs, AbstractBuffer sums, long n, long channels,
                            long inner, float... trailing) {
        long period = LaunchGeometry.preluInner(n, inner);
        int sms = info.multiprocessors();
        int slices = LaunchGeometry.preluSlices(n, channels, period, sms);
        long partials = t.scratch().reserve(channels * slices, t.stream());
        KernelArgs args = args();
        for (long input : inputs) {
            args.i64(input);
        }
        args.i64(partials).i64(n).i64(channels).fastDivision(period).i32(slices);
        for (float f : trailing) {
            args.f32(f);
        }
        launch(t, partialKernel, LaunchGeometry.channelSlices(channels, slices, sms));
        args().i64(partials).i64(addr(sums)).i64(channels).i32(slices);
        launch(t, KernelNames.PRELU_DWEIGHT_FINISH, new Launch(LaunchGeometry.grid(channels, LaunchGeometry.BLOCK,
                sms), LaunchGeometry.BLOCK, 0));
    }

    // ---- bias and activation ------------------------------------------------------------------------------

    @Override
    protected void computeBias(Target t, Activation activation, AbstractBuffer x, AbstractBuffer bias, AbstractBuffer y,
                               long n, long channels, long inner) {
        DeviceRanges.requireApartOrSame(x, "x", y, "y");
        DeviceRanges.requireApart(bias, "bias", y, "y");
        try (Current c = current()) {
            boolean vectorized = LaunchGeometry.vectorizable(addr(x), addr(y));
            args().i64(addr(x)).i64(addr(bias)).i64(addr(y)).i64(n)
                    .channelOf(channels, LaunchGeometry.preluInner(n, inner)).f32(activation.a()).f32(activation.b())
                    .i32(vectorized ? 1 : 0);
            launch(t, KernelNames.biasForward(activation.op()),
                    LaunchGeometry.elementwise(n, vectorized, info.multiprocessors()));
            finish(t);
        }
    }

    /** One pass: the partial kernel writes dx as it sums it per channel, in PReLU's fixed slices. */
    @Override
    protected void computeBiasBackward(Target t, Activation activation, AbstractBuffer x, AbstractBuffer bias,
                                       AbstractBuffer dy, AbstractBuffer dx, AbstractBuffer dbias, long n,
                                       long channels, long inner) {
        try (Current c = current()) {
            if (n == 0) {
                driver.memsetD32(((CudaBuffer) dbias).pointer(), 0, channels, t.stream());
                finish(t);
                return;
            }
            DeviceRanges.requireApartOrSame(dy, "dy", dx, "dx");
            DeviceRanges.requireApartOrSame(x, "x", dx, "dx");
            DeviceRanges.requireApart(bias, "bias", dx, "dx");
            DeviceRanges.requireApart(x, "x", dbias, "dbias");
            DeviceRanges.requireApart(bias, "bias", dbias, "dbias");
            DeviceRanges.requireApart(dy, "dy", dbias, "dbias");
            DeviceRanges.requireApart(dx, "dx", dbias, "dbias");
            synchronized (t.scratch()) {
                channelSum(t, KernelNames.biasBackward(activation.op()),
                        new long[] {addr(x), addr(bias), addr(dy), addr(dx)}, dbias, n, channels, inner,
                        activation.a(), activation.b());
                finish(t);
            }
        }
    }
}
