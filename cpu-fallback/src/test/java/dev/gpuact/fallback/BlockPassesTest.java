package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The scalar path's ops in passes over blocks (BlockMath) give the floats of the one-element functions they stand
 * for (FloatFunctions, FloatMath, OneElementFloats), which the Vector API loops follow lane by lane: at the special
 * values, around each op's switch points, across the float range, at lengths that leave a partial block, with input
 * and output at distinct offsets. Zeros of either sign count as equal (the contract leaves the sign free).
 */
class BlockPassesTest {
    private static final int[] LENGTHS = {1, 7, BlockMath.BLOCK - 1, BlockMath.BLOCK + 1, 3 * BlockMath.BLOCK + 517};

    /** What one element must be: forward (dy unused) or backward. */
    private interface Definition {
        float of(float x, float dy);
    }

    static Stream<Arguments> ops() {
        return Stream.of(
                Arguments.of(ElementwiseKernel.SILU, 1f, 1f, false, (Definition) (x, dy) -> OneElementFloats.silu(x)),
                Arguments.of(ElementwiseKernel.SILU, 1f, 1f, true, (Definition) (x, dy) -> x < FloatFunctions.SILU_FAR
                        ? FloatFunctions.siluBackwardFar(dy, x)
                        : FloatFunctions.scaledProduct(dy, OneElementFloats.siluDerivativeScaled(x))),
                Arguments.of(ElementwiseKernel.MISH, 1f, 1f, false, (Definition) (x, dy) -> OneElementFloats.mish(x)),
                Arguments.of(ElementwiseKernel.GELU, 0f, 0f, false, (Definition) (x, dy) -> OneElementFloats.gelu(x)),
                Arguments.of(ElementwiseKernel.GELU, 0f, 0f, true, (Definition) (x, dy) ->
                        Math.abs(x) > FloatFunctions.GAUSSIAN_CLAMP ? FloatFunctions.geluBackwardFar(dy, x)
                        : FloatFunctions.scaledProduct(dy, OneElementFloats.geluDerivativeScaled(x))),
                Arguments.of(ElementwiseKernel.LOGSIGMOID, 1f, 1f, false,
                        (Definition) (x, dy) -> OneElementFloats.logsigmoid(x)),
                Arguments.of(ElementwiseKernel.LOGSIGMOID, 1f, 1f, true,
                        (Definition) (x, dy) -> dy * FloatMath.sigmoid(-x)),
                softplus(20), softplus(0), softplus(-5), softplus(0.75f), softplus(1e30f), softplus(Float.MAX_VALUE),
                softplusBackward(20), softplusBackward(-5), softplusBackward(Float.MAX_VALUE),
                Arguments.of(ElementwiseKernel.SIGMOID, 1f, 1f, false, (Definition) (x, dy) -> FloatMath.sigmoid(x)),
                Arguments.of(ElementwiseKernel.TANH, 1f, 1f, false, (Definition) (x, dy) -> OneElementFloats.tanh(x)),
                Arguments.of(ElementwiseKernel.ELU, 1f, 1f, false,
                        (Definition) (x, dy) -> OneElementFloats.elu(x, 1, 1)),
                Arguments.of(ElementwiseKernel.ELU, 0.5f, 1f, false,
                        (Definition) (x, dy) -> OneElementFloats.elu(x, 1, 0.5f)),
                Arguments.of(ElementwiseKernel.SELU, 1f, 1f, false, (Definition) (x, dy) ->
                        OneElementFloats.elu(x, FloatFunctions.SELU_SCALE, FloatFunctions.SELU_SCALED_ALPHA)),
                Arguments.of(ElementwiseKernel.ELU, 0.5f, 1f, true,
                        (Definition) (x, dy) -> dy * FloatFunctions.eluDerivative(x, 1, 0.5f)),
                Arguments.of(ElementwiseKernel.SELU, 1f, 1f, true, (Definition) (x, dy) -> dy * FloatFunctions
                        .eluDerivative(x, FloatFunctions.SELU_SCALE, FloatFunctions.SELU_SCALED_ALPHA)));
    }

    private static Arguments softplus(float threshold) {
        return Arguments.of(ElementwiseKernel.SOFTPLUS, 1f, threshold, false,
                (Definition) (x, dy) -> FloatFunctions.softplus(x, threshold));
    }

    private static Arguments softplusBackward(float threshold) {
        return Arguments.of(ElementwiseKernel.SOFTPLUS, 1f, threshold, true,
                (Definition) (x, dy) -> dy * FloatFunctions.softplusDerivative(x, threshold));
    }

    @ParameterizedTest(name = "{0}({1}, {2}), backward {3}")
    @MethodSource("ops")
    void passesGiveTheOneElementFloats(ElementwiseKernel op, float a, float b, boolean backward, Definition definition) {
        float[] inputs = inputs(b);
        SplittableRandom random = new SplittableRandom(7);
        for (int length : LENGTHS) {
            for (int start = 0; start < inputs.length; start += length) {
                int n = Math.min(length, inputs.length - start);
                int xo = 3;
                int yo = 5;
                float[] x = new float[xo + n];
                float[] dy = new float[yo + n];
                float[] out = new float[yo + n + 2];
                System.arraycopy(inputs, start, x, xo, n);
                for (int i = 0; i < n; i++) {
                    dy[yo + i] = random.nextInt(8) == 0 ? 3e38f : (float) random.nextDouble(-4, 4);
                }
                if (backward) {
                    op.backwardSequential(x, xo, dy, yo, out, yo, n, a, b);
                } else {
                    op.forwardSequential(x, xo, out, yo, n, a, b);
                }
                for (int i = 0; i < n; i++) {
                    float expected = definition.of(x[xo + i], dy[yo + i]);
                    float actual = out[yo + i];
                    boolean same = Float.floatToIntBits(actual) == Float.floatToIntBits(expected)
                            || (actual == 0 && expected == 0);
                    assertThat(same).as("%s at x = %s, dy = %s: %s, expected %s", op, x[xo + i], dy[yo + i], actual,
                            expected).isTrue();
                }
                assertThat(out[yo + n]).as("past the end").isZero();
            }
        }
    }

    /** Special values, points next to the switches (0, the threshold, the clamps), and random floats of every size. */
    private static float[] inputs(float threshold) {
        List<Float> values = new ArrayList<>(List.of(0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,
                1f, -1f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
                threshold, Math.nextUp(threshold), Math.nextDown(threshold), -threshold, 20f, 40f, -87.5f, -100f,
                Math.nextDown(-100f), -103.9f, -200f, Math.nextDown(-200f), 200f, -15f, 15f, 88.7f, 89f));
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 6000; i++) {
            values.add(switch (i % 3) {
                case 0 -> (float) random.nextDouble(-30, 30);
                case 1 -> (float) random.nextDouble(-250, 250);
                default -> Float.intBitsToFloat(random.nextInt());
            });
        }
        float[] inputs = new float[values.size()];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = values.get(i);
        }
        return inputs;
    }
}
