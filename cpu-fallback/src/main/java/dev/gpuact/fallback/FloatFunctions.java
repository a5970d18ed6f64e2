package dev.gpuact.fallback;

import static dev.gpuact.fallback.FloatMath.SCALE_DOWN;
import static dev.gpuact.fallback.FloatMath.exp;
import static dev.gpuact.fallback.FloatMath.log1p;
import static dev.gpuact.fallback.FloatMath.select;

/**
 * The float32 formulas of the transcendental activations and their derivatives, built from {@link FloatMath}, that
 * the scalar kernels call one element at a time. The ops the scalar path runs in passes over blocks
 * ({@link BlockMath}) and {@code VectorKernels} evaluate their steps lane by lane instead.
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
    /** Below this x, dy mish'(x) is taken in double: mish'(x) 2^64 nears the subnormals (as for silu). */
    static final float MISH_FAR = -100f;
    /** A scaled derivative below this is below 2^-100 unscaled: dy times it is taken scaled, then scaled back. */
    static final float SCALED_TINY = 0x1p-36f;

    private FloatFunctions() {
    }

    /** log(1 + e^x) = max(x, 0) + log1p(e^-|x|); x itself past the threshold. */
    static float softplus(float x, float threshold) {
        float value = Math.max(x, 0) + log1p(exp(-Math.abs(x)));
        return select(x > threshold, x, value);
    }

    static float softplusDerivative(float x, float threshold) {
        return select(x > threshold, 1, FloatMath.sigmoid(x));
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
