package dev.gpuact.fallback;

import static dev.gpuact.fallback.FloatFunctions.CLAMP;
import static dev.gpuact.fallback.FloatFunctions.MISH_SATURATION;
import static dev.gpuact.fallback.FloatMath.*;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatMath} and {@link FloatFunctions} lane by lane: the same reductions, coefficients and order of
 * operations (so the vector and scalar paths give the same bits), selects as blends.
 */
final class VectorMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final FloatVector ZERO = FloatVector.zero(F);
    static final FloatVector V_SCALE_BITS = FloatVector.broadcast(F, SCALE_BITS);
    static final FloatVector ONE = FloatVector.broadcast(F, 1);
    // Every constant as a vector, made once: a broadcast inside a kernel costs C2 nodes, and a kernel over C2's
    // node budget stops inlining its vectors, which are then allocated.
    static final FloatVector V_C2 = FloatVector.broadcast(F, 2);
    static final FloatVector V_C4 = FloatVector.broadcast(F, 4);
    static final FloatVector V_CLAMP = FloatVector.broadcast(F, CLAMP);
    static final FloatVector V_E2 = FloatVector.broadcast(F, E2);
    static final FloatVector V_E3 = FloatVector.broadcast(F, E3);
    static final FloatVector V_E4 = FloatVector.broadcast(F, E4);
    static final FloatVector V_E5 = FloatVector.broadcast(F, E5);
    static final FloatVector V_E6 = FloatVector.broadcast(F, E6);
    static final FloatVector V_E7 = FloatVector.broadcast(F, E7);
    static final FloatVector V_E8 = FloatVector.broadcast(F, E8);
    static final FloatVector V_EXPM1_LARGE_EXPONENT = FloatVector.broadcast(F, EXPM1_LARGE_EXPONENT);
    static final FloatVector V_EXPM1_MIN = FloatVector.broadcast(F, EXPM1_MIN);
    static final FloatVector V_EXP_MAX = FloatVector.broadcast(F, EXP_MAX);
    static final FloatVector V_EXP_MIN = FloatVector.broadcast(F, EXP_MIN);
    static final FloatVector V_FLOAT_NEGATIVE_INFINITY = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
    static final FloatVector V_HALF = FloatVector.broadcast(F, 0.5f);
    static final FloatVector V_L1 = FloatVector.broadcast(F, L1);
    static final FloatVector V_L2 = FloatVector.broadcast(F, L2);
    static final FloatVector V_L3 = FloatVector.broadcast(F, L3);
    static final FloatVector V_L4 = FloatVector.broadcast(F, L4);
    static final FloatVector V_L5 = FloatVector.broadcast(F, L5);
    static final FloatVector V_LN2_HI = FloatVector.broadcast(F, LN2_HI);
    static final FloatVector V_LN2_LO = FloatVector.broadcast(F, LN2_LO);
    static final FloatVector V_LOG2E = FloatVector.broadcast(F, LOG2E);
    static final FloatVector V_MINUS_1F = FloatVector.broadcast(F, -1f);
    static final FloatVector V_MINUS_2 = FloatVector.broadcast(F, -2);
    static final FloatVector V_MINUS_CLAMP = FloatVector.broadcast(F, -CLAMP);
    static final FloatVector V_MINUS_HALF = FloatVector.broadcast(F, -0.5f);
    static final FloatVector V_MINUS_LN2_HI = FloatVector.broadcast(F, -LN2_HI);
    static final FloatVector V_MINUS_LN2_LO = FloatVector.broadcast(F, -LN2_LO);
    static final FloatVector V_MISH_SATURATION = FloatVector.broadcast(F, MISH_SATURATION);
    static final FloatVector V_ROUNDING_SHIFT = FloatVector.broadcast(F, ROUNDING_SHIFT);
    static final FloatVector V_ROUNDING_SHIFT_127 = FloatVector.broadcast(F, ROUNDING_SHIFT + 127);
    static final FloatVector V_SCALE_DOWN = FloatVector.broadcast(F, SCALE_DOWN);

    private VectorMath() {
    }

    static FloatVector pow2(IntVector n) {
        return n.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    }

    static FloatVector scale(FloatVector v, IntVector n) {
        IntVector half = n.lanewise(VectorOperators.ASHR, 1);
        return v.mul(pow2(half)).mul(pow2(n.sub(half)));
    }

    static FloatVector expm1Reduced(FloatVector r) {
        FloatVector p = r.fma(V_E8, V_E7).fma(r, V_E6).fma(r, V_E5).fma(r, V_E4)
                .fma(r, V_E3).fma(r, V_E2);
        return r.mul(r).fma(p, r);
    }

    /**
     * {@link FloatMath#exp(float, float, int)}, k per lane as a float (0 or 64): it is added to the shifted float,
     * whose low bits hold q, so no int vector has to be made (C2 in JDK 17 does not always make them in registers).
     */
    static FloatVector exp(FloatVector hi, FloatVector lo, FloatVector k) {
        FloatVector x = hi.min(V_EXP_MAX).max(V_EXP_MIN);
        FloatVector shifted = x.fma(V_LOG2E, V_ROUNDING_SHIFT);
        FloatVector q = shifted.sub(V_ROUNDING_SHIFT);
        FloatVector r = q.fma(V_MINUS_LN2_LO, q.fma(V_MINUS_LN2_HI, x)).add(lo);
        IntVector n = shifted.add(k).reinterpretAsInts().sub(ROUNDING_SHIFT_BITS);
        return scale(expm1Reduced(r).add(ONE), n);
    }

    static FloatVector exp(FloatVector x) {
        FloatVector x1 = x.min(V_EXP_MAX).max(V_EXP_MIN);
        FloatVector shifted = x1.fma(V_LOG2E, V_ROUNDING_SHIFT);
        FloatVector q = shifted.sub(V_ROUNDING_SHIFT);
        FloatVector r = q.fma(V_MINUS_LN2_LO, q.fma(V_MINUS_LN2_HI, x1));
        return scale(expm1Reduced(r).add(ONE), shifted.reinterpretAsInts().sub(ROUNDING_SHIFT_BITS));
    }

    static FloatVector expm1(FloatVector x) {
        FloatVector xc = x.min(V_EXP_MAX).max(V_EXPM1_MIN);
        FloatVector shifted = xc.fma(V_LOG2E, V_ROUNDING_SHIFT);
        FloatVector q = shifted.sub(V_ROUNDING_SHIFT);
        FloatVector r = q.fma(V_MINUS_LN2_LO, q.fma(V_MINUS_LN2_HI, xc));
        FloatVector m = expm1Reduced(r);
        IntVector n = shifted.reinterpretAsInts().sub(ROUNDING_SHIFT_BITS);
        // min(n, 127) and n > limit taken on the float shifted = 1.5 2^23 + n: mask casts between shapes allocate
        FloatVector s = pow2(shifted.min(V_ROUNDING_SHIFT_127).reinterpretAsInts().sub(ROUNDING_SHIFT_BITS));
        FloatVector small = s.fma(m, s.sub(ONE));
        return small.blend(scale(m.add(ONE), n), q.compare(VectorOperators.GT, V_EXPM1_LARGE_EXPONENT));
    }

    static FloatVector log1p(FloatVector x) {
        FloatVector u = x.add(ONE);
        FloatVector c = x.sub(u.sub(ONE)).div(u);
        IntVector shifted = u.reinterpretAsInts().sub(SQRT_HALF_BITS);
        // the exponent to float by the shift constant: int-to-float conversions are not intrinsics everywhere
        FloatVector e = shifted.lanewise(VectorOperators.ASHR, 23).add(ROUNDING_SHIFT_BITS).reinterpretAsFloats()
                .sub(V_ROUNDING_SHIFT);
        FloatVector f = shifted.and(MANTISSA_MASK).add(SQRT_HALF_BITS).reinterpretAsFloats().sub(ONE);
        FloatVector s = f.div(f.add(V_C2));
        FloatVector z = s.mul(s);
        FloatVector r = z.mul(z.fma(V_L5, V_L4).fma(z, V_L3).fma(z, V_L2).fma(z, V_L1));
        FloatVector logM = f.sub(s.mul(f.sub(r)));
        return e.fma(V_LN2_HI, e.fma(V_LN2_LO, c).add(logM));
    }

    static FloatVector tanh(FloatVector x) {
        FloatVector m = expm1(x.abs().mul(V_MINUS_2));
        FloatVector t = m.neg().div(m.add(V_C2));
        return t.blend(t.neg(), x.compare(VectorOperators.LT, ZERO));
    }

    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        return ONE.blend(e, x.compare(VectorOperators.LT, ZERO)).div(e.add(ONE));
    }

            }
