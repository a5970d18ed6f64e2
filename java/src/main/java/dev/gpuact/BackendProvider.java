package dev.gpuact;


/**
 * Found by {@link java.util.ServiceLoader}. Construction must be cheap and must not touch native code:
 * all of that happens in {@link #probe()}, which is called at most once per provider by {@code Backends}.
 */
public interface BackendProvider {
    /** {@code cpu}, {@code opencl}, {@code cuda}. */
    String name();

    /** Whether this backend can run here, and if not, why. Never throws. */
    Probe probe();

    /** Opens a backend; called only after a usable probe. The caller closes it. */
    Backend open();
}
