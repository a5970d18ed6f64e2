package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.gpuact.Activation;
import dev.gpuact.Op;
import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code gpuact grad --from-output}: dx from the saved output y equals dx from x, for every op with that form. */
class GradFromOutputTest {
    @TempDir
    Path dir;

    static Stream<Op> opsWithTheForm() {
        return Op.ELEMENTWISE.stream().filter(Op::hasBackwardFromOutput);
    }

    @ParameterizedTest
    @MethodSource("opsWithTheForm")
    void fromTheOutputMatchesFromTheInput(Op op) throws IOException {
        Shape shape = Shape.of(4, 6);
        float[] x = ApplyGradTest.inputs(24);
        float[] dy = ApplyGradTest.upstream(24);
        Path xFile = save("x.npy", shape, x);
        Path dyFile = save("dy.npy", shape, dy);
        Cli.run("apply", "--backend", "cpu", "--op", op.id(), "--in", xFile.toString(), "--out", path("y.npy"))
                .succeeded();
        Cli.run("grad", "--backend", "cpu", "--op", op.id(), "--in", xFile.toString(), "--grad", dyFile.toString(),
                "--out", path("dx.npy")).succeeded();
        Cli.run("grad", "--backend", "cpu", "--op", op.id(), "--from-output", "--in", path("y.npy"), "--grad",
                dyFile.toString(), "--out", path("dxy.npy")).succeeded();
        float[] fromX = load("dx.npy");
        float[] fromY = load("dxy.npy");
        for (int i = 0; i < x.length; i++) {
            // y is rounded to float, so f'(y) may differ from f'(x) by that rounding, amplified at most 2x here
            assertThat(fromY[i]).as("%s at x=%s", op, x[i]).isCloseTo(fromX[i], offset(1e-6f + 1e-6f * Math.abs(fromX[i])));
        }
    }

    @Test
    void softmaxFromItsOutputMatchesFromItsInput() throws IOException {
        Shape shape = Shape.of(3, 8);
        Path xFile = save("x.npy", shape, ApplyGradTest.inputs(24));
        Path dyFile = save("dy.npy", shape, ApplyGradTest.upstream(24));
        for (String op : new String[] {"softmax", "log_softmax"}) {
            Cli.run("apply", "--backend", "cpu", "--op", op, "--in", xFile.toString(), "--out", path("y.npy")).succeeded();
            Cli.run("grad", "--backend", "cpu", "--op", op, "--in", xFile.toString(), "--grad", dyFile.toString(),
                    "--out", path("dx.npy")).succeeded();
            Cli.run("grad", "--backend", "cpu", "--op", op, "--from-output", "--in", path("y.npy"), "--grad",
                    dyFile.toString(), "--out", path("dxy.npy")).succeeded();
            float[] fromX = load("dx.npy");
            float[] fromY = load("dxy.npy");
            for (int i = 0; i < fromX.length; i++) {
                assertThat(fromY[i]).as("%s at %d", op, i).isCloseTo(fromX[i], offset(1e-6f));
            }
        }
    }

    @Test
    void anOpWithoutTheFormIsBadInputAndWritesNothing() throws IOException {
        Shape shape = Shape.of(2, 4);
        Path yFile = save("y.npy", shape, ApplyGradTest.inputs(8));
        Cli.run("grad", "--backend", "cpu", "--op", "gelu", "--from-output", "--in", yFile.toString(), "--grad",
                yFile.toString(), "--out", path("dx.npy")).rejected("--from-output", "gelu has no backward pass from its output");
        Cli.run("grad", "--backend", "cpu", "--op", "leaky_relu", "--param", "alpha=-0.5", "--from-output", "--in",
                yFile.toString(), "--grad", yFile.toString(), "--out", path("dx.npy"))
                .rejected("leaky_relu(alpha=-0.5) has no backward pass from its output");
        assertThat(Cli.files(dir)).containsExactlyInAnyOrder("y.npy");
        assertThat(Activation.GELU.hasBackwardFromOutput()).isFalse();
    }

    private String path(String name) {
        return dir.resolve(name).toString();
    }

    private Path save(String name, Shape shape, float[] data) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, shape, data);
        return p;
    }

    private float[] load(String name) throws IOException {
        try (Npy.Reader r = Npy.Reader.open(dir.resolve(name))) {
            return r.readAll();
        }
    }
}
