package dev.gpuact.fallback;

import static dev.gpuact.fallback.FloatFunctions.CLAMP;
import static dev.gpuact.fallback.FloatFunctions.GELU_SERIES_END;
import static dev.gpuact.fallback.FloatFunctions.MISH_SATURATION;
import static dev.gpuact.fallback.FloatMath.ERFCX_FIT_END;
import static dev.gpuact.fallback.FloatMath.NORMAL_TAIL_END;
import static dev.gpuact.fallback.FloatMath.SCALE_BITS;
import static dev.gpuact.fallback.FloatMath.SCALE_DOWN;
import static dev.gpuact.fallback.FloatMath.SQRT_HALF;
import static dev.gpuact.fallback.VectorMath.F;
import static dev.gpuact.fallback.VectorMath.I;
import static dev.gpuact.fallback.VectorMath.exp;
import static dev.gpuact.fallback.VectorMath.expm1;
import static dev.gpuact.fallback.VectorMath.log1p;
import static dev.gpuact.fallback.VectorMath.scaledGaussian;
import static dev.gpuact.fallback.VectorMath.sigmoid;
import static dev.gpuact.fallback.VectorMath.tanh;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The elementwise kernels on whole vectors of the preferred shape, for the ops whose scalar loop is float math
 * ({@link FloatFunctions}): each op's formula once below, in the order of operations of its scalar twin. Every loop
 * stops at the last whole vector and returns how far it got; the scalar loop finishes the rest. Each op has its own
 * loop for the reason {@link ElementwiseKernel} gives: a loop shared through an interface would not inline the math,
 * and vectors that do not inline are allocated.
 */
final class VectorKernels implements VectorLoops {
    private static final int LANES = F.length();

    @Override
    public String description() {
        return F.vectorBitSize() + "-bit vectors, " + LANES + " float lanes";
    }

    @Override
    public int forward(ElementwiseKernel op, float[] x, int xo, float[] y, int yo, int n, float a, float b) {
        int end = F.loopBound(n);
        int i = 0;
        switch (op) {
            case SIGMOID -> { for (; i < end; i += LANES) sigmoid(load(x, xo + i)).intoArray(y, yo + i); }
            case TANH -> { for (; i < end; i += LANES) tanh(load(x, xo + i)).intoArray(y, yo + i); }
            case SILU -> { for (; i < end; i += LANES) silu(load(x, xo + i)).intoArray(y, yo + i); }
            case GELU -> { for (; i < end; i += LANES) gelu(load(x, xo + i)).intoArray(y, yo + i); }
            case MISH -> { for (; i < end; i += LANES) mish(load(x, xo + i)).intoArray(y, yo + i); }
            case ELU -> { for (; i < end; i += LANES) elu(load(x, xo + i), a).intoArray(y, yo + i); }
            case LOGSIGMOID -> { for (; i < end; i += LANES) logsigmoid(load(x, xo + i)).intoArray(y, yo + i); }
            case SOFTPLUS -> {
                if (a == 1) {
                    for (; i < end; i += LANES) softplus(load(x, xo + i), b).intoArray(y, yo + i);
                }
            }
            case RELU -> { for (; i < end; i += LANES) load(x, xo + i).max(0f).intoArray(y, yo + i); }
            default -> { }
        }
        return i;
    }

    @Override
    public int backward(ElementwiseKernel op, float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n,
                        float a, float b) {
        int end = F.loopBound(n);
        int i = 0;
        switch (op) {
            case SIGMOID -> { for (; i < end; i += LANES) load(dy, dyo + i).mul(sigmoidDerivative(load(x, xo + i))).intoArray(dx, dxo + i); }
            case TANH -> { for (; i < end; i += LANES) load(dy, dyo + i).mul(tanhDerivative(load(x, xo + i))).intoArray(dx, dxo + i); }
            case ELU -> { for (; i < end; i += LANES) load(dy, dyo + i).mul(eluDerivative(load(x, xo + i), a)).intoArray(dx, dxo + i); }
            case LOGSIGMOID -> { for (; i < end; i += LANES) load(dy, dyo + i).mul(sigmoid(load(x, xo + i).neg())).intoArray(dx, dxo + i); }
            case SOFTPLUS -> {
                if (a == 1) {
                    for (; i < end; i += LANES) load(dy, dyo + i).mul(softplusDerivative(load(x, xo + i), b)).intoArray(dx, dxo + i);
                }
            }
            case RELU -> { for (; i < end; i += LANES) load(dy, dyo + i).mul(reluDerivative(load(x, xo + i))).intoArray(dx, dxo + i); }
            default -> { }
        }
        return i;
    }

