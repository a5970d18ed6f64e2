package dev.gpuact.examples;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** An engine's own memory, a direct ByteBuffer it allocated and keeps writing, through gpuact with no copy. */
public final class ZeroCopyExample {
    public static void main(String[] args) {
        int n = 1024;
        // The engine's activations: native-order floats on a 4 KiB boundary (OpenCL devices ask for an alignment).
        ByteBuffer activations = ByteBuffer.allocateDirect(n * Float.BYTES + 4096).alignedSlice(4096)
                .limit(n * Float.BYTES).order(ByteOrder.nativeOrder());

        try (Backend backend = Backends.best()) {
            System.out.println("backend: " + backend.name() + " (" + backend.device() + ")");
            DeviceBuffer x;
            try {
                x = backend.wrap(activations, DType.FLOAT32);             // no copy: x is the engine's memory
            } catch (UnsupportedOperationException e) {
                System.out.println("in place: no (" + e.getMessage() + ")");
                return;                                                   // there: upload and download
            }
            try (x) {
                for (int step = 0; step < 3; step++) {
                    for (int i = 0; i < n; i++) {
                        activations.putFloat(i * Float.BYTES, (i - n / 2) / 64f + step);  // the engine writes...
                    }
                    backend.apply(Activation.SILU, x, x);                 // ...gpuact computes there...
                    float in = (7 - n / 2) / 64f + step;
                    float out = activations.getFloat(7 * Float.BYTES);    // ...and the result is in its buffer
                    double expected = in / (1 + Math.exp(-in));
                    if (Math.abs(out - expected) > 1e-5 * Math.max(1, Math.abs(expected))) {
                        throw new IllegalStateException("silu(" + in + ") read " + out + ", expected " + expected);
                    }
                    System.out.printf("in place, step %d: silu(%.4f) = %.6f in the engine's own buffer%n", step, in, out);
                }
            }
        }
    }
}
