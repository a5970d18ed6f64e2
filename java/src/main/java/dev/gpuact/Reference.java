package dev.gpuact;

/**
 * Double-precision reference values of every elementwise function of the catalog and its derivative.
 *
 * <p>Inputs are float32 values, so products like {@code x * x} are exact in double; where a textbook formula
 * cancels (tanhshrink near 0, 1 - tanh^2 for large |x|, x^2 - 3 near sqrt 3, 1 + erf for negative x) it is
 * rewritten so the result keeps full relative accuracy. A product of an unbounded factor with a vanishing one
 * (x * sigmoid(x) at -inf) takes the limit, not NaN. NaN in gives NaN out everywhere, derivatives included.
 */
public final class Reference {
    static final double SELU_LAMBDA = 1.0507009873554804934193349852946;
    static final double SELU_ALPHA = 1.6732632423543772848170429916717;
    private static final double SQRT_HALF = 0.70710678118654752440084436210485;
    private static final double INV_SQRT_2PI = 0.39894228040143267793994605993438;
    private static final double INV_SQRT_PI = 0.56418958354775628694807945156077;
    private static final double SQRT_2_OVER_PI = 0.79788456080286535587989211986876;
    private static final double GELU_TANH_C = 0.044715;

    private Reference() {
    }

    /** x * y where y may have underflowed to 0 while x is infinite: the limit is 0. NaN stays NaN. */
    private static double vanishing(double x, double y) {
        return y == 0 && !Double.isNaN(x) ? 0 : x * y;
    }

    public static double identity(double x, double a, double b) {
        return x;
    }

    public static double identityDerivative(double x, double a, double b) {
        return Double.isNaN(x) ? x : 1;
    }

    public static double step(double x, double a, double b) {
        return Double.isNaN(x) ? x : x > 0 ? 1 : 0;
    }

    public static double stepDerivative(double x, double a, double b) {
        return Double.isNaN(x) ? x : 0;
    }

    public static double abs(double x, double a, double b) {
        return Math.abs(x);
    }

    public static double absDerivative(double x, double a, double b) {
        return Double.isNaN(x) ? x : x > 0 ? 1 : x < 0 ? -1 : 0;
    }

    public static double square(double x, double a, double b) {
        return x * x;
    }

    public static double squareDerivative(double x, double a, double b) {
        return 2 * x;
    }

