package dev.gpuact.fallback;

import static dev.gpuact.fallback.FloatMath.SCALE_DOWN;
import static dev.gpuact.fallback.FloatMath.SCALE_UP;
import static dev.gpuact.fallback.FloatMath.atLeast;
import static dev.gpuact.fallback.FloatMath.atMost;
import static dev.gpuact.fallback.FloatMath.exp;
import static dev.gpuact.fallback.FloatMath.expScaledUp;
import static dev.gpuact.fallback.FloatMath.expm1OfNonPositive;
import static dev.gpuact.fallback.FloatMath.log1p;
import static dev.gpuact.fallback.FloatMath.millsRatio;
import static dev.gpuact.fallback.FloatMath.normalDensityScaledUp;
import static dev.gpuact.fallback.FloatMath.select;

/**
 * The float32 formulas of the transcendental activations and their derivatives, built from {@link FloatMath}; the
 * scalar kernels call these and {@code VectorKernels} evaluates the same steps lane by lane.
 *
 * <p>Where a result goes subnormal for very negative x (x sigma(x), x Phi(x), mish), its exponential is taken
 * scaled by 2^64 and the product scaled back last, so it is rounded once. Inputs are clamped where a clamp does not
 * change the float result, so that infinities give the limit rather than inf * 0.
 */
final class FloatFunctions {
    /** e^-200 is 0 even scaled by 2^64; clamping x here keeps x e^x finite at x = -inf. */
    static final float CLAMP = 200f;
    /** Past this, tanh(softplus x) is 1 in float. */
    static final float MISH_SATURATION = 40f;
    /** |x| clamp of gelu and its derivative: past 15, gelu is 0 or x and gelu' is 0 or 1 in float (scaled, not 0). */
    static final float GAUSSIAN_CLAMP = 15f;
    /**
     * Below this x, silu' (about x e^x) is under 2^-64 2^-126 and its float form, scaled by 2^64, loses digits: the
     * backward takes {@link #siluBackwardFar} there.
     */
    static final float SILU_FAR = -100f;
    /** A scaled derivative below this is below 2^-100 unscaled: dy times it is taken scaled, then scaled back. */
    static final float SCALED_TINY = 0x1p-36f;

    private FloatFunctions() {
    }

    /** x / (1 + e^-x) for x >= 0; x e^x / (1 + e^x) below, scaled. */
    static float silu(float x) {
        float xc = atLeast(x, -CLAMP);
        boolean negative = x < 0;
        float big = expScaledUp(-Math.abs(xc), 0);
        float e = big * SCALE_DOWN;
        return select(negative, xc * big, x) / (1 + e) * select(negative, SCALE_DOWN, 1);
    }

    /**
     * x tanh(softplus x) = x n / (n + 2), n = e (e + 2), e = e^x clamped at saturation; scaled for x < 0. e + 2 is
     * carried as hi + lo (TwoSum) and the quotient corrected by its residual, so that only exp, the sum n + 2 and the
     * last fma round: 2.6 ULP at most over every float (rounding each step reached 4.7 near x = -6.8).
     */
    static float mish(float x) {
        float xc = atLeast(x, -CLAMP);
        boolean negative = x < 0;
        float scaled = expScaledUp(atMost(xc, MISH_SATURATION), 0);
        float e = scaled * SCALE_DOWN;
        float big = select(negative, scaled, e);
        float t = e + 2;
        float tb = t - e;
        float tlo = (e - (t - tb)) + (2 - tb);
        float n = big * t;
        float nlo = Math.fma(big, t, -n) + big * tlo;
        float d = Math.fma(e, t, Math.fma(e, tlo, 2));
        float inverse = 1 / d;
        float q = n * inverse;
        float residual = (Math.fma(-q, d, n) + nlo) * inverse;
        return Math.fma(xc, q, xc * residual) * select(negative, SCALE_DOWN, 1);
    }

    /** log(1 + e^x) = max(x, 0) + log1p(e^-|x|); x itself past the threshold. */
    static float softplus(float x, float threshold) {
        float value = Math.max(x, 0) + log1p(exp(-Math.abs(x)));
        return select(x > threshold, x, value);
    }

    static float softplusDerivative(float x, float threshold) {
        return select(x > threshold, 1, FloatMath.sigmoid(x));
    }

    /** -softplus(-x) = min(x, 0) - log1p(e^-|x|). */
    static float logsigmoid(float x) {
        return Math.min(x, 0) - log1p(exp(-Math.abs(x)));
    }

    /**
     * selu's lambda and lambda alpha rounded to float: lambda x and (lambda alpha) expm1(x) are then within 2 ULP of
     * selu, and selu runs elu's loops.
     */
    static final float SELU_SCALE = (float) Functions.SELU_LAMBDA;
    static final float SELU_SCALED_ALPHA = (float) (Functions.SELU_LAMBDA * Functions.SELU_ALPHA);

    /** The slope of scale x above 0 and alpha expm1(x) at or below: elu with scale 1, selu with {@link #SELU_SCALE}. */
    static float eluDerivative(float x, float scale, float alpha) {
        float negative = alpha * exp(x);
        return select(x > 0, scale, negative);
    }

