package dev.gpuact.fallback;

import static dev.gpuact.fallback.HalfFloats.bfloat16ToFloat;
import static dev.gpuact.fallback.HalfFloats.float16ToFloat;
import static dev.gpuact.fallback.HalfFloats.floatToBfloat16;
import static dev.gpuact.fallback.HalfFloats.floatToFloat16;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * Each conversion against an independent definition: the storage value nearest in double arithmetic among the
 * sorted finite storage values, ties to the even bit pattern, beyond the largest finite one by the IEEE overflow
 * rule (round as if the exponent were unbounded).
 */
class HalfFloatsTest {
    private static final double FLOAT16_MAX = 65504;
    private static final double BFLOAT16_MAX = Float.intBitsToFloat(0x7f7f0000);

    @Test
    void everyFloat16WidensExactlyAndNarrowsBackToItself() {
        for (int h = 0; h < 1 << 16; h++) {
            float f = float16ToFloat((short) h);
            int e = h >>> 10 & 0x1f;
            int m = h & 0x3ff;
            double expected = (e == 0 ? m * 0x1p-24 : (1 + m / 1024.0) * Math.pow(2, e - 15)) * ((h & 0x8000) != 0 ? -1 : 1);
            if (e == 0x1f) {
                assertThat(Float.isNaN(f)).as("0x%04x", h).isEqualTo(m != 0);
                if (m == 0) {
                    assertThat(f).isEqualTo((h & 0x8000) != 0 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY);
                }
            } else {
                assertThat((double) f).as("0x%04x", h).isEqualTo(expected);
                assertThat(Float.floatToRawIntBits(f) >>> 31).isEqualTo(h >>> 15);
            }
            short back = floatToFloat16(f);
            if (e == 0x1f && m != 0) {
                assertThat(back & 0x7e00).as("NaN 0x%04x stays a quiet NaN", h).isEqualTo(0x7e00);
                assertThat(back & 0x8000).isEqualTo(h & 0x8000);
            } else {
                assertThat(back & 0xffff).as("0x%04x", h).isEqualTo(h);
            }
        }
    }

    @Test
    void everyBfloat16WidensAndNarrowsBackToItself() {
        for (int b = 0; b < 1 << 16; b++) {
            float f = bfloat16ToFloat((short) b);
            assertThat(Float.floatToRawIntBits(f)).isEqualTo(b << 16);
            short back = floatToBfloat16(f);
            if (Float.isNaN(f)) {
                assertThat(Float.isNaN(bfloat16ToFloat(back))).isTrue();
                assertThat(back & 0x8000).isEqualTo(b & 0x8000);
            } else {
                assertThat(back & 0xffff).as("0x%04x", b).isEqualTo(b);
            }
        }
    }

    @Test
    void float16RoundsToNearestEvenEverywhereItsRangeNeedsIt() {
        IntFunction<Double> widen = h -> (double) float16ToFloat((short) h);
        // every float32 from 0 to just past float16's overflow threshold in steps that hit every tie and its
        // neighbours, plus random floats of every exponent
        for (int bits = 0; bits < 0x47800000 + 0x4000; bits += 0x1000 - 1) {
            checkNearest(Float.intBitsToFloat(bits), floatToFloat16(Float.intBitsToFloat(bits)), widen, 0x7bff, FLOAT16_MAX);
        }
        for (int h = 0; h < 0x7bff; h++) {
            int middle = Float.floatToRawIntBits((float) ((widen.apply(h) + widen.apply(h + 1)) / 2));
            for (int k = -2; k <= 2; k++) {
                float f = Float.intBitsToFloat(middle + k);
                checkNearest(f, floatToFloat16(f), widen, 0x7bff, FLOAT16_MAX);
                checkNearest(-f, floatToFloat16(-f), widen, 0x7bff, FLOAT16_MAX);
            }
        }
        for (float f : new float[] {65519.996f, 65520f, 65520.004f, 65504f, 0x1p-25f, 0x1.000002p-25f, 0x1p-26f}) {
            checkNearest(f, floatToFloat16(f), widen, 0x7bff, FLOAT16_MAX);
        }
        assertThat(floatToFloat16(65520f) & 0xffff).as("the tie above 65504 rounds to infinity").isEqualTo(0x7c00);
        assertThat(floatToFloat16(0x1p-25f) & 0xffff).as("half the smallest subnormal ties to zero").isZero();
        SplittableRandom random = new SplittableRandom(16);
        for (int i = 0; i < 2_000_000; i++) {
            float f = Float.intBitsToFloat(random.nextInt());
            if (!Float.isNaN(f)) {
                checkNearest(f, floatToFloat16(f), widen, 0x7bff, FLOAT16_MAX);
            }
        }
    }

