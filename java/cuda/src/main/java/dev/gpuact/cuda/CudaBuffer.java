package dev.gpuact.cuda;

import dev.gpuact.DType;
import dev.gpuact.spi.AbstractBuffer;
import jcuda.driver.CUdeviceptr;

/** Device memory: allocated by the backend, or an engine's memory wrapped without a copy. */
final class CudaBuffer extends AbstractBuffer {
    /** The device memory; freed only when this backend allocated it. */
    static final class DeviceMemory extends AbstractBuffer.Memory {
        final CUdeviceptr pointer;
        final long address;
        private final CudaBackend backend;
        private final boolean owned;

        DeviceMemory(CudaBackend backend, CUdeviceptr pointer, long address, long bytes, boolean owned) {
            super(bytes);
            this.backend = backend;
            this.pointer = pointer;
            this.address = address;
            this.owned = owned;
        }

        @Override
        protected void free() {
            if (owned && bytes() > 0) {
                backend.freeDevice(pointer);  // may run on the Cleaner's thread
            }
        }
    }

    private final CudaBackend backend;
    private final DeviceMemory memory;

    CudaBuffer(CudaBackend backend, long length, DeviceMemory memory) {
        this(backend, DType.FLOAT32, length, memory);
    }

    CudaBuffer(CudaBackend backend, DType dtype, long length, DeviceMemory memory) {
        super(backend, dtype, length, memory);
        this.backend = backend;
        this.memory = memory;
    }

    /** The device address of element 0, as the kernels receive it. */
    long address() {
        return memory.address;
    }

    CUdeviceptr pointer() {
        return memory.pointer;
    }

    /** Device addresses: every buffer of one backend, allocated or wrapped, is in its context's address space. */
    @Override
    protected Range range() {
        return new Range(backend, memory.address, byteSize());
    }
}
