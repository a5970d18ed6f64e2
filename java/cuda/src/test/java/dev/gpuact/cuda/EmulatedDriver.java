package dev.gpuact.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

/**
 * The driver calls of {@link CudaBackend} answered by the CUDA emulator ({@link EmulatorLibrary}), with the rules of
 * the real driver that the backend must follow: resources need their context current on the calling thread, a
 * sticky fault fails every later call until the primary context is released, releasing it frees what it held.
 * Work is synchronous (a launch has finished when it returns), so streams and events only keep their identity.
 * The hooks {@link #faultNextLaunch()}, {@link #failNextAllocation(String)} and {@link #failHostAllocations(int)}
 * inject the failures a real device has.
 */
final class EmulatedDriver implements CudaDriver {
    /** An H100's or H200's 227 KiB. */
    static final int OPT_IN_SHARED_BYTES = 232_448;
    private final int optInSharedBytes;
    private final CUcontext primary = new CUcontext();
    private final ThreadLocal<Deque<CUcontext>> currentStack = ThreadLocal.withInitial(ArrayDeque::new);
    private final Set<Long> deviceMemory = ConcurrentHashMap.newKeySet();
    private final Set<Long> hostMemory = ConcurrentHashMap.newKeySet();
    private final Map<Object, Long> liveHandles = Collections.synchronizedMap(new IdentityHashMap<>());
    private final Map<CUfunction, String> functionNames = Collections.synchronizedMap(new IdentityHashMap<>());
    private int retained;

    /** A device with an H100's or H200's opt-in shared memory. */
    EmulatedDriver() {
        this(OPT_IN_SHARED_BYTES);
    }

    /** A device that lets a block opt in to {@code optInSharedBytes} of shared memory. */
    EmulatedDriver(int optInSharedBytes) {
        this.optInSharedBytes = optInSharedBytes;
    }
    private volatile String sticky;
    private volatile boolean faultNextLaunch;
    private volatile int hostAllocationsLeft = Integer.MAX_VALUE;
    private volatile String nextAllocationFailure;
    private volatile CUstream lastLaunchStream;

    /** The stream of the latest launch, as the backend handed it to the driver. */
    CUstream lastLaunchStream() {
        return lastLaunchStream;
    }

    /** The next launch fails as an illegal memory access does on a GPU: sticky, until the context is released. */
    void faultNextLaunch() {
        faultNextLaunch = true;
    }

    /** The next device allocation fails with {@code result}, a CUresult name such as CUDA_ERROR_INVALID_VALUE. */
    void failNextAllocation(String result) {
        nextAllocationFailure = result;
    }

    /** Pinned host allocations after the next {@code successes} fail. */
    void failHostAllocations(int successes) {
        hostAllocationsLeft = successes;
    }

    /** Makes {@code context} (say, an engine's own) current on this thread, as cuCtxSetCurrent would. */
    void setCurrent(CUcontext context) {
        Deque<CUcontext> stack = currentStack.get();
        stack.pollFirst();
        stack.push(context);
    }

    CUcontext currentContext() {
        return currentStack.get().peek();
    }

    synchronized int retainedContexts() {
        return retained;
    }

    /** Device and pinned allocations, streams, events and modules not yet freed. */
    int liveResources() {
        return deviceMemory.size() + hostMemory.size() + liveHandles.size();
    }

    private synchronized void requireContext() {
        if (retained == 0 || currentStack.get().peek() != primary) {
            throw new CudaException("CUDA_ERROR_INVALID_CONTEXT (emulated driver: the backend's context is not "
                    + "current on thread " + Thread.currentThread().getName() + ")");
        }
        if (sticky != null) {
            throw new CudaException(sticky);
        }
    }

    private <T> T track(T handle) {
        liveHandles.put(handle, 1L);
        return handle;
    }

    private void untrack(Object handle) {
        if (liveHandles.remove(handle) == null) {
            throw new CudaException("CUDA_ERROR_INVALID_HANDLE (emulated driver: " + handle + " is not live)");
        }
    }

