package dev.gpuact.cuda;

import java.nio.ByteBuffer;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/** The driver calls made through JCuda on a real device. */
final class JCudaCalls implements CudaDriver {
    private final ThreadLocal<Launcher> launchers = ThreadLocal.withInitial(Launcher::new);

    JCudaCalls() {
        JCudaDriver.setExceptionsEnabled(true);
    }

    private static CUdevice device(int ordinal) {
        CUdevice device = new CUdevice();
        JCudaDriver.cuDeviceGet(device, ordinal);
        return device;
    }

    @Override
    public CUcontext retainPrimaryContext(int ordinal) {
        CUcontext context = new CUcontext();
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device(ordinal));
        return context;
    }

    @Override
    public void releasePrimaryContext(int ordinal) {
        JCudaDriver.cuDevicePrimaryCtxRelease(device(ordinal));
    }

    @Override
    public void pushContext(CUcontext context) {
        JCudaDriver.cuCtxPushCurrent(context);
    }

    @Override
    public void popContext() {
        JCudaDriver.cuCtxPopCurrent(new CUcontext());
    }

    @Override
    public CUmodule loadModule(byte[] image) {
        CUmodule module = new CUmodule();
        JCudaDriver.cuModuleLoadData(module, image);
        return module;
    }

    @Override
    public void unloadModule(CUmodule module) {
        JCudaDriver.cuModuleUnload(module);
    }

    @Override
    public CUfunction function(CUmodule module, String name) {
        CUfunction f = new CUfunction();
        JCudaDriver.cuModuleGetFunction(f, module, name);
        return f;
    }

    @Override
    public int sharedBytesPerBlockOptIn(int ordinal) {
        int[] bytes = new int[1];
        JCudaDriver.cuDeviceGetAttribute(bytes, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                device(ordinal));
        return bytes[0];
    }

    @Override
    public void allowDynamicShared(CUfunction function, int blockSharedBytes) {
        int[] staticBytes = new int[1];
        JCudaDriver.cuFuncGetAttribute(staticBytes, CUfunction_attribute.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, function);
        JCudaDriver.cuFuncSetAttribute(function, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                blockSharedBytes - staticBytes[0]);
    }

    @Override
    public CUstream createStream() {
        CUstream stream = new CUstream();
        JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        return stream;
    }

    @Override
    public void destroyStream(CUstream stream) {
        JCudaDriver.cuStreamDestroy(stream);
    }

    @Override
    public void synchronize(CUstream stream) {
        JCudaDriver.cuStreamSynchronize(stream);
    }

    @Override
    public void synchronizeContext() {
        JCudaDriver.cuCtxSynchronize();
    }

    @Override
    public CUevent createEvent(boolean timing) {
        CUevent event = new CUevent();
        JCudaDriver.cuEventCreate(event, timing ? CUevent_flags.CU_EVENT_DEFAULT : CUevent_flags.CU_EVENT_DISABLE_TIMING);
        return event;
    }

    @Override
    public void record(CUevent event, CUstream stream) {
        JCudaDriver.cuEventRecord(event, stream);
    }

    @Override
    public void synchronize(CUevent event) {
        JCudaDriver.cuEventSynchronize(event);
    }

    @Override
    public float elapsedMillis(CUevent start, CUevent stop) {
        float[] ms = new float[1];
        JCudaDriver.cuEventElapsedTime(ms, start, stop);
        return ms[0];
    }

    @Override
    public void destroyEvent(CUevent event) {
        JCudaDriver.cuEventDestroy(event);
    }

    @Override
    public CUdeviceptr alloc(long bytes) {
        CUdeviceptr pointer = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(pointer, bytes);
        return pointer;
    }

    @Override
    public void free(CUdeviceptr pointer) {
        JCudaDriver.cuMemFree(pointer);
    }

    @Override
    public Pointer allocHost(long bytes) {
        Pointer memory = new Pointer();
        JCudaDriver.cuMemAllocHost(memory, bytes);
        return memory;
    }

    @Override
    public ByteBuffer hostBytes(Pointer memory, long offset, long bytes) {
        return memory.getByteBuffer(offset, bytes);
    }

    @Override
    public void freeHost(Pointer memory) {
        JCudaDriver.cuMemFreeHost(memory);
    }

    @Override
    public void memsetD32(CUdeviceptr dst, int value, long count, CUstream stream) {
        JCudaDriver.cuMemsetD32Async(dst, value, count, stream);
    }

    @Override
    public void copyHostToDevice(CUdeviceptr dst, Pointer src, long bytes, CUstream stream) {
        JCudaDriver.cuMemcpyHtoDAsync(dst, src, bytes, stream);
    }

    @Override
    public void copyDeviceToHost(Pointer dst, CUdeviceptr src, long bytes, CUstream stream) {
        JCudaDriver.cuMemcpyDtoHAsync(dst, src, bytes, stream);
    }

    @Override
    public void copyDeviceToDevice(CUdeviceptr dst, CUdeviceptr src, long bytes, CUstream stream) {
        JCudaDriver.cuMemcpyDtoDAsync(dst, src, bytes, stream);
    }

    @Override
    public long[] addressRange(CUdeviceptr pointer) {
        CUdeviceptr base = new CUdeviceptr();
        long[] size = new long[1];
        JCudaDriver.cuMemGetAddressRange(base, size, pointer);
        return new long[] {DeviceAddress.of(base), size[0]};
    }

    @Override
    public long[] memInfo() {
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    @Override
    public void launch(CUfunction function, Launch shape, CUstream stream, KernelArgs args) {
        JCudaDriver.cuLaunchKernel(function, shape.grid(), 1, 1, shape.block(), 1, 1, shape.sharedBytes(), stream,
                launchers.get().parameters(args), null);
    }

    /** A thread's native parameter arrays over its argument slots, one per signature, built once. */
    private static final class Launcher {
        private final long[] signatures = new long[32];
        private final Pointer[] built = new Pointer[32];
        private KernelArgs slots;
        private int size;

        Pointer parameters(KernelArgs args) {
            if (args != slots) {
                slots = args;  // a thread's backends each have their own slots
                size = 0;
            }
            long signature = args.signature();
            for (int i = 0; i < size; i++) {
                if (signatures[i] == signature) {
                    return built[i];
                }
            }
            Pointer[] pointers = new Pointer[args.count()];
            for (int i = 0; i < pointers.length; i++) {
                pointers[i] = switch (args.type(i)) {
                    case I64 -> Pointer.to(args.longs[i]);
                    case F32 -> Pointer.to(args.floats[i]);
                    case I32 -> Pointer.to(args.ints[i]);
                    case LONG_ARGS -> Pointer.to(args.longArgs);
                };
            }
            Pointer p = Pointer.to(pointers);
            if (size < signatures.length) {
                signatures[size] = signature;
                built[size++] = p;
            }
            return p;
        }
    }
}
