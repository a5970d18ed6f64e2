package dev.gpuact.opencl;

import dev.gpuact.HostBuffer;
import java.nio.ByteBuffer;
import org.jocl.CL;
import org.jocl.cl_mem;

/**
 * Host memory the OpenCL runtime allocated (CL_MEM_ALLOC_HOST_PTR), mapped for the host for the buffer's whole
 * life. Its views are direct buffers at the mapped address, so transfers from and to them hand that address
 * straight to the driver: no staging copy in Java.
 */
final class OpenClHostBuffer extends HostBuffer {
    private final OpenClBackend backend;
    private final cl_mem mem;
    private final ByteBuffer mapped;

    OpenClHostBuffer(OpenClBackend backend, cl_mem mem, ByteBuffer mapped, boolean pinned) {
        super(mapped, pinned);
        this.backend = backend;
        this.mem = mem;
        this.mapped = mapped;
    }

    @Override
    protected void free() {
        backend.releaseHostBuffer(this, mem, mapped);
    }
}