    private static long address(CUdeviceptr pointer) {
        return DeviceAddress.of(pointer);
    }

    @Override
    public synchronized CUcontext retainPrimaryContext(int ordinal) {
        retained++;
        return primary;
    }

    @Override
    public synchronized void releasePrimaryContext(int ordinal) {
        if (retained == 0) {
            throw new CudaException("CUDA_ERROR_INVALID_CONTEXT (emulated driver: released more often than retained)");
        }
        if (--retained == 0) {
            // Destroying the context frees its memory (pinned host memory too) and clears a sticky fault.
            deviceMemory.forEach(EmulatorLibrary::free);
            deviceMemory.clear();
            hostMemory.forEach(EmulatorLibrary::freeHost);
            hostMemory.clear();
            liveHandles.clear();
            sticky = null;
        }
    }

    @Override
    public void pushContext(CUcontext context) {
        currentStack.get().push(context);
    }

    @Override
    public void popContext() {
        if (currentStack.get().poll() == null) {
            throw new CudaException("CUDA_ERROR_INVALID_CONTEXT (emulated driver: pop without push)");
        }
    }

    @Override
    public CUmodule loadModule(byte[] image) {
        requireContext();
        return track(new CUmodule());
    }

    @Override
    public void unloadModule(CUmodule module) {
        requireContext();
        untrack(module);
    }

    @Override
    public CUfunction function(CUmodule module, String name) {
        requireContext();
        if (!java.util.Arrays.asList(EmulatorLibrary.kernels()).contains(name)) {
            throw new CudaException("CUDA_ERROR_NOT_FOUND (no kernel " + name + " in the module)");
        }
        CUfunction f = new CUfunction();
        functionNames.put(f, name);
        return f;
    }

    @Override
    public int sharedBytesPerBlockOptIn(int ordinal) {
        return optInSharedBytes;
    }

    /** The emulator, like a real driver, refuses more than 48 KiB of dynamic shared memory unless told this. */
    @Override
    public void allowDynamicShared(CUfunction function, int blockSharedBytes) {
        requireContext();
        EmulatorLibrary.setMaxDynamicShared(functionNames.get(function),
                blockSharedBytes - SoftmaxPlan.BLOCK_STATIC_SHARED_BYTES);
    }

    @Override
    public CUstream createStream() {
        requireContext();
        return track(new CUstream());
    }

    @Override
    public void destroyStream(CUstream stream) {
        requireContext();
        untrack(stream);
    }

    @Override
    public void synchronize(CUstream stream) {
        requireContext();
    }

    @Override
    public void synchronizeContext() {
        requireContext();
    }

    @Override
    public CUevent createEvent(boolean timing) {
        requireContext();
        return track(new CUevent());
    }

    @Override
    public void record(CUevent event, CUstream stream) {
        requireContext();
        liveHandles.put(event, System.nanoTime());
    }

    @Override
    public void synchronize(CUevent event) {
        requireContext();
    }

    @Override
    public float elapsedMillis(CUevent start, CUevent stop) {
        requireContext();
        return (liveHandles.get(stop) - liveHandles.get(start)) / 1e6f;
    }

    @Override
    public void destroyEvent(CUevent event) {
        requireContext();
        untrack(event);
    }

    @Override
    public CUdeviceptr alloc(long bytes) {
        requireContext();
        String failure = nextAllocationFailure;
        if (failure != null) {
            nextAllocationFailure = null;
            throw new CudaException(failure + " (emulated driver: injected)");
        }
        long a;
        try {
            a = EmulatorLibrary.alloc(bytes);
        } catch (CudaException e) {
            // The real driver's word for it: its code leads the message.
            throw new CudaException((e.getMessage().contains("out of memory") ? "CUDA_ERROR_OUT_OF_MEMORY" : "CUDA_ERROR_UNKNOWN")
                    + " (" + e.getMessage() + ")", e);
        }
        deviceMemory.add(a);
        return new CUdeviceptr().withByteOffset(a);
    }

