package dev.gpuact.fallback;

import static dev.gpuact.fallback.FloatFunctions.CLAMP;
import static dev.gpuact.fallback.FloatFunctions.GAUSSIAN_CLAMP;
import static dev.gpuact.fallback.FloatFunctions.MISH_SATURATION;
import static dev.gpuact.fallback.FloatMath.SCALE_DOWN;
import static dev.gpuact.fallback.FloatMath.SCALE_UP;
import static dev.gpuact.fallback.FloatMath.atLeast;
import static dev.gpuact.fallback.FloatMath.atMost;
import static dev.gpuact.fallback.FloatMath.exp;
import static dev.gpuact.fallback.FloatMath.expScaledUp;
import static dev.gpuact.fallback.FloatMath.log1p;
import static dev.gpuact.fallback.FloatMath.select;

/**
 * The float formulas of the ops in passes, one element at a time: what the scalar path's passes over blocks and the
 * Vector API loops compute lane by lane, written plainly, for the tests to hold both to, bit for bit.
 */
final class OneElementFloats {
    private OneElementFloats() {
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

    /** -softplus(-x) = min(x, 0) - log1p(e^-|x|). */
    static float logsigmoid(float x) {
        return Math.min(x, 0) - log1p(exp(-Math.abs(x)));
    }

    /**
     * x Phi(x) = max(x, 0) - a Phi(-a), a = |x|, a Phi(-a) = e^(-a^2/2) w g (FloatMath.geluTailRatio), the ratio
     * folded into exp's last fma, scaled by 2^64 until the last product: no cancellation and no double arithmetic.
     */
    static float gelu(float x) {
        float a = atMost(Math.abs(x), GAUSSIAN_CLAMP);
        float tail = FloatMath.expScaledUpTimes(FloatMath.halfSquare(a), FloatMath.halfSquareLow(a),
                FloatMath.geluTailRatio(a));
        return select(x > 0, x, 0) - tail * SCALE_DOWN;
    }

    /** Phi(x) + x phi(x), scaled by 2^64: Phi(-a) - a phi(a) for x < 0, 1 - Phi(-a) + a phi(a) above. */
    static float geluDerivativeScaled(float x) {
        float a = atMost(Math.abs(x), GAUSSIAN_CLAMP);
        float hi = FloatMath.halfSquare(a);
        float lo = FloatMath.halfSquareLow(a);
        float density = FloatMath.expScaledUpTimes(hi, lo, FloatMath.INV_SQRT_2PI);
        float tail = FloatMath.expScaledUpTimes(hi, lo, FloatMath.normalTailRatio(a));
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
     * e^x - 1 for x <= 0 (and NaN), the only arguments elu and tanh need: 2^q expm1(r) + (2^q - 1), one fused
     * rounding, with q in [-44, 0] so 2^q is one normal factor. Positive x give an unspecified value (elu discards it).
     */
    static float expm1OfNonPositive(float x) {
        float xc = atLeast(x, FloatMath.EXPM1_MIN);
        float shifted = Math.fma(xc, FloatMath.LOG2E, FloatMath.ROUNDING_SHIFT);
        float q = shifted - FloatMath.ROUNDING_SHIFT;
        float r = Math.fma(q, -FloatMath.LN2_LO, Math.fma(q, -FloatMath.LN2_HI, xc));
        float s = FloatMath.pow2(Float.floatToRawIntBits(shifted) - FloatMath.ROUNDING_SHIFT_BITS);
        return Math.fma(s, FloatMath.expm1Reduced(r), s - 1);
    }

    /** tanh x = -m / (2 + m), m = expm1(-2|x|), with the sign of x. */
    static float tanh(float x) {
        float m = expm1OfNonPositive(-2 * Math.abs(x));
        return Math.copySign(-m / (2 + m), x);
    }

    /** elu (scale 1) and selu: scale x above 0, alpha expm1(x) at or below. */
    static float elu(float x, float scale, float alpha) {
        return x > 0 ? scale * x : alpha * expm1OfNonPositive(x);
    }
}
