package dev.gpuact.opencl;

import dev.gpuact.spi.BackendHostBuffer;
import java.nio.ByteBuffer;
import org.jocl.CL;
import org.jocl.cl_mem;

/**
 * Host memory the OpenCL runtime allocated (CL_MEM_ALLOC_HOST_PTR), mapped for the host for the buffer's whole
 * life. Its views are direct buffers at the mapped address, so transfers from and to them hand that address
 * straight to the driver: no staging copy in Java.
 */
final class OpenClHostBuffer extends BackendHostBuffer {
    private final cl_mem mem;

    OpenClHostBuffer(OpenClBackend backend, cl_mem mem, ByteBuffer mapped, boolean pinned) {
        super(backend, mapped, pinned);
        this.mem = mem;
    }

    /** Releasing the cl_mem frees its mapping too; no unmap, which would need the mapped buffer kept here. */
    @Override
    protected void free() {
        CL.clReleaseMemObject(mem);
    }
}
