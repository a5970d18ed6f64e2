package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * softsign's backward loops, float quotients dy / d / d with d = 1 + |x|: within 4 ULP of dy / (1 + |x|)^2 rounded
 * once from double, the same bits whether the arrays share an index or not, and no overflow of d^2 where the result
 * is still a float.
 */
class SoftsignBackwardTest {
    private static final float[] SPECIALS = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f, 0x1p24f, 0x1p64f,
        1e30f, -1e30f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};

    @Test
    void bothLoopsAreWithinFourUlpsOfTheDoubleQuotient() {
        int n = SPECIALS.length * SPECIALS.length + 100_000;
        float[] x = new float[n + 3];
        float[] dy = new float[n + 5];
        SplittableRandom random = new SplittableRandom(6);
        for (int i = 0; i < n; i++) {
            boolean special = i < SPECIALS.length * SPECIALS.length;
            x[i + 3] = special ? SPECIALS[i / SPECIALS.length]
                    : i % 2 == 0 ? Float.intBitsToFloat(random.nextInt()) : (float) random.nextDouble(-50, 50);
            dy[i + 5] = special ? SPECIALS[i % SPECIALS.length]
                    : i % 3 == 0 ? Float.intBitsToFloat(random.nextInt()) : (float) random.nextDouble(-2, 2);
        }
        float[] apart = new float[n + 7];
        ElementwiseKernel.SOFTSIGN.backwardSequential(x, 3, dy, 5, apart, 7, n, 0, 0);
        float[] xShared = java.util.Arrays.copyOfRange(x, 3, n + 3);
        float[] shared = java.util.Arrays.copyOfRange(dy, 5, n + 5);
        ElementwiseKernel.SOFTSIGN.backwardSequential(xShared, 0, shared, 0, shared, 0, n, 0, 0);
        for (int i = 0; i < n; i++) {
            double d = 1 + Math.abs((double) x[i + 3]);
            float expected = (float) (dy[i + 5] / (d * d));
            String inputs = "x=" + x[i + 3] + " dy=" + dy[i + 5];
            assertThat(Float.floatToIntBits(shared[i])).as("%s: in place against offsets apart", inputs)
                    .isEqualTo(Float.floatToIntBits(apart[i + 7]));
            if (Float.isNaN(expected)) {
                assertThat(apart[i + 7]).as(inputs).isNaN();
            } else if (Float.isInfinite(expected)) {
                assertThat(apart[i + 7]).as(inputs).isEqualTo(expected);
            } else {
                assertThat(Math.abs((double) apart[i + 7] - expected)).as(inputs)
                        .isLessThanOrEqualTo(4 * (double) Math.ulp(expected));
            }
        }
    }

    @Test
    void aHugeXWithAHugeDyKeepsItsQuotient() {
        float[] x = {1e30f};
        float[] dy = {3e38f};
        float[] dx = new float[1];
        ElementwiseKernel.SOFTSIGN.backwardSequential(x, 0, dy, 0, dx, 0, 1, 0, 0);
        assertThat(dx[0]).isCloseTo(3e-22f, org.assertj.core.data.Percentage.withPercentage(1e-4));
    }
}
