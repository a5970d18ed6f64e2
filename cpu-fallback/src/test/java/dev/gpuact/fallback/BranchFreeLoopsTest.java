package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The branch-free loops of relu6, hardtanh, leaky_relu, softshrink and hardshrink give the floats of the plain
 * definitions (a compare and a choice per element), in both loop forms: arrays apart at distinct offsets, and arrays
 * sharing an index. Zero signs are free in leaky_relu's forward pass (the contract lets them differ) and compared
 * everywhere else.
 */
class BranchFreeLoopsTest {
    private static final float[] SPECIALS = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 0.5f, -0.5f, 1f, -1f, 6f,
        Math.nextDown(6f), Math.nextUp(6f), 0.75f, -2.5f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, Float.NaN};

    /** What the loop must give for one element: forward (dy unused) or backward. */
    private interface Definition {
        float of(float x, float dy);
    }

    static Stream<Arguments> loops() {
        return Stream.of(
                Arguments.of(ElementwiseKernel.RELU6, 0f, 0f, false,
                        (Definition) (x, dy) -> Math.min(Math.max(x, 0f), 6f)),
                Arguments.of(ElementwiseKernel.RELU6, 0f, 0f, true,
                        (Definition) (x, dy) -> x > 0 && x < 6 ? dy : dy * zeroUnlessNaN(x)),
                Arguments.of(ElementwiseKernel.HARDTANH, -2.5f, 0.75f, false,
                        (Definition) (x, dy) -> Math.min(Math.max(x, -2.5f), 0.75f)),
                Arguments.of(ElementwiseKernel.HARDTANH, -1f, 1f, true,
                        (Definition) (x, dy) -> x > -1 && x < 1 ? dy : dy * zeroUnlessNaN(x)),
                Arguments.of(ElementwiseKernel.LEAKY_RELU, 0.01f, 0f, false,
                        (Definition) (x, dy) -> x > 0 ? x : x * 0.01f),
                Arguments.of(ElementwiseKernel.LEAKY_RELU, 0f, 0f, false,
                        (Definition) (x, dy) -> x > 0 || x != x ? x : 0f),
                Arguments.of(ElementwiseKernel.LEAKY_RELU, -1.5f, 0f, false,
                        (Definition) (x, dy) -> x > 0 ? x : x * -1.5f),
                Arguments.of(ElementwiseKernel.LEAKY_RELU, 0.01f, 0f, true,
                        (Definition) (x, dy) -> x > 0 ? dy : dy * (x != x ? x : 0.01f)),
                Arguments.of(ElementwiseKernel.LEAKY_RELU, 0f, 0f, true,
                        (Definition) (x, dy) -> x > 0 ? dy : dy * zeroUnlessNaN(x)),
                Arguments.of(ElementwiseKernel.SOFTSHRINK, 0.5f, 0f, true,
                        (Definition) (x, dy) -> Math.abs(x) > 0.5f ? dy : dy * zeroUnlessNaN(x)),
                Arguments.of(ElementwiseKernel.HARDSHRINK, 0.75f, 0f, true,
                        (Definition) (x, dy) -> Math.abs(x) > 0.75f ? dy : dy * zeroUnlessNaN(x)));
    }

    @ParameterizedTest(name = "{0} ({1}, {2}) backward={3}")
    @MethodSource("loops")
    void bothLoopFormsGiveThePlainDefinition(ElementwiseKernel op, float a, float b, boolean backward,
                                              Definition definition) {
        int n = SPECIALS.length * SPECIALS.length + 5000;
        float[] x = new float[n + 3];
        float[] dy = new float[n + 5];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < n; i++) {
            boolean special = i < SPECIALS.length * SPECIALS.length;
            x[i + 3] = special ? SPECIALS[i / SPECIALS.length]
                    : i % 2 == 0 ? Float.intBitsToFloat(random.nextInt()) : (float) random.nextDouble(-8, 8);
            dy[i + 5] = special ? SPECIALS[i % SPECIALS.length] : (float) random.nextDouble(-2, 2);
        }
        float[] apart = new float[n + 7];
        float[] shared = Arrays.copyOfRange(dy, 5, n + 5);
        float[] xShared = Arrays.copyOfRange(x, 3, n + 3);
        if (backward) {
            op.backwardSequential(x, 3, dy, 5, apart, 7, n, a, b);
            op.backwardSequential(xShared, 0, shared, 0, shared, 0, n, a, b);
        } else {
            op.forwardSequential(x, 3, apart, 7, n, a, b);
            op.forwardSequential(xShared, 0, shared, 0, n, a, b);
        }
        boolean zeroSignFree = op == ElementwiseKernel.LEAKY_RELU && !backward;
        for (int i = 0; i < n; i++) {
            float expected = definition.of(x[i + 3], dy[i + 5]);
            String inputs = "x=" + x[i + 3] + (backward ? " dy=" + dy[i + 5] : "");
            assertThat(bits(apart[i + 7], zeroSignFree)).as("%s, offsets apart", inputs)
                    .isEqualTo(bits(expected, zeroSignFree));
            assertThat(bits(shared[i], zeroSignFree)).as("%s, shared index", inputs)
                    .isEqualTo(bits(expected, zeroSignFree));
        }
    }

    private static int bits(float v, boolean zeroSignFree) {
        return Float.floatToIntBits(zeroSignFree && v == 0 ? 0f : v);
    }

    private static float zeroUnlessNaN(float x) {
        return x != x ? x : 0f;
    }
}
