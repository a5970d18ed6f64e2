package dev.gpuact.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.Op;
import dev.gpuact.RequiredBackends;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Elementwise forward and backward stay within bounds at float inputs nobody picked, on every usable backend the module tests. */
class ConformancePropertiesTest {
    private static final List<Backend> BACKENDS = new ArrayList<>();

    @BeforeContainer
    static void openUsableBackends() {
        for (String name : Backends.usableNames()) {
            if (RequiredBackends.tested(name)) {
                BACKENDS.add(Backends.get(name));
            }
        }
    }

    @AfterContainer
    static void closeBackends() {
        BACKENDS.forEach(Backend::close);
        BACKENDS.clear();
    }

    @Property(tries = 300)
    void elementwiseWithinBoundsAtRandomInputs(@ForAll("activations") Activation activation,
                                               @ForAll("inputs") float[] x, @ForAll long dySeed) {
        assertThat(BACKENDS).as("usable backends (the cpu backend always is)").isNotEmpty();
        SplittableRandom random = new SplittableRandom(dySeed);
        float[] dy = new float[x.length];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) random.nextDouble(-2, 2);
        }
        for (Backend backend : BACKENDS) {
            OpReport report = Conformance.checkElementwise(backend, activation, x, dy);
            assertThat(report.failures()).as("%s on %s", activation, backend.name()).isEmpty();
        }
    }

    @Provide
    Arbitrary<Activation> activations() {
        return Arbitraries.of(Op.ELEMENTWISE.stream().flatMap(op -> op.checkedSettings().stream()).toList());
    }

    /** Any bit pattern, the usual range of activations, and jqwik's own float edge cases. */
    @Provide
    Arbitrary<float[]> inputs() {
        Arbitrary<Float> anyBits = Arbitraries.integers().map(Float::intBitsToFloat);
        Arbitrary<Float> usualRange = Arbitraries.floats().between(-30f, 30f);
        Arbitrary<Float> anyFloat = Arbitraries.floats();
        return Arbitraries.oneOf(anyBits, usualRange, anyFloat).array(float[].class).ofMinSize(1).ofMaxSize(256);
    }
}
