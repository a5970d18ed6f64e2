package dev.gpuact.fallback;

import static dev.gpuact.fallback.FloatFunctions.CLAMP;
import static dev.gpuact.fallback.FloatFunctions.MISH_SATURATION;
import static dev.gpuact.fallback.FloatMath.*;
import static jdk.incubator.vector.VectorOperators.FMA;

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

    /** Calls of each binary operation form with both kinds of operator, before any kernel runs. */
    private static final int PRIMING_ROUNDS = 1_000;

    /**
     * Shows the JDK's binary vector operations both of their operator classes (ADD, MUL, AND are associative
     * operators, SUB, DIV and the shifts plain binary ones) before any kernel runs, so that their profiles are
     * bimorphic from the start. Otherwise, now and then, C2 (JDK 17) compiled one on its own while it had seen one
     * class, trapped on the other, and recorded the trap in the JDK methods every vector operation inlines; C2 adds
     * those records up per compilation (a bigger loop more), and at 100 (PerMethodTrapLimit) it guards each vector
     * call with a virtual call instead of a trap, which boxes the vectors for the rest of the run: gelu 4 -> 15-90 ms,
     * gelu' 6 -> 37-190 ms per 16M floats in 4 of 10 JVMs, where 5 ops warmed up first.
     */
    static void primeOperatorProfiles() {
        FloatVector x = FloatVector.broadcast(F, 1f);
        IntVector i = IntVector.broadcast(F.withLanes(int.class), 1);
        VectorOperators.Binary[] floatOps = {VectorOperators.ADD, VectorOperators.SUB, VectorOperators.MUL,
                VectorOperators.DIV};
        VectorOperators.Binary[] intOps = {VectorOperators.ADD, VectorOperators.SUB, VectorOperators.AND,
                VectorOperators.LSHL};
        for (int round = 0; round < PRIMING_ROUNDS; round++) {
            VectorOperators.Binary floatOp = floatOps[round % floatOps.length];
            VectorOperators.Binary intOp = intOps[round % intOps.length];
            x = x.lanewise(floatOp, 1f).lanewise(floatOp, x);
            i = i.lanewise(intOp, 1).lanewise(intOp, i);
        }
        if (x.lane(0) == 42f && i.lane(0) == 42) {
            throw new AssertionError();  // keeps the results used
        }
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

    // exp and expm1 call no small helpers of ours (each 2^m is spelled out as the bits (m + 127) << 23, the polynomial
    // as its fmas): C2 (JDK 17) stops inlining our own methods once a compilation holds 18000 nodes, and a kernel's
    // last call of ours has to come before that (see VectorKernels), which a chain of small helpers made too late.
    // The one shared body of exp's two forms is inlined whole, its form chosen by a constant.

    /** {@link FloatMath#expScaledUp}: one factor 2^(q + 64), spelled out as the bits (q + 64 + 127) << 23. */
    static FloatVector expScaledUp(FloatVector hi, FloatVector lo) {
        return exp(hi, lo, true);
    }

    static FloatVector exp(FloatVector x) {
        return expScaledUp(x, FloatVector.zero(F)).mul(SCALE_DOWN);
    }

    /** e^x for |x| <= {@value #NEAR}: {@link #expNear(FloatVector, FloatVector)} without a low part. */
    static FloatVector expNear(FloatVector x) {
        return expNear(x, FloatVector.zero(F));
    }

    /**
     * e^(hi + lo) for |hi| <= {@value #NEAR}, where 2^q is a normal float: {@link #expScaledUp}'s steps without its
     * clamp and scaling, the same bits once scaled back. The loops that use it send a vector holding a lane past NEAR
     * to the full path (see VectorKernels).
     */
    static FloatVector expNear(FloatVector hi, FloatVector lo) {
        return exp(hi, lo, false);
    }

    /**
     * e^(hi + lo), clamped below and scaled by 2^64 or neither. Every caller passes a constant scaledUp, so C2 parses
     * one form only and the node budget above sees no more than that form's operations.
     */
    private static FloatVector exp(FloatVector hi, FloatVector lo, boolean scaledUp) {
        FloatVector x = scaledUp ? hi.blend(FloatVector.broadcast(F, EXP_MIN), hi.compare(VectorOperators.LT, EXP_MIN))
                : hi;
        FloatVector shifted = x.fma(LOG2E, ROUNDING_SHIFT);
        FloatVector q = shifted.sub(ROUNDING_SHIFT);
        FloatVector r = q.lanewise(FMA, -LN2_LO, q.lanewise(FMA, -LN2_HI, x)).add(lo);
        FloatVector factor = shifted.reinterpretAsInts().sub(ROUNDING_SHIFT_BITS - 127 - (scaledUp ? SCALE_BITS : 0))
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector r2 = r.mul(r);
        FloatVector p = r2.fma(r2.lanewise(FMA, E6, r.fma(E5, E4)), r.fma(E3, E2));
        return r2.fma(p, r).fma(factor, factor);
    }

    /**
     * Where {@link #expNear} and the near forms of the kernels apply: e^-64 is a normal float, and so is x e^x
     * (silu, mish) and silu' past 2^-100 (so dy silu' is rounded once, as the scaled form rounds it).
     */
    static final float NEAR = 64f;
    /** The near forms of gelu and gelu': a phi(a) is past 2^-100 up to here (so dy gelu' is rounded once). */
    static final float GAUSSIAN_NEAR = 11.5f;
    /** Below this |x|, the last products of mish go subnormal unscaled: its full form rounds them once. */
    static final float TINY = 0x1p-90f;

    /**
     * e^x - 1 for x <= 0 (and NaN), the only arguments elu and tanh need: 2^q expm1(r) + (2^q - 1), one fused
     * rounding, with q in [-44, 0] so 2^q is one normal factor. Positive x give an unspecified value.
     */
    static FloatVector expm1OfNonPositive(FloatVector x) {
        FloatVector xc = x.blend(FloatVector.broadcast(F, EXPM1_MIN), x.compare(VectorOperators.LT, EXPM1_MIN));
        FloatVector shifted = xc.fma(LOG2E, ROUNDING_SHIFT);
        FloatVector q = shifted.sub(ROUNDING_SHIFT);
        FloatVector r = q.lanewise(FMA, -LN2_LO, q.lanewise(FMA, -LN2_HI, xc));
        FloatVector r2 = r.mul(r);
        FloatVector p = r2.fma(r2.lanewise(FMA, E6, r.fma(E5, E4)), r.fma(E3, E2));
        FloatVector m = r2.fma(p, r);
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

    /**
     * {@link FloatMath#expScaledUpTimes}(-a^2/2, its low part, p) for a <= 15, or unscaled (2^q) where every caller
     * knows 2^q is normal: e^(-a^2/2) = 2^q (1 + m), a^2's low part in the reduced argument, p folded into the last
     * fma. One method, each step once: C2 (JDK 17) counts the nodes it parses before it merges repeated steps, and
     * gelu's loop body sat at its inlining cutoff (NodeCountInliningCutoff), past it in some JVMs (boxed vectors).
     */
    static FloatVector gaussianTimes(FloatVector a, FloatVector p, boolean scaledUp) {
        FloatVector square = a.mul(a);
        FloatVector x = square.mul(-0.5f);
        FloatVector shifted = x.fma(LOG2E, ROUNDING_SHIFT);
        FloatVector q = shifted.sub(ROUNDING_SHIFT);
        FloatVector r = q.lanewise(FMA, -LN2_LO, q.lanewise(FMA, -LN2_HI, x)).add(a.fma(a, square.neg()).mul(-0.5f));
        FloatVector scaled = shifted.reinterpretAsInts().sub(ROUNDING_SHIFT_BITS - 127 - (scaledUp ? SCALE_BITS : 0))
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats().mul(p);
        FloatVector r2 = r.mul(r);
        FloatVector e = r2.fma(r2.lanewise(FMA, E6, r.fma(E5, E4)), r.fma(E3, E2));
        return r2.fma(e, r).fma(scaled, scaled);
    }

    /** expm1(r) of {@link #gaussianTimes}'s reduction, for gelu', which takes two products of one Gaussian. */
    static FloatVector halfSquareExpm1(FloatVector a) {
        FloatVector square = a.mul(a);
        FloatVector x = square.mul(-0.5f);
        FloatVector q = x.fma(LOG2E, ROUNDING_SHIFT).sub(ROUNDING_SHIFT);
        FloatVector r = q.lanewise(FMA, -LN2_LO, q.lanewise(FMA, -LN2_HI, x)).add(a.fma(a, square.neg()).mul(-0.5f));
        FloatVector r2 = r.mul(r);
        FloatVector p = r2.fma(r2.lanewise(FMA, E6, r.fma(E5, E4)), r.fma(E3, E2));
        return r2.fma(p, r);
    }

    /** 2^q of {@link #halfSquareExpm1}, times 2^64 or not: every caller passes a constant scaledUp. */
    static FloatVector halfSquareScale(FloatVector a, boolean scaledUp) {
        return a.mul(a).mul(-0.5f).fma(LOG2E, ROUNDING_SHIFT).reinterpretAsInts()
                .sub(ROUNDING_SHIFT_BITS - 127 - (scaledUp ? SCALE_BITS : 0)).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
    }

    /** {@link FloatMath#tailPolynomial}. */
    static FloatVector tailPolynomial(FloatVector w) {
        FloatVector t = w.fma(2f, -1f);
        FloatVector h = t.fma(TAIL_H11, TAIL_H10).lanewise(FMA, t, TAIL_H9).lanewise(FMA, t, TAIL_H8);
        h = h.lanewise(FMA, t, TAIL_H7).lanewise(FMA, t, TAIL_H6).lanewise(FMA, t, TAIL_H5);
        h = h.lanewise(FMA, t, TAIL_H4).lanewise(FMA, t, TAIL_H3).lanewise(FMA, t, TAIL_H2);
        return h.lanewise(FMA, t, TAIL_H1).lanewise(FMA, t, TAIL_H0);
    }
}
