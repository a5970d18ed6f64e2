package dev.gpuact.opencl;

import static org.jocl.CL.CL_MAP_READ;
import static org.jocl.CL.CL_MAP_WRITE;
import static org.jocl.CL.CL_QUEUE_PROFILING_ENABLE;
import static org.jocl.CL.CL_QUEUE_PROPERTIES;
import static org.jocl.CL.CL_TRUE;

import dev.gpuact.spi.WorkQueue;
import java.nio.ByteBuffer;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_event;
import org.jocl.cl_mem;
import org.jocl.cl_queue_properties;

/**
 * One in-order command queue: the backend's own (or a host engine's), whose commands each call waits for, or a
 * stream's, whose commands are left in flight. Every command returns its event, which the caller waits for or
 * lets go. A blocking transfer has finished when it returns, so a heap array is never handed to the device beyond
 * the call.
 */
public final class OpenClQueue implements WorkQueue {
    private final cl_command_queue queue;
    private final boolean owned;
    private final boolean waits;
    private final boolean profiling;

    OpenClQueue(cl_command_queue queue, boolean owned, boolean waits) {
        this.queue = queue;
        this.owned = owned;
        this.waits = waits;
        long[] properties = new long[1];
        CL.clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, Sizeof.cl_ulong, Pointer.to(properties), null);
        this.profiling = (properties[0] & CL_QUEUE_PROFILING_ENABLE) != 0;
    }

    /** A new in-order queue with profiling enabled, released by {@link #release()}. */
    static OpenClQueue create(cl_context context, cl_device_id device, boolean waits) {
        cl_queue_properties properties = new cl_queue_properties();
        properties.addProperty(CL_QUEUE_PROPERTIES, CL_QUEUE_PROFILING_ENABLE);
        return new OpenClQueue(CL.clCreateCommandQueueWithProperties(context, device, properties, null), true, waits);
    }

    /** The raw queue, for a host engine that wants to order its own commands after ours. */
    public cl_command_queue handle() {
        return queue;
    }

    /** Whether this backend created the queue (and so releases it on close). */
    public boolean owned() {
        return owned;
    }

    /** Whether its events carry device timestamps (CL_QUEUE_PROFILING_ENABLE). */
    boolean profiling() {
        return profiling;
    }

    OpenClEvent write(cl_mem mem, long offsetBytes, long bytes, Pointer src, boolean blocking) {
        cl_event event = new cl_event();
        CL.clEnqueueWriteBuffer(queue, mem, blocking, offsetBytes, bytes, src, 0, null, event);
        return new OpenClEvent(event);
    }

    OpenClEvent read(cl_mem mem, long offsetBytes, long bytes, Pointer dst, boolean blocking) {
        cl_event event = new cl_event();
        CL.clEnqueueReadBuffer(queue, mem, blocking, offsetBytes, bytes, dst, 0, null, event);
        return new OpenClEvent(event);
    }

    OpenClEvent copy(cl_mem src, cl_mem dst, long bytes) {
        cl_event event = new cl_event();
        CL.clEnqueueCopyBuffer(queue, src, dst, 0, 0, bytes, 0, null, event);
        return new OpenClEvent(event);
    }

    /** Enqueues a fill of {@code bytes} bytes with 0.0f. */
    OpenClEvent fillZero(cl_mem mem, long bytes) {
        cl_event event = new cl_event();
        // A 2-byte pattern: buffers of 16-bit elements may hold an odd number of them.
        CL.clEnqueueFillBuffer(queue, mem, Pointer.to(new short[] {0}), Short.BYTES, 0, bytes, 0, null, event);
        return new OpenClEvent(event);
    }

    /** Maps all {@code bytes} of {@code mem} for host reads and writes; returns once the mapping is usable. */
    ByteBuffer map(cl_mem mem, long bytes) {
        return CL.clEnqueueMapBuffer(queue, mem, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0, null, null, null);
    }

    @Override
    public boolean waits() {
        return waits;
    }

    /** Blocks until every command enqueued so far has finished. */
    @Override
    public void synchronize() {
        CL.clFinish(queue);
    }

    /** Finishes its commands, then releases the queue if this backend created it. */
    @Override
    public void release() {
        try {
            synchronize();
        } finally {
            if (owned) {
                CL.clReleaseCommandQueue(queue);
            }
        }
    }
}
