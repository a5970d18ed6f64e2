package dev.gpuact.opencl;

import dev.gpuact.DType;
import dev.gpuact.spi.AbstractBuffer;
import java.nio.FloatBuffer;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_mem;

/** Floats in a cl_mem: one the backend allocated, or one a host engine owns and lent to it (never released here). */
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

    private final OpenClQueue queue;

    OpenClBuffer(OpenClBackend backend, OpenClQueue queue, long length, ClMemory memory) {
        super(backend, DType.FLOAT32, length, memory);
        this.queue = queue;
    }

    /** The cl_mem; null for a buffer of no elements (OpenCL has no empty buffers). */
    cl_mem mem() {
        return ((ClMemory) memory()).mem;
    }

    @Override
    protected void writeFloats(long offset, float[] src, int srcOffset, int count) {
        queue.write(mem(), offset * Float.BYTES, (long) count * Float.BYTES,
                Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES));
    }

    @Override
    protected void readFloats(long offset, float[] dst, int dstOffset, int count) {
        queue.read(mem(), offset * Float.BYTES, (long) count * Float.BYTES,
                Pointer.to(dst).withByteOffset((long) dstOffset * Float.BYTES));
    }

    /** Direct and array-backed buffers go straight to the driver; read-only heap buffers take the chunked path. */
    @Override
    protected void writeFloats(long offset, FloatBuffer src) {
        if (!src.isDirect() && !src.hasArray()) {
            super.writeFloats(offset, src);
            return;
        }
        int count = src.remaining();
        queue.write(mem(), offset * Float.BYTES, (long) count * Float.BYTES, Pointer.to(src.slice()));
        src.position(src.position() + count);
    }

    @Override
    protected void readFloats(long offset, FloatBuffer dst) {
        if (!dst.isDirect() && !dst.hasArray()) {
            super.readFloats(offset, dst);
            return;
        }
        int count = dst.remaining();
        queue.read(mem(), offset * Float.BYTES, (long) count * Float.BYTES, Pointer.to(dst.slice()));
        dst.position(dst.position() + count);
    }
}
