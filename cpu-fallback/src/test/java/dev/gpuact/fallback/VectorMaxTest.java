package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The vector row maximum (the first pass of every softmax row) reduces several vectors per step; it must still
 * equal Math.max over the prefix it covers, whatever the length and wherever the maximum, a NaN or a signed zero is.
 */
class VectorMaxTest {
    private static final int LONGEST = 300;

    @BeforeAll
    static void vectorised() {
        assumeTrue(Vectorization.vectorised(), "the Vector API path runs");
    }

    @Test
    void equalsScalarMaxForEveryLengthAndPosition() {
        SplittableRandom random = new SplittableRandom(18);
        float[] row = new float[LONGEST + 3];
        for (int n = 0; n <= LONGEST; n++) {
            int covered = Vectorization.LOOPS.maxPrefix(n);
            assertThat(covered).isBetween(0, n);
            for (int at = 0; at < Math.max(covered, 1); at++) {
                for (float special : new float[] {100f, Float.NaN, Float.POSITIVE_INFINITY}) {
                    for (int i = 0; i < row.length; i++) {
                        row[i] = (float) random.nextDouble(-50, 50);
                    }
                    if (covered > 0) {
                        row[3 + at] = special;
                    }
                    float max = Vectorization.LOOPS.maxOfPrefix(row, 3, n);
                    assertThat(Float.compare(max, scalarMax(row, 3, covered)))
                            .as("n=%d, %s at %d: %s", n, special, at, max).isZero();
                }
            }
        }
    }

    @Test
    void positiveZeroWinsOverNegativeZeroAnywhere() {
        float[] row = new float[LONGEST];
        for (int at = 0; at < Vectorization.LOOPS.maxPrefix(LONGEST); at++) {
            Arrays.fill(row, -0f);
            row[at] = 0f;
            assertThat(Float.floatToRawIntBits(Vectorization.LOOPS.maxOfPrefix(row, 0, LONGEST))).as("+0 at %d", at)
                    .isEqualTo(0);
        }
    }

    private static float scalarMax(float[] x, int from, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < from + n; i++) {
            max = Math.max(max, x[i]);
        }
        return max;
    }
}
