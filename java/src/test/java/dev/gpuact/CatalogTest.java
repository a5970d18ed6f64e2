package dev.gpuact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The catalog and everything written from it agree: activations.def (order and ids), the references, the
 * test metadata of {@link OpInfo}, the README table and golden/catalog.json. The compiled kernels are held to the
 * host's names by CudaFatbinTest and OpenClKernelNamesTest.
 */
class CatalogTest {
    /** Surefire runs in the module folder, java/. */
    private static final Path ROOT = Path.of("..");

    @Test
    void kernelListIsTheOneWrittenFromTheCatalog() throws IOException {
        String def;
        try (InputStream in = Op.class.getResourceAsStream("/dev/gpuact/kernels/activations.def")) {
            assertThat(in).as("activations.def on the class path").isNotNull();
            def = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(def).as("%s differs from the catalog; regenerate it: %s", CatalogExport.KERNEL_LIST,
                CatalogExport.REGENERATE).isEqualTo(CatalogExport.kernelList());
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
    void gatedKernelListMatchesTheCatalogInOrder() throws IOException {
        String def;
        try (InputStream in = Op.class.getResourceAsStream("/dev/gpuact/kernels/gated.def")) {
            assertThat(in).as("gated.def on the class path").isNotNull();
            def = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Matcher m = Pattern.compile("^GPUACT_GATED\\((\\w+), (\\w+)\\)$", Pattern.MULTILINE).matcher(def);
        List<String> listed = new java.util.ArrayList<>();
        while (m.find()) {
            Op gated = Op.byName(m.group(2));
            assertThat(gated.activated()).as("the op %s activates", gated).isEqualTo(Op.valueOf(m.group(1)));
            listed.add(gated.id());
        }
        assertThat(listed).containsExactlyElementsOf(Arrays.stream(Op.values())
                .filter(op -> op.kind() == Op.Kind.GATED).map(Op::id).toList());
    }

    @Test
    void gatedOpsTakeTheirActivatedOpsParametersAndHalf() {
        assertThat(Op.GLU.activated()).isEqualTo(Op.SIGMOID);
        assertThat(Op.GLU.activatesFirstHalf()).isFalse();
        assertThat(Op.SWIGLU.activatesFirstHalf()).isTrue();
        // glu = a * sigmoid(b); swiglu = silu(a) * b; their partials by hand at a = 2, b = -3
        double s = 1 / (1 + Math.exp(3));
        assertThat(Op.GLU.referenceGated(2, -3, 0, 0)).isCloseTo(2 * s, within(1e-15));
        assertThat(Op.GLU.referenceGatedPartial(2, -3, 0, 0, true)).isCloseTo(s, within(1e-15));
        assertThat(Op.GLU.referenceGatedPartial(2, -3, 0, 0, false))
                .isCloseTo(2 * s * (1 - s), within(1e-15));
        double silu2 = 2 / (1 + Math.exp(-2));
        assertThat(Op.SWIGLU.referenceGated(2, -3, 0, 0)).isCloseTo(-3 * silu2, within(1e-14));
        assertThat(Op.SWIGLU.referenceGatedPartial(2, -3, 0, 0, false)).isEqualTo(Op.SILU.reference(2, 0, 0));
        for (Op op : Op.values()) {
            if (op.kind() == Op.Kind.GATED) {
                assertThat(op.params()).as(op.id()).isEqualTo(op.activated().params());
                assertThat(op.hasBackwardFromOutput()).as(op.id()).isFalse();
            }
        }
        assertThatThrownBy(() -> Op.RELU.activated()).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("relu is not a gated op");
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

    @Test
    void theReadmeTableIsTheOneWrittenFromTheCatalog() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
        assertThat(readme).as("README.md's table differs from the catalog's; regenerate it: %s",
                CatalogExport.REGENERATE).isEqualTo(CatalogExport.withTable(readme));
        assertThat(readme).contains("| `leaky_relu` | elementwise | `alpha` = 0.01 (slope for x <= 0) |")
                .contains("| `prelu` | channel-wise | `weight[C]` buffer, one slope per channel |");
    }

    @Test
    void theGoldenCatalogDumpIsTheOneWrittenFromTheCatalog() throws IOException {
        String dump = Files.readString(ROOT.resolve(CatalogExport.DUMP), StandardCharsets.UTF_8);
        assertThat(dump).as("%s differs from the catalog; regenerate it (%s), then the golden values "
                + "(python3 java/src/test/python/make_golden.py)", CatalogExport.DUMP, CatalogExport.REGENERATE)
                .isEqualTo(CatalogExport.json());
        assertThat(dump).contains("{\"id\": \"hardtanh\", \"kind\": \"elementwise\"")
                .contains("{\"a\": -2.0, \"b\": 3.0, \"kinks\": [-2.0, 3.0]}");
    }

    @Test
    void aReadmeWithoutTheTableSectionIsRefusedByName() {
        assertThatThrownBy(() -> CatalogExport.withTable("# no table here\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(CatalogExport.TABLE_START);
    }

    @Test
    void everyElementwiseOpHasAReferenceAndRowWiseOpsRefuseOne() {
        for (Op op : Op.values()) {
            if (op.isRowwise() || op.kind() == Op.Kind.GATED) {
                assertThatThrownBy(() -> op.reference(0.5, 0, 0)).isInstanceOf(UnsupportedOperationException.class);
                assertThat(op.checkedSettings()).as(op.id()).containsExactly(op.defaults());
                continue;
            }
            for (Activation setting : op.checkedSettings()) {
                for (double x : new double[] {-2.5, -0.5, 0.5, 2.5}) {
                    assertThat(setting.reference(x)).as("%s at %s", setting, x).isFinite();
                    assertThat(setting.referenceDerivative(x)).as("%s' at %s", setting, x).isFinite();
                }
            }
        }
    }

    @Test
    void everyParameterisedOpIsCheckedAtOtherSettingsThatAreDistinctAndValid() {
        for (Op op : Op.ELEMENTWISE) {
            List<Activation> settings = op.checkedSettings();
            assertThat(settings).as(op.id()).doesNotHaveDuplicates().first().isEqualTo(op.defaults());
            assertThat(settings.size() > 1).as("%s has parameters, so settings besides its defaults", op.id())
                    .isEqualTo(!op.params().isEmpty());
        }
        assertThat(Op.PRELU.info().samples()).as("PReLU's sample weights").isNotEmpty()
                .allSatisfy(w -> assertThat(w).hasSize(1));
        Set<Float> signs = new HashSet<>();
        Op.PRELU.info().samples().forEach(w -> signs.add(Math.signum((float) w[0])));
        assertThat(signs).as("PReLU's weights differ in sign").contains(1f, -1f);
    }

    @Test
    void aRuleBetweenParametersIsCheckedWhereverAnActivationIsMade() {
        assertThat(Op.HARDTANH.info().violation(2, 1)).contains("parameter 'min' (2) must be <= 'max' (1)");
        assertThat(Op.HARDTANH.info().violation(1, 1)).isEmpty();
        assertThatThrownBy(() -> Activation.HARDTANH.with("min", 3))
                .hasMessage("hardtanh: parameter 'min' (3) must be <= 'max' (1)");
        assertThat(Arrays.stream(Op.values()).filter(op -> op.info().violation(1e30, -1e30).isPresent()))
                .containsExactly(Op.HARDTANH);
    }

    @Test
    void maxoutHasAConstantLikeTheOtherRowWiseOps() {
        assertThat(Activation.MAXOUT).isEqualTo(Activation.maxout(2));
        assertThat(Op.MAXOUT.isRowwise()).isTrue();
        assertThat(Op.PRELU.isRowwise()).isFalse();
        assertThat(Op.ELEMENTWISE).doesNotContain(Op.PRELU, Op.SOFTMAX);
    }
}
