package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Errors that used to lie (an internal error for bad input) or leak (a Java exception's text), each one line now. */
class HonestErrorsTest {
    @TempDir
    Path dir;

    private Path input(float... values) throws IOException {
        Path x = dir.resolve("x.npy");
        Npy.write(x, Shape.of(values.length), values);
        return x;
    }

    @Test
    void aRepeatedParamIsRejectedNotSilentlyReplaced() throws IOException {
        Path x = input(1, -1);
        Cli.run("apply", "--op", "leaky_relu", "--param", "alpha=0.1", "--param", "alpha=0.2", "--backend", "cpu",
                "--in", x.toString(), "--out", dir.resolve("y.npy").toString())
                .rejected("--param alpha is given twice ('0.1' and '0.2')");
        Cli.run("apply", "--op", "leaky_relu", "--param", "alpha", "--backend", "cpu",
                "--in", x.toString(), "--out", dir.resolve("y.npy").toString()).rejected("expected KEY=VALUE, got 'alpha'");
        assertThat(Cli.files(dir)).containsExactly("x.npy");
    }

    @Test
    void aParameterThatFloat32RoundsToZeroIsRejected() throws IOException {
        Path x = input(1, -1);
        Cli.run("apply", "--op", "leaky_relu", "--param", "alpha=1e-50", "--backend", "cpu",
                "--in", x.toString(), "--out", dir.resolve("y.npy").toString())
                .rejected("--param", "alpha", "1.0E-50", "which is 0 as the float32 the kernels receive");
        Cli.run("apply", "--op", "leaky_relu", "--param", "alpha=0", "--backend", "cpu",
                "--in", x.toString(), "--out", dir.resolve("y.npy").toString()).succeeded();
    }

    @Test
    void benchSizesBeyondAJavaArrayAreOneLine() {
        Cli.run("bench", "--backend", "cpu", "--sizes", "9223372036854775807", "--out", dir.resolve("r").toString())
                .rejected("--sizes: 9223372036854775807 is more than the largest host array, 2147483639 floats");
        Cli.run("bench", "--backend", "cpu", "--sizes", "2G", "--out", dir.resolve("r").toString())
                .rejected("--sizes: 2G is more than the largest host array");
    }

    @Test
    void arraysOfMoreDimensionsThanNumpyHoldsAreRefused() throws IOException {
        long[] dims = new long[Shape.MAX_RANK + 1];
        java.util.Arrays.fill(dims, 1);
        assertThatThrownBy(() -> Shape.of(dims)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("shape has 65 dimensions; numpy holds at most 64");
        long[] most = new long[Shape.MAX_RANK];
        java.util.Arrays.fill(most, 1);
        assertThat(Shape.of(most).rank()).isEqualTo(64);
        // A file claiming 65 dimensions is not read (so no such output can be written either).
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1, ".repeat(65) + "), }";
        Path x = Files.write(dir.resolve("x65.npy"), npy(header, 4));
        Cli.run("apply", "--op", "relu", "--backend", "cpu", "--in", x.toString(), "--out",
                dir.resolve("y.npy").toString()).rejected("--in", "65 dimensions; numpy holds at most 64");
        assertThat(Cli.files(dir)).containsExactly("x65.npy");
    }

    private static byte[] npy(String dict, int dataBytes) {
        StringBuilder header = new StringBuilder(dict);
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        byte[] h = header.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] file = new byte[10 + h.length + dataBytes];
        byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) h.length, (byte) (h.length >> 8)};
        System.arraycopy(magic, 0, file, 0, 10);
        System.arraycopy(h, 0, file, 10, h.length);
        return file;
    }

    /** The input fits the heap, the output then does not: bad input (exit 2) as for the input, not an internal error. */
    @Test
    void anOutputThatDoesNotFitIsExitTwoLikeAnInputThatDoesNotFit() throws Exception {
        int n = 12 << 20; // 48 MiB of floats: one fits a 80 MiB heap, two do not
        Path x = dir.resolve("big.npy");
        Npy.write(x, Shape.of(n), (offset, chunk) -> {
            while (chunk.hasRemaining()) {
                chunk.put(1f);
            }
        });
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx80m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "apply", "--op", "relu", "--backend", "cpu", "--in", x.toString(),
                "--out", dir.resolve("y.npy").toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isEqualTo(2);
        assertThat(output.lines().toList()).as(output).hasSize(1);
        assertThat(output).contains("gpuact apply: error: --out", "the output of shape (12582912,) does not fit",
                "out of Java memory").doesNotContain("internal error");
        assertThat(Cli.files(dir)).containsExactly("big.npy");
    }
}
