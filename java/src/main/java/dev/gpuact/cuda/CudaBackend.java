package dev.gpuact.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
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
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetAddressRange;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
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
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.spi.AbstractBackend;
import dev.gpuact.spi.AbstractBuffer;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Objects;
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
 * waits for it, as {@link dev.gpuact.Backend} promises. Transfers of Java arrays go through a double-buffered pinned
 * staging buffer ({@link PinnedStaging}); direct native-order {@link FloatBuffer}s are copied from and to directly.
 */
public final class CudaBackend extends AbstractBackend {
    private final CudaDeviceInfo info;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUmodule module = new CUmodule();
    private final CUstream ownStream = new CUstream();
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();
    private final ThreadLocal<Launcher> launchers = ThreadLocal.withInitial(Launcher::new);
    private final ThreadLocal<CUstream> engineStream = new ThreadLocal<>();
    private final PinnedStaging staging;
    private final Object scratchLock = new Object();
    private CUdeviceptr scratch;
    private long scratchBytes;

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
        cuMemGetAddressRange(base, size, pointer);
        long offset = address - DeviceAddress.of(base);
        if (offset % Float.BYTES != 0 || length > (size[0] - offset) / Float.BYTES) {
            throw new IllegalArgumentException("pointer + " + length + " floats must lie inside its allocation of "
                    + size[0] + " bytes (the pointer is " + offset + " bytes into it, 4-byte aligned)");
        }
        return new CudaBuffer(this, length, new CudaBuffer.DeviceMemory(pointer, address, length * Float.BYTES, context, false));
    }

    /** Runs this thread's calls on the engine's {@code stream} until the returned scope is closed. */
    public StreamScope useStream(CUstream stream) {
        Objects.requireNonNull(stream, "stream");
        CUstream previous = engineStream.get();
        engineStream.set(stream);
        return () -> engineStream.set(previous);
    }

    /** Restores the previous stream of the thread that opened it. */
    public interface StreamScope extends AutoCloseable {
        @Override
        void close();
    }

    /** Device time of {@code work} on this thread's stream, from CUDA events recorded around it. */
    public float elapsedMillis(Runnable work) {
        makeCurrent();
        CUevent start = new CUevent();
        CUevent stop = new CUevent();
        cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
        cuEventCreate(stop, CUevent_flags.CU_EVENT_DEFAULT);
        try {
            cuEventRecord(start, stream());
            work.run();
            makeCurrent();
            cuEventRecord(stop, stream());
            cuEventSynchronize(stop);
            float[] ms = new float[1];
            cuEventElapsedTime(ms, start, stop);
            return ms[0];
        } finally {
            cuEventDestroy(start);
            cuEventDestroy(stop);
        }
    }

    // ---- memory --------------------------------------------------------------------------------------------------

    @Override
    protected AbstractBuffer newBuffer(DType dtype, long length) {
        makeCurrent();
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
                cuMemsetD32Async(pointer, 0, length, stream());
                cuStreamSynchronize(stream());
            } catch (RuntimeException e) {
                cuMemFree(pointer);
                throw e;
            }
        }
        long address = DeviceAddress.of(pointer);
        return new CudaBuffer(this, length, new CudaBuffer.DeviceMemory(pointer, address, bytes, context, true));
    }

    void upload(CudaBuffer to, long offset, float[] src, int srcOffset, int count) {
        makeCurrent();
        staging.upload(to.pointer().withByteOffset(offset * Float.BYTES), src, srcOffset, count, stream());
    }

    void download(CudaBuffer from, long offset, float[] dst, int dstOffset, int count) {
        makeCurrent();
        staging.download(from.pointer().withByteOffset(offset * Float.BYTES), dst, dstOffset, count, stream());
    }

    void uploadDirect(CudaBuffer to, long offset, FloatBuffer src) {
        makeCurrent();
        cuStreamSynchronize(stream());  // earlier work on the stream may still read this memory
        cuMemcpyHtoD(to.pointer().withByteOffset(offset * Float.BYTES), Pointer.toBuffer(src), (long) src.remaining() * Float.BYTES);
        src.position(src.limit());
    }

    void downloadDirect(CudaBuffer from, long offset, FloatBuffer dst) {
        makeCurrent();
        cuStreamSynchronize(stream());
        cuMemcpyDtoH(Pointer.toBuffer(dst), from.pointer().withByteOffset(offset * Float.BYTES), (long) dst.remaining() * Float.BYTES);
        dst.position(dst.limit());
    }

    // ---- compute -------------------------------------------------------------------------------------------------

    @Override
    protected void computeForward(Activation activation, AbstractBuffer x, AbstractBuffer y, long n) {
        elementwise(KernelNames.forward(activation.op()), activation, n, addr(x), addr(y));
    }

    @Override
    protected void computeBackward(Activation activation, AbstractBuffer x, AbstractBuffer dy, AbstractBuffer dx, long n) {
        elementwise(KernelNames.backward(activation.op()), activation, n, addr(x), addr(dy), addr(dx));
    }

    private void elementwise(String kernel, Activation activation, long n, long... buffers) {
        boolean vectorized = LaunchGeometry.vectorizable(buffers);
        KernelArgs args = args();
        for (long b : buffers) {
            args.i64(b);
        }
        args.i64(n).f32(activation.a()).f32(activation.b()).i32(vectorized ? 1 : 0);
        launch(kernel, LaunchGeometry.elementwise(n, vectorized, info.multiprocessors()));
        finish();
    }

    @Override
    protected void computePrelu(AbstractBuffer x, AbstractBuffer weight, AbstractBuffer y, long n, long channels, long inner) {
        boolean vectorized = LaunchGeometry.vectorizable(addr(x), addr(y));
        args().i64(addr(x)).i64(addr(weight)).i64(addr(y)).i64(n).i64(channels).i64(inner).i32(vectorized ? 1 : 0);
        launch(KernelNames.PRELU_FORWARD, LaunchGeometry.elementwise(n, vectorized, info.multiprocessors()));
        finish();
    }

    @Override
    protected void computePreluBackward(AbstractBuffer x, AbstractBuffer weight, AbstractBuffer dy, AbstractBuffer dx,
                                        AbstractBuffer dweight, long n, long channels, long inner) {
        makeCurrent();
        if (n == 0) {
            cuMemsetD32Async(((CudaBuffer) dweight).pointer(), 0, channels, stream());
            finish();
            return;
        }
        int sms = info.multiprocessors();
        int slices = LaunchGeometry.preluSlices(n, channels, inner, sms);
        synchronized (scratchLock) {
            // dweight first: dx may be dy's buffer.
            long partials = scratch(channels * slices);
            args().i64(addr(x)).i64(addr(dy)).i64(partials).i64(n).i64(channels).i64(inner).i32(slices);
            launch(KernelNames.PRELU_DWEIGHT_PARTIAL, new Launch(
                    (int) Math.min(channels * slices, LaunchGeometry.gridCap(sms, LaunchGeometry.BLOCK)), LaunchGeometry.BLOCK, 0));
            args().i64(partials).i64(addr(dweight)).i64(channels).i32(slices);
            launch(KernelNames.PRELU_DWEIGHT_FINISH, new Launch(LaunchGeometry.grid(channels, LaunchGeometry.BLOCK, sms),
                    LaunchGeometry.BLOCK, 0));
            boolean vectorized = LaunchGeometry.vectorizable(addr(x), addr(dy), addr(dx));
            args().i64(addr(x)).i64(addr(weight)).i64(addr(dy)).i64(addr(dx)).i64(n).i64(channels).i64(inner)
                    .i32(vectorized ? 1 : 0);
            launch(KernelNames.PRELU_BACKWARD, LaunchGeometry.elementwise(n, vectorized, sms));
            finish();
        }
    }

    @Override
    protected void computeRows(Activation activation, AbstractBuffer x, AbstractBuffer y, RowLayout layout) {
        rows(activation, layout, false, addr(x), 0, addr(y));
    }

    @Override
    protected void computeRowsBackward(Activation activation, AbstractBuffer x, AbstractBuffer dy, AbstractBuffer dx,
                                       RowLayout layout) {
        rows(activation, layout, true, addr(x), addr(dy), addr(dx));
    }

    /** A row-wise op; {@code dy} is used only when {@code backward}, and {@code out} is y or dx. */
    private void rows(Activation activation, RowLayout layout, boolean backward, long x, long dy, long out) {
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
            launch(backward ? KernelNames.MAXOUT_BACKWARD : KernelNames.MAXOUT_FORWARD,
                    new Launch(LaunchGeometry.grid(layout.rows() * outCols, LaunchGeometry.BLOCK, sms), LaunchGeometry.BLOCK, 0));
            finish();
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
            launch(plan.kernel(op, backward), plan.launch());
            finish();
            return;
        }
        synchronized (scratchLock) {
            long partials = plan.usesPartials() ? scratch(plan.partialDoubles() + plan.dotDoubles()) : 0;
            long dots = plan.usesPartials() ? partials + plan.partialDoubles() * Double.BYTES : 0;
            if (plan.usesPartials()) {
                longArgs(args().i64(x).i64(partials), layout, plan, temperature, maskedNan);
                launch(KernelNames.SOFTMAX_ROW_STATS, plan.launch());
                if (backward) {
                    longArgs(args().i64(x).i64(dy).i64(partials).i64(dots), layout, plan, temperature, maskedNan);
                    launch(KernelNames.softmaxLongDot(op), plan.launch());
                }
            }
            KernelArgs args = args().i64(x);
            if (backward) {
                args.i64(dy).i64(out).i64(partials).i64(dots);
            } else {
                args.i64(out).i64(partials);
            }
            longArgs(args, layout, plan, temperature, maskedNan);
            launch(plan.kernel(op, backward), plan.launch());
            finish();
        }
    }

    private static void longArgs(KernelArgs args, RowLayout layout, SoftmaxPlan plan, float temperature, int maskedNan) {
        args.longArgs(layout.rows(), layout.cols(), layout.xStride(), layout.yStride(), plan.chunkCols(), temperature,
                maskedNan, plan.chunks());
    }

    // ---- launching -----------------------------------------------------------------------------------------------

    /** This thread's argument slots, emptied; also makes the context current. */
    private KernelArgs args() {
        makeCurrent();
        return launchers.get().args.reset();
    }

    private void launch(String kernel, Launch shape) {
        CUfunction f = functions.computeIfAbsent(kernel, name -> {
            CUfunction fn = new CUfunction();
            cuModuleGetFunction(fn, module, name);
            return fn;
        });
        cuLaunchKernel(f, shape.grid(), 1, 1, shape.block(), 1, 1, shape.sharedBytes(), stream(),
                launchers.get().parameters(), null);
    }

    private void finish() {
        cuStreamSynchronize(stream());
    }

    private CUstream stream() {
        CUstream s = engineStream.get();
        return s != null ? s : ownStream;
    }

    private void makeCurrent() {
        cuCtxSetCurrent(context);
    }

    /** Device scratch of at least {@code doubles} doubles, grown as needed; the caller holds scratchLock. */
    private long scratch(long doubles) {
        long bytes = doubles * Double.BYTES;
        if (bytes > scratchBytes) {
            if (scratch != null) {
                cuStreamSynchronize(stream());
                cuMemFree(scratch);
            }
            scratch = new CUdeviceptr();
            cuMemAlloc(scratch, bytes);
            scratchBytes = bytes;
        }
        return DeviceAddress.of(scratch);
    }

    private static long addr(AbstractBuffer b) {
        return ((CudaBuffer) b).address();
    }

    @Override
    protected void releaseDevice() {
        makeCurrent();
        cuStreamSynchronize(ownStream);
        synchronized (scratchLock) {
            if (scratch != null) {
                cuMemFree(scratch);
                scratch = null;
            }
        }
        staging.free();
        cuStreamDestroy(ownStream);
        cuModuleUnload(module);
        cuDevicePrimaryCtxRelease(device);
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
