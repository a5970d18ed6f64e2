package dev.gpuact.conformance;

/** Distances between float32 results and true values, in units in the last place. */
public final class Ulp {
    private Ulp() {
    }

    /** Position in the ordered float lattice: adjacent floats differ by 1, and +0 and -0 are both 0. */
    static long ordinal(float f) {
        int bits = Float.floatToRawIntBits(f);
        return bits >= 0 ? bits : -(long) (bits & 0x7fffffff);
    }

    /**
     * Steps between {@code got} and {@code want} in the ordered float lattice: +0 and -0 are equal, NaN and NaN
     * are 0 apart, NaN and a number infinitely far; an infinity is one step beyond {@code MAX_VALUE}.
     */
    public static double distance(float got, float want) {
        boolean gotNaN = Float.isNaN(got);
        boolean wantNaN = Float.isNaN(want);
        if (gotNaN || wantNaN) {
            return gotNaN && wantNaN ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.abs(ordinal(got) - ordinal(want));
    }

    /** {@link #distance} to the float nearest the true value {@code want}. */
    public static double distance(float got, double want) {
        return distance(got, (float) want);
    }

    /**
     * The error of {@code got} where the true value {@code want} is a sum of terms whose magnitudes add up to
     * {@code scale}: the lattice distance, or the error in ULPs of the scale where that is smaller. A float
     * computation of such a sum carries an error of a few ULPs of its largest term, whatever the sum.
     */
    public static double distance(float got, double want, double scale) {
        double lattice = distance(got, want);
        if (lattice == 0 || !Float.isFinite(got) || !Double.isFinite(want) || !(scale > Math.abs(want))) {
            return lattice;
        }
        return Math.min(lattice, Math.abs(got - want) / Math.ulp((float) scale));
    }
}