    /**
     * dy f'(x) for a derivative given scaled by 2^{@value FloatMath#SCALE_BITS}: for a derivative below 2^-100 the
     * product is taken scaled (it cannot overflow there) and scaled back, rounded once even if it is subnormal; above,
     * the derivative is scaled back first (exactly), so that a huge dy does not overflow the scaled product.
     */
    static float scaledProduct(float dy, float derivativeScaled) {
        return select(Math.abs(derivativeScaled) < SCALED_TINY, dy * derivativeScaled * SCALE_DOWN,
                dy * (derivativeScaled * SCALE_DOWN));
    }

    /**
     * x / (1 + |x|) with two roundings (1.5 ULP at most over 50M random floats), branch-free: where |x| >= 2^24,
     * 1 + |x| rounds to |x| and the quotient to +-1, so clamping x to +-2^24 keeps +-inf from giving inf / inf. Float
     * Math.min and Math.max, which the JIT vectorises (SuperWord); the double form this replaced clamped with them on
     * doubles, which JDK 17 compiles to branches: 186 ms per 16M floats on one thread.
     */
    static float softsign(float x) {
        float clamped = Math.min(Math.max(x, -0x1p24f), 0x1p24f);
        return clamped / (1 + Math.abs(clamped));
    }

    /**
     * min(max(v, 0), 1) as Math rounds it (+0 for -0, NaN stays NaN), branch-free; the same float as clamping the
     * double v rounds from, since 0 and 1 are floats.
     */
    static float unitClamp(float v) {
        return select(v > 1, 1, select(v <= 0, 0, v));
    }

    /**
     * 1 for x > 0, 0 for x <= 0, NaN for NaN: signum(max(x, 0)) in the operations the JIT vectorises (max, a
     * product, min; x 2^254 is at least 1 for every float x > 0). Math.signum branches, and on random signs that loop
     * took 14-16 ms per 16M floats on one thread against 2.3 for this.
     */
    static float reluDerivative(float x) {
        return Math.min(Math.max(x, 0f) * 0x1p127f * 0x1p127f, 1f);
    }

    /**
     * x Phi(x) = max(x, 0) - a Phi(-a), a = |x|, Phi(-a) = phi(a) R(a) (the Mills ratio), all scaled by 2^64 until
     * the last product: no cancellation and no double arithmetic.
     */
    static float gelu(float x) {
        float a = atMost(Math.abs(x), GAUSSIAN_CLAMP);
        float tail = normalDensityScaledUp(a) * millsRatio(a);
        return select(x > 0, x, 0) - a * tail * SCALE_DOWN;
    }

    /** Phi(x) + x phi(x), scaled by 2^64: Phi(-a) - a phi(a) for x < 0, 1 - Phi(-a) + a phi(a) above. */
    static float geluDerivativeScaled(float x) {
        float a = atMost(Math.abs(x), GAUSSIAN_CLAMP);
        float density = normalDensityScaledUp(a);
        float tail = density * millsRatio(a);
        return select(x < 0, Math.fma(-a, density, tail), Math.fma(a, density, SCALE_UP - tail));
    }

    /**
     * sigma(x) + x sigma(x) sigma(-x), scaled by 2^64: with e = e^-|x| and r = 1 / (1 + e), sigma(x) is r and
     * sigma(-x) is e r for x >= 0, e r and r below; one exponential and one division.
     */
    static float siluDerivativeScaled(float x) {
        float xc = atLeast(atMost(x, CLAMP), -CLAMP);
        boolean negative = x < 0;
        float big = expScaledUp(-Math.abs(xc), 0);
        float e = big * SCALE_DOWN;
        float r = 1 / (1 + e);
        float s = select(negative, big, SCALE_UP) * r;
        return Math.fma(xc * s, select(negative, r, e * r), s);
    }

    /**
     * dy gelu'(x) for |x| > {@value #GAUSSIAN_CLAMP}, where gelu' (about -|x| phi(x)) is below the scaled float
     * range while dy times it may still be a float (|dy| up to 3e38): in double, phi(a) (R(a) - a) with the Mills
     * ratio's asymptotic series R(a) = (1 - (1 - 3/a^2)/a^2)/a, 6e-9 relative at a = 15 and better beyond; 1 for x > 0.
     * Rare (the loops check for such inputs), so double costs nothing that shows.
     */
    static float geluBackwardFar(float dy, float x) {
        if (x > 0) {
            return dy;
        }
        double a = Math.min(-(double) x, 40);
        double inverseSquare = 1 / (a * a);
        double millsRatio = (1 - inverseSquare * (1 - 3 * inverseSquare)) / a;
        return (float) (dy * (Math.exp(-0.5 * a * a) * FloatMath.INV_SQRT_2PI_DOUBLE * (millsRatio - a)));
    }

    /** dy silu'(x) for x < {@value #SILU_FAR}, in double: e^x (1 + x - x e^x / (1 + e^x)) / (1 + e^x), rare. */
    static float siluBackwardFar(float dy, float x) {
        double xc = Math.max(x, -800.0);
        double e = Math.exp(xc);
        double s = e / (1 + e);
        return (float) (dy * (s * (1 + xc * (1 - s))));
    }
}
