package dev.gpuact.opencl;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * One kernel object. Setting its arguments and enqueueing it are one atomic step: a cl_kernel holds its
 * arguments, so two threads launching the same kernel must not interleave (OpenCL 1.2, appendix A.2).
 */
final class OpenClKernel {
    /** An argument that passes a NULL global pointer (an optional buffer left out). */
    static final Object NULL_BUFFER = new Object();

    private final String name;
    private final cl_kernel kernel;

    OpenClKernel(String name, cl_kernel kernel) {
        this.name = name;
        this.kernel = kernel;
    }

    String name() {
        return name;
    }

    /**
     * Sets the arguments (cl_mem, {@link #NULL_BUFFER}, Long as ulong, Float, Integer) and enqueues {@code global} work-items in groups
     * of {@code local} on {@code queue}, after what is already on it (in-order queues).
     */
    synchronized OpenClEvent launch(OpenClQueue queue, long global, long local, Object... args) {
        for (int i = 0; i < args.length; i++) {
            Object arg = args[i];
            if (arg == NULL_BUFFER) {
                CL.clSetKernelArg(kernel, i, Sizeof.cl_mem, null);
            } else if (arg instanceof cl_mem mem) {
                CL.clSetKernelArg(kernel, i, Sizeof.cl_mem, Pointer.to(mem));
            } else if (arg instanceof Long v) {
                CL.clSetKernelArg(kernel, i, Sizeof.cl_ulong, Pointer.to(new long[] {v}));
            } else if (arg instanceof Float v) {
                CL.clSetKernelArg(kernel, i, Sizeof.cl_float, Pointer.to(new float[] {v}));
            } else if (arg instanceof Integer v) {
                CL.clSetKernelArg(kernel, i, Sizeof.cl_int, Pointer.to(new int[] {v}));
            } else {
                throw new IllegalArgumentException(name + ": argument " + i + " has unsupported type " + arg);
            }
        }
        cl_event event = new cl_event();
        CL.clEnqueueNDRangeKernel(queue.handle(), kernel, 1, null, new long[] {global}, new long[] {local}, 0, null,
                event);
        return new OpenClEvent(event);
    }

    void release() {
        CL.clReleaseKernel(kernel);
    }
}
