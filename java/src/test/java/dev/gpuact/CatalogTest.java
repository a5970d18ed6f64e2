package dev.gpuact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class CatalogTest {
    @Test
    void kernelListMatchesTheCatalogInOrder() throws IOException {
        String def;
        try (InputStream in = Op.class.getResourceAsStream("/dev/gpuact/kernels/activations.def")) {
            assertThat(in).as("activations.def on the class path").isNotNull();
            def = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Matcher m = Pattern.compile("^GPUACT_OP\\((\\w+), (\\w+)\\)$", Pattern.MULTILINE).matcher(def);
        java.util.List<String> listed = new java.util.ArrayList<>();
        while (m.find()) {
            assertThat(m.group(2)).isEqualTo(Op.valueOf(m.group(1)).id());
            listed.add(m.group(1));
        }
        assertThat(listed).containsExactlyElementsOf(Op.ELEMENTWISE.stream().map(Op::name).toList());
        for (int i = 0; i < Op.ELEMENTWISE.size(); i++) {
            assertThat(Op.ELEMENTWISE.get(i).kernelCode()).isEqualTo(i);
        }
    }

    @Test
    void everyOpHasAUniqueIdFoundByName() {
        for (Op op : Op.values()) {
            assertThat(Op.byName(op.id())).isSameAs(op);
            assertThat(Op.byName(op.name())).isSameAs(op);
        }
        assertThatThrownBy(() -> Op.byName("swoosh")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown activation 'swoosh'").hasMessageContaining("leaky_relu");
    }

    @Test
    void defaultsFollowTheContract() {
        assertThat(Activation.LEAKY_RELU.a()).isEqualTo(0.01f);
        assertThat(Activation.SOFTPLUS.a()).isEqualTo(1f);
        assertThat(Activation.SOFTPLUS.b()).isEqualTo(20f);
        assertThat(Activation.HARDTANH.a()).isEqualTo(-1f);
        assertThat(Activation.HARDTANH.b()).isEqualTo(1f);
        assertThat(Activation.HARDSIGMOID.a()).isEqualTo((float) (1.0 / 6));
        assertThat(Activation.SOFTMAX.param("temperature")).isEqualTo(1.0);
        assertThat(Activation.SOFTMAX.param("masked_nan")).isEqualTo(0.0);
        assertThat(Activation.maxout(4).param("pieces")).isEqualTo(4.0);
        assertThat(Activation.leakyRelu(0.2).toString()).isEqualTo("leaky_relu(alpha=0.2)");
        assertThat(Activation.GELU.toString()).isEqualTo("gelu");
    }

    @Test
    void outOfRangeParametersNameParameterValueAndRange() {
        assertThatThrownBy(() -> Activation.softmax(0, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("softmax: parameter 'temperature' must be a finite number > 0, got 0");
        assertThatThrownBy(() -> Activation.leakyRelu(Double.NaN))
                .hasMessage("leaky_relu: parameter 'alpha' must be a finite number, got NaN");
        assertThatThrownBy(() -> Activation.softshrink(-1))
                .hasMessage("softshrink: parameter 'lambda' must be a finite number >= 0, got -1");
        assertThatThrownBy(() -> Activation.maxout(0))
                .hasMessage("maxout: parameter 'pieces' must be an integer >= 1, got 0");
        assertThatThrownBy(() -> Activation.hardtanh(2, 1))
                .hasMessage("hardtanh: parameter 'min' (2) must be <= 'max' (1)");
        assertThatThrownBy(() -> Activation.of(Op.RELU, Map.of("alpha", 1)))
                .hasMessage("relu: unknown parameter 'alpha'; it takes none");
        assertThatThrownBy(() -> Activation.GELU.with("beta", 2))
                .hasMessageContaining("gelu: unknown parameter 'beta'");
    }

    @Test
    void parametersAreHeldAsTheFloat32TheKernelsReceive() {
        Activation a = Activation.elu(0.1);
        assertThat(a.param("alpha")).isEqualTo((double) 0.1f);
        assertThat(a).isEqualTo(Activation.elu(0.1f)).hasSameHashCodeAs(Activation.elu(0.1f));
    }
}
