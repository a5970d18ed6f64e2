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
import dev.gpuact.OutOfDeviceMemoryException;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import dev.gpuact.spi.AbstractBackend;
import dev.gpuact.spi.AbstractBuffer;
import dev.gpuact.spi.KernelName;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
 * an in-order queue of its own.
 *
 * <p>{@link #open} creates its own context and queue; {@link #wrap(cl_context, cl_device_id, cl_command_queue)}
 * runs on a host engine's, which it never releases (the engine must keep them alive until this backend is
 * closed), and {@link #wrap(cl_mem, long)} applies activations to the engine's cl_mem without a copy. The
 * program comes from an on-disk binary cache when it can (see {@link #programFromCache()}).
 */
public final class OpenClBackend extends AbstractBackend {
    private static final int MAX_WORK_GROUP = 256;
    /** PReLU's dweight: a chunk per work-group of about this many elements of a channel, at most 256 chunks. */
    private static final long PRELU_CHUNK_ELEMENTS = 1L << 16;

    private final OpenClDevice device;
    private final cl_context context;
    private final boolean ownsContext;
    private final OpenClQueue queue;
    private final cl_program program;
    private final boolean programFromCache;
    private final long programNanos;
    private final int workGroup;
    private final Map<String, OpenClKernel> kernels = new ConcurrentHashMap<>();
    /** Tests force a shape to check every shape on one device; null means choose by device type (and op). */
    private volatile RowKernelShape forcedRowShape;
    private volatile ElementwiseShape forcedElementwiseShape;
    /** The stream queue this thread is enqueueing on (commands are then not waited for); null: the backend's. */
    private final ThreadLocal<OpenClQueue> streamQueue = new ThreadLocal<>();
    /** Device nanoseconds of the commands this thread completed inside {@link #time}; null outside it. */
    private final ThreadLocal<long[]> deviceNanos = new ThreadLocal<>();
    /** Released before the context when the backend closes, so none outlives it. */
    private final Set<OpenClStream> streams = ConcurrentHashMap.newKeySet();
    private final Set<OpenClHostBuffer> hostBuffers = ConcurrentHashMap.newKeySet();
    private volatile long memoryLimit;

    private OpenClBackend(OpenClDevice device, cl_context context, boolean ownsContext, OpenClQueue queue,
                          ProgramBuilder builder) {
        super("opencl");
        this.device = device;
        this.context = context;
        this.ownsContext = ownsContext;
        this.queue = queue;
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

    static String buildOptions(int workGroup) {
        return "-DGPUACT_WG=" + workGroup + " -DGPUACT_STRIP=" + ElementwiseShape.STRIP_ELEMENTS;
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
            queue = OpenClQueue.create(context, device.id());
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
        return new OpenClBackend(OpenClDevices.describe(-1, device), context, false, new OpenClQueue(queue, false),
                new ProgramBuilder(ProgramBuilder.defaultCacheDir()));
    }

    /**
     * The first {@code length} floats of a cl_mem the host engine owns, as a buffer of this backend: no copy;
     * closing it does not release the cl_mem.
     *
     * @throws IllegalArgumentException if the cl_mem belongs to another context or holds fewer bytes
     */
    public DeviceBuffer wrap(cl_mem mem, long length) {
        Objects.requireNonNull(mem, "mem");
        requireOpen();
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        long[] size = new long[1];
        CL.clGetMemObjectInfo(mem, CL_MEM_SIZE, Sizeof.size_t, Pointer.to(size), null);
        if (size[0] < length * Float.BYTES) {
            throw new IllegalArgumentException("mem holds " + size[0] + " bytes but " + length + " floats need "
                    + length * Float.BYTES);
        }
        cl_context owner = new cl_context();
        CL.clGetMemObjectInfo(mem, CL_MEM_CONTEXT, Sizeof.cl_context, Pointer.to(owner), null);
        if (!owner.equals(context)) {
            throw new IllegalArgumentException("mem belongs to another cl_context than this backend's");
        }
        return new OpenClBuffer(this, length, new OpenClBuffer.ClMemory(mem, length * Float.BYTES, false));
    }

    @Override
    protected AbstractBuffer newBuffer(DType dtype, long length) {
        long bytes = length * Float.BYTES;
        if (length == 0) {
            return new OpenClBuffer(this, 0, new OpenClBuffer.ClMemory(null, 0, true));
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
        return new OpenClBuffer(this, length, memory);
    }

    /**
     * Memory from CL_MEM_ALLOC_HOST_PTR, mapped: GPU drivers back it with page-locked memory their DMA engines read
     * directly, so it is reported pinned there; a CPU device's memory is ordinary host memory, so there it is not
     * (transfers from it still skip any Java-side copy).
     */
    @Override
    public HostBuffer allocateHost(int length) {
        return guarded(() -> {
            requireOpen();
            HostBuffer.checkLength(length);
            if (length == 0) {
                return HostBuffer.direct(0); // OpenCL has no empty memory objects
            }
            HostBuffer.reclaimClosed();
            long bytes = (long) length * Float.BYTES;
            cl_mem mem;
            try {
                mem = CL.clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes, null, null);
            } catch (CLException e) {
                throw hostAllocationFailed(length, e);
            }
            OpenClHostBuffer host;
            try {
                host = new OpenClHostBuffer(this, mem, queue.map(mem, bytes), !device.isCpu());
            } catch (CLException e) {
                CL.clReleaseMemObject(mem);
                throw hostAllocationFailed(length, e);
            }
            hostBuffers.add(host);
            return host;
        });
    }

    private RuntimeException hostAllocationFailed(int length, CLException e) {
        NativeCallException failure = nativeFailure(e);
        if (!failure.outOfMemory()) {
            return failure;
        }
        return new OutOfDeviceMemoryException(name() + ": cannot allocate " + length + " floats of mapped host memory: "
                + failure.getMessage(), failure);
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

    void hostBufferClosed(OpenClHostBuffer host) {
        hostBuffers.remove(host);
    }

    /** Host buffers from {@link #allocateHost} not yet closed. */
    int openHostBuffers() {
        return hostBuffers.size();
    }

    /** A stream on a new in-order queue in this backend's context. */
    @Override
    public Stream newStream() {
        return guarded(() -> {
            requireOpen();
            OpenClStream stream = new OpenClStream(this, OpenClQueue.create(context, device.id()));
            streams.add(stream);
            return stream;
        });
    }

    void streamClosed(OpenClStream stream) {
        streams.remove(stream);
    }

    /** Streams from {@link #newStream} not yet closed. */
    int openStreams() {
        return streams.size();
    }

    /** Runs {@code call} (a checked entry point of this backend) so that its commands go on the stream's queue. */
    void enqueueOn(OpenClStream stream, Runnable call) {
        // The lifecycle lock before the stream's monitor, in the order close() takes them (it closes the streams
        // while holding the lock): the other order deadlocks a stream's call against close().
        guarded(() -> {
            synchronized (stream) {
                stream.requireOpen();
                OpenClQueue outer = streamQueue.get();
                streamQueue.set(stream.queue());
                try {
                    call.run();
                } finally {
                    streamQueue.set(outer);
                }
            }
        }, stream);
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
    protected void computeCopy(AbstractBuffer src, AbstractBuffer dst, long n) {
        complete(target().copy(mem(src), mem(dst), n * Float.BYTES));
    }

    /**
     * A transfer between a buffer and host memory. On the backend's queue it blocks; on a stream it is left in
     * flight when the host memory is a direct buffer (which the stream holds on to), and blocks for a heap array.
     */
    void transfer(OpenClBuffer.Direction direction, cl_mem mem, long offset, long count, Pointer host,
                  boolean directHost) {
        OpenClQueue on = target();
        boolean blocking = on == queue || !directHost;
        long offsetBytes = offset * Float.BYTES;
        long bytes = count * Float.BYTES;
        complete(direction == OpenClBuffer.Direction.WRITE ? on.write(mem, offsetBytes, bytes, host, blocking)
                : on.read(mem, offsetBytes, bytes, host, blocking));
    }

    /** The queue this thread's commands go on: a stream's while it enqueues, else the backend's own. */
    private OpenClQueue target() {
        OpenClQueue stream = streamQueue.get();
        return stream != null ? stream : queue;
    }

    /**
     * Finishes with a command enqueued on {@link #target()}: on the backend's queue waits for it (and adds its
     * device time inside {@link #time}); a stream's command is left to its queue. Releases the event either way.
     */
    private void complete(OpenClEvent command) {
        try (command) {
            if (streamQueue.get() != null) {
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

    ElementwiseShape elementwiseShape(Op op, boolean backward) {
        ElementwiseShape forced = forcedElementwiseShape;
        return forced != null ? forced : ElementwiseShape.choose(device, op, backward);
    }

    private OpenClKernel kernel(String name) {
        return kernels.computeIfAbsent(name, n -> new OpenClKernel(n, CL.clCreateKernel(program, n, null)));
    }

    private long groups(long items) {
        return (items + workGroup - 1) / workGroup * workGroup;
    }

    /** Enqueues one kernel over {@code items} work-items (rounded up to whole groups) and completes it. */
    private void run(String kernel, long items, Object... args) {
        complete(kernel(kernel).launch(target(), groups(items), workGroup, args));
    }

    private static cl_mem mem(AbstractBuffer buffer) {
        return ((OpenClBuffer) buffer).mem();
    }

    @Override
    protected void computeForward(Activation activation, AbstractBuffer x, AbstractBuffer y, long n) {
        ElementwiseShape shape = elementwiseShape(activation.op(), false);
        run(shape.kernel(activation.op(), false), shape.items(n), mem(x), mem(y), n, activation.a(), activation.b());
    }

    @Override
    protected void computeBackward(Activation activation, AbstractBuffer x, AbstractBuffer dy, AbstractBuffer dx,
                                   long n) {
        ElementwiseShape shape = elementwiseShape(activation.op(), true);
        run(shape.kernel(activation.op(), true), shape.items(n), mem(x), mem(dy), mem(dx), n, activation.a(),
                activation.b());
    }

    @Override
    protected void computeBackwardFromOutput(Activation activation, AbstractBuffer y, AbstractBuffer dy,
                                             AbstractBuffer dx, long n) {
        ElementwiseShape shape = ElementwiseShape.fromOutput(device);
        run(shape.kernelFromOutput(activation.op()), shape.items(n), mem(y), mem(dy), mem(dx), n, activation.a(),
                activation.b());
    }

    @Override
    protected void computeRowsBackwardFromOutput(Activation activation, AbstractBuffer y, AbstractBuffer dy,
                                                 AbstractBuffer dx, RowLayout layout) {
        run(KernelName.of(activation.op(), KernelName.FROM_OUTPUT), layout.rows(), mem(y), mem(dy), mem(dx),
                layout.rows(), layout.cols(), layout.xStride(), layout.yStride(), activation.a());
    }

    @Override
    protected void computeRows(Activation activation, AbstractBuffer x, AbstractBuffer y, RowLayout layout) {
        rows(activation, KernelName.FORWARD, layout, mem(x), mem(y));
    }

    @Override
    protected void computeRowsBackward(Activation activation, AbstractBuffer x, AbstractBuffer dy, AbstractBuffer dx,
                                       RowLayout layout) {
        rows(activation, KernelName.BACKWARD, layout, mem(x), mem(dy), mem(dx));
    }

    private void rows(Activation activation, String direction, RowLayout layout, cl_mem... buffers) {
        if (activation.op() == Op.MAXOUT) {
            long pieces = (long) activation.param("pieces");
            long outCols = layout.cols() / pieces;
            run(KernelName.of(Op.MAXOUT, direction), layout.rows() * outCols, arguments(buffers, layout.rows(),
                    outCols, layout.xStride(), layout.yStride(), pieces));
            return;
        }
        Object[] args = arguments(buffers, layout.rows(), layout.cols(), layout.xStride(), layout.yStride(),
                activation.a(), activation.b());
        RowKernelShape shape = rowShape(layout.cols());
        String kernel = KernelName.of(activation.op(), direction, shape.suffix());
        if (shape == RowKernelShape.ITEM) {
            run(kernel, layout.rows(), args);
            return;
        }
        complete(kernel(kernel).launch(target(), layout.rows() * workGroup, workGroup, args));
    }

    private static Object[] arguments(cl_mem[] buffers, Object... scalars) {
        Object[] args = Arrays.copyOf(buffers, buffers.length + scalars.length, Object[].class);
        System.arraycopy(scalars, 0, args, buffers.length, scalars.length);
        return args;
    }

    @Override
    protected void computePrelu(AbstractBuffer x, AbstractBuffer weight, AbstractBuffer y, long n, long channels,
                                long inner) {
        run(KernelName.of(Op.PRELU, KernelName.FORWARD), n, mem(x), mem(weight), mem(y), n, channels, inner);
    }

    /**
     * dweight first (dx may be dy's buffer), in two fixed stages: chunk sums per work-group, then each channel
     * adds its chunks in order. The split depends only on n, channels, inner and the work-group size.
     */
    @Override
    protected void computePreluBackward(AbstractBuffer x, AbstractBuffer weight, AbstractBuffer dy,
                                        AbstractBuffer dx, AbstractBuffer dweight, long n, long channels,
                                        long inner) {
        if (n == 0) {
            complete(target().fillZero(mem(dweight), channels * Float.BYTES));
            return;
        }
        // Elements per channel at most, without overflow for any inner: a channel never has more than n.
        long blocks = (n - 1) / inner + 1;
        long blocksPerChannel = (blocks - 1) / channels + 1;
        long perChannel = blocksPerChannel > n / inner ? n : blocksPerChannel * inner;
        long chunks = Math.max(1, Math.min(256, perChannel / PRELU_CHUNK_ELEMENTS));
        long chunkLength = (perChannel + chunks - 1) / chunks;
        cl_mem partial = CL.clCreateBuffer(context, CL_MEM_READ_WRITE, 2 * channels * chunks * Float.BYTES, null, null);
        try {
            complete(kernel(KernelName.of(Op.PRELU, "dweight_partial")).launch(target(), channels * chunks * workGroup,
                    workGroup, mem(x), mem(dy), partial, n, channels, inner, chunks, chunkLength));
            complete(kernel(KernelName.of(Op.PRELU, "dweight_finish")).launch(target(), groups(channels), workGroup,
                    partial, mem(dweight), channels, chunks));
        } finally {
            CL.clReleaseMemObject(partial);
        }
        run(KernelName.of(Op.PRELU, KernelName.BACKWARD), n, mem(x), mem(weight), mem(dy), mem(dx), n, channels, inner);
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

    /** Streams finish their work as they close; then the backend's own queue drains. */
    @Override
    protected void awaitDeviceIdle() {
        new ArrayList<>(streams).forEach(OpenClStream::close);
        queue.finish();
    }

    @Override
    protected void releaseDevice() {
        new ArrayList<>(hostBuffers).forEach(HostBuffer::close);
        kernels.values().forEach(OpenClKernel::release);
        kernels.clear();
        CL.clReleaseProgram(program);
        queue.release();
        if (ownsContext) {
            CL.clReleaseContext(context);
        }
    }
}
