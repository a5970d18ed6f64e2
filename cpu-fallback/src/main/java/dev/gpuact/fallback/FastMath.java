package dev.gpuact.fallback;

/**
 * Double-precision elementary functions fast enough for the kernel loops: exp, expm1 and log1p within a few units
 * of 1e-16 relative, so every float32 result rounded from them is within a fraction of an ULP of the exact
 * one.
 *
 * <p>Why not {@link Math}: on JDK 17 {@code Math.expm1} and {@code Math.log1p} are not
 * intrinsics (tens of ns each). {@code Math.log} is an intrinsic and is used.
 * Every function returns NaN for NaN and the proper limit at the infinities.
 */
public final class FastMath {
    private static final int TABLE_BITS = 6;
    private static final int TABLE_SIZE = 1 << TABLE_BITS;
    /** 2^(j/64), j = 0..63. */
    private static final double[] EXP2_TABLE = new double[TABLE_SIZE];
    private static final double TABLE_SIZE_OVER_LN2 = TABLE_SIZE / Math.log(2);
    /** ln 2 / 64 split (fdlibm's ln2_hi has 32 trailing zero bits) so that k * hi is exact for every k used. */
    private static final double LN2_OVER_TABLE_SIZE_HI = 6.93147180369123816490e-01 / TABLE_SIZE;
    private static final double LN2_OVER_TABLE_SIZE_LO = 1.90821492927058770002e-10 / TABLE_SIZE;
    /** Adding and subtracting 1.5 * 2^52 rounds a double of magnitude < 2^51 to the nearest integer, branch-free. */
    private static final double ROUNDING_SHIFT = 0x1.8p52;
    /** e^746 overflows and e^-746 underflows to 0. */
    private static final double EXP_ARGUMENT_LIMIT = 746;
    /** Inside this, e^x and its power of two are normal doubles. */
    private static final double NORMAL_RANGE = 708;

    /** expm1(x) = x * sum x^n / (n + 1)! for |x| < 1/4: error below 1e-16 relative. */
    private static final double[] EXPM1_SERIES = new double[13];

    static {
        for (int j = 0; j < TABLE_SIZE; j++) {
            EXP2_TABLE[j] = StrictMath.pow(2, (double) j / TABLE_SIZE);
        }
        double factorial = 1;
        for (int n = 0; n < EXPM1_SERIES.length; n++) {
            factorial *= n + 1;
            EXPM1_SERIES[n] = 1 / factorial;
        }
    }

    private FastMath() {
    }

    /** Polynomial with coefficients lowest degree first, by Horner's rule. */
    private static double polynomial(double x, double[] c) {
        double sum = c[c.length - 1];
        for (int i = c.length - 2; i >= 0; i--) {
            sum = sum * x + c[i];
        }
        return sum;
    }

    /**
     * e^x: x = (64k + j) ln2/64 + r with |r| &lt;= ln2/128, e^x = 2^k 2^(j/64) e^r, e^r by a degree-5 Taylor polynomial
     * (error ~4e-17). k and j come from the low mantissa bits of the shifted argument (no double-to-long
     * conversion); results that overflow or fall below the normal range take {@link #expExtreme}.
     */
    public static double exp(double x) {
        double shifted = x * TABLE_SIZE_OVER_LN2 + ROUNDING_SHIFT;
        double k = shifted - ROUNDING_SHIFT;
        double r = x - k * LN2_OVER_TABLE_SIZE_HI - k * LN2_OVER_TABLE_SIZE_LO;
        // Estrin's scheme: three dependent steps instead of Horner's five; measured faster here
        double r2 = r * r;
        double p = (1 + r) + r2 * ((0.5 + r * (1.0 / 6)) + r2 * (1.0 / 24 + r * (1.0 / 120)));
        long bits = Double.doubleToRawLongBits(shifted);
        double tableTimesPolynomial = EXP2_TABLE[(int) bits & (TABLE_SIZE - 1)] * p;
        if (Math.abs(x) > NORMAL_RANGE) {
            return expExtreme(x, tableTimesPolynomial, bits);
        }
        // (bits >> 6) is (high bits of the shift constant) + k: the << 52 pushes the former out of the long.
        return tableTimesPolynomial * Double.longBitsToDouble(((bits >> TABLE_BITS) + 1023) << 52);
    }

    /** |x| > 708 or NaN: the power of two is applied in two halves so overflow and subnormal results come out right. */
    private static double expExtreme(double x, double tableTimesPolynomial, long bits) {
        if (x != x) {
            return x;
        }
        if (Math.abs(x) > EXP_ARGUMENT_LIMIT) {
            return x > 0 ? Double.POSITIVE_INFINITY : 0;
        }
        long exponent = (long) ((Double.longBitsToDouble(bits) - ROUNDING_SHIFT)) >> TABLE_BITS;
        long half = exponent >> 1;
        double scaleA = Double.longBitsToDouble((half + 1023) << 52);
        double scaleB = Double.longBitsToDouble((exponent - half + 1023) << 52);
        return tableTimesPolynomial * scaleA * scaleB;
    }

    /** e^x - 1 without cancellation near 0. */
    public static double expm1(double x) {
        if (Math.abs(x) < 0.25) {
            return x * polynomial(x, EXPM1_SERIES);
        }
        return exp(x) - 1;
    }

    /** log(1 + v) for v >= -1 without cancellation near 0: log(u) * v / (u - 1) corrects the rounding of u = 1 + v. */
    public static double log1p(double v) {
        double u = 1 + v;
        if (u == 1 || u == Double.POSITIVE_INFINITY) {
            return u == 1 ? v : u;
        }
        return Math.log(u) * (v / (u - 1));
    }

    /** 1 / (1 + e^-x); in double this keeps full relative accuracy on both sides. */
    public static double sigmoid(double x) {
        return 1 / (1 + exp(-x));
    }

    /** sigma(x) sigma(-x) = e / (1 + e)^2 with e = exp(-|x|). */
    public static double sigmoidDerivative(double x) {
        double e = exp(-Math.abs(x));
        return e / ((1 + e) * (1 + e));
    }
}
