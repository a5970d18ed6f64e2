package dev.gpuact.fallback;

/**
 * The float kernels whose float32 forms cannot hold the bound at every input, in double: gelu (its tail e^(-x^2/2)
 * erfcx needs more digits than float carries) and the silu and gelu derivatives (a difference of terms that cancels
 * next to the derivative's zero). Polynomials and selects only, no table and no branch, so {@code VectorMath}
 * evaluates the same steps in double lanes and the vector and scalar paths give the same bits; each result is
 * within about 1e-9 relative before its single rounding to float.
 */
final class DoubleMath {
    static final double LOG2E = 1.4426950408889634;
    /** ln 2 in two parts (fdlibm's): the high part has 32 trailing zero bits, so q * LN2_HI is exact. */
    static final double LN2_HI = 6.93147180369123816490e-01;
    static final double LN2_LO = 1.90821492927058770002e-10;
    /** Adding and subtracting 1.5 * 2^52 rounds a double of magnitude below 2^51 to an integer, branch-free. */
    static final double ROUNDING_SHIFT = 0x1.8p52;
    /** The bits of the shift less the exponent bias: shifted's bits minus this are q + 1023, the bits of 2^q >> 52. */
    static final long POW2_BITS_OFFSET = Double.doubleToRawLongBits(ROUNDING_SHIFT) - 1023;
    /** e^r = 1 + r + r^2 (1/2! + r/3! + ... + r^8/10!): Taylor's coefficients; |r| <= ln2/2 gives 2e-13 relative. */
    static final double E2 = 1.0 / 2;
    static final double E3 = 1.0 / 6;
    static final double E4 = 1.0 / 24;
    static final double E5 = 1.0 / 120;
    static final double E6 = 1.0 / 720;
    static final double E7 = 1.0 / 5040;
    static final double E8 = 1.0 / 40320;
    static final double E9 = 1.0 / 362880;
    static final double E10 = 1.0 / 3628800;

    /**
     * (z + K) erfcx(z) = H(t), t = (z - K) / (z + K), K = 3: t runs over [-1, 1) as z runs over [0, inf). A degree-12
     * Chebyshev fit on z in [0, 27] made with mpmath ({@code cpu-fallback/tools/fit_erfcx_t.py}), relative error
     * 3.4e-10 evaluated in double; lowest degree first.
     */
    static final double ERFCX_K = 3;
    static final double H0 = 1.0740069073754341;
    static final double H1 = -0.8833944527153945;
    static final double H2 = 0.5902283266488033;
    static final double H3 = -0.31046727724160844;
    static final double H4 = 0.11952828859811371;
    static final double H5 = -0.02682703541118601;
    static final double H6 = -0.0012158152241058026;
    static final double H7 = 0.00303276748259095;
    static final double H8 = -0.000538073028541844;
    static final double H9 = -0.0002725172916602848;
    static final double H10 = 9.231414687569756e-05;
    static final double H11 = 2.3544585564439226e-05;
    static final double H12 = -6.919411887530864e-06;

    static final double SQRT_HALF = 0.70710678118654752440084436210485;
    static final double INV_SQRT_2PI = 0.39894228040143267793994605993438;
    /**
     * |x| clamp of the Gaussian: e^(-37^2/2) is still a normal double, and past it gelu, gelu' - 1 and x Phi'(x)
     * are far below the smallest float.
     */
    static final double GAUSSIAN_CLAMP = 37;
    /** x clamp of silu': e^200 is finite, and past it x e^-|x| is far below the smallest float. */
    static final double SILU_CLAMP = 200;

    private DoubleMath() {
    }

    /** a where the condition holds, else b, without a jump (see {@link FloatMath#select}). */
    static double select(boolean condition, double a, double b) {
        long mask = condition ? -1L : 0L;
        return Double.longBitsToDouble((Double.doubleToRawLongBits(a) & mask) | (Double.doubleToRawLongBits(b) & ~mask));
    }

    /**
     * e^x for |x| <= 700 (the callers clamp): 2^q e^r, one factor. The polynomials here are evaluated in Estrin's
     * order (powers of r side by side) rather than Horner's: the scalar loop waits on a chain of dependent fmas, and
     * a shorter chain runs in about half the time; in double the order costs no accuracy that shows in a float.
     */
    static double exp(double x) {
        double shifted = Math.fma(x, LOG2E, ROUNDING_SHIFT);
        double q = shifted - ROUNDING_SHIFT;
        double r = Math.fma(q, -LN2_LO, Math.fma(q, -LN2_HI, x));
        double r2 = r * r;
        double r4 = r2 * r2;
        double low = Math.fma(Math.fma(E5, r, E4), r2, Math.fma(E3, r, E2));
        double high = Math.fma(Math.fma(E9, r, E8), r2, Math.fma(E7, r, E6));
        double p = Math.fma(E10, r4 * r4, Math.fma(high, r4, low));
        double pow2 = Double.longBitsToDouble((Double.doubleToRawLongBits(shifted) - POW2_BITS_OFFSET) << 52);
        return (Math.fma(r2, p, r) + 1) * pow2;
    }

    /** erfcx(z) = e^(z^2) erfc(z) for z >= 0. */
    static double erfcx(double z) {
        double inverse = 1 / (z + ERFCX_K);
        double t = (z - ERFCX_K) * inverse;
        double t2 = t * t;
        double t4 = t2 * t2;
        double h0 = Math.fma(Math.fma(H3, t, H2), t2, Math.fma(H1, t, H0));
        double h4 = Math.fma(Math.fma(H7, t, H6), t2, Math.fma(H5, t, H4));
        double h8 = Math.fma(Math.fma(H11, t, H10), t2, Math.fma(H9, t, H8));
        double h = Math.fma(Math.fma(H12, t4, h8), t4 * t4, Math.fma(h4, t4, h0));
        return h * inverse;
    }

    /** e^(-a^2/2), a^2 exact for a float a. */
    static double gaussian(double a) {
        return exp(-0.5 * (a * a));
    }

    /** Phi(-a) = erfc(a / sqrt 2) / 2 for a >= 0, given the Gaussian of a. */
    static double normalTail(double a, double gaussian) {
        return 0.5 * gaussian * erfcx(a * SQRT_HALF);
    }

    /** x Phi(x) = max(x, 0) - |x| Phi(-|x|): no cancellation for either sign. */
    static float gelu(float x) {
        double a = Math.min(Math.abs((double) x), GAUSSIAN_CLAMP);
        return (float) (Math.max(x, 0.0) - a * normalTail(a, gaussian(a)));
    }

    /** Phi(x) + x Phi'(x), Phi(x) = 1 - Phi(-x) for x >= 0. */
    static double geluDerivative(float x) {
        double xd = x;
        double a = Math.min(Math.abs(xd), GAUSSIAN_CLAMP);
        double g = gaussian(a);
        double tail = normalTail(a, g);
        double cdf = select(xd < 0, tail, 1 - tail);
        return cdf + Math.max(Math.min(xd, GAUSSIAN_CLAMP), -GAUSSIAN_CLAMP) * (g * INV_SQRT_2PI);
    }

    /** sigma(x) + x sigma(x) sigma(-x), sigma(-x) = e sigma(x) with e = e^-x: no 1 - sigma to cancel. */
    static double siluDerivative(float x) {
        double xc = Math.max(Math.min((double) x, SILU_CLAMP), -SILU_CLAMP);
        double e = exp(-xc);
        double s = 1 / (1 + e);
        return s + xc * s * (e * s);
    }
}