    /** sigma(x) without overflow or cancellation on either side. */
    public static double sigmoid(double x) {
        if (x >= 0) {
            return 1 / (1 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1 + e);
    }

    public static double sigmoid(double x, double a, double b) {
        return sigmoid(x);
    }

    public static double sigmoidDerivative(double x, double a, double b) {
        return sigmoid(x) * sigmoid(-x);
    }

    public static double tanh(double x, double a, double b) {
        return Math.tanh(x);
    }

    /** 1 - tanh^2 x = sech^2 x, written as 4e/(1+e)^2 with e = exp(-2|x|) so it never cancels. */
    static double sech2(double x) {
        double e = Math.exp(-2 * Math.abs(x));
        return 4 * e / ((1 + e) * (1 + e));
    }

    public static double tanhDerivative(double x, double a, double b) {
        return Double.isNaN(x) ? x : sech2(x);
    }

    public static double relu(double x, double a, double b) {
        return x > 0 || Double.isNaN(x) ? x : 0;
    }

    public static double reluDerivative(double x, double a, double b) {
        return Double.isNaN(x) ? x : x > 0 ? 1 : 0;
    }

    public static double relu6(double x, double a, double b) {
        return Double.isNaN(x) ? x : Math.min(Math.max(0, x), 6);
    }

    public static double relu6Derivative(double x, double a, double b) {
        return Double.isNaN(x) ? x : x > 0 && x < 6 ? 1 : 0;
    }

    public static double leakyRelu(double x, double alpha, double b) {
        return x > 0 ? x : vanishing(x, alpha);
    }

    public static double leakyReluDerivative(double x, double alpha, double b) {
        return Double.isNaN(x) ? x : x > 0 ? 1 : alpha;
    }

    public static double elu(double x, double alpha, double b) {
        return x > 0 || Double.isNaN(x) ? x : alpha * Math.expm1(x);
    }

    public static double eluDerivative(double x, double alpha, double b) {
        return Double.isNaN(x) ? x : x > 0 ? 1 : alpha * Math.exp(x);
    }

    public static double selu(double x, double a, double b) {
        return SELU_LAMBDA * elu(x, SELU_ALPHA, 0);
    }

    public static double seluDerivative(double x, double a, double b) {
        return Double.isNaN(x) ? x : x > 0 ? SELU_LAMBDA : SELU_LAMBDA * SELU_ALPHA * Math.exp(x);
    }

    public static double celu(double x, double alpha, double b) {
        return x > 0 || Double.isNaN(x) ? x : alpha * Math.expm1(x / alpha);
    }

    public static double celuDerivative(double x, double alpha, double b) {
        return Double.isNaN(x) ? x : x > 0 ? 1 : Math.exp(x / alpha);
    }

    /**
     * erfc(z) to near double precision: a positive-term series for erf below 2 (where erfc >= 0.0047, so
     * 1 - erf loses at most 8 bits) and Laplace's continued fraction above, with z^2 split exactly.
     */
    public static double erfc(double z) {
        if (Double.isNaN(z)) {
            return z;
        }
        if (z < 0) {
            return 2 - erfc(-z);
        }
        if (z < 2) {
            // erf(z) = 2/sqrt(pi) e^{-z^2} sum_n 2^n z^{2n+1} / (1*3*...*(2n+1)), all terms positive
            double term = z;
            double sum = z;
            double z2 = z * z;
            for (int n = 1; n < 200 && term > sum * 1e-18; n++) {
                term *= 2 * z2 / (2 * n + 1);
                sum += term;
            }
            return 1 - 2 * INV_SQRT_PI * Math.exp(-z2) * sum;
        }
        if (z > 27.3) {
            return 0;
        }
        // erfc(z) = e^{-z^2}/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), evaluated from the tail
        double t = z;
        for (int k = 200; k >= 1; k--) {
            t = z + (k / 2.0) / t;
        }
        double hi = z * z;
        double lo = Math.fma(z, z, -hi);
        return Math.exp(-hi) * (1 - lo) * INV_SQRT_PI / t;
    }

    /** Standard normal CDF, 0.5 erfc(-x / sqrt 2): no cancellation for negative x. */
    public static double normalCdf(double x) {
        return 0.5 * erfc(-x * SQRT_HALF);
    }

    static double normalPdf(double x) {
        return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    }

    public static double gelu(double x, double a, double b) {
        return vanishing(x, normalCdf(x));
    }

    public static double geluDerivative(double x, double a, double b) {
        return Double.isNaN(x) ? x : normalCdf(x) + vanishing(x, normalPdf(x));
    }

    /** |Phi(x)| + |x phi(x)|: the terms of gelu' that cancel near its zero at -0.7518. */
    public static double geluDerivativeScale(double x, double a, double b) {
        return Double.isNaN(x) ? x : normalCdf(x) + vanishing(Math.abs(x), normalPdf(x));
    }

    private static double geluTanhInner(double x) {
        return SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x);
    }

    /** 0.5 x (1 + tanh u) = x sigma(2u): the second form does not cancel for negative x. */
    public static double geluTanh(double x, double a, double b) {
        return vanishing(x, sigmoid(2 * geluTanhInner(x)));
    }

