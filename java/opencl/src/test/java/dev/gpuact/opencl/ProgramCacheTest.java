package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.DeviceBuffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.jocl.CL;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgramCacheTest {
    @TempDir
    Path cache;

    @Test
    void theSecondOpenLoadsTheCachedBinary() {
        OpenClDevice device = OpenClTestDevice.device();
        long cold;
        long warm;
        try (OpenClBackend first = OpenClBackend.open(device, cache)) {
            assertThat(first.programFromCache()).isFalse();
            cold = first.programNanos();
        }
        assertThat(entries()).hasSize(1);
        try (OpenClBackend second = OpenClBackend.open(device, cache)) {
            assertThat(second.programFromCache()).isTrue();
            warm = second.programNanos();
            assertThat(relu(second)).containsExactly(0, 0, 2);
        }
        System.out.printf("OpenCL program on %s: cold (source build) %.0f ms, warm (cached binary) %.0f ms%n",
                device.name(), cold / 1e6, warm / 1e6);
        assertThat(warm).isLessThan(cold);
    }

    @Test
    void aCorruptEntryIsRebuiltFromSourceAndRewritten() throws IOException {
        OpenClDevice device = OpenClTestDevice.device();
        OpenClBackend.open(device, cache).close();
        Path entry = entries().get(0);
        byte[] bytes = Files.readAllBytes(entry);
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(entry, bytes);
        try (OpenClBackend reopened = OpenClBackend.open(device, cache)) {
            assertThat(reopened.programFromCache()).isFalse();
            assertThat(relu(reopened)).containsExactly(0, 0, 2);
        }
        try (OpenClBackend again = OpenClBackend.open(device, cache)) {
            assertThat(again.programFromCache()).as("the rebuilt binary was cached again").isTrue();
        }
    }

    private static cl_context contextOn(OpenClDevice device) {
        cl_context_properties properties = new cl_context_properties();
        properties.addProperty(CL.CL_CONTEXT_PLATFORM, device.platform());
        return CL.clCreateContext(properties, 1, new cl_device_id[] {device.id()}, null, null, null);
    }

    @Test
    void aBuildFailureCarriesTheCompilerLog() {
        OpenClDevice device = OpenClTestDevice.device();
        cl_context context = contextOn(device);
        try {
            String broken = "__kernel void k(__global float *y) { y[0] = undeclared_name; }\n";
            assertThatThrownBy(() -> new ProgramBuilder(cache).build(context, device, broken, "-DGPUACT_WG=64"))
                    .isInstanceOfSatisfying(ProgramBuildException.class, e -> {
                        assertThat(e.buildLog()).contains("undeclared_name");
                        assertThat(e.getMessage()).contains(device.name()).contains("-DGPUACT_WG=64")
                                .contains("undeclared_name");
                    });
            assertThat(entries()).as("nothing cached for a failed build").isEmpty();
        } finally {
            CL.clReleaseContext(context);
        }
    }

    private static float[] relu(OpenClBackend backend) {
        try (DeviceBuffer x = backend.upload(new float[] {-1, 0, 2}); DeviceBuffer y = backend.allocate(3)) {
            backend.apply(Activation.RELU, x, y);
            return y.toArray();
        }
    }

    private List<Path> entries() {
        try (Stream<Path> files = Files.list(cache)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".bin")).toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
