package dev.gpuact.cuda;

import java.nio.ByteBuffer;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

/**
 * The CUDA driver calls {@link CudaBackend} makes, one method each. {@link JCudaCalls} makes them on a real device;
 * the tests have an emulator behind the same calls, so the backend's own launch logic drives the kernels there.
 * Every method throws {@link jcuda.CudaException} when the driver reports an error.
 */
interface CudaDriver {
    CUcontext retainPrimaryContext(int ordinal);

    void releasePrimaryContext(int ordinal);

    /** Makes {@code context} current on this thread until the matching {@link #popContext()}. */
    void pushContext(CUcontext context);

    void popContext();

    CUmodule loadModule(byte[] image);

    void unloadModule(CUmodule module);

    CUfunction function(CUmodule module, String name);

    /** Shared memory one block may use once its kernel opts in (MAX_SHARED_MEMORY_PER_BLOCK_OPTIN). */
    int sharedBytesPerBlockOptIn(int ordinal);

    /**
     * Lets {@code function} be launched with up to {@code blockSharedBytes} of shared memory in all, its static
     * shared memory included (MAX_DYNAMIC_SHARED_SIZE_BYTES); without it a launch may ask for 48 KiB at most.
     */
    void allowDynamicShared(CUfunction function, int blockSharedBytes);

    /** A non-blocking stream (it never waits for the legacy default stream). */
    CUstream createStream();

    void destroyStream(CUstream stream);

    void synchronize(CUstream stream);

    void synchronizeContext();

    CUevent createEvent(boolean timing);

    void record(CUevent event, CUstream stream);

    void synchronize(CUevent event);

    float elapsedMillis(CUevent start, CUevent stop);

    void destroyEvent(CUevent event);

    CUdeviceptr alloc(long bytes);

    void free(CUdeviceptr pointer);

    /** Page-locked host memory. */
    Pointer allocHost(long bytes);

    /** A view of {@code bytes} bytes of {@link #allocHost} memory from {@code offset} ({@code bytes} below 2 GiB). */
    ByteBuffer hostBytes(Pointer memory, long offset, long bytes);

    void freeHost(Pointer memory);

    void memsetD32(CUdeviceptr dst, int value, long count, CUstream stream);

    void copyHostToDevice(CUdeviceptr dst, Pointer src, long bytes, CUstream stream);

    void copyDeviceToHost(Pointer dst, CUdeviceptr src, long bytes, CUstream stream);

    void copyDeviceToDevice(CUdeviceptr dst, CUdeviceptr src, long bytes, CUstream stream);

    /** The allocation holding {@code pointer}: its base address and size in bytes. */
    long[] addressRange(CUdeviceptr pointer);

    /** Free and total device memory in bytes. */
    long[] memInfo();

    void launch(CUfunction function, Launch shape, CUstream stream, KernelArgs args);
}