    @Override
    public void free(CUdeviceptr pointer) {
        requireContext();
        long a = address(pointer);
        if (!deviceMemory.remove(a)) {
            throw new CudaException("CUDA_ERROR_INVALID_VALUE (emulated driver: 0x" + Long.toHexString(a)
                    + " is not a live allocation)");
        }
        EmulatorLibrary.free(a);
    }

    /** A pointer at a native address (JCuda keeps the constructor for subclasses). */
    private static final class HostPointer extends Pointer {
        HostPointer(long address) {
            super(address);
        }
    }

    @Override
    public Pointer allocHost(long bytes) {
        requireContext();
        synchronized (this) {
            if (hostAllocationsLeft-- <= 0) {
                throw new CudaException("CUDA_ERROR_OUT_OF_MEMORY (emulated driver: injected)");
            }
        }
        long a = EmulatorLibrary.allocHost(bytes);
        hostMemory.add(a);
        return new HostPointer(a);
    }

    @Override
    public ByteBuffer hostBytes(Pointer memory, long offset, long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a ByteBuffer holds at most " + Integer.MAX_VALUE + " bytes, asked for " + bytes);
        }
        return EmulatorLibrary.view(EmulatorLibrary.hostAddress(memory) + offset, bytes).order(ByteOrder.BIG_ENDIAN);
    }

    @Override
    public void freeHost(Pointer memory) {
        requireContext();
        long a = EmulatorLibrary.hostAddress(memory);
        if (!hostMemory.remove(a)) {
            throw new CudaException("CUDA_ERROR_INVALID_VALUE (emulated driver: not pinned memory)");
        }
        EmulatorLibrary.freeHost(a);
    }

    @Override
    public void memsetD32(CUdeviceptr dst, int value, long count, CUstream stream) {
        requireContext();
        EmulatorLibrary.memsetD32(address(dst), value, count);
    }

    @Override
    public void copyHostToDevice(CUdeviceptr dst, Pointer src, long bytes, CUstream stream) {
        requireContext();
        EmulatorLibrary.copy(address(dst), true, EmulatorLibrary.hostAddress(src), false, bytes);
    }

    @Override
    public void copyDeviceToHost(Pointer dst, CUdeviceptr src, long bytes, CUstream stream) {
        requireContext();
        EmulatorLibrary.copy(EmulatorLibrary.hostAddress(dst), false, address(src), true, bytes);
    }

    @Override
    public void copyDeviceToDevice(CUdeviceptr dst, CUdeviceptr src, long bytes, CUstream stream) {
        requireContext();
        EmulatorLibrary.copy(address(dst), true, address(src), true, bytes);
    }

    @Override
    public long[] addressRange(CUdeviceptr pointer) {
        requireContext();
        return EmulatorLibrary.addressRange(address(pointer));
    }

    @Override
    public long[] memInfo() {
        requireContext();
        return EmulatorLibrary.memInfo();
    }

    @Override
    public void launch(CUfunction function, Launch shape, CUstream stream, KernelArgs args) {
        requireContext();
        lastLaunchStream = stream;
        String name = functionNames.get(function);
        if (faultNextLaunch) {
            faultNextLaunch = false;
            sticky = "CUDA_ERROR_ILLEGAL_ADDRESS (emulated driver: injected into " + name + ")";
            throw new CudaException(sticky);
        }
        int[] types = new int[args.count()];
        ByteBuffer packed = ByteBuffer.allocate(args.count() * 8 + KernelArgs.LONG_ARGS_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < args.count(); i++) {
            types[i] = args.type(i).ordinal();
            int at = packed.position();
            switch (args.type(i)) {
                case I64 -> packed.putLong(args.longs[i][0]);
                case F32 -> packed.putFloat(args.floats[i][0]);
                case I32 -> packed.putInt(args.ints[i][0]);
                case LONG_ARGS -> packed.put(args.longArgs);
            }
            packed.position(at + (args.type(i) == KernelArgs.Type.LONG_ARGS ? KernelArgs.LONG_ARGS_BYTES : 8));
        }
        EmulatorLibrary.launch(name, shape.grid(), shape.block(), shape.sharedBytes(), packed.array(), types);
    }
}
