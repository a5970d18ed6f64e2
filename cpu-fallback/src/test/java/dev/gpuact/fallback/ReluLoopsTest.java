package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * relu's vector loops take the calls whose arrays sit at different offsets (the scalar loops, which SuperWord
 * vectorises only at one offset, take the rest), and give Math.max(x, 0) and dy relu'(x) bit for bit there: NaN, both
 * zeros, subnormals, infinities and random floats.
 */
class ReluLoopsTest {
    private static final int N = 1000;

    @BeforeAll
    static void vectorised() {
        assumeTrue(Vectorization.vectorised(), "the Vector API path runs");
    }

    private static float[] values(long seed) {
        float[] specials = {Float.NaN, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, 1f, -1f};
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[N + 16];
        for (int i = 0; i < v.length; i++) {
            v[i] = i < specials.length ? specials[i] : Float.intBitsToFloat(random.nextInt());
        }
        return v;
    }

    @Test
    void vectorLoopsTakeDistinctOffsetsBitForBit() {
        float[] x = values(1);
        float[] dy = values(2);
        float[] y = new float[N + 16];
        int forward = Vectorization.LOOPS.forward(ElementwiseKernel.RELU, x, 3, y, 5, N, 0, 0);
        assertThat(forward).isGreaterThan(N - 64);
        for (int i = 0; i < forward; i++) {
            assertThat(Float.floatToIntBits(y[5 + i])).as("relu(%s)", x[3 + i])
                    .isEqualTo(Float.floatToIntBits(Math.max(x[3 + i], 0f)));
        }
        float[] dx = new float[N + 16];
        int backward = Vectorization.LOOPS.backward(ElementwiseKernel.RELU, x, 3, dy, 7, dx, 5, N, 0, 0);
        assertThat(backward).isGreaterThan(N - 64);
        for (int i = 0; i < backward; i++) {
            float expected = dy[7 + i] * FloatFunctions.reluDerivative(x[3 + i]);
            assertThat(Float.floatToIntBits(dx[5 + i])).as("dy %s at x %s", dy[7 + i], x[3 + i])
                    .isEqualTo(Float.floatToIntBits(expected));
        }
    }

    @Test
    void scalarLoopsTakeOneOffset() {
        float[] x = values(3);
        assertThat(Vectorization.LOOPS.forward(ElementwiseKernel.RELU, x, 4, new float[N + 16], 4, N, 0, 0)).isZero();
        assertThat(Vectorization.LOOPS.backward(ElementwiseKernel.RELU, x, 4, x.clone(), 4, new float[N + 16], 4, N, 0,
                0)).isZero();
    }
}
