package dev.gpuact.opencl;

import static org.jocl.CL.CL_PROFILING_COMMAND_END;
import static org.jocl.CL.CL_PROFILING_COMMAND_START;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;

/** A command in flight on an {@link OpenClQueue}: wait for it, time it, then close it (releases the event). */
public final class OpenClEvent implements AutoCloseable {
    private final cl_event event;
    private boolean released;

    OpenClEvent(cl_event event) {
        this.event = event;
    }

    /** Blocks until the command has finished; an error of the command surfaces here as a CLException. */
    public OpenClEvent await() {
        CL.clWaitForEvents(1, new cl_event[] {event});
        return this;
    }

    /** Device time of the command (needs a queue with profiling enabled, as the backend's own queue is). */
    public long elapsedNanos() {
        await();
        long[] start = new long[1];
        long[] end = new long[1];
        CL.clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, Sizeof.cl_ulong, Pointer.to(start), null);
        CL.clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, Sizeof.cl_ulong, Pointer.to(end), null);
        return end[0] - start[0];
    }

    @Override
    public synchronized void close() {
        if (!released) {
            released = true;
            CL.clReleaseEvent(event);
        }
    }
}
