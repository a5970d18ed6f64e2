package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** relu's scalar loops give max(x, 0) and dy * signum(max(x, 0)) whether their arrays share an index or not. */
class ReluLoopsTest {
    @Test
    void bothForwardLoopsGiveMaxOfXAndZero() {
        float[] x = new float[1003];
        SplittableRandom random = new SplittableRandom(4);
        for (int i = 0; i < x.length; i++) {
            x[i] = i < 3 ? Float.NaN : Float.intBitsToFloat(random.nextInt());
        }
        x[10] = -0f;
        float[] apart = new float[1000 + 9];
        ElementwiseKernel.RELU.forwardSequential(x, 3, apart, 9, 1000, 0, 0);
        float[] shared = java.util.Arrays.copyOf(x, x.length);
        ElementwiseKernel.RELU.forwardSequential(shared, 3, shared, 3, 1000, 0, 0);
        for (int i = 0; i < 1000; i++) {
            int expected = Float.floatToIntBits(Math.max(x[i + 3], 0f));
            assertThat(Float.floatToIntBits(apart[i + 9])).as("x=%s, offsets apart", x[i + 3]).isEqualTo(expected);
            assertThat(Float.floatToIntBits(shared[i + 3])).as("x=%s, in place", x[i + 3]).isEqualTo(expected);
        }
    }

    @Test
    void bothBackwardLoopsGiveDyTimesTheStepOfX() {
        float[] specials = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f, Float.MAX_VALUE, -Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        int n = specials.length * specials.length + 1000;
        float[] x = new float[n + 3];
        float[] dy = new float[n + 5];
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < n; i++) {
            boolean special = i < specials.length * specials.length;
            x[i + 3] = special ? specials[i / specials.length] : Float.intBitsToFloat(random.nextInt());
            dy[i + 5] = special ? specials[i % specials.length] : (float) random.nextDouble(-2, 2);
        }
        float[] apart = new float[n + 7];
        ElementwiseKernel.RELU.backwardSequential(x, 3, dy, 5, apart, 7, n, 0, 0);
        float[] xShared = java.util.Arrays.copyOfRange(x, 3, n + 3);
        float[] shared = java.util.Arrays.copyOfRange(dy, 5, n + 5);
        ElementwiseKernel.RELU.backwardSequential(xShared, 0, shared, 0, shared, 0, n, 0, 0);
        for (int i = 0; i < n; i++) {
            float expected = dy[i + 5] * Math.signum(Math.max(x[i + 3], 0f));
            assertThat(Float.floatToIntBits(apart[i + 7])).as("x=%s dy=%s, offsets apart", x[i + 3], dy[i + 5])
                    .isEqualTo(Float.floatToIntBits(expected));
            assertThat(Float.floatToIntBits(shared[i])).as("x=%s dy=%s, in place", x[i + 3], dy[i + 5])
                    .isEqualTo(Float.floatToIntBits(expected));
        }
    }
}
