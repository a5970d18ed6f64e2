package dev.gpuact.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Activation;
import dev.gpuact.Op;
import dev.gpuact.conformance.Ulp;
import dev.gpuact.fallback.ElementwiseKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The proof that the fallback kernels meet ACTIVATIONS.md: forward within 4 ULP and backward within 8 ULP of the
 * correctly rounded double reference, over every float exponent of both signs, subnormals, the infinities, NaN,
 * the kinks of each function with their neighbours, and dense grids near 0 and across [-20, 20]; where f' is a
 * sum of terms that cancel, its error is read as {@link dev.gpuact.conformance.Conformance} reads it.
 */
class UlpSweepTest {
    static final float[] INPUTS = sweepInputs();

    /** Every elementwise op at the settings the catalog says it is checked at. */
    static Stream<Activation> activations() {
        return Op.ELEMENTWISE.stream().flatMap(op -> op.checkedSettings().stream());
    }

    private static float[] sweepInputs() {
        List<Float> values = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(20240611);
        for (int exponent = -149; exponent <= 127; exponent++) {
            for (int k = 0; k < 12; k++) {
                float mantissa = k == 0 ? 1f : k == 1 ? 1.5f : k == 2 ? Math.nextDown(2f) : 1 + (float) random.nextDouble();
                float v = exponent < -126 ? Math.scalb(1f, exponent) * (k + 1) : Math.scalb(mantissa, exponent);
                values.add(v);
                values.add(-v);
            }
        }
        float[] specials = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.MIN_VALUE,
            -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE};
        for (float s : specials) {
            values.add(s);
        }
        // kinks, thresholds and the interior zeros of the derivatives, each with 8 neighbours on both sides
        double[] kinks = {0, 1, 3, 6, 0.5, 1.5, 2, 20, 10, 5, 40, 0.125, 0.25, 1.25, 4, 0.7518, 1.2785, 1.1924,
            Math.sqrt(3), 2.5, 88, 89, 104, 709, 710};
        for (double kink : kinks) {
            for (double sign : new double[] {1, -1}) {
                float v = (float) (sign * kink);
                for (int step = 0; step < 8; step++) {
                    values.add(v);
                    v = Math.nextUp(v);
                }
                v = (float) (sign * kink);
                for (int step = 0; step < 8; step++) {
                    v = Math.nextDown(v);
                    values.add(v);
                }
            }
        }
        // dense where float formulas lost the bound before: gelu's tail near |x| = 3, the zeros of gelu' and silu',
        // mish near x = -6 (4.7 ULP at -6.783012 when each step rounded; a soak found 5 at -5.944553)
        values.add(-6.783012f);
        values.add(-5.944553f);
        for (double[] range : new double[][] {{-3.5, -2.5}, {2.5, 3.5}, {-0.8, -0.7}, {-1.35, -1.2}, {-7, -5.8}}) {
            for (int i = 0; i < 10_000; i++) {
                values.add((float) random.nextDouble(range[0], range[1]));
            }
        }
        for (int i = 0; i < 40_000; i++) {
            values.add((float) (random.nextDouble(-20, 20)));
            values.add((float) (random.nextDouble(-1e-3, 1e-3)));
            values.add((float) (Math.copySign(Math.pow(10, random.nextDouble(-30, 1)), random.nextDouble() - 0.5)));
        }
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void forwardIsWithin4UlpOfTheReference(Activation activation) {
        ElementwiseKernel kernel = CpuBackend.kernel(activation.op());
        float[] y = new float[INPUTS.length];
        kernel.forwardChunk(INPUTS, 0, y, 0, INPUTS.length, activation.a(), activation.b());
        List<String> failures = new ArrayList<>();
        double worst = 0;
        for (int i = 0; i < INPUTS.length; i++) {
            float expected = (float) activation.reference(INPUTS[i]);
            double d = Ulp.distance(y[i], expected);
            worst = Math.max(worst, d);
            if (d > 4 && failures.size() < 10) {
                failures.add("x=" + INPUTS[i] + " (" + Float.floatToRawIntBits(INPUTS[i]) + "): got " + y[i]
                        + ", expected " + expected + " (" + d + " ULP)");
            }
        }
        assertThat(failures).as("%s forward, worst %s ULP", activation, worst).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void backwardIsWithin8UlpOfTheReference(Activation activation) {
        ElementwiseKernel kernel = CpuBackend.kernel(activation.op());
        float[] dy = new float[INPUTS.length];
        Random random = new Random(7);
        for (int i = 0; i < dy.length; i++) {
            dy[i] = i % 2 == 0 ? 1f : (float) (random.nextDouble() * 4 - 2);
        }
        float[] dx = new float[INPUTS.length];
        kernel.backwardChunk(INPUTS, 0, dy, 0, dx, 0, INPUTS.length, activation.a(), activation.b());
        List<String> failures = new ArrayList<>();
        double worst = 0;
        for (int i = 0; i < INPUTS.length; i++) {
            double exact = dy[i] * activation.referenceDerivative(INPUTS[i]);
            float expected = (float) exact;
            double scale = Math.abs(dy[i]) * activation.op().referenceDerivativeScale(INPUTS[i], activation.a(),
                    activation.b());
            double d = Ulp.distance(dx[i], exact, scale);
            worst = Math.max(worst, d);
            if (d > 8 && failures.size() < 10) {
                failures.add("x=" + INPUTS[i] + ", dy=" + dy[i] + ": got " + dx[i] + ", expected " + expected
                        + " (" + d + " ULP)");
            }
        }
        assertThat(failures).as("%s backward, worst %s ULP", activation, worst).isEmpty();
    }

    /** The loops that run (Vector API where present) and the scalar ones agree bit for bit on every sweep input. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void theRunningLoopsEqualTheScalarLoopsBitForBit(Activation activation) {
        ElementwiseKernel kernel = CpuBackend.kernel(activation.op());
        int n = INPUTS.length;
        float[] dy = new float[n];
        java.util.Arrays.fill(dy, 1.5f);
        float[] running = new float[n];
        float[] scalar = new float[n];
        kernel.forwardChunk(INPUTS, 0, running, 0, n, activation.a(), activation.b());
        kernel.forwardSequential(INPUTS, 0, scalar, 0, n, activation.a(), activation.b());
        assertSameBits(activation + " forward", running, scalar);
        kernel.backwardChunk(INPUTS, 0, dy, 0, running, 0, n, activation.a(), activation.b());
        kernel.backwardSequential(INPUTS, 0, dy, 0, scalar, 0, n, activation.a(), activation.b());
        assertSameBits(activation + " backward", running, scalar);
    }

    /**
     * A huge dy where f' itself is below float's scaled range (gelu' beyond |x| = 15, ricker' beyond 16, silu' and
     * mish' below -100, gelu_tanh' below -11) still gives dy f'(x) within the bound, computed in place (dx on dy's
     * region) as the gated ops call it: the float derivatives scaled by 2^64 gave 0 or a value e^15 too large there.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gelu", "silu", "gelu_tanh", "mish", "ricker"})
    void aHugeDyKeepsTheFarTailInPlace(String name) {
        Activation activation = Op.byName(name).defaults();
        ElementwiseKernel kernel = CpuBackend.kernel(activation.op());
        SplittableRandom random = new SplittableRandom(15);
        int n = 4096;
        float[] x = new float[n];
        float[] dy = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (i % 4 == 0 ? random.nextDouble(-40, -14) : i % 4 == 1 ? random.nextDouble(-160, -90)
                    : i % 8 == 2 ? random.nextDouble(-13, -9) : random.nextDouble(-20, 20));
            dy[i] = (float) (random.nextBoolean() ? 1e30 : -3e38 * random.nextDouble());
        }
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            expected[i] = (float) (dy[i] * activation.referenceDerivative(x[i]));
        }
        float[] dx = dy.clone();
        kernel.backwardChunk(x, 0, dx, 0, dx, 0, n, activation.a(), activation.b());
        for (int i = 0; i < n; i++) {
            double scale = Math.abs(dy[i]) * activation.op().referenceDerivativeScale(x[i], activation.a(),
                    activation.b());
            double d = Ulp.distance(dx[i], dy[i] * activation.referenceDerivative(x[i]), scale);
            assertThat(d).as("%s backward at x=%s, dy=%s: got %s, expected %s", name, x[i], dy[i], dx[i], expected[i])
                    .isLessThanOrEqualTo(8);
        }
    }

    /**
     * The vector loops' near forms (unscaled exp for |x| up to 64, 11.5 for gelu; the full form for a vector holding a
     * lane past it) against the scalar loops, bit for bit: random x around the switch points and across the range,
     * whole vectors on one side or mixed, and dy of every magnitude (dy f' rounded once either way, subnormal or not).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sigmoid", "silu", "mish", "gelu"})
    void theNearFormsGiveTheBitsOfTheScalarLoops(String name) {
        Activation activation = Op.byName(name).defaults();
        ElementwiseKernel kernel = CpuBackend.kernel(activation.op());
        SplittableRandom random = new SplittableRandom(64);
        int n = 1 << 16;
        float[] x = new float[n];
        float[] dy = new float[n];
        float[] edges = {64, 0x1p-90f, 87.3f, 40, 11.5f, 15};
        for (int i = 0; i < n; i++) {
            // runs of 64 from one kind of input, so that whole vectors stay near and others mix
            x[i] = switch (i / 64 % 4) {
                case 0 -> (float) random.nextDouble(-70, 70);
                case 1 -> (float) random.nextDouble(-64, 64);
                case 2 -> Math.scalb((float) random.nextDouble(1, 2), random.nextInt(-140, 7))
                        * (random.nextBoolean() ? 1 : -1);
                default -> {
                    float edge = edges[random.nextInt(edges.length)] * (random.nextBoolean() ? 1 : -1);
                    for (int step = random.nextInt(-4, 5); step != 0; step -= Integer.signum(step)) {
                        edge = step > 0 ? Math.nextUp(edge) : Math.nextDown(edge);
                    }
                    yield edge;
                }
            };
            dy[i] = Math.scalb((float) random.nextDouble(-2, 2), random.nextInt(-100, 100));
        }
        float[] running = new float[n];
        float[] scalar = new float[n];
        kernel.forwardChunk(x, 0, running, 0, n, activation.a(), activation.b());
        kernel.forwardSequential(x, 0, scalar, 0, n, activation.a(), activation.b());
        assertSameBits(name + " forward", x, running, scalar);
        kernel.backwardChunk(x, 0, dy, 0, running, 0, n, activation.a(), activation.b());
        kernel.backwardSequential(x, 0, dy, 0, scalar, 0, n, activation.a(), activation.b());
        assertSameBits(name + " backward", x, running, scalar);
    }

    private static void assertSameBits(String what, float[] actual, float[] expected) {
        assertSameBits(what, INPUTS, actual, expected);
    }

    private static void assertSameBits(String what, float[] x, float[] actual, float[] expected) {
        for (int i = 0; i < actual.length; i++) {
            if (Float.floatToIntBits(actual[i]) != Float.floatToIntBits(expected[i])) {
                throw new AssertionError(what + " at x=" + x[i] + ": " + actual[i] + " vs " + expected[i]);
            }
        }
    }
}
