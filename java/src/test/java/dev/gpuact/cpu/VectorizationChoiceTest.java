package dev.gpuact.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.fallback.ElementwiseKernel;
import dev.gpuact.fallback.Vectorization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Which cpu kernels a JVM runs, started with and without the Vector API module, and what it tells the user. */
class VectorizationChoiceTest {
    /** Runs two sigmoid calls, then prints the path that ran (the child JVM of the tests below). */
    public static void main(String[] args) {
        float[] x = {-1, 0, 1};
        ElementwiseKernel.SIGMOID.forward(x, 0, new float[3], 0, 3, 0, 0);
        ElementwiseKernel.SIGMOID.forward(x, 0, new float[3], 0, 3, 0, 0);
        System.out.println(Vectorization.description());
    }

    private static List<String> child(String... options) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(options));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), VectorizationChoiceTest.class.getName()));
        Process process = new ProcessBuilder(command).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(err).isZero();
        return List.of(out.strip(), err);
    }

    @Test
    void withoutTheModuleTheScalarKernelsRunAndOneLineSaysHowToEnableTheVectorOnes() throws Exception {
        List<String> result = child();
        assertThat(result.get(0)).startsWith("scalar (start the JVM with --add-modules jdk.incubator.vector");
        assertThat(result.get(1).lines().filter(l -> l.contains("--add-modules jdk.incubator.vector")).count())
                .as(result.get(1)).isEqualTo(1);
    }

    @Test
    void withTheModuleTheVectorKernelsRunSilently() throws Exception {
        List<String> result = child("--add-modules", "jdk.incubator.vector");
        assertThat(result.get(0)).startsWith("Vector API (");
        assertThat(result.get(1)).doesNotContain("gpuact");
    }

    @Test
    void thePropertyForcesTheScalarKernelsSilently() throws Exception {
        List<String> result = child("--add-modules", "jdk.incubator.vector", "-D" + Vectorization.PROPERTY + "=false");
        assertThat(result.get(0)).isEqualTo("scalar (-D" + Vectorization.PROPERTY + "=false)");
        assertThat(result.get(1)).doesNotContain("gpuact");
    }
}