    /** 0.5(1 + t) + 0.5 x (1 - t^2) u'(x) with 1 + t = 2 sigma(2u) and 1 - t^2 = 4 sigma(2u) sigma(-2u). */
    public static double geluTanhDerivative(double x, double a, double b) {
        if (Double.isNaN(x)) {
            return x;
        }
        double u = geluTanhInner(x);
        double sp = sigmoid(2 * u);
        double sm = sigmoid(-2 * u);
        double du = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * x * x);
        return sp + vanishing(2 * x * du, sp * sm);
    }

    /** The two terms of gelu_tanh' in absolute value; they cancel near x = -0.75. */
    public static double geluTanhDerivativeScale(double x, double a, double b) {
        if (Double.isNaN(x)) {
            return x;
        }
        double u = geluTanhInner(x);
        double sp = sigmoid(2 * u);
        double du = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * x * x);
        return sp + vanishing(Math.abs(2 * x * du), sp * sigmoid(-2 * u));
    }

    public static double silu(double x, double a, double b) {
        return vanishing(x, sigmoid(x));
    }

    public static double siluDerivative(double x, double a, double b) {
        return swishDerivative(x, 1, 0);
    }

    public static double siluDerivativeScale(double x, double a, double b) {
        return swishDerivativeScale(x, 1, 0);
    }

    public static double swish(double x, double beta, double b) {
        return vanishing(x, sigmoid(beta * x));
    }

    /** sigma(bx) + bx sigma(bx)(1 - sigma(bx)), with 1 - sigma(bx) = sigma(-bx). */
    public static double swishDerivative(double x, double beta, double b) {
        if (Double.isNaN(x)) {
            return x;
        }
        double sp = sigmoid(beta * x);
        double sm = sigmoid(-beta * x);
        return sp + vanishing(beta * x, sp * sm);
    }

    /** sigma(bx) + |bx sigma(bx) sigma(-bx)|: the terms of swish' that cancel near bx = -1.2785. */
    public static double swishDerivativeScale(double x, double beta, double b) {
        if (Double.isNaN(x)) {
            return x;
        }
        double sp = sigmoid(beta * x);
        return sp + vanishing(Math.abs(beta * x), sp * sigmoid(-beta * x));
    }

    /**
     * tanh(softplus x) = n/(n+2) with n = e^x (e^x + 2), exact algebra that needs no log; returns {t, 1 - t}.
     */
    private static double[] tanhSoftplus(double x) {
        double e = Math.exp(x);
        double n = e * (e + 2);
        if (Double.isInfinite(n)) {
            return new double[] {1, 0};
        }
        return new double[] {n / (n + 2), 2 / (n + 2)};
    }

    public static double mish(double x, double a, double b) {
        if (Double.isNaN(x)) {
            return x;
        }
        return vanishing(x, tanhSoftplus(x)[0]);
    }

    /** t + x (1 - t^2) sigma(x) with 1 - t^2 = (1 - t)(1 + t). */
    public static double mishDerivative(double x, double a, double b) {
        if (Double.isNaN(x)) {
            return x;
        }
        double[] t = tanhSoftplus(x);
        return t[0] + vanishing(x, t[1] * (1 + t[0]) * sigmoid(x));
    }

    /** |t| + |x (1 - t^2) sigma(x)|: the terms of mish' that cancel near -1.1924. */
    public static double mishDerivativeScale(double x, double a, double b) {
        if (Double.isNaN(x)) {
            return x;
        }
        double[] t = tanhSoftplus(x);
        return t[0] + vanishing(Math.abs(x), t[1] * (1 + t[0]) * sigmoid(x));
    }

    public static double softplus(double x, double beta, double threshold) {
        if (Double.isNaN(x)) {
            return x;
        }
        double bx = beta * x;
        return bx > threshold ? x : Math.log1p(Math.exp(bx)) / beta;
    }

    public static double softplusDerivative(double x, double beta, double threshold) {
        if (Double.isNaN(x)) {
            return x;
        }
        double bx = beta * x;
        return bx > threshold ? 1 : sigmoid(bx);
    }

    public static double softsign(double x, double a, double b) {
        return Double.isInfinite(x) ? Math.signum(x) : x / (1 + Math.abs(x));
    }

    public static double softsignDerivative(double x, double a, double b) {
        double d = 1 + Math.abs(x);
        return 1 / (d * d);
    }

    /** -softplus(-x), as min(x, 0) - log1p(e^{-|x|}): exact on both sides, no threshold. */
    public static double logsigmoid(double x, double a, double b) {
        return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
    }

    public static double logsigmoidDerivative(double x, double a, double b) {
        return Double.isNaN(x) ? x : sigmoid(-x);
    }

    public static double hardtanh(double x, double min, double max) {
        return x < min ? min : x > max ? max : x;
    }

    public static double hardtanhDerivative(double x, double min, double max) {
        return Double.isNaN(x) ? x : x > min && x < max ? 1 : 0;
    }

    /** The float nearest 1/6, hardsigmoid's default slope. */
    public static final float HARDSIGMOID_SIXTH = (float) (1.0 / 6);

    /**
     * (alpha x + beta) scaled to the clamp (0, 1). A slope of {@link #HARDSIGMOID_SIXTH} (or 1/6 itself) stands
     * for 1/6 exactly, as ACTIVATIONS.md asks of defaults: (x + 6 beta) / 6, exact next to the zero at -3 where
     * (1/6 rounded) x + beta would be 10^6 ULP off (for |beta| < 1e30, as the kernels).
     */
    private static double hardsigmoidLine(double x, double alpha, double beta) {
        return (float) alpha == HARDSIGMOID_SIXTH && Math.abs(beta) < 1e30 ? (x + 6 * beta) / 6 : alpha * x + beta;
    }

    public static double hardsigmoid(double x, double alpha, double beta) {
        if (Double.isNaN(x)) {
            return x;
        }
        double v = hardsigmoidLine(x, alpha, beta);
        return v <= 0 ? 0 : v >= 1 ? 1 : v;
    }

    public static double hardsigmoidDerivative(double x, double alpha, double beta) {
        if (Double.isNaN(x)) {
            return x;
        }
        double v = hardsigmoidLine(x, alpha, beta);
        return v > 0 && v < 1 ? alpha : 0;
    }

    /** x clamp(x/6 + 1/2, 0, 1), written x (x + 3) / 6 inside so it keeps relative accuracy near -3. */
    public static double hardswish(double x, double a, double b) {
        if (Double.isNaN(x)) {
            return x;
        }
        return x <= -3 ? 0 : x >= 3 ? x : x * (x + 3) / 6;
    }

    public static double hardswishDerivative(double x, double a, double b) {
        if (Double.isNaN(x)) {
            return x;
        }
        return x < -3 ? 0 : x > 3 ? 1 : (2 * x + 3) / 6;
    }

    /** Taylor coefficients of x - tanh x: x^3/3 - 2x^5/15 + 17x^7/315 - ... */
    private static final double[] TANHSHRINK_SERIES = {
        1.0 / 3, -2.0 / 15, 17.0 / 315, -62.0 / 2835, 1382.0 / 155925, -21844.0 / 6081075,
        929569.0 / 638512875, -6404582.0 / 10854718875.0, 443861162.0 / 1856156927625.0,
    };

    public static double tanhshrink(double x, double a, double b) {
        if (Math.abs(x) >= 0.125) {
            return x - Math.tanh(x);
        }
        double x2 = x * x;
        double sum = 0;
        for (int i = TANHSHRINK_SERIES.length - 1; i >= 0; i--) {
            sum = sum * x2 + TANHSHRINK_SERIES[i];
        }
        return sum * x2 * x;
    }

    public static double tanhshrinkDerivative(double x, double a, double b) {
        double t = Math.tanh(x);
        return t * t;
    }

    public static double softshrink(double x, double lambda, double b) {
        if (Double.isNaN(x)) {
            return x;
        }
        return x > lambda ? x - lambda : x < -lambda ? x + lambda : 0;
    }

    public static double softshrinkDerivative(double x, double lambda, double b) {
        return Double.isNaN(x) ? x : Math.abs(x) > lambda ? 1 : 0;
    }

    public static double hardshrink(double x, double lambda, double b) {
        return Double.isNaN(x) || Math.abs(x) > lambda ? x : 0;
    }

    public static double hardshrinkDerivative(double x, double lambda, double b) {
        return softshrinkDerivative(x, lambda, b);
    }

    public static double threshold(double x, double threshold, double value) {
        return Double.isNaN(x) || x > threshold ? x : value;
    }

    public static double thresholdDerivative(double x, double threshold, double value) {
        return Double.isNaN(x) ? x : x > threshold ? 1 : 0;
    }

    /** (1 - x^2) e^{-x^2/2}; for a float x, x * x is exact in double, so 1 - x^2 rounds once. */
    public static double ricker(double x, double a, double b) {
        double x2 = x * x;
        return vanishing(1 - x2, Math.exp(-0.5 * x2));
    }

    public static double rickerDerivative(double x, double a, double b) {
        double x2 = x * x;
        return vanishing(x * (x2 - 3), Math.exp(-0.5 * x2));
    }

    /** (|x^3| + |3x|) e^{-x^2/2}: the terms of ricker' that cancel at +-sqrt 3. */
    public static double rickerDerivativeScale(double x, double a, double b) {
        double x2 = x * x;
        return vanishing(Math.abs(x) * (x2 + 3), Math.exp(-0.5 * x2));
    }
}
