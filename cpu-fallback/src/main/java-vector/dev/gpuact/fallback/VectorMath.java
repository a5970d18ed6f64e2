package dev.gpuact.fallback;

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
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

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
        FloatVector p = r.fma(E8, E7).fma(r, FloatVector.broadcast(F, E6)).fma(r, FloatVector.broadcast(F, E5)).fma(r, FloatVector.broadcast(F, E4))
                .fma(r, FloatVector.broadcast(F, E3)).fma(r, FloatVector.broadcast(F, E2));
        return r.mul(r).fma(p, r);
    }

    /** {@link FloatMath#exp(float, float, int)}; k per lane. */
    static FloatVector exp(FloatVector hi, FloatVector lo, IntVector k) {
        FloatVector x = hi.min(EXP_MAX).max(EXP_MIN);
        FloatVector shifted = x.fma(LOG2E, ROUNDING_SHIFT);
        FloatVector q = shifted.sub(ROUNDING_SHIFT);
        FloatVector r = q.fma(FloatVector.broadcast(F, -LN2_LO), q.fma(FloatVector.broadcast(F, -LN2_HI), x)).add(lo);
        IntVector n = shifted.reinterpretAsInts().sub(ROUNDING_SHIFT_BITS).add(k);
        return scale(expm1Reduced(r).add(1), n);
    }

    static FloatVector exp(FloatVector x) {
        FloatVector x1 = x.min(EXP_MAX).max(EXP_MIN);
        FloatVector shifted = x1.fma(LOG2E, ROUNDING_SHIFT);
        FloatVector q = shifted.sub(ROUNDING_SHIFT);
        FloatVector r = q.fma(FloatVector.broadcast(F, -LN2_LO), q.fma(FloatVector.broadcast(F, -LN2_HI), x1));
        return scale(expm1Reduced(r).add(1), shifted.reinterpretAsInts().sub(ROUNDING_SHIFT_BITS));
    }

    static FloatVector expm1(FloatVector x) {
        FloatVector xc = x.min(EXP_MAX).max(EXPM1_MIN);
        FloatVector shifted = xc.fma(LOG2E, ROUNDING_SHIFT);
        FloatVector q = shifted.sub(ROUNDING_SHIFT);
        FloatVector r = q.fma(FloatVector.broadcast(F, -LN2_LO), q.fma(FloatVector.broadcast(F, -LN2_HI), xc));
        FloatVector m = expm1Reduced(r);
        IntVector n = shifted.reinterpretAsInts().sub(ROUNDING_SHIFT_BITS);
        FloatVector s = pow2(n.min(127));
        FloatVector small = s.fma(m, s.sub(1));
        VectorMask<Float> large = n.compare(VectorOperators.GT, EXPM1_LARGE_EXPONENT).cast(F);
        return small.blend(scale(m.add(1), n), large);
    }

    static FloatVector log1p(FloatVector x) {
        FloatVector u = x.add(1);
        FloatVector c = x.sub(u.sub(1)).div(u);
        IntVector shifted = u.reinterpretAsInts().sub(SQRT_HALF_BITS);
        FloatVector e = (FloatVector) shifted.lanewise(VectorOperators.ASHR, 23).convert(VectorOperators.I2F, 0);
        FloatVector f = shifted.and(MANTISSA_MASK).add(SQRT_HALF_BITS).reinterpretAsFloats().sub(1);
        FloatVector s = f.div(f.add(2));
        FloatVector z = s.mul(s);
        FloatVector r = z.mul(z.fma(L5, L4).fma(z, FloatVector.broadcast(F, L3)).fma(z, FloatVector.broadcast(F, L2)).fma(z, FloatVector.broadcast(F, L1)));
        FloatVector logM = f.sub(s.mul(f.sub(r)));
        return e.fma(FloatVector.broadcast(F, LN2_HI), e.fma(FloatVector.broadcast(F, LN2_LO), c).add(logM));
    }

    /** Math.copySign: the magnitude of the first with the sign bit of the second. */
    static FloatVector copySign(FloatVector magnitude, FloatVector sign) {
        return magnitude.abs().reinterpretAsInts().or(sign.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
    }

    static FloatVector tanh(FloatVector x) {
        FloatVector m = expm1(x.abs().mul(-2));
        return copySign(m.neg().div(m.add(2)), x);
    }

    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        return FloatVector.broadcast(F, 1).blend(e, x.compare(VectorOperators.LT, 0)).div(e.add(1));
    }

    static FloatVector erfcx(FloatVector z) {
        FloatVector inverse = FloatVector.broadcast(F, 1).div(z.add(ERFCX_K));
        FloatVector t = z.sub(ERFCX_K).mul(inverse);
        FloatVector h = t.fma(H10, H9).fma(t, FloatVector.broadcast(F, H8)).fma(t, FloatVector.broadcast(F, H7)).fma(t, FloatVector.broadcast(F, H6))
                .fma(t, FloatVector.broadcast(F, H5));
        h = h.fma(t, FloatVector.broadcast(F, H4)).fma(t, FloatVector.broadcast(F, H3)).fma(t, FloatVector.broadcast(F, H2)).fma(t, FloatVector.broadcast(F, H1))
                .fma(t, FloatVector.broadcast(F, H0));
        return h.mul(inverse);
    }

    static FloatVector erfSmall(FloatVector z) {
        FloatVector z2 = z.mul(z);
        return z.mul(z2.fma(R6, R5).fma(z2, FloatVector.broadcast(F, R4)).fma(z2, FloatVector.broadcast(F, R3)).fma(z2, FloatVector.broadcast(F, R2))
                .fma(z2, FloatVector.broadcast(F, R1)).fma(z2, FloatVector.broadcast(F, R0)));
    }

    static FloatVector scaledGaussian(FloatVector a) {
        FloatVector a2 = a.mul(a);
        return exp(a2.mul(-0.5f), a.fma(a, a2.neg()).mul(-0.5f), IntVector.broadcast(I, SCALE_BITS));
    }
}
