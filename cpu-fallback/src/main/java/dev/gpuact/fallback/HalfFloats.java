package dev.gpuact.fallback;

/**
 * float16 (IEEE 754 binary16) and bfloat16 storage next to float32 math: widening is exact, narrowing rounds once
 * to nearest, ties to even, as CUDA's {@code __float2half_rn} / {@code __float2bfloat16_rn} and numpy's
 * {@code astype} do. Overflow gives infinity; NaN stays NaN (quiet, sign and leading payload kept). Java 17 has no
 * {@code Float.floatToFloat16} (JDK 20), hence these.
 */
public final class HalfFloats {
    /** 65504 + half an ulp (16): from here float16 rounds to infinity (65520 is a tie with an odd significand). */
    static final int FLOAT16_OVERFLOW_BITS = 0x477ff000;
    /** 2^-14, the smallest normal float16. */
    static final int FLOAT16_MIN_NORMAL_BITS = 0x38800000;

    private HalfFloats() {
    }

    /** The float16 with bits {@code h}, as float32 (exact). */
    public static float float16ToFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int significand = h & 0x3ff;
        if (exponent == 0) {
            float magnitude = significand * 0x1p-24f;  // subnormal or zero: exact in float32
            return sign == 0 ? magnitude : -magnitude;
        }
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | significand << 13);
        }
        return Float.intBitsToFloat(sign | (exponent - 15 + 127) << 23 | significand << 13);
    }

    /*
     * The narrowing conversions choose between candidates computed for every input instead of branching on the
     * value's class, so that a loop over mixed values (a relu's zeros among normals) does not mispredict on every
     * other element.
     */

    /** {@code f} rounded to the nearest float16 (ties to even), as its bits. */
    public static short floatToFloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int magnitude = bits & 0x7fffffff;
        // Rounding by adding below the kept bits: a carry out of the significand steps the exponent, as it should.
        int normal = magnitude - ((127 - 15) << 23) + 0xfff + (magnitude >>> 13 & 1) >>> 13;
        // Below 2^-14 float16 counts in units of 2^-24, the ulp of 0.5: adding 0.5 rounds to that unit (ties to
        // even) and leaves the count in the low bits; at most 2^-25 gives 0.
        int subnormal = Float.floatToRawIntBits(Float.intBitsToFloat(magnitude) + 0.5f) - 0x3f000000;
        int h = magnitude < FLOAT16_MIN_NORMAL_BITS ? subnormal : normal;
        h = magnitude >= FLOAT16_OVERFLOW_BITS ? 0x7c00 : h;
        h = magnitude > 0x7f800000 ? 0x7e00 | magnitude >>> 13 & 0x3ff : h;
        return (short) (bits >>> 16 & 0x8000 | h);
    }

    /** The bfloat16 with bits {@code b}, as float32 (exact: bfloat16 is float32's upper half). */
    public static float bfloat16ToFloat(short b) {
        return Float.intBitsToFloat(b << 16);
    }

    /** {@code f} rounded to the nearest bfloat16 (ties to even), as its bits. */
    public static short floatToBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int rounded = bits + 0x7fff + (bits >>> 16 & 1) >>> 16;
        // NaN is made quiet: rounding could otherwise carry it into infinity
        return (short) ((bits & 0x7fffffff) > 0x7f800000 ? bits >>> 16 | 0x40 : rounded);
    }
}
