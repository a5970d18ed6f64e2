package dev.gpuact;

/**
 * A call into a backend's native runtime (OpenCL, CUDA) that failed for a reason other than the caller's arguments:
 * the message and the accessors name the backend, the native call and the runtime's error code. An allocation that
 * fails because the device is out of memory is an {@link OutOfDeviceMemoryException} instead.
 */
public class NativeCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String backend;
    private final String call;
    private final int code;
    private final String codeName;
    private final boolean outOfMemory;

    public NativeCallException(String backend, String call, int code, String codeName, boolean outOfMemory,
                               Throwable cause) {
        super(backend + ": " + call + " failed: " + codeName + " (" + code + ")", cause);
        this.backend = backend;
        this.call = call;
        this.code = code;
        this.codeName = codeName;
        this.outOfMemory = outOfMemory;
    }

    /** The backend whose runtime failed, e.g. {@code opencl}. */
    public String backend() {
        return backend;
    }

    /** The native function that failed, e.g. {@code clEnqueueNDRangeKernel}. */
    public String call() {
        return call;
    }

    /** The runtime's error code, e.g. -5 for OpenCL's CL_OUT_OF_RESOURCES. */
    public int code() {
        return code;
    }

    /** The error code's name, e.g. {@code CL_OUT_OF_RESOURCES}. */
    public String codeName() {
        return codeName;
    }

    /** Whether the runtime reported running out of memory (device or host). */
    public boolean outOfMemory() {
        return outOfMemory;
    }
}
