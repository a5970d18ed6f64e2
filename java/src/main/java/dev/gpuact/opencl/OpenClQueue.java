package dev.gpuact.opencl;

import static org.jocl.CL.CL_TRUE;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_event;
import org.jocl.cl_mem;

/**
 * The asynchronous layer: a command queue on which kernels are enqueued with events; the synchronous
 * {@link dev.gpuact.Backend} calls enqueue here and wait. Host transfers are blocking: the host array is then
 * only touched during the call, so no heap array is ever handed to the device beyond it.
 */
public final class OpenClQueue {
    private final cl_command_queue queue;
    private final boolean owned;

    OpenClQueue(cl_command_queue queue, boolean owned) {
        this.queue = queue;
        this.owned = owned;
    }

    /** The raw queue, for a host engine that wants to order its own commands after ours. */
    public cl_command_queue handle() {
        return queue;
    }

    /** Whether this backend created the queue (and so releases it on close). */
    public boolean owned() {
        return owned;
    }

    void write(cl_mem mem, long offsetBytes, long bytes, Pointer src) {
        CL.clEnqueueWriteBuffer(queue, mem, CL_TRUE, offsetBytes, bytes, src, 0, null, null);
    }

    void read(cl_mem mem, long offsetBytes, long bytes, Pointer dst) {
        CL.clEnqueueReadBuffer(queue, mem, CL_TRUE, offsetBytes, bytes, dst, 0, null, null);
    }

    /** Enqueues a fill of {@code bytes} bytes with 0.0f. */
    OpenClEvent fillZero(cl_mem mem, long bytes) {
        cl_event event = new cl_event();
        CL.clEnqueueFillBuffer(queue, mem, Pointer.to(new float[] {0f}), Float.BYTES, 0, bytes, 0, null, event);
        return new OpenClEvent(event);
    }

    /** Blocks until every command enqueued so far has finished. */
    public void finish() {
        CL.clFinish(queue);
    }

    void release() {
        if (owned) {
            CL.clReleaseCommandQueue(queue);
        }
    }
}
