package dev.gpuact.fallback;

import static dev.gpuact.fallback.FloatFunctions.CLAMP;
import static dev.gpuact.fallback.FloatFunctions.MISH_SATURATION;
import static dev.gpuact.fallback.FloatMath.*;
import static jdk.incubator.vector.VectorOperators.FMA;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatMath} and {@link FloatFunctions} lane by lane: the same reductions, coefficients and order of
 * operations (so the vector and scalar paths give the same bits), selects as blends.
 *
 * <p>Float constants are operands of the operations that use them (broadcast there), not vectors made once: C2
 * keeps a broadcast constant in a register across a loop, while a static vector is reloaded from its array on every
 * iteration (the loop's stores to float arrays might alias it); sigmoid runs about a fifth faster so.
 */
final class VectorMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorMath() {
    }

    /**
     * {@link FloatMath#atMost}: min(v, bound) for a bound that is not 0, NaN staying NaN, as a compare and a blend;
     * C2 (JDK 17) gives the lanewise min of Java's semantics six instructions on AVX-512.
     */
    static FloatVector atMost(FloatVector v, float bound) {
        return v.blend(FloatVector.broadcast(F, bound), v.compare(VectorOperators.GT, bound));
    }

    /** {@link FloatMath#atLeast}: max(v, bound) for a bound that is not 0. */
    static FloatVector atLeast(FloatVector v, float bound) {
        return v.blend(FloatVector.broadcast(F, bound), v.compare(VectorOperators.LT, bound));
    }

    // exp and expm1 call no helper of ours (each 2^m is spelled out as the bits (m + 127) << 23, Taylor's polynomial
    // as its fmas): C2 (JDK 17) stops inlining our own methods once a compilation holds 18000 nodes, and a kernel's
    // last call of ours has to come before that (see VectorKernels), which a chain of small helpers made too late.

    /** {@link FloatMath#expScaledUp}: one factor 2^(q + 64), spelled out as the bits (q + 64 + 127) << 23. */
    static FloatVector expScaledUp(FloatVector hi, FloatVector lo) {
        FloatVector x = hi.blend(FloatVector.broadcast(F, EXP_MIN), hi.compare(VectorOperators.LT, EXP_MIN));
        FloatVector shifted = x.fma(LOG2E, ROUNDING_SHIFT);
        FloatVector q = shifted.sub(ROUNDING_SHIFT);
        FloatVector r = q.lanewise(FMA, -LN2_LO, q.lanewise(FMA, -LN2_HI, x)).add(lo);
        FloatVector factor = shifted.reinterpretAsInts().sub(ROUNDING_SHIFT_BITS - 127 - SCALE_BITS)
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector p = r.fma(E8, E7).lanewise(FMA, r, E6).lanewise(FMA, r, E5).lanewise(FMA, r, E4).lanewise(FMA, r, E3).lanewise(FMA, r, E2);
        return r.mul(r).fma(p, r).add(1f).mul(factor);
    }

    static FloatVector exp(FloatVector x) {
        return expScaledUp(x, FloatVector.zero(F)).mul(SCALE_DOWN);
    }

    /** {@link FloatMath#expm1OfNonPositive}: 2^q expm1(r) + (2^q - 1) in one fma. */
    static FloatVector expm1OfNonPositive(FloatVector x) {
        FloatVector xc = x.blend(FloatVector.broadcast(F, EXPM1_MIN), x.compare(VectorOperators.LT, EXPM1_MIN));
        FloatVector shifted = xc.fma(LOG2E, ROUNDING_SHIFT);
        FloatVector q = shifted.sub(ROUNDING_SHIFT);
        FloatVector r = q.lanewise(FMA, -LN2_LO, q.lanewise(FMA, -LN2_HI, xc));
        FloatVector p = r.fma(E8, E7).lanewise(FMA, r, E6).lanewise(FMA, r, E5).lanewise(FMA, r, E4).lanewise(FMA, r, E3).lanewise(FMA, r, E2);
        FloatVector m = r.mul(r).fma(p, r);
        FloatVector s = shifted.reinterpretAsInts().sub(ROUNDING_SHIFT_BITS - 127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return s.fma(m, s.sub(1f));
    }

    static FloatVector log1p(FloatVector x) {
        FloatVector u = x.add(1f);
        FloatVector c = x.sub(u.sub(1f)).div(u);
        IntVector shifted = u.reinterpretAsInts().sub(SQRT_HALF_BITS);
        // the exponent to float by the shift constant: int-to-float conversions are not intrinsics everywhere
        FloatVector e = shifted.lanewise(VectorOperators.ASHR, 23).add(ROUNDING_SHIFT_BITS).reinterpretAsFloats()
                .sub(ROUNDING_SHIFT);
        FloatVector f = shifted.and(MANTISSA_MASK).add(SQRT_HALF_BITS).reinterpretAsFloats().sub(1f);
        FloatVector s = f.div(f.add(2f));
        FloatVector z = s.mul(s);
        FloatVector r = z.mul(z.fma(L5, L4).lanewise(FMA, z, L3).lanewise(FMA, z, L2).lanewise(FMA, z, L1));
        FloatVector logM = f.sub(s.mul(f.sub(r)));
        return e.lanewise(FMA, LN2_HI, e.lanewise(FMA, LN2_LO, c).add(logM));
    }

    static FloatVector tanh(FloatVector x) {
        FloatVector m = expm1OfNonPositive(x.abs().mul(-2f));
        FloatVector t = m.neg().div(m.add(2f));
        return t.blend(t.neg(), x.compare(VectorOperators.LT, 0f));
    }

    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        return FloatVector.broadcast(F, 1f).blend(e, x.compare(VectorOperators.LT, 0f)).div(e.add(1f));
    }

    // ---- DoubleMath lane by lane ----

    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    static final DoubleVector D_ZERO = DoubleVector.zero(D);
    static final DoubleVector D_ONE = DoubleVector.broadcast(D, 1);
    static final DoubleVector D_HALF = DoubleVector.broadcast(D, 0.5);
    static final DoubleVector D_MINUS_HALF = DoubleVector.broadcast(D, -0.5);
    static final DoubleVector D_LOG2E = DoubleVector.broadcast(D, DoubleMath.LOG2E);
    static final DoubleVector D_MINUS_LN2_HI = DoubleVector.broadcast(D, -DoubleMath.LN2_HI);
    static final DoubleVector D_MINUS_LN2_LO = DoubleVector.broadcast(D, -DoubleMath.LN2_LO);
    static final DoubleVector D_ROUNDING_SHIFT = DoubleVector.broadcast(D, DoubleMath.ROUNDING_SHIFT);
    static final DoubleVector D_E2 = DoubleVector.broadcast(D, DoubleMath.E2);
    static final DoubleVector D_E3 = DoubleVector.broadcast(D, DoubleMath.E3);
    static final DoubleVector D_E4 = DoubleVector.broadcast(D, DoubleMath.E4);
    static final DoubleVector D_E5 = DoubleVector.broadcast(D, DoubleMath.E5);
    static final DoubleVector D_E6 = DoubleVector.broadcast(D, DoubleMath.E6);
    static final DoubleVector D_E7 = DoubleVector.broadcast(D, DoubleMath.E7);
    static final DoubleVector D_E8 = DoubleVector.broadcast(D, DoubleMath.E8);
    static final DoubleVector D_E9 = DoubleVector.broadcast(D, DoubleMath.E9);
    static final DoubleVector D_E10 = DoubleVector.broadcast(D, DoubleMath.E10);
    static final DoubleVector D_ERFCX_K = DoubleVector.broadcast(D, DoubleMath.ERFCX_K);
    static final DoubleVector D_H0 = DoubleVector.broadcast(D, DoubleMath.H0);
    static final DoubleVector D_H1 = DoubleVector.broadcast(D, DoubleMath.H1);
    static final DoubleVector D_H2 = DoubleVector.broadcast(D, DoubleMath.H2);
    static final DoubleVector D_H3 = DoubleVector.broadcast(D, DoubleMath.H3);
    static final DoubleVector D_H4 = DoubleVector.broadcast(D, DoubleMath.H4);
    static final DoubleVector D_H5 = DoubleVector.broadcast(D, DoubleMath.H5);
    static final DoubleVector D_H6 = DoubleVector.broadcast(D, DoubleMath.H6);
    static final DoubleVector D_H7 = DoubleVector.broadcast(D, DoubleMath.H7);
    static final DoubleVector D_H8 = DoubleVector.broadcast(D, DoubleMath.H8);
    static final DoubleVector D_H9 = DoubleVector.broadcast(D, DoubleMath.H9);
    static final DoubleVector D_H10 = DoubleVector.broadcast(D, DoubleMath.H10);
    static final DoubleVector D_H11 = DoubleVector.broadcast(D, DoubleMath.H11);
    static final DoubleVector D_H12 = DoubleVector.broadcast(D, DoubleMath.H12);
    static final DoubleVector D_SQRT_HALF = DoubleVector.broadcast(D, DoubleMath.SQRT_HALF);
    static final DoubleVector D_INV_SQRT_2PI = DoubleVector.broadcast(D, DoubleMath.INV_SQRT_2PI);
    static final DoubleVector D_GAUSSIAN_CLAMP = DoubleVector.broadcast(D, DoubleMath.GAUSSIAN_CLAMP);
    static final DoubleVector D_MINUS_GAUSSIAN_CLAMP = DoubleVector.broadcast(D, -DoubleMath.GAUSSIAN_CLAMP);
    static final DoubleVector D_SILU_CLAMP = DoubleVector.broadcast(D, DoubleMath.SILU_CLAMP);
    static final DoubleVector D_MINUS_SILU_CLAMP = DoubleVector.broadcast(D, -DoubleMath.SILU_CLAMP);

    static DoubleVector exp(DoubleVector x) {
        DoubleVector shifted = x.fma(D_LOG2E, D_ROUNDING_SHIFT);
        DoubleVector q = shifted.sub(D_ROUNDING_SHIFT);
        DoubleVector r = q.fma(D_MINUS_LN2_LO, q.fma(D_MINUS_LN2_HI, x));
        DoubleVector r2 = r.mul(r);
        DoubleVector r4 = r2.mul(r2);
        DoubleVector low = r.fma(D_E5, D_E4).fma(r2, r.fma(D_E3, D_E2));
        DoubleVector high = r.fma(D_E9, D_E8).fma(r2, r.fma(D_E7, D_E6));
        DoubleVector p = r4.mul(r4).fma(D_E10, high.fma(r4, low));
        DoubleVector pow2 = shifted.reinterpretAsLongs().sub(DoubleMath.POW2_BITS_OFFSET)
                .lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
        return r2.fma(p, r).add(D_ONE).mul(pow2);
    }

    static DoubleVector erfcx(DoubleVector z) {
        DoubleVector inverse = D_ONE.div(z.add(D_ERFCX_K));
        DoubleVector t = z.sub(D_ERFCX_K).mul(inverse);
        DoubleVector t2 = t.mul(t);
        DoubleVector t4 = t2.mul(t2);
        DoubleVector h0 = t.fma(D_H3, D_H2).fma(t2, t.fma(D_H1, D_H0));
        DoubleVector h4 = t.fma(D_H7, D_H6).fma(t2, t.fma(D_H5, D_H4));
        DoubleVector h8 = t.fma(D_H11, D_H10).fma(t2, t.fma(D_H9, D_H8));
        DoubleVector h = t4.fma(D_H12, h8).fma(t4.mul(t4), h4.fma(t4, h0));
        return h.mul(inverse);
    }

    static DoubleVector gaussian(DoubleVector a) {
        return exp(a.mul(a).mul(D_MINUS_HALF));
    }

    static DoubleVector normalTail(DoubleVector a, DoubleVector gaussian) {
        return D_HALF.mul(gaussian).mul(erfcx(a.mul(D_SQRT_HALF)));
    }

    static DoubleVector gelu(DoubleVector x) {
        DoubleVector a = x.abs().min(D_GAUSSIAN_CLAMP);
        return x.max(D_ZERO).sub(a.mul(normalTail(a, gaussian(a))));
    }

    static DoubleVector geluDerivative(DoubleVector x) {
        DoubleVector a = x.abs().min(D_GAUSSIAN_CLAMP);
        DoubleVector g = gaussian(a);
        DoubleVector tail = normalTail(a, g);
        DoubleVector cdf = D_ONE.sub(tail).blend(tail, x.compare(VectorOperators.LT, D_ZERO));
        return cdf.add(x.min(D_GAUSSIAN_CLAMP).max(D_MINUS_GAUSSIAN_CLAMP).mul(g.mul(D_INV_SQRT_2PI)));
    }

    static DoubleVector siluDerivative(DoubleVector x) {
        DoubleVector xc = x.min(D_SILU_CLAMP).max(D_MINUS_SILU_CLAMP);
        DoubleVector e = exp(xc.neg());
        DoubleVector s = D_ONE.div(D_ONE.add(e));
        return s.add(xc.mul(s).mul(e.mul(s)));
    }
}
