package dev.gpuact.fallback;


import static dev.gpuact.fallback.VectorMath.*;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
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

    /** The loop of each op, by ordinal; null where the op has none. */
    private static final MethodHandle[] FORWARD = new MethodHandle[ElementwiseKernel.values().length];
    private static final MethodHandle[] BACKWARD = new MethodHandle[ElementwiseKernel.values().length];

    static {
        ElementwiseKernel[] forward = {ElementwiseKernel.SIGMOID, ElementwiseKernel.TANH, ElementwiseKernel.SILU,
            ElementwiseKernel.MISH, ElementwiseKernel.ELU, ElementwiseKernel.LOGSIGMOID,
            ElementwiseKernel.RELU, ElementwiseKernel.SOFTPLUS};
        ElementwiseKernel[] backward = {ElementwiseKernel.SIGMOID, ElementwiseKernel.TANH, ElementwiseKernel.ELU,
            ElementwiseKernel.LOGSIGMOID, ElementwiseKernel.RELU, ElementwiseKernel.SOFTPLUS};
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        MethodType forwardType = MethodType.methodType(void.class, float[].class, int.class, float[].class, int.class,
                int.class, float.class, float.class);
        MethodType backwardType = MethodType.methodType(void.class, float[].class, int.class, float[].class, int.class,
                float[].class, int.class, int.class, float.class, float.class);
        try {
            for (ElementwiseKernel op : forward) {
                FORWARD[op.ordinal()] = lookup.findStatic(VectorKernels.class, "forward" + camel(op), forwardType);
            }
            for (ElementwiseKernel op : backward) {
                BACKWARD[op.ordinal()] = lookup.findStatic(VectorKernels.class, "backward" + camel(op), backwardType);
            }
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static String camel(ElementwiseKernel op) {
        StringBuilder name = new StringBuilder();
        for (String word : op.name().toLowerCase(java.util.Locale.ROOT).split("_")) {
            name.append(Character.toUpperCase(word.charAt(0))).append(word.substring(1));
        }
        return name.toString();
    }

    /**
     * The loops are called through method handles read from an array, which C2 cannot inline: inlined into this
     * dispatcher, which is hot for every op, a loop would share one compilation's node budget with the others and
     * lose the intrinsics that keep its vectors out of the heap.
     */
    @Override
    public int forward(ElementwiseKernel op, float[] x, int xo, float[] y, int yo, int n, float a, float b) {
        MethodHandle loop = FORWARD[op.ordinal()];
        if (loop == null || (op == ElementwiseKernel.SOFTPLUS && a != 1)) {
            return 0;
        }
        int end = F.loopBound(n);
        try {
            loop.invokeExact(x, xo, y, yo, end, a, b);
        } catch (Throwable e) {
            throw rethrow(e);
        }
        return end;
    }

    @Override
    public int backward(ElementwiseKernel op, float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n,
                        float a, float b) {
        MethodHandle loop = BACKWARD[op.ordinal()];
        if (loop == null || (op == ElementwiseKernel.SOFTPLUS && a != 1)) {
            return 0;
        }
        int end = F.loopBound(n);
        try {
            loop.invokeExact(x, xo, dy, dyo, dx, dxo, end, a, b);
        } catch (Throwable e) {
            throw rethrow(e);
        }
        return end;
    }

    private static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error error) {
            throw error;
        }
        throw new IllegalStateException(e);
    }

    // One loop per op, each a method of its own: compiled with its own profile, so the math inlines into it.

    private static void forwardSigmoid(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            sigmoid(load(x, xo + i)).intoArray(y, yo + i);
        }
    }

    private static void forwardTanh(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            tanh(load(x, xo + i)).intoArray(y, yo + i);
        }
    }

    private static void forwardSilu(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            silu(load(x, xo + i)).intoArray(y, yo + i);
        }
    }

    private static void forwardMish(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            mish(load(x, xo + i)).intoArray(y, yo + i);
        }
    }

    private static void forwardElu(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            elu(load(x, xo + i), a).intoArray(y, yo + i);
        }
    }

    private static void forwardLogsigmoid(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            logsigmoid(load(x, xo + i)).intoArray(y, yo + i);
        }
    }

    private static void forwardRelu(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            load(x, xo + i).max(ZERO).intoArray(y, yo + i);
        }
    }

    private static void forwardSoftplus(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            softplus(load(x, xo + i), b).intoArray(y, yo + i);
        }
    }

    private static void backwardSigmoid(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            load(dy, dyo + i).mul(sigmoidDerivative(load(x, xo + i))).intoArray(dx, dxo + i);
        }
    }

    private static void backwardTanh(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            load(dy, dyo + i).mul(tanhDerivative(load(x, xo + i))).intoArray(dx, dxo + i);
        }
    }

    private static void backwardElu(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            load(dy, dyo + i).mul(eluDerivative(load(x, xo + i), a)).intoArray(dx, dxo + i);
        }
    }

    private static void backwardLogsigmoid(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            load(dy, dyo + i).mul(sigmoid(load(x, xo + i).neg())).intoArray(dx, dxo + i);
        }
    }

    private static void backwardRelu(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            load(dy, dyo + i).mul(reluDerivative(load(x, xo + i))).intoArray(dx, dxo + i);
        }
    }

    private static void backwardSoftplus(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            load(dy, dyo + i).mul(softplusDerivative(load(x, xo + i), b)).intoArray(dx, dxo + i);
        }
    }

    @Override
    public int maxPrefix(int n) {
        return F.loopBound(n);
    }

    /**
     * Per-thread accumulators of the row loops, kept in memory between iterations: C2 (JDK 17) allocates a vector
     * that is carried around a loop, so the loops below load and store theirs instead.
     */
    private static final ThreadLocal<float[]> ACCUMULATORS = ThreadLocal.withInitial(() -> new float[2 * LANES]);

    @Override
    public float maxOfPrefix(float[] x, int from, int n) {
        int end = F.loopBound(n);
        float[] acc = ACCUMULATORS.get();
        V_FLOAT_NEGATIVE_INFINITY.intoArray(acc, 0);
        for (int i = 0; i < end; i += LANES) {
            load(acc, 0).max(load(x, from + i)).intoArray(acc, 0);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int lane = 0; lane < LANES; lane++) {
            max = Math.max(max, acc[lane]);
        }
        return max;
    }

    /** The terms of a log-softmax row, kept apart from x (which may be the output). */
    private static final ThreadLocal<float[]> TERMS = ThreadLocal.withInitial(() -> new float[0]);

    @Override
    public boolean softmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, float t) {
        int end = F.loopBound(cols);
        storeTerms(x, xb, y, yb, end, m, t);
        Rowwise.CompensatedSum sum = sumTerms(y, yb, end);
        for (int i = end; i < cols; i++) {
            float e = Rowwise.term(x[xb + i], m, t);
            y[yb + i] = e;
            sum.add(e);
        }
        scaleRow(y, yb, end, 1 / sum.value());
        for (int i = end; i < cols; i++) {
            y[yb + i] *= 1 / sum.value();
        }
        return true;
    }

    @Override
    public boolean logSoftmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, float t) {
        int end = F.loopBound(cols);
        float[] terms = TERMS.get();
        if (terms.length < end) {
            terms = new float[end];
            TERMS.set(terms);
        }
        storeTerms(x, xb, terms, 0, end, m, t);
        Rowwise.CompensatedSum sum = sumTerms(terms, 0, end);
        for (int i = end; i < cols; i++) {
            sum.add(Rowwise.term(x[xb + i], m, t));
        }
        float logSum = Rowwise.logOfSum(sum);
        storeLogTerms(x, xb, y, yb, end, m, t, logSum);
        for (int i = end; i < cols; i++) {
            y[yb + i] = Rowwise.logTerm(x[xb + i], m, t, logSum);
        }
        return true;
    }

    private static void storeTerms(float[] x, int xb, float[] y, int yb, int end, float m, float t) {
        // broadcasts in the loop body, not before it: C2 (JDK 17) allocates vectors live across a loop's back edge
        for (int i = 0; i < end; i += LANES) {
            term(load(x, xb + i), FloatVector.broadcast(F, m), FloatVector.broadcast(F, t)).intoArray(y, yb + i);
        }
    }

    private static void storeLogTerms(float[] x, int xb, float[] y, int yb, int end, float m, float t, float logSum) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector max = FloatVector.broadcast(F, m);
            FloatVector temperature = FloatVector.broadcast(F, t);
            FloatVector log = FloatVector.broadcast(F, logSum);
            FloatVector v = load(x, xb + i);
            FloatVector hi = v.sub(max);
            FloatVector zhi = hi.div(temperature);
            zhi.sub(log).add(quotientLow(v, max, hi, zhi, temperature)).intoArray(y, yb + i);
        }
    }

    /** The compensated sum of terms in (0, 1], per lane, the 1s counted apart (see {@link Rowwise.CompensatedSum}). */
    private static Rowwise.CompensatedSum sumTerms(float[] e, int from, int end) {
        float[] acc = ACCUMULATORS.get();
        ZERO.intoArray(acc, 0);
        ZERO.intoArray(acc, LANES);
        long ones = 0;
        for (int i = 0; i < end; i += LANES) {
            FloatVector v = load(e, from + i);
            VectorMask<Float> one = v.compare(VectorOperators.EQ, ONE);
            ones += one.trueCount();
            FloatVector rest = v.blend(ZERO, one);
            FloatVector high = load(acc, 0);
            FloatVector s = high.add(rest);
            FloatVector back = s.sub(high);
            load(acc, LANES).add(high.sub(s.sub(back)).add(rest.sub(back))).intoArray(acc, LANES);
            s.intoArray(acc, 0);
        }
        Rowwise.CompensatedSum sum = new Rowwise.CompensatedSum();
        sum.ones = ones;
        for (int lane = 0; lane < LANES; lane++) {
            sum.add(acc[lane]);
        }
        for (int lane = 0; lane < LANES; lane++) {
            sum.low += acc[LANES + lane];
        }
        return sum;
    }

    private static void scaleRow(float[] y, int yb, int end, float factor) {
        for (int i = 0; i < end; i += LANES) {
            load(y, yb + i).mul(FloatVector.broadcast(F, factor)).intoArray(y, yb + i);
        }
    }

    /** {@link Rowwise#term} lane by lane. */
    private static FloatVector term(FloatVector v, FloatVector m, FloatVector t) {
        FloatVector hi = v.sub(m);
        FloatVector zhi = hi.div(t);
        return exp(zhi, quotientLow(v, m, hi, zhi, t), ZERO);
    }

    /** {@link Rowwise#quotientLow} lane by lane. */
    private static FloatVector quotientLow(FloatVector v, FloatVector m, FloatVector hi, FloatVector zhi, FloatVector t) {
        FloatVector back = hi.sub(v);
        FloatVector lo = v.sub(hi.sub(back)).add(back.neg().sub(m));
        FloatVector zlo = zhi.neg().fma(t, hi).add(lo).div(t).min(ONE).max(V_MINUS_1F);
        return zlo.blend(ZERO, hi.compare(VectorOperators.EQ, V_FLOAT_NEGATIVE_INFINITY));
    }

    private static FloatVector load(float[] a, int offset) {
        return FloatVector.fromArray(F, a, offset);
    }

    private static VectorMask<Float> negative(FloatVector x) {
        return x.compare(VectorOperators.LT, ZERO);
    }

    /** 2^64 where x < 0 (the scaled lanes), 0 elsewhere. */
    private static FloatVector scaleBits(VectorMask<Float> negative) {
        return ZERO.blend(V_SCALE_BITS, negative);
    }

    private static FloatVector scaleDown(VectorMask<Float> negative) {
        return ONE.blend(V_SCALE_DOWN, negative);
    }

    static FloatVector sigmoidDerivative(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        FloatVector d = e.add(ONE);
        return e.div(d.mul(d));
    }

    static FloatVector tanhDerivative(FloatVector x) {
        FloatVector e = exp(x.abs().mul(V_MINUS_2));
        FloatVector d = e.add(ONE);
        return e.mul(V_C4).div(d.mul(d));
    }

    static FloatVector silu(FloatVector x) {
        FloatVector xc = x.min(V_CLAMP).max(V_MINUS_CLAMP);
        VectorMask<Float> negative = negative(x);
        FloatVector big = exp(xc.abs().neg(), ZERO, scaleBits(negative));
        FloatVector e = big.blend(big.mul(V_SCALE_DOWN), negative);
        return x.blend(xc.mul(big), negative).div(e.add(ONE)).mul(scaleDown(negative));
    }

    static FloatVector mish(FloatVector x) {
        FloatVector xc = x.max(V_MINUS_CLAMP);
        VectorMask<Float> negative = negative(x);
        FloatVector big = exp(xc.min(V_MISH_SATURATION), ZERO, scaleBits(negative));
        FloatVector e = big.blend(big.mul(V_SCALE_DOWN), negative);
        FloatVector ePlus2 = e.add(V_C2);
        FloatVector d = e.fma(ePlus2, V_C2);
        return xc.mul(big.mul(ePlus2).div(d)).mul(scaleDown(negative));
    }

    static FloatVector softplus(FloatVector x, float threshold) {
        FloatVector value = x.max(ZERO).add(log1p(exp(x.abs().neg())));
        return value.blend(x, x.compare(VectorOperators.GT, threshold));
    }

    static FloatVector softplusDerivative(FloatVector x, float threshold) {
        return sigmoid(x).blend(ONE, x.compare(VectorOperators.GT, threshold));
    }

    static FloatVector logsigmoid(FloatVector x) {
        return x.min(ZERO).sub(log1p(exp(x.abs().neg())));
    }

    static FloatVector elu(FloatVector x, float alpha) {
        return expm1(x).mul(alpha).blend(x, x.compare(VectorOperators.GT, ZERO));
    }

    static FloatVector eluDerivative(FloatVector x, float alpha) {
        return exp(x).mul(alpha).blend(ONE, x.compare(VectorOperators.GT, ZERO));
    }

    /** 1 for x > 0, 0 for x <= 0, NaN for NaN, as signum(max(x, 0)) in the scalar loop. */
    static FloatVector reluDerivative(FloatVector x) {
        return ZERO.blend(ONE, x.compare(VectorOperators.GT, ZERO)).blend(x, x.compare(VectorOperators.NE, x));
    }
}