    @Override
    public int maxPrefix(int n) {
        return F.loopBound(n);
    }

    @Override
    public float maxOfPrefix(float[] x, int from, int n) {
        int end = F.loopBound(n);
        FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < end; i += LANES) {
            max = max.max(load(x, from + i));
        }
        return max.reduceLanes(VectorOperators.MAX);
    }

    @Override
    public boolean softmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, float t) {
        int end = F.loopBound(cols);
        FloatVector high = FloatVector.zero(F);
        FloatVector low = FloatVector.zero(F);
        long ones = 0;
        for (int i = 0; i < end; i += LANES) {
            FloatVector e = term(load(x, xb + i), m, t);
            e.intoArray(y, yb + i);
            VectorMask<Float> one = e.compare(VectorOperators.EQ, 1);
            ones += one.trueCount();
            FloatVector rest = e.blend(0, one);
            FloatVector s = high.add(rest);
            FloatVector back = s.sub(high);
            low = low.add(high.sub(s.sub(back)).add(rest.sub(back)));
            high = s;
        }
        Rowwise.CompensatedSum sum = sumOfLanes(ones, high, low);
        for (int i = end; i < cols; i++) {
            float e = Rowwise.term(x[xb + i], m, t);
            y[yb + i] = e;
            sum.add(e);
        }
        float inverse = 1 / sum.value();
        int i = 0;
        for (; i < end; i += LANES) {
            load(y, yb + i).mul(inverse).intoArray(y, yb + i);
        }
        for (; i < cols; i++) {
            y[yb + i] *= inverse;
        }
        return true;
    }

    @Override
    public boolean logSoftmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, float t) {
        int end = F.loopBound(cols);
        FloatVector high = FloatVector.zero(F);
        FloatVector low = FloatVector.zero(F);
        long ones = 0;
        for (int i = 0; i < end; i += LANES) {
            FloatVector e = term(load(x, xb + i), m, t);
            VectorMask<Float> one = e.compare(VectorOperators.EQ, 1);
            ones += one.trueCount();
            FloatVector rest = e.blend(0, one);
            FloatVector s = high.add(rest);
            FloatVector back = s.sub(high);
            low = low.add(high.sub(s.sub(back)).add(rest.sub(back)));
            high = s;
        }
        Rowwise.CompensatedSum sum = sumOfLanes(ones, high, low);
        for (int i = end; i < cols; i++) {
            sum.add(Rowwise.term(x[xb + i], m, t));
        }
        float logSum = Rowwise.logOfSum(sum);
        int i = 0;
        for (; i < end; i += LANES) {
            FloatVector v = load(x, xb + i);
            FloatVector hi = v.sub(m);
            FloatVector zhi = hi.div(t);
            zhi.sub(logSum).add(quotientLow(v, m, hi, zhi, t)).intoArray(y, yb + i);
        }
        for (; i < cols; i++) {
            y[yb + i] = Rowwise.logTerm(x[xb + i], m, t, logSum);
        }
        return true;
    }

    /** {@link Rowwise#term} lane by lane. */
    private static FloatVector term(FloatVector v, float m, float t) {
        FloatVector hi = v.sub(m);
        FloatVector zhi = hi.div(t);
        return exp(zhi, quotientLow(v, m, hi, zhi, t), IntVector.zero(I));
    }

    /** {@link Rowwise#quotientLow} lane by lane. */
    private static FloatVector quotientLow(FloatVector v, float m, FloatVector hi, FloatVector zhi, float t) {
        FloatVector back = hi.sub(v);
        FloatVector lo = v.sub(hi.sub(back)).add(back.neg().sub(m));
        FloatVector zlo = zhi.neg().fma(FloatVector.broadcast(F, t), hi).add(lo).div(t).min(1f).max(-1f);
        return zlo.blend(0, hi.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
    }

    /** The lanes' sums added into one compensated sum, in lane order. */
    private static Rowwise.CompensatedSum sumOfLanes(long ones, FloatVector high, FloatVector low) {
        Rowwise.CompensatedSum sum = new Rowwise.CompensatedSum();
        sum.ones = ones;
        for (int lane = 0; lane < LANES; lane++) {
            sum.add(high.lane(lane));
        }
        sum.low += low.reduceLanes(VectorOperators.ADD);
        return sum;
    }

    private static FloatVector load(float[] a, int offset) {
        return FloatVector.fromArray(F, a, offset);
    }

    private static VectorMask<Float> negative(FloatVector x) {
        return x.compare(VectorOperators.LT, 0);
    }

    /** 2^64 where x < 0 (the scaled lanes), 0 elsewhere. */
    private static IntVector scaleBits(VectorMask<Float> negative) {
        return IntVector.zero(I).blend(SCALE_BITS, negative.cast(I));
    }

    private static FloatVector scaleDown(VectorMask<Float> negative) {
        return FloatVector.broadcast(F, 1).blend(SCALE_DOWN, negative);
    }

    static FloatVector sigmoidDerivative(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        FloatVector d = e.add(1);
        return e.div(d.mul(d));
    }

    static FloatVector tanhDerivative(FloatVector x) {
        FloatVector e = exp(x.abs().mul(-2));
        FloatVector d = e.add(1);
        return e.mul(4).div(d.mul(d));
    }

    static FloatVector silu(FloatVector x) {
        FloatVector xc = x.min(CLAMP).max(-CLAMP);
        VectorMask<Float> negative = negative(x);
        FloatVector big = exp(xc.abs().neg(), FloatVector.zero(F), scaleBits(negative));
        FloatVector e = big.blend(big.mul(SCALE_DOWN), negative);
        return x.blend(xc.mul(big), negative).div(e.add(1)).mul(scaleDown(negative));
    }

    private static FloatVector scaledNormalTail(FloatVector a, FloatVector gaussian) {
        return gaussian.mul(0.5f).mul(VectorMath.erfcx(a.min(ERFCX_FIT_END).mul(SQRT_HALF)));
    }

    static FloatVector gelu(FloatVector x) {
        FloatVector a = x.abs().min(NORMAL_TAIL_END);
        FloatVector tail = x.max(0).sub(a.mul(scaledNormalTail(a, scaledGaussian(a))).mul(SCALE_DOWN));
        FloatVector near = a.fma(VectorMath.erfSmall(a.mul(SQRT_HALF)), x).mul(0.5f);
        return tail.blend(near, a.compare(VectorOperators.LT, GELU_SERIES_END));
    }

    static FloatVector mish(FloatVector x) {
        FloatVector xc = x.max(-CLAMP);
        VectorMask<Float> negative = negative(x);
        FloatVector big = exp(xc.min(MISH_SATURATION), FloatVector.zero(F), scaleBits(negative));
        FloatVector e = big.blend(big.mul(SCALE_DOWN), negative);
        FloatVector ePlus2 = e.add(2);
        FloatVector d = e.fma(ePlus2, FloatVector.broadcast(F, 2));
        return xc.mul(big.mul(ePlus2).div(d)).mul(scaleDown(negative));
    }

    static FloatVector softplus(FloatVector x, float threshold) {
        FloatVector value = x.max(0).add(log1p(exp(x.abs().neg())));
        return value.blend(x, x.compare(VectorOperators.GT, threshold));
    }

    static FloatVector softplusDerivative(FloatVector x, float threshold) {
        return sigmoid(x).blend(1, x.compare(VectorOperators.GT, threshold));
    }

    static FloatVector logsigmoid(FloatVector x) {
        return x.min(0).sub(log1p(exp(x.abs().neg())));
    }

    static FloatVector elu(FloatVector x, float alpha) {
        return expm1(x).mul(alpha).blend(x, x.compare(VectorOperators.GT, 0));
    }

    static FloatVector eluDerivative(FloatVector x, float alpha) {
        return exp(x).mul(alpha).blend(1, x.compare(VectorOperators.GT, 0));
    }

    /** 1 for x > 0, 0 for x <= 0, NaN for NaN, as signum(max(x, 0)) in the scalar loop. */
    static FloatVector reluDerivative(FloatVector x) {
        return FloatVector.zero(F).blend(1, x.compare(VectorOperators.GT, 0)).blend(x, x.compare(VectorOperators.NE, x));
    }
}
