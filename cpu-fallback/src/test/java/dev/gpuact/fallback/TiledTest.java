package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The tiled kernels over 16-bit storage: every bit pattern widens as {@link HalfFloats} does, across tiles. */
class TiledTest {
    @Test
    void everyFloat16AndBfloat16PatternWidensExactlyAndRoundTrips() {
        short[] all = new short[1 << 16];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        float[] widened = new float[all.length];
        Tiled.convert(Tiled.Storage.float16(all), Tiled.Storage.floats(widened), all.length);
        short[] back = new short[all.length];
        Tiled.convert(Tiled.Storage.floats(widened), Tiled.Storage.float16(back), all.length);
        for (int i = 0; i < all.length; i++) {
            assertThat(Float.floatToRawIntBits(widened[i])).as("float16 0x%04x", i)
                    .isEqualTo(Float.floatToRawIntBits(HalfFloats.float16ToFloat(all[i])));
            assertThat(back[i]).as("float16 0x%04x back", i).isEqualTo(HalfFloats.floatToFloat16(widened[i]));
        }
        Tiled.convert(Tiled.Storage.bfloat16(all), Tiled.Storage.floats(widened), all.length);
        for (int i = 0; i < all.length; i++) {
            assertThat(Float.floatToRawIntBits(widened[i])).as("bfloat16 0x%04x", i).isEqualTo(i << 16);
        }
    }

    @Test
    void floatsOfEveryClassNarrowAsHalfFloatsDoesAcrossTiles() {
        int[] special = {0, 0x80000000, 0x00000001, 0x007fffff, 0x00800000, 0x33000000, 0x33000001, 0x337fffff,
            0x38800000, 0x387fffff, 0x38801000, 0x38803000, 0x477fefff, 0x477ff000, 0x477fffff, 0x47800000,
            0x7f7fffff, 0x7f800000, 0xff800000, 0x7f800001, 0xff801000, 0x7fc00000, 0x7fffffff, 0x3f808000,
            0x3f818000, 0x3f80ffff, 0x7f7f8000, 0x7f7fffff};
        SplittableRandom random = new SplittableRandom(17);
        int n = 5 * Tiled.TILE + 7;
        float[] floats = new float[n];
        for (int i = 0; i < n; i++) {
            // special values at every offset within a vector, relu-like zeros, and random bits of every class
            int bits = i % 3 == 0 ? special[i / 3 % special.length] : i % 3 == 1 ? 0 : random.nextInt();
            floats[i] = Float.intBitsToFloat(random.nextBoolean() ? bits : bits ^ 0x80000000);
        }
        short[] float16 = new short[n];
        short[] bfloat16 = new short[n];
        Tiled.convert(Tiled.Storage.floats(floats), Tiled.Storage.float16(float16), n);
        Tiled.convert(Tiled.Storage.floats(floats), Tiled.Storage.bfloat16(bfloat16), n);
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToRawIntBits(floats[i]);
            assertThat(float16[i]).as("float16 of 0x%08x at %d", bits, i).isEqualTo(HalfFloats.floatToFloat16(floats[i]));
            assertThat(bfloat16[i]).as("bfloat16 of 0x%08x at %d", bits, i)
                    .isEqualTo(HalfFloats.floatToBfloat16(floats[i]));
        }
    }

    @Test
    void forwardOverMixedStorageRoundsTheFloatResultOnce() {
        int n = 3 * Tiled.TILE + 5;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (i - n / 2) / 97f;
        }
        float[] wide = new float[n];
        ElementwiseKernel.SIGMOID.forward(x, 0, wide, 0, n, 0, 0);
        short[] narrow = new short[n];
        Tiled.forward(ElementwiseKernel.SIGMOID, Tiled.Storage.floats(x), Tiled.Storage.bfloat16(narrow), n, 0, 0);
        for (int i = 0; i < n; i++) {
            assertThat(narrow[i]).as("sigmoid(%s)", x[i]).isEqualTo(HalfFloats.floatToBfloat16(wide[i]));
        }
    }
}
