package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;

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
