package dev.gpuact.cuda;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import jcuda.driver.CUstream;

/**
 * JCuda streams for stream handles an engine holds as numbers. JCuda builds its own constant streams
 * ({@code CU_STREAM_LEGACY}, {@code CU_STREAM_PER_THREAD}) with a {@code CUstream(long)} constructor it keeps to its
 * package; that is the one called here. JCuda's jar is an unnamed or automatic module, which opens the package; a
 * JCuda that did not would be refused with the reason.
 */
final class RawStreams {
    private RawStreams() {
    }

    static CUstream stream(long handle) {
        if (Constructor.HANDLE == null) {
            throw new UnsupportedOperationException("this JCuda does not let raw stream handles be wrapped: "
                    + Constructor.REFUSAL, Constructor.REFUSAL);
        }
        try {
            return (CUstream) Constructor.HANDLE.invoke(handle);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Looked up at first use, so a JCuda that refuses it fails only the raw-handle calls. */
    private static final class Constructor {
        static final MethodHandle HANDLE;
        static final Exception REFUSAL;

        static {
            MethodHandle handle = null;
            Exception refusal = null;
            try {
                handle = MethodHandles.privateLookupIn(CUstream.class, MethodHandles.lookup())
                        .findConstructor(CUstream.class, MethodType.methodType(void.class, long.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                refusal = e;
            }
            HANDLE = handle;
            REFUSAL = refusal;
        }
    }
}
