package dev.gpuact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.fallback.OutputBackward;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The backward pass from the saved output: one list of ops, the same in the catalog, the kernels and the CPU path. */
class BackwardFromOutputCatalogTest {
    private static List<Op> elementwiseWithTheForm() {
        return Op.ELEMENTWISE.stream().filter(Op::hasBackwardFromOutput).toList();
    }

    @Test
    void theKernelListAndTheCpuKernelsNameExactlyTheCatalogsOps() throws IOException {
        String header;
        try (InputStream in = Op.class.getResourceAsStream("/dev/gpuact/kernels/activation_math.h")) {
            assertThat(in).isNotNull();
            header = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Matcher list = Pattern.compile("#define GPUACT_FROM_OUTPUT_OPS\\(X\\)((?:[^\\n]*\\\\\\n)*[^\\n]*)").matcher(header);
        assertThat(list.find()).as("GPUACT_FROM_OUTPUT_OPS in activation_math.h").isTrue();
        Matcher entry = Pattern.compile("X\\((\\w+), (\\w+)\\)").matcher(list.group(1));
        List<String> listed = new ArrayList<>();
        while (entry.find()) {
            assertThat(entry.group(2)).isEqualTo(Op.valueOf(entry.group(1)).id());
            listed.add(entry.group(1));
        }
        List<String> catalog = elementwiseWithTheForm().stream().map(Op::name).toList();
        assertThat(listed).containsExactlyElementsOf(catalog);
        assertThat(Arrays.stream(OutputBackward.values()).map(Enum::name).toList()).containsExactlyElementsOf(catalog);
    }

    @Test
    void theFormFollowsWhetherYDeterminesTheSlope() {
        assertThat(Activation.SIGMOID.hasBackwardFromOutput()).isTrue();
        assertThat(Activation.SOFTMAX.hasBackwardFromOutput()).isTrue();
        assertThat(Activation.LOG_SOFTMAX.hasBackwardFromOutput()).isTrue();
        assertThat(Activation.leakyRelu(0.01).hasBackwardFromOutput()).isTrue();
        assertThat(Activation.leakyRelu(0).hasBackwardFromOutput()).isTrue();
        assertThat(Activation.leakyRelu(-0.5).hasBackwardFromOutput()).as("a negative slope reuses positive y").isFalse();
        assertThat(Activation.elu(-1).hasBackwardFromOutput()).isFalse();
        assertThat(Activation.threshold(0.5, -2).hasBackwardFromOutput()).isTrue();
        assertThat(Activation.threshold(0, 1).hasBackwardFromOutput()).as("the fill value is also a passed x").isFalse();
        for (Op op : List.of(Op.GELU, Op.SILU, Op.MISH, Op.ABS, Op.SQUARE, Op.SOFTPLUS, Op.RICKER, Op.PRELU, Op.MAXOUT)) {
            assertThat(op.hasBackwardFromOutput()).as(op.id()).isFalse();
        }
    }

    /** f'(f(x)) from the output map equals f'(x) of the reference, in double, away from the kinks. */
    @Test
    void theOutputMapIsTheDerivative() {
        SplittableRandom random = new SplittableRandom(15);
        for (Op op : elementwiseWithTheForm()) {
            for (Activation activation : List.of(op.defaults(), op.params().isEmpty() ? op.defaults()
                    : op.defaults().with(op.params().get(0).name(), op == Op.THRESHOLD ? 0.5 : 0.3))) {
                for (int i = 0; i < 2000; i++) {
                    double x = random.nextDouble(-8, 8);
                    double a = activation.a();
                    double b = activation.b();
                    double want = op.referenceDerivative(x, a, b);
                    double got = op.referenceDerivativeFromOutput(op.reference(x, a, b), a, b);
                    assertThat(got).as("%s at x=%s", activation, x).isCloseTo(want,
                            org.assertj.core.data.Offset.offset(1e-9 * Math.max(1, Math.abs(want))));
                }
            }
        }
    }

    @Test
    void aBackendRefusesAnActivationWithoutTheFormAndNamesWhy() {
        try (Backend cpu = Backends.get("cpu"); DeviceBuffer a = cpu.allocate(8); DeviceBuffer b = cpu.allocate(8);
             DeviceBuffer c = cpu.allocate(8)) {
            assertThatThrownBy(() -> cpu.applyBackwardFromOutput(Activation.GELU, a, b, c))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("gelu has no backward pass from its output");
            assertThatThrownBy(() -> cpu.applyBackwardFromOutput(Activation.leakyRelu(-0.5), a, b, c))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alpha=-0.5");
            assertThatThrownBy(() -> cpu.applyRowsBackwardFromOutput(Activation.maxout(2), a, b, c, RowLayout.of(2, 4)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no backward pass from its output");
            assertThatThrownBy(() -> cpu.applyBackwardFromOutput(Activation.SOFTMAX, a, b, c))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not elementwise");
            assertThatThrownBy(() -> cpu.applyRowsBackwardFromOutput(Activation.SOFTMAX, a, b, a, RowLayout.of(2, 4)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("buffer of its own");
            try (DeviceBuffer shorter = cpu.allocate(7)) {
                assertThatThrownBy(() -> cpu.applyBackwardFromOutput(Activation.SIGMOID, a, shorter, c))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("y and dy differ in length");
            }
        }
    }

    @Test
    void sigmoidFromItsOutputNeedsNoX() {
        try (Backend cpu = Backends.get("cpu"); DeviceBuffer y = cpu.upload(new float[] {0.5f, 0.25f, 1f, Float.NaN});
             DeviceBuffer dy = cpu.upload(new float[] {1, 2, 3, 1}); DeviceBuffer dx = cpu.allocate(4)) {
            cpu.applyBackwardFromOutput(Activation.SIGMOID, y, dy, dx);
            assertThat(dx.toArray()).containsExactly(0.25f, 0.375f, 0f, Float.NaN);
        }
    }
}
