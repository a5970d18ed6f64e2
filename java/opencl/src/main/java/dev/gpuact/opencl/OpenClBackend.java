package dev.gpuact.opencl;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_MEM_ALLOC_HOST_PTR;
import static org.jocl.CL.CL_MEM_CONTEXT;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_MEM_SIZE;

import dev.gpuact.Activation;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import dev.gpuact.NativeCallException;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import dev.gpuact.spi.AbstractBackend;
import dev.gpuact.spi.AbstractBuffer;
import dev.gpuact.spi.BackendHostBuffer;
import dev.gpuact.spi.GatedLayout;
import dev.gpuact.spi.HostRegion;
import dev.gpuact.spi.KernelName;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * The OpenCL backend: one context, in-order queue and program per device; each {@link #newStream() stream} adds
 * an in-order queue of its own, and the {@code compute*} methods enqueue on the queue they are given.
 *
 * <p>{@link #open} creates its own context and queue; {@link #wrap(cl_context, cl_device_id, cl_command_queue)}
 * runs on a host engine's, which it never releases (the engine must keep them alive until this backend is
 * closed), and {@link #wrap(cl_mem, long)} applies activations to the engine's cl_mem without a copy, as {@link
 * #wrap(ByteBuffer, DType)} does to host memory on a CPU device. The program comes from an on-disk binary cache when
 * it can (see {@link #programFromCache()}).
 */
public final class OpenClBackend extends AbstractBackend<OpenClQueue> {
    private static final int MAX_WORK_GROUP = 256;
    /** Per-channel sums (PReLU's dweight, dbias): a chunk per work-group of about this many elements, at most 256. */
    private static final long CHANNEL_CHUNK_ELEMENTS = 1L << 16;
    /** Stage 1 of {@link #columnSum} (elementwise.cl). */
    static final String BIAS_COLUMN_SUM = "gpuact_bias_dbias_columns";

    private final OpenClDevice device;
    private final cl_context context;
    private final boolean ownsContext;
    private final OpenClQueue queue;
    private final cl_program program;
    private final boolean programFromCache;
    private final long programNanos;
    private final int workGroup;
    private final Map<String, OpenClKernel> kernels = new ConcurrentHashMap<>();
    private final ProgramBuilder builder;
    /** The elementwise kernels on float16 and bfloat16 storage, each built the first time a call needs it. */
    private final Map<DType, cl_program> storagePrograms = new ConcurrentHashMap<>();
    /** Tests force a shape to check every shape on one device; null means choose by device type (and op). */
    private volatile RowKernelShape forcedRowShape;
    private volatile ElementwiseShape forcedElementwiseShape;
    /** Device nanoseconds of the commands this thread completed inside {@link #time}; null outside it. */
    private final ThreadLocal<long[]> deviceNanos = new ThreadLocal<>();
    private volatile long memoryLimit;

    private OpenClBackend(OpenClDevice device, cl_context context, boolean ownsContext, OpenClQueue queue,
                          ProgramBuilder builder) {
        super("opencl");
        this.device = device;
        this.context = context;
        this.ownsContext = ownsContext;
        this.queue = queue;
        this.builder = builder;
        this.memoryLimit = OpenClDevices.deviceLong(device.id(), CL.CL_DEVICE_GLOBAL_MEM_SIZE, Sizeof.cl_ulong);
        this.workGroup = Integer.highestOneBit((int) Math.max(1, Math.min(MAX_WORK_GROUP, device.maxWorkGroupSize())));
        try {
            ProgramBuilder.Built built = builder.build(context, device, KernelSource.program(), buildOptions(workGroup));
            this.program = built.program();
            this.programFromCache = built.fromCache();
            this.programNanos = built.nanos();
        } catch (RuntimeException e) {
            queue.release();
            if (ownsContext) {
                CL.clReleaseContext(context);
            }
            throw e;
        }
    }

    /**
     * The device math's quotients (gelu's tail, the sigmoids, log1p's argument) are IEEE divisions in its error
     * budget; OpenCL lets a device's float division be 2.5 ULP unless the program asks for correct rounding, which
     * it does wherever the device supports it (CPU devices divide exactly either way).
     */
    private String buildOptions(int workGroup) {
        long fpConfig = OpenClDevices.deviceLong(device.id(), CL.CL_DEVICE_SINGLE_FP_CONFIG, Sizeof.cl_ulong);
        return "-DGPUACT_WG=" + workGroup + " -DGPUACT_STRIP=" + ElementwiseShape.STRIP_ELEMENTS
                + ((fpConfig & CL.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0 ? " -cl-fp32-correctly-rounded-divide-sqrt"
                        : "");
    }

    /** A backend on {@code device} with its own context and a profiling-enabled queue. */
    public static OpenClBackend open(OpenClDevice device) {
        return open(device, ProgramBuilder.defaultCacheDir());
    }

    /** As {@link #open(OpenClDevice)}, caching program binaries in {@code cacheDir}. */
    public static OpenClBackend open(OpenClDevice device, Path cacheDir) {
        Objects.requireNonNull(device, "device");
        CL.setExceptionsEnabled(true);
        cl_context_properties properties = new cl_context_properties();
        properties.addProperty(CL_CONTEXT_PLATFORM, device.platform());
        cl_context context = CL.clCreateContext(properties, 1, new cl_device_id[] {device.id()}, null, null, null);
        OpenClQueue queue;
        try {
            queue = OpenClQueue.create(context, device.id(), true);
        } catch (RuntimeException e) {
            CL.clReleaseContext(context);
            throw e;
        }
        return new OpenClBackend(device, context, true, queue, new ProgramBuilder(cacheDir));
    }

    /**
     * A backend on a context, device and in-order queue a host engine already owns. Every synchronous command goes
     * on that queue (streams get queues of their own in the same context); closing the backend releases only what
     * it created (program, kernels, its own buffers, streams and host buffers). {@link #time} reads device clocks
     * only if the engine created the queue with CL_QUEUE_PROFILING_ENABLE, else it falls back to the wall clock.
     */
    public static OpenClBackend wrap(cl_context context, cl_device_id device, cl_command_queue queue) {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(queue, "queue");
        CL.setExceptionsEnabled(true);
        return new OpenClBackend(OpenClDevices.describe(-1, device), context, false, new OpenClQueue(queue, false, true),
                new ProgramBuilder(ProgramBuilder.defaultCacheDir()));
    }

    /**
     * The first {@code length} floats of a cl_mem the host engine owns, as a buffer of this backend: no copy;
     * closing it does not release the cl_mem.
     *
     * @throws IllegalArgumentException if the cl_mem belongs to another context or holds fewer bytes
     */
    public DeviceBuffer wrap(cl_mem mem, long length) {
        return wrap(mem, length, DType.FLOAT32);
    }

    /** As {@link #wrap(cl_mem, long)}, for {@code length} elements of {@code dtype}. */
    public DeviceBuffer wrap(cl_mem mem, long length, DType dtype) {
        Objects.requireNonNull(mem, "mem");
        Objects.requireNonNull(dtype, "dtype");
        requireOpen();
        dtype.requireSupported();
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        long[] size = new long[1];
        try {
            CL.clGetMemObjectInfo(mem, CL_MEM_SIZE, Sizeof.size_t, Pointer.to(size), null);
        } catch (CLException e) {
            throw new IllegalArgumentException("mem " + mem + " is not a memory object: " + e.getMessage(), e);
        }
        if (length > size[0] / dtype.bytes()) {
            throw new IllegalArgumentException("mem holds " + size[0] + " bytes but " + length + " " + dtype
                    + " elements need " + length * dtype.bytes());
        }
        cl_context owner = new cl_context();
        CL.clGetMemObjectInfo(mem, CL_MEM_CONTEXT, Sizeof.cl_context, Pointer.to(owner), null);
        if (!owner.equals(context)) {
            throw new IllegalArgumentException("mem belongs to another cl_context than this backend's");
        }
        return new OpenClBuffer(this, dtype, length, new OpenClBuffer.ClMemory(mem, length * dtype.bytes(), false));
    }

    /**
     * As {@link #wrap(cl_mem, long, DType)}, for a cl_mem the engine holds as a number (a {@code cl_mem} from
     * JavaCPP, Panama or its own JNI). 0, and a cl_mem too small or of another context, are refused; a handle that
     * names no live cl_mem is undefined behaviour in OpenCL (some runtimes notice it, PoCL does not).
     */
    public DeviceBuffer wrapMem(long clMem, long length, DType dtype) {
        return wrap(RawHandles.mem(clMem), length, dtype);
    }

    /**
     * A backend on the command queue {@code commandQueue}, a {@code cl_command_queue} the engine holds as a number:
     * {@link #wrap(cl_context, cl_device_id, cl_command_queue)} with the queue's own context and device. 0 is
     * refused; a handle that names no live queue is undefined behaviour in OpenCL (some runtimes notice it).
     */
    public static OpenClBackend wrapQueue(long commandQueue) {
        cl_command_queue queue = RawHandles.queue(commandQueue);
        CL.setExceptionsEnabled(true);
        cl_context context = new cl_context();
        cl_device_id device = new cl_device_id();
        try {
            CL.clGetCommandQueueInfo(queue, CL.CL_QUEUE_CONTEXT, Sizeof.cl_context, Pointer.to(context), null);
            CL.clGetCommandQueueInfo(queue, CL.CL_QUEUE_DEVICE, Sizeof.cl_device_id, Pointer.to(device), null);
        } catch (CLException e) {
            throw new IllegalArgumentException("0x" + Long.toHexString(commandQueue) + " is not a cl_command_queue: "
                    + e.getMessage(), e);
        }
        return wrap(context, device, queue);
    }

    /**
     * Host memory used in place, where the device computes in host memory: on a CPU device (PoCL, Intel's CPU
     * runtime) a cl_mem with CL_MEM_USE_HOST_PTR over {@code memory}'s bytes, which the kernels read and write where
     * they are. The bytes must be in the device's byte order and start at its CL_DEVICE_MEM_BASE_ADDR_ALIGN
     * ({@code memory.alignedSlice(n)} gives that), else the runtime would work on a copy of its own.
     *
     * @throws UnsupportedOperationException on a GPU or accelerator, whose kernels would work on a copy: there,
     *         {@link #allocateHost} gives memory the runtime maps for the host, to upload from and download to
     */
    @Override
    public DeviceBuffer wrap(ByteBuffer memory, DType dtype) {
        return guarded(() -> {
            requireOpen();
            HostRegion region = HostRegion.of(name(), memory, dtype);
            String refusal = inPlaceRefusal(device);
            if (refusal != null) {
                throw new UnsupportedOperationException(name() + " cannot use host memory in place on " + device()
                        + ": " + refusal);
            }
            region.requireOrder(name(), deviceByteOrder(), device());
            region.requireAligned(name(), hostAlignment(), "the device computes in host memory in place only from "
                    + "its CL_DEVICE_MEM_BASE_ADDR_ALIGN (elsewhere the runtime may work on a copy)");
            if (region.length() == 0) {
                return new OpenClBuffer(this, dtype, 0, new OpenClBuffer.ClMemory(null, 0, true));
            }
            cl_mem mem = CL.clCreateBuffer(context, CL_MEM_READ_WRITE | CL.CL_MEM_USE_HOST_PTR, region.byteSize(),
                    Pointer.to(region.bytes()), null);
            long[] address = new long[1];
            try {
                CL.clGetMemObjectInfo(mem, CL.CL_MEM_HOST_PTR, Sizeof.POINTER, Pointer.to(address), null);
            } catch (RuntimeException e) {
                CL.clReleaseMemObject(mem);
                throw e;
            }
            return new OpenClBuffer(this, dtype, region.length(),
                    new OpenClBuffer.ClMemory(mem, region.byteSize(), true, region, address[0]));
        });
    }

    /** Why {@code device}'s kernels cannot work in host memory where it lies, or null where they can (a CPU device). */
    static String inPlaceRefusal(OpenClDevice device) {
        return device.isCpu() ? null : "a " + device.typeName() + " works on its own copy of host memory; use "
                + "allocateHost (mapped memory) to upload from and download to, or wrap a cl_mem";
    }

    private ByteOrder deviceByteOrder() {
        boolean little = OpenClDevices.deviceLong(device.id(), CL.CL_DEVICE_ENDIAN_LITTLE, Sizeof.cl_uint) != 0;
        return little ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
    }

    /** CL_DEVICE_MEM_BASE_ADDR_ALIGN, which the runtime reports in bits, in bytes. */
    int hostAlignment() {
        return (int) Math.max(1, OpenClDevices.deviceLong(device.id(), CL.CL_DEVICE_MEM_BASE_ADDR_ALIGN, Sizeof.cl_uint) / 8);
    }

    @Override
    protected AbstractBuffer newBuffer(DType dtype, long length) {
        long bytes = length * dtype.bytes();
        if (length == 0) {
            return new OpenClBuffer(this, dtype, 0, new OpenClBuffer.ClMemory(null, 0, true));
        }
        cl_mem mem;
        try {
            mem = CL.clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, null);
        } catch (CLException e) {
            throw nativeFailure(e);
        }
        OpenClBuffer.ClMemory memory = new OpenClBuffer.ClMemory(mem, bytes, true);
        try (OpenClEvent fill = queue.fillZero(mem, bytes)) {
            fill.await();
        } catch (RuntimeException e) {
            CL.clReleaseMemObject(mem);
            throw e instanceof CLException cl ? nativeFailure(cl) : e;
        }
        return new OpenClBuffer(this, dtype, length, memory);
    }

    /**
     * Memory from CL_MEM_ALLOC_HOST_PTR, mapped: GPU drivers back it with page-locked memory their DMA engines read
     * directly, so it is reported pinned there; a CPU device's memory is ordinary host memory, so there it is not
     * (transfers from it still skip any Java-side copy).
     */
    @Override
    protected BackendHostBuffer newHostBuffer(int length) {
        if (length == 0) {
            return super.newHostBuffer(0); // OpenCL has no empty memory objects
        }
        long bytes = (long) length * Float.BYTES;
        cl_mem mem = CL.clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes, null, null);
        try {
            return new OpenClHostBuffer(this, mem, queue.map(mem, bytes), !device.isCpu());
        } catch (RuntimeException e) {
            CL.clReleaseMemObject(mem);
            throw e;
        }
    }

    /** JOCL's exceptions as the typed {@link NativeCallException}, naming the OpenCL function from the stack. */
    @Override
    protected RuntimeException nativeFailure(RuntimeException e) {
        return e instanceof CLException cl ? nativeFailure(cl) : e;
    }

    private NativeCallException nativeFailure(CLException e) {
        String call = "an OpenCL call";
        for (StackTraceElement frame : e.getStackTrace()) {
            if (frame.getClassName().equals(CL.class.getName()) && frame.getMethodName().startsWith("cl")) {
                call = frame.getMethodName();
                break;
            }
        }
        int code = e.getStatus();
        boolean outOfMemory = code == CL.CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL.CL_OUT_OF_RESOURCES
                || code == CL.CL_OUT_OF_HOST_MEMORY;
        return new NativeCallException(name(), call, code, CL.stringFor_errorCode(code), outOfMemory, e);
    }

    @Override
    protected OpenClQueue ownQueue() {
        return queue;
    }

    /** A stream's queue: a new in-order queue in this backend's context, whose commands calls do not wait for. */
    @Override
    protected OpenClQueue newStreamQueue() {
        return OpenClQueue.create(context, device.id(), false);
    }

    /**
     * The sum of the device times (profiling events) of the commands {@code work} runs on this backend's queue;
     * stream commands are not counted. Without a profiling queue (an engine's, see {@link #wrap}) the wall clock.
     */
    @Override
    public Timing time(Runnable work) {
        Objects.requireNonNull(work, "work");
        if (!queue.profiling()) {
            long start = System.nanoTime();
            work.run();
            return new Timing(System.nanoTime() - start, Clock.WALL);
        }
        long[] outer = deviceNanos.get();
        long[] inner = {0};
        deviceNanos.set(inner);
        try {
            work.run();
        } finally {
            deviceNanos.set(outer);
            if (outer != null) {
                outer[0] += inner[0];
            }
        }
        return new Timing(inner[0], Clock.DEVICE);
    }

    @Override
    public boolean deviceCopyIsNative() {
        return true;
    }

    @Override
    protected void computeCopy(OpenClQueue on, AbstractBuffer src, AbstractBuffer dst, long n) {
        complete(on, on.copy(mem(src), mem(dst), n * Float.BYTES));
    }

    @Override
    protected void computeWrite(OpenClQueue on, AbstractBuffer dst, long offset, float[] src, int srcOffset,
                                int count) {
        transfer(on, Direction.WRITE, dst, offset, count, Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES),
                false);
    }

    @Override
    protected void computeWriteBits(OpenClQueue on, AbstractBuffer dst, long offset, short[] src, int srcOffset,
                                    int count) {
        transfer(on, Direction.WRITE, dst, offset, count, Pointer.to(src).withByteOffset((long) srcOffset * Short.BYTES),
                false);
    }

    @Override
    protected void computeReadBits(OpenClQueue on, AbstractBuffer src, long offset, short[] dst, int dstOffset,
                                   int count) {
        transfer(on, Direction.READ, src, offset, count, Pointer.to(dst).withByteOffset((long) dstOffset * Short.BYTES),
                false);
    }

    /** convert.cl: a kernel per pair of types ({@link KernelName#convert}). */
    @Override
    protected void computeConvert(OpenClQueue on, AbstractBuffer src, AbstractBuffer dst, long n) {
        run(on, KernelName.convert(src.dtype(), dst.dtype()), n, mem(src), mem(dst), n);
    }

    /**
     * The elementwise kernels run on float16 and bfloat16 storage when every buffer of the call has the same type
     * (the program of that type); mixed calls are staged through float32.
     */
    @Override
    protected boolean computesNatively(Work work, List<AbstractBuffer> buffers) {
        boolean elementwise = work == Work.FORWARD || work == Work.BACKWARD || work == Work.BACKWARD_FROM_OUTPUT;
        return elementwise && buffers.stream().map(AbstractBuffer::dtype).distinct().count() == 1
                || super.computesNatively(work, buffers);
    }

    @Override
    protected void computeRead(OpenClQueue on, AbstractBuffer src, long offset, float[] dst, int dstOffset, int count) {
        transfer(on, Direction.READ, src, offset, count, Pointer.to(dst).withByteOffset((long) dstOffset * Float.BYTES),
                false);
    }

    /**
     * Direct and array-backed buffers go straight to the driver (a direct one, e.g. a mapped {@link HostBuffer}, is
     * left in flight on a stream); read-only heap buffers and buffers in the other byte order take the chunked path.
     */
    @Override
    protected void computeWrite(OpenClQueue on, AbstractBuffer dst, long offset, FloatBuffer src) {
        if (!src.isDirect() && !src.hasArray() || foreignOrder(src)) {
            super.computeWrite(on, dst, offset, src);
            return;
        }
        int count = src.remaining();
        transfer(on, Direction.WRITE, dst, offset, count, remaining(src), src.isDirect());
        src.position(src.position() + count);
    }

    @Override
    protected void computeRead(OpenClQueue on, AbstractBuffer src, long offset, FloatBuffer dst) {
        if (!dst.isDirect() && !dst.hasArray() || foreignOrder(dst)) {
            super.computeRead(on, src, offset, dst);
            return;
        }
        int count = dst.remaining();
        transfer(on, Direction.READ, src, offset, count, remaining(dst), dst.isDirect());
        dst.position(dst.position() + count);
    }

    /**
     * A direct buffer in the other byte order (big-endian, the default of {@code ByteBuffer.allocateDirect}) holds
     * its floats byte-swapped; the driver copies bytes, so it takes the chunked path, which converts them.
     */
    private static boolean foreignOrder(FloatBuffer floats) {
        return floats.isDirect() && floats.order() != ByteOrder.nativeOrder();
    }

    /**
     * The address of the remaining floats. A heap buffer is addressed through its array: JOCL's Pointer.to(Buffer)
     * ignores the array offset of a sliced heap buffer and would transfer from the array's start.
     */
    private static Pointer remaining(FloatBuffer floats) {
        return floats.isDirect() ? Pointer.to(floats.slice())
                : Pointer.to(floats.array()).withByteOffset((long) (floats.arrayOffset() + floats.position()) * Float.BYTES);
    }

    /** Which way a transfer goes. */
    private enum Direction {
        WRITE,
        READ
    }

    /**
     * A transfer between a buffer and host memory. A queue that waits blocks; a stream's leaves it in flight when
     * the host memory is a direct buffer (which the stream holds on to), and blocks for a heap array.
     */
    private void transfer(OpenClQueue on, Direction direction, AbstractBuffer buffer, long offset, long count,
                          Pointer host, boolean directHost) {
        boolean blocking = on.waits() || !directHost;
        long offsetBytes = offset * buffer.dtype().bytes();
        long bytes = count * buffer.dtype().bytes();
        complete(on, direction == Direction.WRITE ? on.write(mem(buffer), offsetBytes, bytes, host, blocking)
                : on.read(mem(buffer), offsetBytes, bytes, host, blocking));
    }

    /**
     * Finishes with a command enqueued on {@code on}: a queue that waits waits for it (and adds its device time
     * inside {@link #time}); a stream's command is left to its queue. Releases the event either way.
     */
    private void complete(OpenClQueue on, OpenClEvent command) {
        try (command) {
            if (!on.waits()) {
                return;
            }
            command.await();
            long[] timer = deviceNanos.get();
            if (timer != null) {
                timer[0] += command.elapsedNanos();
            }
        }
    }

    @Override
    public String device() {
        return device.shortName();
    }

    /** What the runtime reports about the device this backend runs on. */
    public OpenClDevice openClDevice() {
        return device;
    }

    /** The queue every command goes on. */
    public OpenClQueue queue() {
        return queue;
    }

    /** Whether the program binary came from the on-disk cache rather than a source build. */
    public boolean programFromCache() {
        return programFromCache;
    }

    /** Wall time to obtain the built program (cache lookup and load, or source build and cache write). */
    public long programNanos() {
        return programNanos;
    }

    /** The kernels the built program holds, as the device reports them. */
    Set<String> programKernelNames() {
        long[] size = new long[1];
        CL.clGetProgramInfo(program, CL.CL_PROGRAM_KERNEL_NAMES, 0, null, size);
        byte[] names = new byte[(int) size[0]];
        CL.clGetProgramInfo(program, CL.CL_PROGRAM_KERNEL_NAMES, names.length, Pointer.to(names), null);
        String list = new String(names, 0, Math.max(0, names.length - 1), StandardCharsets.US_ASCII);
        return Set.of(list.split(";"));
    }

    /** Work-group size of the reduction kernels (GPUACT_WG). */
    public int workGroupSize() {
        return workGroup;
    }

    void forceRowShape(RowKernelShape shape) {
        forcedRowShape = shape;
    }

    RowKernelShape rowShape(long cols) {
        RowKernelShape forced = forcedRowShape;
        return forced != null ? forced : RowKernelShape.choose(device, cols);
    }

    void forceElementwiseShape(ElementwiseShape shape) {
        forcedElementwiseShape = shape;
    }

    ElementwiseShape elementwiseShape() {
        ElementwiseShape forced = forcedElementwiseShape;
        return forced != null ? forced : ElementwiseShape.of(device);
    }

    private OpenClKernel kernel(String name) {
        return kernels.computeIfAbsent(name, n -> new OpenClKernel(n, CL.clCreateKernel(program, n, null)));
    }

    /** An elementwise kernel on {@code storage}: the main program's for float32, else the program of that type. */
    private OpenClKernel kernel(DType storage, String name) {
        if (storage == DType.FLOAT32) {
            return kernel(name);
        }
        return kernels.computeIfAbsent(name + "@" + storage, n -> new OpenClKernel(name,
                CL.clCreateKernel(storageProgram(storage), name, null)));
    }

    /** elementwise.cl built for 16-bit storage, the first time a call needs it (through the binary cache). */
    private cl_program storageProgram(DType storage) {
        return storagePrograms.computeIfAbsent(storage, t -> builder.build(context, device, KernelSource.elementwise(),
                buildOptions(workGroup) + " -DGPUACT_STORAGE=" + KernelName.storage(t)).program());
    }

    private long groups(long items) {
        return (items + workGroup - 1) / workGroup * workGroup;
    }

    /** Enqueues one kernel over {@code items} work-items (rounded up to whole groups) and completes it. */
    private void run(OpenClQueue on, String kernel, long items, Object... args) {
        launch(on, kernel, groups(items), args);
    }

    /** {@link #run} of an elementwise kernel on the storage type of its buffers. */
    private void runElementwise(OpenClQueue on, DType storage, String kernel, long items, Object... args) {
        complete(on, kernel(storage, kernel).launch(on, groups(items), workGroup, args));
    }

    /** Enqueues one kernel over {@code global} work-items in groups of the work-group size and completes it. */
    private void launch(OpenClQueue on, String kernel, long global, Object... args) {
        complete(on, kernel(kernel).launch(on, global, workGroup, args));
    }

    private static cl_mem mem(AbstractBuffer buffer) {
        return ((OpenClBuffer) buffer).mem();
    }

    @Override
    protected void computeForward(OpenClQueue on, Activation activation, AbstractBuffer x, AbstractBuffer y, long n) {
        ElementwiseShape shape = elementwiseShape();
        runElementwise(on, x.dtype(), shape.kernel(activation.op(), false), shape.items(n), mem(x), mem(y), n,
                activation.a(), activation.b());
    }

    @Override
    protected void computeBackward(OpenClQueue on, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                   AbstractBuffer dx, long n) {
        ElementwiseShape shape = elementwiseShape();
        runElementwise(on, x.dtype(), shape.kernel(activation.op(), true), shape.items(n), mem(x), mem(dy), mem(dx), n,
                activation.a(), activation.b());
    }

    @Override
    protected void computeBackwardFromOutput(OpenClQueue on, Activation activation, AbstractBuffer y, AbstractBuffer dy,
                                             AbstractBuffer dx, long n) {
        ElementwiseShape shape = elementwiseShape();
        runElementwise(on, y.dtype(), shape.kernelFromOutput(activation.op()), shape.items(n), mem(y), mem(dy), mem(dx),
                n, activation.a(), activation.b());
    }

    @Override
    protected void computeRowsBackwardFromOutput(OpenClQueue on, Activation activation, AbstractBuffer y,
                                                 AbstractBuffer dy, AbstractBuffer dx, RowLayout layout) {
        run(on, KernelName.of(activation.op(), KernelName.FROM_OUTPUT), layout.rows(), mem(y), mem(dy), mem(dx),
                layout.rows(), layout.cols(), layout.xStride(), layout.yStride(), activation.a());
    }

    @Override
    protected void computeRows(OpenClQueue on, Activation activation, AbstractBuffer x, AbstractBuffer y,
                               RowLayout layout) {
        rows(on, activation, KernelName.FORWARD, layout, mem(x), mem(y));
    }

    @Override
    protected void computeRowsBackward(OpenClQueue on, Activation activation, AbstractBuffer x, AbstractBuffer dy,
                                       AbstractBuffer dx, RowLayout layout) {
        rows(on, activation, KernelName.BACKWARD, layout, mem(x), mem(dy), mem(dx));
    }

    private void rows(OpenClQueue on, Activation activation, String direction, RowLayout layout, cl_mem... buffers) {
        if (activation.op() == Op.MAXOUT) {
            long pieces = (long) activation.param("pieces");
            long outCols = layout.cols() / pieces;
            run(on, KernelName.of(Op.MAXOUT, direction), layout.rows() * outCols, arguments(buffers, layout.rows(),
                    outCols, layout.xStride(), layout.yStride(), pieces));
            return;
        }
        Object[] args = arguments(buffers, layout.rows(), layout.cols(), layout.xStride(), layout.yStride(),
                activation.a(), activation.b());
        RowKernelShape shape = rowShape(layout.cols());
        String kernel = KernelName.of(activation.op(), direction, shape.suffix());
        if (shape == RowKernelShape.ITEM) {
            run(on, kernel, layout.rows(), args);
            return;
        }
        launch(on, kernel, layout.rows() * workGroup, args);
    }

    private static Object[] arguments(Object[] buffers, Object... scalars) {
        Object[] args = Arrays.copyOf(buffers, buffers.length + scalars.length, Object[].class);
        System.arraycopy(scalars, 0, args, buffers.length, scalars.length);
        return args;
    }

    @Override
    protected void computePrelu(OpenClQueue on, AbstractBuffer x, AbstractBuffer weight, AbstractBuffer y, long n,
                                long channels, long inner) {
        run(on, KernelName.of(Op.PRELU, KernelName.FORWARD), n, mem(x), mem(weight), mem(y), n, channels, inner);
    }

    /** dweight first: dx may be dy's buffer. */
    @Override
    protected void computePreluBackward(OpenClQueue on, AbstractBuffer x, AbstractBuffer weight, AbstractBuffer dy,
                                        AbstractBuffer dx, AbstractBuffer dweight, long n, long channels,
                                        long inner) {
        channelSum(on, KernelName.of(Op.PRELU, "dweight_partial"), new cl_mem[] {mem(x), mem(dy)}, dweight, n,
                channels, inner);
        if (n > 0) {
            run(on, KernelName.of(Op.PRELU, KernelName.BACKWARD), n, mem(x), mem(weight), mem(dy), mem(dx), n,
                    channels, inner);
        }
    }

    /**
     * Column sums of a dense [rows, channels] matrix (the last row may be partial) into {@code sums} in two fixed
     * stages, as {@link #channelSum}: chunks of rows per column, then each column adds its chunks in order.
     */
    private void columnSum(OpenClQueue on, AbstractBuffer values, AbstractBuffer sums, long n, long channels) {
        long rows = (n - 1) / channels + 1;
        long chunks = Math.max(1, Math.min(256, n / CHANNEL_CHUNK_ELEMENTS));
        long chunkRows = (rows + chunks - 1) / chunks;
        cl_mem partial = CL.clCreateBuffer(context, CL_MEM_READ_WRITE, 2 * channels * chunks * Float.BYTES, null, null);
        try {
            run(on, BIAS_COLUMN_SUM, channels * chunks, mem(values), partial, n, channels, chunks, chunkRows);
            run(on, KernelName.of(Op.PRELU, "dweight_finish"), channels, partial, mem(sums), channels, chunks);
        } finally {
            CL.clReleaseMemObject(partial);
        }
    }

    /**
     * A per-channel sum into {@code sums} in two fixed stages: {@code partialKernel} (taking {@code inputs}, the
     * partial buffer, n, channels, inner, chunks, chunk length, then {@code trailing}) sums chunks per work-group,
     * then each channel adds its chunks in order. The split depends only on n, channels, inner and the work-group
     * size, so the bits do not change from call to call. Zeros for n = 0.
     */
    private void channelSum(OpenClQueue on, String partialKernel, cl_mem[] inputs, AbstractBuffer sums, long n,
                            long channels, long inner, Object... trailing) {
        if (n == 0) {
            complete(on, on.fillZero(mem(sums), channels * Float.BYTES));
            return;
        }
        // Elements per channel at most, without overflow for any inner: a channel never has more than n.
        long blocks = (n - 1) / inner + 1;
        long blocksPerChannel = (blocks - 1) / channels + 1;
        long perChannel = blocksPerChannel > n / inner ? n : blocksPerChannel * inner;
        long chunks = Math.max(1, Math.min(256, perChannel / CHANNEL_CHUNK_ELEMENTS));
        long chunkLength = (perChannel + chunks - 1) / chunks;
        cl_mem partial = CL.clCreateBuffer(context, CL_MEM_READ_WRITE, 2 * channels * chunks * Float.BYTES, null, null);
        try {
            Object[] args = arguments(inputs, partial, n, channels, inner, chunks, chunkLength);
            launch(on, partialKernel, channels * chunks * workGroup, arguments(args, trailing));
            run(on, KernelName.of(Op.PRELU, "dweight_finish"), channels, partial, mem(sums), channels, chunks);
        } finally {
            CL.clReleaseMemObject(partial);
        }
    }

    /**
     * Whole work-groups per output row, so each group's row is one division (gated.cl); in the elementwise shape
     * of the device, a strip of columns per item on a CPU device.
     */
    @Override
    protected void computeGated(OpenClQueue on, Activation gate, GatedLayout layout, AbstractBuffer gateInput,
                                AbstractBuffer otherInput, AbstractBuffer y) {
        ElementwiseShape shape = elementwiseShape();
        long groupsPerRow = gatedGroupsPerRow(shape, layout);
        launch(on, shape.kernel(gate.op(), false), layout.rows() * groupsPerRow * workGroup,
                mem(gateInput), mem(otherInput), mem(y), groupsPerRow, layout.hidden(), layout.inputStride(),
                layout.gateOffset(), layout.otherOffset(), gate.a(), gate.b());
    }

    @Override
    protected void computeGatedBackward(OpenClQueue on, Activation gate, GatedLayout layout, AbstractBuffer gateInput,
                                        AbstractBuffer otherInput, AbstractBuffer dy, AbstractBuffer dGate,
                                        AbstractBuffer dOther) {
        ElementwiseShape shape = elementwiseShape();
        long groupsPerRow = gatedGroupsPerRow(shape, layout);
        launch(on, shape.kernel(gate.op(), true), layout.rows() * groupsPerRow * workGroup,
                mem(gateInput), mem(otherInput), mem(dy), mem(dGate), mem(dOther), groupsPerRow, layout.hidden(),
                layout.inputStride(), layout.gateOffset(), layout.otherOffset(), gate.a(), gate.b());
    }

    private long gatedGroupsPerRow(ElementwiseShape shape, GatedLayout layout) {
        return (shape.items(layout.hidden()) + workGroup - 1) / workGroup;
    }

    /**
     * The device's reported global memory: some runtimes (PoCL) accept allocations far beyond it and leave the
     * operating system to kill the process later, so this backend refuses them itself.
     */
    @Override
    protected long deviceMemoryLimit() {
        return memoryLimit;
    }

    /** Lowers the accounted memory limit, as a smaller device would have it (tests of the accounting). */
    void limitMemory(long bytes) {
        memoryLimit = Math.min(memoryLimit, bytes);
    }

    /** OpenCL has no portable free-memory query: the device's size and its largest single allocation. */
    @Override
    protected String freeMemory() {
        long global = OpenClDevices.deviceLong(device.id(), CL.CL_DEVICE_GLOBAL_MEM_SIZE, Sizeof.cl_ulong);
        long maxAlloc = OpenClDevices.deviceLong(device.id(), CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE, Sizeof.cl_ulong);
        return "the device has " + global + " bytes, at most " + maxAlloc + " in one buffer (OpenCL reports no free figure)";
    }

    /** The backend's own queue drains; streams finish theirs as they close. */
    @Override
    protected void awaitDeviceIdle() {
        queue.synchronize();
    }

    @Override
    protected void releaseDevice() {
        kernels.values().forEach(OpenClKernel::release);
        kernels.clear();
        storagePrograms.values().forEach(CL::clReleaseProgram);
        storagePrograms.clear();
        CL.clReleaseProgram(program);
        queue.release();
        if (ownsContext) {
            CL.clReleaseContext(context);
        }
    }

    @Override
    protected void computeMaskedRows(OpenClQueue on, Activation activation, AbstractBuffer x, AbstractBuffer y,
                                     RowLayout layout, RowMask mask, AbstractBuffer additive) {
        maskedRows(on, activation, KernelName.FORWARD, layout, mask, additive, mem(x), mem(y));
    }

    @Override
    protected void computeMaskedRowsBackward(OpenClQueue on, Activation activation, AbstractBuffer x,
                                             AbstractBuffer dy, AbstractBuffer dx, RowLayout layout, RowMask mask,
                                             AbstractBuffer additive) {
        maskedRows(on, activation, KernelName.BACKWARD, layout, mask, additive, mem(x), mem(dy), mem(dx));
    }

    /**
     * The *_masked_* row kernels: the plain ones' arguments, then the mask (NULL for none), the lengths copied to a
     * buffer of ints for the call (released once enqueued: OpenCL keeps it until the kernel is done) and the causal
     * limit.
     */
    private void maskedRows(OpenClQueue on, Activation activation, String direction, RowLayout layout, RowMask mask,
                            AbstractBuffer additive, cl_mem... buffers) {
        int[] lengths = mask.lengths();
        cl_mem lengthsMem = lengths == null ? null : CL.clCreateBuffer(context,
                CL.CL_MEM_READ_ONLY | CL.CL_MEM_COPY_HOST_PTR, (long) lengths.length * Sizeof.cl_int,
                Pointer.to(lengths), null);
        try {
            Object[] args = arguments(buffers, layout.rows(), layout.cols(), layout.xStride(), layout.yStride(),
                    activation.a(), activation.b(), additive == null ? OpenClKernel.NULL_BUFFER : mem(additive),
                    mask.rowsPerMaskRow(), lengthsMem == null ? OpenClKernel.NULL_BUFFER : lengthsMem,
                    mask.rowsPerLength(), mask.isCausal() ? 1 : 0, mask.offset(), mask.rowsPerQuery());
            RowKernelShape shape = rowShape(layout.cols());
            String kernel = KernelName.of(activation.op(), direction, "masked_" + shape.suffix());
            if (shape == RowKernelShape.ITEM) {
                run(on, kernel, layout.rows(), args);
            } else {
                launch(on, kernel, layout.rows() * workGroup, args);
            }
        } finally {
            if (lengthsMem != null) {
                CL.clReleaseMemObject(lengthsMem);
            }
        }
    }

    // ---- bias and activation ------------------------------------------------------------------------------

    @Override
    protected void computeBias(OpenClQueue on, Activation activation, AbstractBuffer x, AbstractBuffer bias,
                               AbstractBuffer y, long n, long channels, long inner) {
        ElementwiseShape shape = elementwiseShape();
        run(on, shape.biasKernel(activation.op()), shape.items(n), mem(x), mem(bias), mem(y), n, channels, inner,
                activation.a(), activation.b());
    }

    /**
     * One pass: the partial kernel writes dx as it sums it per channel (dx may be x's or dy's buffer). A bias per
     * column on a CPU device takes two: its per-channel groups would read x and dy a row apart, which PoCL cannot
     * vectorise (3.3x slower than the unfused sequence at 16M), so dx comes from the strip kernel and dbias from
     * column sums reading dx row by row.
     */
    @Override
    protected void computeBiasBackward(OpenClQueue on, Activation activation, AbstractBuffer x, AbstractBuffer bias,
                                       AbstractBuffer dy, AbstractBuffer dx, AbstractBuffer dbias, long n,
                                       long channels, long inner) {
        ElementwiseShape shape = elementwiseShape();
        if (shape == ElementwiseShape.STRIP && inner == 1 && n > 0) {
            run(on, shape.biasBackwardKernel(activation.op()), shape.items(n), mem(x), mem(bias), mem(dy), mem(dx), n,
                    channels, inner, activation.a(), activation.b());
            columnSum(on, dx, dbias, n, channels);
            return;
        }
        channelSum(on, KernelName.of(activation.op(), KernelName.BIAS_BACKWARD),
                new cl_mem[] {mem(x), mem(bias), mem(dy), mem(dx)}, dbias, n, channels, inner, activation.a(),
                activation.b());
    }
}
