package dev.gpuact.opencl;

import dev.gpuact.DType;
import dev.gpuact.spi.AbstractBuffer;
import java.nio.ByteOrder;
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

    private final OpenClBackend owner;

    OpenClBuffer(OpenClBackend backend, long length, ClMemory memory) {
        super(backend, DType.FLOAT32, length, memory);
        this.owner = backend;
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

    @Override
    protected void writeFloats(long offset, float[] src, int srcOffset, int count) {
        owner.transfer(Direction.WRITE, mem(), offset, count, Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES),
                false);
    }

    @Override
    protected void readFloats(long offset, float[] dst, int dstOffset, int count) {
        owner.transfer(Direction.READ, mem(), offset, count, Pointer.to(dst).withByteOffset((long) dstOffset * Float.BYTES),
                false);
    }

    /**
     * Direct and array-backed buffers go straight to the driver (a direct one, e.g. a mapped
     * {@link dev.gpuact.HostBuffer}, may be left in flight on a stream); read-only heap buffers and
     * buffers in the other byte order take the chunked path.
     */
    @Override
    protected void writeFloats(long offset, FloatBuffer src) {
        if (!src.isDirect() && !src.hasArray() || foreignOrder(src)) {
            super.writeFloats(offset, src);
            return;
        }
        int count = src.remaining();
        owner.transfer(Direction.WRITE, mem(), offset, count, remaining(src), src.isDirect());
        src.position(src.position() + count);
    }

    @Override
    protected void readFloats(long offset, FloatBuffer dst) {
        if (!dst.isDirect() && !dst.hasArray() || foreignOrder(dst)) {
            super.readFloats(offset, dst);
            return;
        }
        int count = dst.remaining();
        owner.transfer(Direction.READ, mem(), offset, count, remaining(dst), dst.isDirect());
        dst.position(dst.position() + count);
    }

    /**
     * A direct buffer in the other byte order (big-endian, the default of {@code ByteBuffer.allocateDirect}) holds
     * its floats byte-swapped; the driver copies bytes, so it takes the chunked path, which converts them.
     */
    private static boolean foreignOrder(FloatBuffer floats) {
        return floats.isDirect() && floats.order() != ByteOrder.nativeOrder();
    }

    /**
     * The address of the remaining floats. A heap buffer is addressed through its array: JOCL's Pointer.to(Buffer)
     * ignores the array offset of a sliced heap buffer and would transfer from the array's start.
     */
    private static Pointer remaining(FloatBuffer floats) {
        return floats.isDirect() ? Pointer.to(floats.slice())
                : Pointer.to(floats.array()).withByteOffset((long) (floats.arrayOffset() + floats.position()) * Float.BYTES);
    }

    /** Which way a transfer goes. */
    enum Direction {
        WRITE,
        READ
    }
}
