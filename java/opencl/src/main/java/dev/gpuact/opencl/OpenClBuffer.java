package dev.gpuact.opencl;

import dev.gpuact.DType;
import dev.gpuact.spi.AbstractBuffer;
import org.jocl.CL;
import org.jocl.cl_mem;

/** Elements (float32, float16 or bfloat16) in a cl_mem: one the backend allocated, or one a host engine owns and lent to it (never released here). */
final class OpenClBuffer extends AbstractBuffer {
    /** The cl_mem, apart from the buffer so a buffer dropped without close can still be freed. */
    static final class ClMemory extends Memory {
        private final cl_mem mem;
        private final boolean owned;

        ClMemory(cl_mem mem, long bytes, boolean owned) {
            super(bytes);
            this.mem = mem;
            this.owned = owned;
        }

        @Override
        protected void free() {
            if (owned && mem != null) {
                CL.clReleaseMemObject(mem);
            }
        }
    }

    OpenClBuffer(OpenClBackend backend, DType dtype, long length, ClMemory memory) {
        super(backend, dtype, length, memory);
    }

    /** The bytes of its cl_mem (cl_mem handles are equal when they name one memory object). */
    @Override
    protected Range range() {
        cl_mem mem = mem();
        return mem == null ? super.range() : new Range(mem, 0, byteSize());
    }

    /** The cl_mem; null for a buffer of no elements (OpenCL has no empty buffers). */
    cl_mem mem() {
        return ((ClMemory) memory()).mem;
    }
}
