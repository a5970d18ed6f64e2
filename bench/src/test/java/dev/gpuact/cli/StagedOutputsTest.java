package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StagedOutputsTest {
    @TempDir
    Path dir;

    @Test
    void nothingAppearsUnlessCommitted() throws IOException {
        try (Backend cpu = Backends.get("cpu"); DeviceBuffer data = cpu.upload(new float[] {1, 2, 3})) {
            try (StagedOutputs outputs = new StagedOutputs()) {
                outputs.write("--out", dir.resolve("a.npy"), Shape.of(3), data);
                assertThat(Cli.files(dir)).singleElement().asString().startsWith(".a.npy.").endsWith(".partial");
            }
            assertThat(Cli.files(dir)).isEmpty();

            try (StagedOutputs outputs = new StagedOutputs()) {
                outputs.write("--out", dir.resolve("a.npy"), Shape.of(3), data);
                outputs.write("--out2", dir.resolve("b.npy"), Shape.of(1, 3), data);
                outputs.commit();
            }
            assertThat(Cli.files(dir)).containsExactly("a.npy", "b.npy");
            assertThat(Npy.readAll(dir.resolve("b.npy"))).containsExactly(1, 2, 3);
        }
    }
}
