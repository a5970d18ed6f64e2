package dev.gpuact.fallback;

/**
 * Double-precision elementary functions fast enough for the kernel loops and accurate to about 1e-13 relative,
 * so that every float32 result rounded from them is within a fraction of an ULP of the exact one.
 *
 * <p>Why not {@link Math}: on JDK 17 {@code Math.tanh}, {@code Math.expm1} and {@code Math.log1p} are not
 * intrinsics (tens of ns each), and there is no erfc at all. {@code Math.log} is an intrinsic and is used.
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
    /** e^746 overflows and e^-746 underflows to 0: clamping there keeps the exponent arithmetic in range. */
    private static final double EXP_ARGUMENT_LIMIT = 746;

    private static final double INV_SQRT_PI = 0.56418958354775628694807945156077;

    /** erf(z) = z * sum c_n (z^2)^n (Taylor), used for |z| < 0.5 where 1 - erf(z) cannot cancel much. */
    private static final double[] ERF_SERIES = {
        1.1283791670955126, -0.37612638903183754, 0.11283791670955126, -0.026866170645131252,
        0.005223977625442188, -0.0008548327023450853, 0.00012055332981789664, -1.492565035840625e-05,
        1.6462114365889248e-06, -1.6365844691234924e-07, 1.4807192815879218e-08, -1.2290555301717928e-09,
    };
    /** erfcx(1.25 + s) = e^(z^2) erfc(z), s in [-0.75, 0.75]; Chebyshev fit, max rel err 4.5e-14. */
    private static final double[] ERFCX_NEAR = {
        0.3678229164523472, -0.20882187596460608, 0.10679557149975816, -0.05021827439676542,
        0.022011364133098333, -0.009081627600957579, 0.0035531115727651216, -0.0013257833830979256,
        0.00047395871120518396, -0.0001629568585371045, 5.409766968132979e-05, -1.7355929394056878e-05,
        5.305427009796112e-06, -1.6061579704058727e-06, 5.752488118870528e-07, -1.6352794392795348e-07,
    };
    /** erfcx(3 + s), s in [-1, 1]; Chebyshev fit, max rel err 6.2e-13. */
    private static final double[] ERFCX_MID = {
        0.17900115118149296, -0.054372260007194764, 0.015884371149781484, -0.004479431016227994,
        0.0012230392134391149, -0.00032412557873286543, 8.355317772503386e-05, -2.0989259964977667e-05,
        5.149162537161906e-06, -1.2339474007187851e-06, 2.853271343471679e-07, -6.562873562727839e-08,
        1.7755565686394218e-08, -3.90444235379282e-09,
    };
    /** z erfcx(z) as a polynomial in w = 1/z^2 for z >= 4; Chebyshev fit, max rel err 1.1e-15. */
    private static final double[] Z_ERFCX_TAIL = {
        0.5641895835477556, -0.2820947917708811, 0.42314218535015125, -1.057854764905706,
        3.702382006257197, -16.650533826738272, 90.97725064334452, -568.0034957665441,
        3654.104194047875, -20668.443900147788, 83300.43343265289, -168033.0697337313,
    };
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
     * e^x: x = (64k + j) ln2/64 + r with |r| <= ln2/128, e^x = 2^k 2^(j/64) e^r, e^r by a degree-5 polynomial
     * (error ~4e-17). The power of two is applied in two halves so subnormal and overflowing results come out right.
     */
    public static double exp(double x) {
        double clamped = Math.max(-EXP_ARGUMENT_LIMIT, Math.min(x, EXP_ARGUMENT_LIMIT));
        double shifted = clamped * TABLE_SIZE_OVER_LN2 + ROUNDING_SHIFT;
        double k = shifted - ROUNDING_SHIFT;
        long kInteger = (long) k;
        double r = clamped - k * LN2_OVER_TABLE_SIZE_HI - k * LN2_OVER_TABLE_SIZE_LO;
        double p = 1 + r * (1 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120)))));
        int j = (int) kInteger & (TABLE_SIZE - 1);
        long exponent = kInteger >> TABLE_BITS;
        long half = exponent >> 1;
        double scaleA = Double.longBitsToDouble((half + 1023) << 52);
        double scaleB = Double.longBitsToDouble((exponent - half + 1023) << 52);
        return EXP2_TABLE[j] * p * scaleA * scaleB;
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

    /** tanh x = -m / (2 + m) with m = expm1(-2|x|), carrying the sign of x: no cancellation anywhere. */
    public static double tanh(double x) {
        double m = expm1(-2 * Math.abs(x));
        return Math.copySign(-m / (2 + m), x);
    }

    /** 1 - tanh^2 x = 4e / (1 + e)^2 with e = exp(-2|x|): never cancels. */
    public static double sech2(double x) {
        double e = exp(-2 * Math.abs(x));
        return 4 * e / ((1 + e) * (1 + e));
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

    /**
     * erfc(z): 1 - erf(z) by its Taylor series for |z| < 0.5; above, e^(-z^2) erfcx(|z|) from Chebyshev fits on
     * [0.5, 2], [2, 4] and in 1/z^2 beyond 4; for negative z, 2 - erfc(-z). Relative error below 1e-12.
     */
    public static double erfc(double z) {
        double a = Math.abs(z);
        if (a < 0.5) {
            return 1 - z * polynomial(z * z, ERF_SERIES);
        }
        double scaled;
        if (a < 2) {
            scaled = polynomial(a - 1.25, ERFCX_NEAR);
        } else if (a < 4) {
            scaled = polynomial(a - 3, ERFCX_MID);
        } else {
            scaled = polynomial(1 / (a * a), Z_ERFCX_TAIL) / a;
        }
        double tail = exp(-a * a) * scaled;
        return z < 0 ? 2 - tail : tail;
    }

    /** e^(-x^2/2) / sqrt(2 pi). */
    public static double normalPdf(double x) {
        return INV_SQRT_PI * Math.sqrt(0.5) * exp(-0.5 * x * x);
    }

    /** Phi(x) = erfc(-x / sqrt 2) / 2: no cancellation for negative x. */
    public static double normalCdf(double x) {
        return 0.5 * erfc(-x * Math.sqrt(0.5));
    }
}