    @Test
    void bfloat16RoundsToNearestEven() {
        IntFunction<Double> widen = b -> (double) bfloat16ToFloat((short) b);
        for (int b = 0; b < 0x7f80; b++) {
            int low = b << 16;
            for (int k : new int[] {0, 1, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff}) {
                float f = Float.intBitsToFloat(low + k);
                checkNearest(f, floatToBfloat16(f), widen, 0x7f7f, BFLOAT16_MAX);
                checkNearest(-f, floatToBfloat16(-f), widen, 0x7f7f, BFLOAT16_MAX);
            }
        }
        assertThat(floatToBfloat16(Float.intBitsToFloat(0x7f7fffff)) & 0xffff).isEqualTo(0x7f80);
        assertThat(floatToBfloat16(Float.NEGATIVE_INFINITY) & 0xffff).isEqualTo(0xff80);
    }

    @Test
    void nanStaysNanAndKeepsItsSign() {
        for (int bits : new int[] {0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0x7f801000}) {
            float nan = Float.intBitsToFloat(bits);
            assertThat(Float.isNaN(float16ToFloat(floatToFloat16(nan)))).as("0x%08x", bits).isTrue();
            assertThat(Float.isNaN(bfloat16ToFloat(floatToBfloat16(nan)))).as("0x%08x", bits).isTrue();
            assertThat(floatToFloat16(nan) & 0x8000).isEqualTo(bits >>> 31 << 15);
            assertThat(floatToBfloat16(nan) & 0x8000).isEqualTo(bits >>> 31 << 15);
        }
    }

    /**
     * {@code got} (storage bits) is the nearest storage value to {@code f}: no finite storage value of the same
     * sign is nearer, a tie went to the even pattern, and past the largest finite value ({@code maxBits}, {@code
     * max}) by half an ulp or more the result is infinity.
     */
    private static void checkNearest(float f, short got, IntFunction<Double> widen, int maxBits, double max) {
        double x = Math.abs((double) f);
        int g = got & 0x7fff;
        assertThat(got & 0x8000).as("sign of %s", f).isEqualTo(Float.floatToRawIntBits(f) >>> 31 << 15);
        double ulpAtMax = max - widen.apply(maxBits - 1);
        if (x >= max + ulpAtMax / 2) {
            assertThat(g).as("%s overflows to infinity", f).isEqualTo(maxBits + 1);
            return;
        }
        assertThat(g).as("%s is finite in storage", f).isLessThanOrEqualTo(maxBits);
        double error = Math.abs(widen.apply(g) - x);
        for (int neighbour : new int[] {g - 1, g + 1}) {
            if (neighbour < 0 || neighbour > maxBits) {
                continue;
            }
            double other = Math.abs(widen.apply(neighbour) - x);
            assertThat(error).as("%s -> 0x%04x, neighbour 0x%04x", f, g, neighbour).isLessThanOrEqualTo(other);
            if (error == other) {
                assertThat(g & 1).as("tie at %s goes to the even pattern", f).isZero();
            }
        }
    }
}
