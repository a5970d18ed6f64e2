package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The branch-free loops of relu, the other piecewise-linear ops, softsign and square's backward give the floats of
 * their plain definitions (a compare and a choice per element; hardswish's, hardsigmoid's, square's backward and
 * softsign's backward rounded from double within 2, 1, 1 and 4 ULP, being computed in float), in both loop forms: arrays apart at
 * distinct offsets, and arrays sharing an index, which give the same bits. The signs of zeros are free, as the
 * contract has them.
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
                exact(ElementwiseKernel.RELU, 0, 0, false, (x, dy) -> Math.max(x, 0f)),
                exact(ElementwiseKernel.RELU, 0, 0, true, (x, dy) -> dy * Math.signum(Math.max(x, 0f))),
                exact(ElementwiseKernel.RELU6, 0, 0, false, (x, dy) -> Math.min(Math.max(x, 0f), 6f)),
                exact(ElementwiseKernel.RELU6, 0, 0, true, (x, dy) -> x > 0 && x < 6 ? dy : dy * zeroUnlessNaN(x)),
                exact(ElementwiseKernel.HARDTANH, -2.5f, 0.75f, false, (x, dy) -> Math.min(Math.max(x, -2.5f), 0.75f)),
                exact(ElementwiseKernel.HARDTANH, -1, 1, true, (x, dy) -> x > -1 && x < 1 ? dy : dy * zeroUnlessNaN(x)),
                exact(ElementwiseKernel.LEAKY_RELU, 0.01f, 0, false, (x, dy) -> x > 0 ? x : x * 0.01f),
                exact(ElementwiseKernel.LEAKY_RELU, 0, 0, false, (x, dy) -> x > 0 || x != x ? x : 0f),
                exact(ElementwiseKernel.LEAKY_RELU, -1.5f, 0, false, (x, dy) -> x > 0 ? x : x * -1.5f),
                exact(ElementwiseKernel.LEAKY_RELU, 0.01f, 0, true, (x, dy) -> x > 0 ? dy : dy * (x != x ? x : 0.01f)),
                exact(ElementwiseKernel.LEAKY_RELU, 0, 0, true, (x, dy) -> x > 0 ? dy : dy * zeroUnlessNaN(x)),
                exact(ElementwiseKernel.SOFTSHRINK, 0.5f, 0, true, (x, dy) -> Math.abs(x) > 0.5f ? dy : dy * zeroUnlessNaN(x)),
                exact(ElementwiseKernel.HARDSHRINK, 0.75f, 0, true, (x, dy) -> Math.abs(x) > 0.75f ? dy : dy * zeroUnlessNaN(x)),
                exact(ElementwiseKernel.IDENTITY, 0, 0, true, (x, dy) -> x != x ? x : dy),
                exact(ElementwiseKernel.STEP, 0, 0, false, (x, dy) -> x > 0 ? 1 : x != x ? x : 0),
                exact(ElementwiseKernel.STEP, 0, 0, true, (x, dy) -> dy * zeroUnlessNaN(x)),
                exact(ElementwiseKernel.ABS, 0, 0, true, (x, dy) -> dy * Math.signum(x)),
                exact(ElementwiseKernel.SOFTSHRINK, 0.5f, 0, false,
                        (x, dy) -> x > 0.5f ? x - 0.5f : x < -0.5f ? x + 0.5f : zeroUnlessNaN(x)),
                exact(ElementwiseKernel.SOFTSHRINK, 0, 0, false, (x, dy) -> x),
                exact(ElementwiseKernel.HARDSHRINK, 0.75f, 0, false, (x, dy) -> Math.abs(x) > 0.75f || x != x ? x : 0),
                exact(ElementwiseKernel.THRESHOLD, 0.75f, -2.5f, false, (x, dy) -> x > 0.75f || x != x ? x : -2.5f),
                exact(ElementwiseKernel.THRESHOLD, -1, 6, true, (x, dy) -> x > -1 ? dy : dy * zeroUnlessNaN(x)),
                exact(ElementwiseKernel.SOFTSIGN, 0, 0, false, (x, dy) -> {
                    float magnitude = Math.min(Math.abs(x), 0x1p24f);
                    return Math.copySign(magnitude, x) / (1 + magnitude);
                }),
                Arguments.of(ElementwiseKernel.SQUARE, 0f, 0f, true, 1, (Definition) (x, dy) ->
                        (float) (2.0 * x * dy)),
                // dy / d / d in float (3.0 ULP at worst over 50M random floats)
                Arguments.of(ElementwiseKernel.SOFTSIGN, 0f, 0f, true, 4, (Definition) (x, dy) -> {
                    double d = 1 + Math.abs((double) x);
                    return (float) (dy / (d * d));
                }),
                // x (x + 3) / 6 and dy (2x + 3) / 6 in float rather than rounded once from double
                Arguments.of(ElementwiseKernel.HARDSWISH, 0f, 0f, false, 2, (Definition) (x, dy) ->
                        (float) (x <= -3 ? 0 : x >= 3 ? x : (double) x * ((double) x + 3) / 6)),
                Arguments.of(ElementwiseKernel.HARDSWISH, 0f, 0f, true, 2, (Definition) (x, dy) ->
                        (float) (dy * (x < -3 ? 0 : x > 3 ? 1 : (2 * (double) x + 3) / 6))),
                // hardsigmoid at its defaults: (x + 3) / 6 in float, exact next to -3; dy / 6 rounded once
                Arguments.of(ElementwiseKernel.HARDSIGMOID, 1f / 6, 0.5f, false, 1, (Definition) (x, dy) ->
                        (float) Math.min(Math.max(((double) x + 3) / 6, 0), 1)),
                exact(ElementwiseKernel.HARDSIGMOID, 1f / 6, 0.5f, true, (x, dy) ->
                        x > -3 && x < 3 ? (float) (dy / 6.0) : dy * zeroUnlessNaN(x)));
    }

    private static Arguments exact(ElementwiseKernel op, float a, float b, boolean backward, Definition definition) {
        return Arguments.of(op, a, b, backward, 0, definition);
    }

    @ParameterizedTest(name = "{0} ({1}, {2}) backward={3}, within {4} ULP")
    @MethodSource("loops")
    void bothLoopFormsGiveThePlainDefinition(ElementwiseKernel op, float a, float b, boolean backward, int ulps,
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
        for (int i = 0; i < n; i++) {
            float expected = definition.of(x[i + 3], dy[i + 5]);
            String inputs = "x=" + x[i + 3] + (backward ? " dy=" + dy[i + 5] : "");
            assertThat(bits(shared[i])).as("%s, shared index against offsets apart", inputs).isEqualTo(bits(apart[i + 7]));
            if (ulps == 0 || Float.isNaN(expected) || Float.isInfinite(expected)) {
                assertThat(bits(apart[i + 7])).as(inputs).isEqualTo(bits(expected));
            } else {
                assertThat(Math.abs((double) apart[i + 7] - expected)).as(inputs)
                        .isLessThanOrEqualTo(ulps * (double) Math.ulp(expected));
            }
        }
    }

    /** Two quotients, not one by d^2: d^2 overflows for |x| past 2^64 while the result may still be a float. */
    @Test
    void softsignBackwardKeepsTheQuotientOfAHugeXAndAHugeDy() {
        float[] dx = new float[1];
        ElementwiseKernel.SOFTSIGN.backwardSequential(new float[] {1e30f}, 0, new float[] {3e38f}, 0, dx, 0, 1, 0, 0);
        assertThat(dx[0]).isCloseTo(3e-22f, Percentage.withPercentage(1e-4));
    }

    /** The bits with zero signs made alike (the contract leaves them free); every NaN alike. */
    private static int bits(float v) {
        return Float.floatToIntBits(v == 0 ? 0f : v);
    }

    private static float zeroUnlessNaN(float x) {
        return x != x ? x : 0f;
    }
}
