package dev.gpuact.cpu;

/** Distance between floats in the ordered float lattice: +0 and -0 are equal, NaN equals only NaN. */
final class Ulp {
    private Ulp() {
    }

    /** Position of a float on a line where adjacent floats are 1 apart and both zeros sit at 0. */
    private static long ordinal(float f) {
        int bits = Float.floatToRawIntBits(f);
        return bits < 0 ? -(long) (bits & 0x7fffffff) : bits;
    }

    static long distance(float a, float b) {
        if (Float.isNaN(a) || Float.isNaN(b)) {
            return Float.isNaN(a) && Float.isNaN(b) ? 0 : Long.MAX_VALUE;
        }
        return Math.abs(ordinal(a) - ordinal(b));
    }
}
