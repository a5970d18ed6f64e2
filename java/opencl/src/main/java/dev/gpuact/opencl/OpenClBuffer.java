package dev.gpuact.opencl;

import dev.gpuact.DType;
import dev.gpuact.spi.AbstractBuffer;
import dev.gpuact.spi.HostRegion;
import org.jocl.CL;
import org.jocl.cl_mem;

/**
 * Elements in a cl_mem: one the backend allocated, one a host engine owns and lent to it (never released here), or
 * one the backend made over host memory it uses in place (CL_MEM_USE_HOST_PTR).
 */
final class OpenClBuffer extends AbstractBuffer {
    /** The address space of host memory used in place: two wraps of the same bytes are two cl_mems over them. */
    private static final Object HOST_MEMORY = new Object();

    /** The cl_mem, apart from the buffer so a buffer dropped without close can still be freed. */
    static final class ClMemory extends Memory {
        private final cl_mem mem;
        private final boolean owned;
        /** The host memory the cl_mem uses in place, held so it stays reachable while the cl_mem lives; else null. */
        private final HostRegion host;
        private final long hostAddress;

        ClMemory(cl_mem mem, long bytes, boolean owned) {
            this(mem, bytes, owned, null, 0);
        }

        /** A cl_mem of this backend over {@code host}, whose first byte is at {@code hostAddress}. */
        ClMemory(cl_mem mem, long bytes, boolean owned, HostRegion host, long hostAddress) {
            super(bytes);
            this.mem = mem;
            this.owned = owned;
            this.host = host;
            this.hostAddress = hostAddress;
        }

        @Override
        protected void free() {
            if (owned && mem != null) {
                CL.clReleaseMemObject(mem);
            }
        }
    }

    OpenClBuffer(OpenClBackend backend, long length, ClMemory memory) {
        this(backend, DType.FLOAT32, length, memory);
    }

    OpenClBuffer(OpenClBackend backend, DType dtype, long length, ClMemory memory) {
        super(backend, dtype, length, memory);
    }

    /**
     * The bytes of its cl_mem (cl_mem handles are equal when they name one memory object), or of the host memory it
     * uses in place.
     */
    @Override
    protected Range range() {
        ClMemory memory = (ClMemory) memory();
        if (memory.host != null) {
            return new Range(HOST_MEMORY, memory.hostAddress, byteSize());
        }
        return memory.mem == null ? super.range() : new Range(memory.mem, 0, byteSize());
    }

    /** The cl_mem; null for a buffer of no elements (OpenCL has no empty buffers). */
    cl_mem mem() {
        return ((ClMemory) memory()).mem;
    }
}
