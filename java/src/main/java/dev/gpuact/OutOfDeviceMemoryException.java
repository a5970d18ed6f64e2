package dev.gpuact;

/**
 * An allocation the backend could not satisfy: the message names the request, what the backend already holds, and
 * what the device (or, for the Java backend, the heap) has free. The backend stays usable.
 */
public class OutOfDeviceMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OutOfDeviceMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
