package dev.gpuact.examples;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** JDK 22+: an engine's MemorySegment, and a raw address as a native library hands one over, with no copy. */
public final class SegmentExample {
    public static void main(String[] args) {
        int n = 1024;
        try (Backend backend = Backends.best(); Arena arena = Arena.ofConfined()) {
            System.out.println("backend: " + backend.name() + " (" + backend.device() + ")");
            MemorySegment activations = arena.allocate(n * Float.BYTES, 4096);
            for (int i = 0; i < n; i++) {
                activations.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i - n / 2) / 64f);
            }
            try (DeviceBuffer x = HostMemory.wrap(backend, activations, DType.FLOAT32)) {
                backend.apply(Activation.RELU, x, x);                     // in the segment itself
            } catch (UnsupportedOperationException e) {
                System.out.println("in place: no (" + e.getMessage() + ")");
                return;
            }
            long address = activations.address();                        // as JNI or a C library would hand it over
            try (DeviceBuffer y = HostMemory.wrapAddress(backend, address, n * Float.BYTES, DType.FLOAT32)) {
                backend.apply(Activation.SQUARE, y, y);                   // relu(x)^2, in the same bytes
            }
            float in = (n - 1 - n / 2) / 64f;
            float out = activations.getAtIndex(ValueLayout.JAVA_FLOAT, n - 1);
            if (out != in * in || activations.getAtIndex(ValueLayout.JAVA_FLOAT, 0) != 0) {
                throw new IllegalStateException("relu(" + in + ")^2 read " + out);
            }
            System.out.printf("in place: relu(%.4f)^2 = %.6f in the engine's segment, through a segment and an address%n",
                    in, out);
        }
    }
}
