package dev.gpuact.opencl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jocl.NativePointerObject;
import org.jocl.cl_command_queue;
import org.jocl.cl_mem;

/**
 * JOCL objects for OpenCL handles an engine holds as numbers (from JavaCPP, Panama or its own JNI). JOCL has no
 * constructor that takes a handle: its native code fills the private field every handle class inherits, and reads
 * it back on each call, so that is the field set here. JOCL's jar is an unnamed or automatic module, which opens
 * the field's package; a JOCL that did not would be refused with the reason.
 */
final class RawHandles {
    private RawHandles() {
    }

    static cl_mem mem(long handle) {
        return filled(new cl_mem(), handle, "cl_mem");
    }

    static cl_command_queue queue(long handle) {
        return filled(new cl_command_queue(), handle, "cl_command_queue");
    }

    private static <T extends NativePointerObject> T filled(T object, long handle, String type) {
        if (handle == 0) {
            throw new IllegalArgumentException("the " + type + " handle is 0 (NULL)");
        }
        if (NativePointer.FIELD == null) {
            throw new UnsupportedOperationException("this JOCL does not let raw handles be wrapped: "
                    + NativePointer.REFUSAL, NativePointer.REFUSAL);
        }
        NativePointer.FIELD.set(object, handle);
        return object;
    }

    /** Looked up at first use, so a JOCL that refuses it fails only the raw-handle calls. */
    private static final class NativePointer {
        static final VarHandle FIELD;
        static final Exception REFUSAL;

        static {
            VarHandle field = null;
            Exception refusal = null;
            try {
                field = MethodHandles.privateLookupIn(NativePointerObject.class, MethodHandles.lookup())
                        .findVarHandle(NativePointerObject.class, "nativePointer", long.class);
            } catch (ReflectiveOperationException | RuntimeException e) {
                refusal = e;
            }
            FIELD = field;
            REFUSAL = refusal;
        }
    }
}
