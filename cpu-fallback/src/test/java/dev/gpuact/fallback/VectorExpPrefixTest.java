package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The vector loop of e^x (log_softmax's backward pass from y takes it a block at a time) gives BlockMath.exp's floats
 * over the prefix it reports, from and to any offset, on its domain (x at most 43, NaN), and writes nothing outside
 * the prefix.
 */
class VectorExpPrefixTest {
    @BeforeAll
    static void vectorised() {
        assumeTrue(Vectorization.vectorised(), "the Vector API path runs");
    }

    @Test
    void prefixGivesBlockMathsFloats() {
        float[] specials = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f, 43f, -87.5f, -103.9f, -104f, -200f,
            -Float.MAX_VALUE, Float.NEGATIVE_INFINITY, Float.NaN};
        SplittableRandom random = new SplittableRandom(21);
        for (int n : new int[] {0, 1, 15, 16, 17, 100, BlockMath.BLOCK}) {
            float[] x = new float[n + 5];
            for (int i = 0; i < x.length; i++) {
                x[i] = i < specials.length && n >= specials.length ? specials[i]
                        : random.nextInt(3) == 0 ? -Math.abs(Float.intBitsToFloat(random.nextInt()))
                        : (float) random.nextDouble(-110, 43);
            }
            float[] out = new float[n + 9];
            int done = Vectorization.LOOPS.expPrefix(x, 5, out, 2, n);
            assertThat(done).as("n = %d", n).isBetween(0, n);
            float[] block = new float[BlockMath.BLOCK];
            System.arraycopy(x, 5, block, 0, n);
            BlockMath.exp(block, block, new float[BlockMath.BLOCK], n);
            for (int i = 0; i < out.length; i++) {
                boolean inside = i >= 2 && i < 2 + done;
                float expected = inside ? block[i - 2] : 0f;
                assertThat(Float.floatToIntBits(out[i])).as("n = %d, out[%d] for x = %s", n, i,
                        inside ? x[5 + i - 2] : Float.NaN).isEqualTo(Float.floatToIntBits(expected));
            }
        }
    }
}
