package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.junit.jupiter.api.Test;

/**
 * On JDK 22+, gpuact-core's multi-release jar gives the HostMemory that takes a MemorySegment and a raw address:
 * each backend whose wrap works here computes in that memory, with no copy (OpenCL, on PoCL's CPU device, must be
 * one of them). Values are written after wrapping and results read from the segment, with no read call between.
 */
class HostMemoryJdk25Test {
    private static final float[] VALUES = {-2, -0.5f, 0, 1.5f, 3, 99, -7, 8};
    private static final float[] RELU6 = {0, 0, 0, 1.5f, 3, 6, 0, 6};

    @Test
    void theJdk22ClassIsTheOneLoaded() {
        assertThat(Runtime.version().feature()).isGreaterThanOrEqualTo(22);
        assertThatThrownBy(() -> HostMemory.wrapAddress(Backends.get("cpu"), 0, 4, DType.FLOAT32))
                .as("the Java 17 class would refuse every call as too old a JDK")
                .hasMessageContaining("the address is 0 (NULL)");
    }

    @Test
    void segmentsAndRawAddressesAreUsedInPlaceOnEveryBackendThatWraps() {
        List<String> inPlace = new ArrayList<>();
        for (String name : Backends.usableNames()) {
            try (Backend backend = Backends.get(name); Arena arena = Arena.ofConfined()) {
                MemorySegment segment = arena.allocate(VALUES.length * Float.BYTES, 4096);
                DeviceBuffer buffer;
                try {
                    buffer = HostMemory.wrap(backend, segment, DType.FLOAT32);
                } catch (UnsupportedOperationException e) {
                    continue;  // this backend cannot use host memory in place
                }
                try (buffer) {
                    checkInPlace(backend, buffer, segment);
                }
                MemorySegment raw = arena.allocate(VALUES.length * Float.BYTES, 4096);
                try (DeviceBuffer byAddress = HostMemory.wrapAddress(backend, raw.address(), raw.byteSize(), DType.FLOAT32)) {
                    checkInPlace(backend, byAddress, raw);
                }
                inPlace.add(name);
            }
        }
        assertThat(inPlace).as("backends that used the segment in place").contains("opencl");
    }

    private static void checkInPlace(Backend backend, DeviceBuffer buffer, MemorySegment segment) {
        assertThat(buffer.length()).isEqualTo(VALUES.length);
        MemorySegment.copy(VALUES, 0, segment, ValueLayout.JAVA_FLOAT, 0, VALUES.length);
        backend.apply(Activation.RELU6, buffer, buffer);
        float[] result = segment.toArray(ValueLayout.JAVA_FLOAT);
        assertThat(result).as(backend.name() + ": the segment itself, after the call").containsExactly(RELU6);
        if (buffer instanceof OpenClBuffer cl) {
            long[] hostPointer = new long[1];
            CL.clGetMemObjectInfo(cl.mem(), CL.CL_MEM_HOST_PTR, Sizeof.POINTER, Pointer.to(hostPointer), null);
            assertThat(hostPointer[0]).as("the cl_mem's host pointer").isEqualTo(segment.address());
        }
    }

    /**
     * JDK 22+ warn once per module when a restricted method is first called; gpuact-core calls one only in
     * wrapAddress. Each case runs in a JVM of its own (JOCL's JNI load would warn first and hide the core's).
     */
    @Test
    void onlyWrapAddressCallsARestrictedMethod() throws Exception {
        assertThat(probe("wrap")).doesNotContain("restricted method");
        assertThat(probe("wrapAddress")).contains("restricted method")
                .contains("MemorySegment::reinterpret has been called by dev.gpuact.HostMemory");
    }

    /** Runs {@link NativeAccessProbe} with {@code call} in a new JVM of this one's kind; its output. */
    private static String probe(String call) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("surefire.test.class.path",
                System.getProperty("java.class.path")), NativeAccessProbe.class.getName(), call)
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as("the probe's exit code; it said:%n%s", output).isZero();
        assertThat(output).contains("probed " + call);
        return output;
    }

    /** Opens the cpu backend and calls HostMemory's {@code args[0]} on a segment; the backend may refuse it. */
    static final class NativeAccessProbe {
        public static void main(String[] args) {
            try (Backend cpu = Backends.get("cpu"); Arena arena = Arena.ofConfined()) {
                MemorySegment segment = arena.allocate(64, 4096);
                try {
                    DeviceBuffer buffer = args[0].equals("wrap") ? HostMemory.wrap(cpu, segment, DType.FLOAT32)
                            : HostMemory.wrapAddress(cpu, segment.address(), 64, DType.FLOAT32);
                    buffer.close();
                } catch (UnsupportedOperationException e) {
                    // a cpu backend without host memory support: the call got as far as the backend
                }
            }
            System.out.println("probed " + args[0]);
        }
    }

    @Test
    void heapSegmentsAndNullAddressesAreRefused() {
        try (Backend backend = Backends.get("opencl")) {
            assertThatThrownBy(() -> HostMemory.wrap(backend, MemorySegment.ofArray(new float[4]), DType.FLOAT32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("heap segment");
            assertThatThrownBy(() -> HostMemory.wrapAddress(backend, 0, 16, DType.FLOAT32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("opencl: the address is 0 (NULL)");
            MemorySegment freed;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment odd = arena.allocate(10, 4096);
                assertThatThrownBy(() -> HostMemory.wrap(backend, odd, DType.FLOAT32))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10 bytes remaining");
                freed = arena.allocate(16, 4096);
            }
            assertThatThrownBy(() -> HostMemory.wrap(backend, freed, DType.FLOAT32))
                    .as("a segment of a closed arena").isInstanceOf(IllegalStateException.class)
                    .hasMessage("opencl: segment's arena is closed; its memory is freed");
        }
    }
}
