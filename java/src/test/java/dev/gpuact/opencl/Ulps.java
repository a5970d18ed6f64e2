package dev.gpuact.opencl;

/** Distance in units in the last place between a float result and the float nearest a double reference. */
final class Ulps {
    private Ulps() {
    }

    /** 0 when equal (either zero sign) or both NaN; Long.MAX_VALUE when only one is NaN. */
    static long between(float got, double want) {
        float w = (float) want;
        if (Float.isNaN(got) || Float.isNaN(w)) {
            return Float.isNaN(got) && Float.isNaN(w) ? 0 : Long.MAX_VALUE;
        }
        if (got == w) {
            return 0;
        }
        return Math.abs(ordinal(got) - ordinal(w));
    }

    private static long ordinal(float f) {
        int bits = Float.floatToRawIntBits(f);
        return bits >= 0 ? bits : (long) Integer.MIN_VALUE - bits;
    }
}
