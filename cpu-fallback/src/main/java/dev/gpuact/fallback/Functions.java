package dev.gpuact.fallback;

import static dev.gpuact.fallback.FastMath.exp;
import static dev.gpuact.fallback.FastMath.log1p;
import static dev.gpuact.fallback.FastMath.sigmoid;

/**
 * The scalar formulas of the activations that need more than a comparison, in double precision: a float input
 * makes {@code x * x} exact, and one rounding to float at the end keeps each result within an ULP.
 * Each formula is written to avoid cancellation and to take the limit (not NaN) at the infinities.
 */
final class Functions {
    static final double SELU_LAMBDA = 1.0507009873554804934193349852946;
    static final double SELU_ALPHA = 1.6732632423543772848170429916717;
    static final double SQRT_2_OVER_PI = 0.79788456080286535587989211986876;
    static final double GELU_TANH_C = 0.044715;

    private Functions() {
    }

    /** x * y where y may have underflowed to 0 while x is infinite: the limit is 0, not NaN. A NaN x stays NaN. */
    static double vanishing(double x, double y) {
        return y == 0 && x == x ? 0 : x * y;
    }

    static double nanOr(double x, double value) {
        return x != x ? x : value;
    }

    static double swish(double x, double beta) {
        return vanishing(x, sigmoid(beta * x));
    }

    /** sigma(bx) + bx sigma(bx) sigma(-bx). */
    static double swishDerivative(double x, double beta) {
        double bx = beta * x;
        double sp = sigmoid(bx);
        return nanOr(x, sp + vanishing(bx, sp * sigmoid(-bx)));
    }

    private static double geluTanhInner(double x) {
        return SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x);
    }

    /** 0.5(1 + t) + 0.5 x (1 - t^2) u' with 1 + t = 2 sigma(2u), 1 - t^2 = 4 sigma(2u) sigma(-2u). */
    static double geluTanhDerivative(double x) {
        double u2 = 2 * geluTanhInner(x);
        double sp = sigmoid(u2);
        double du = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * x * x);
        return sp + vanishing(2 * x * du, sp * sigmoid(-u2));
    }

    /** Past this, tanh(softplus x) is 1 in double and x (1 - t^2) sigma(x) is below 1e-30. */
    private static final double MISH_SATURATION = 40;

    /** tanh(softplus x) = n / (n + 2), n = e^x (e^x + 2); clamped at saturation so n never reaches inf/inf. */
    private static double mishN(double x) {
        double e = exp(Math.min(x, MISH_SATURATION));
        return e * (e + 2);
    }

    /**
     * t + x (1 - t)(1 + t) sigma(x), with 1 - t = 2 / (n + 2) exactly. The factor x is clamped like n: past
     * saturation the clamped 1 - t no longer shrinks with x, and the true term is negligible there.
     */
    static double mishDerivative(double x) {
        double n = mishN(x);
        double t = n / (n + 2);
        return nanOr(x, t + vanishing(Math.min(x, MISH_SATURATION), 2 / (n + 2) * (1 + t) * sigmoid(x)));
    }

    /** log1p(e^(bx)) / b as (max(bx, 0) + log1p(e^-|bx|)) / b: no overflow, no cancellation. */
    static double softplus(double x, double beta, double threshold) {
        double bx = beta * x;
        if (bx > threshold) {
            return x;
        }
        return (Math.max(bx, 0) + log1p(exp(-Math.abs(bx)))) / beta;
    }

    static double softplusDerivative(double x, double beta, double threshold) {
        double bx = beta * x;
        return bx > threshold ? 1 : sigmoid(bx);
    }

    /** ricker' = x (x^2 - 3) e^(-x^2/2), for its far tail; x^2 is exact for a float x. */
    static double rickerDerivative(double x) {
        double x2 = x * x;
        return vanishing(x * (x2 - 3), exp(-0.5 * x2));
    }
}
