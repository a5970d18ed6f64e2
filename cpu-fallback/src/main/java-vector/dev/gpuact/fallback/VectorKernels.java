package dev.gpuact.fallback;


import static dev.gpuact.fallback.FloatFunctions.CLAMP;
import static dev.gpuact.fallback.FloatFunctions.GAUSSIAN_CLAMP;
import static dev.gpuact.fallback.FloatFunctions.SCALED_TINY;
import static dev.gpuact.fallback.FloatFunctions.SILU_FAR;
import static dev.gpuact.fallback.FloatFunctions.MISH_FAR;
import static dev.gpuact.fallback.FloatFunctions.MISH_SATURATION;
import static dev.gpuact.fallback.FloatMath.SCALE_DOWN;
import static dev.gpuact.fallback.FloatMath.SCALE_UP;
import static dev.gpuact.fallback.FloatMath.TAIL_K;
import static dev.gpuact.fallback.FloatMath.INV_SQRT_2PI;
import static dev.gpuact.fallback.VectorMath.*;
import static jdk.incubator.vector.VectorOperators.FMA;

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
    private static final int ONE_BITS = Float.floatToRawIntBits(1f);

    @Override
    public String description() {
        return F.vectorBitSize() + "-bit vectors, " + LANES + " float lanes";
    }

    /*
     * Every vector loop is a method of its own whose name ends in "Loop", and the JIT is told never to inline those
     * into a caller (SeparateCompilation): each loop is compiled as the root of its own compilation, with its own
     * profile, node budget and inlining depth, wherever it is called from. Inlined into a caller, a loop lost the
     * intrinsics that keep its vectors in registers now and then, and the whole call ran several times slower for
     * the rest of the run: elu forward, inlined into the method handle form the JDK customises after 127 calls or
     * ten levels deep into the parallel chunk lambda, boxed 7 to 80 bytes per float and took 50 ms to 3 s a call
     * where it had taken 10 ms. The math they call is always inlined into them, so that no helper compiled on its
     * own first is left as a call (SeparateCompilation.loopsApart).
     */
    static {
        SeparateCompilation.loopsApart(VectorKernels.class, VectorMath.class);
        VectorMath.primeOperatorProfiles();
    }

    /** Floats per block of e^-|x| (softplus, logsigmoid): a block stays in L1. */
    private static final int EXP_BLOCK = 2048;
    private static final ThreadLocal<float[]> EXP_BLOCKS = ThreadLocal.withInitial(() -> new float[EXP_BLOCK]);

    @Override
    public int forward(ElementwiseKernel op, float[] x, int xo, float[] y, int yo, int n, float a, float b) {
        int end = F.loopBound(n);
        switch (op) {
            case SIGMOID -> forwardSigmoidLoop(x, xo, y, yo, end, a, b);
            case TANH -> forwardTanhLoop(x, xo, y, yo, end, a, b);
            case SILU -> forwardSiluLoop(x, xo, y, yo, end, a, b);
            case MISH -> forwardMishLoop(x, xo, y, yo, end, a, b);
            case ELU -> forwardEluLoop(x, xo, y, yo, end, 1, a);
            case SELU -> forwardEluLoop(x, xo, y, yo, end, FloatFunctions.SELU_SCALE, FloatFunctions.SELU_SCALED_ALPHA);
            case SWISH, CELU -> {
                if (a != 1) {
                    return 0;
                }
                if (op == ElementwiseKernel.SWISH) {
                    forwardSiluLoop(x, xo, y, yo, end, a, b);
                } else {
                    forwardEluLoop(x, xo, y, yo, end, 1, 1);
                }
            }
            case LOGSIGMOID -> forwardLogsigmoidLoop(x, xo, y, yo, end, a, b);
            case RELU -> {
                if (xo == yo) {
                    return 0;  // the scalar loop, see forwardReluLoop
                }
                forwardReluLoop(x, xo, y, yo, end, a, b);
            }
            case GELU -> forwardGeluLoop(x, xo, y, yo, end, a, b);
            case SOFTPLUS -> {
                if (a != 1) {
                    return 0;
                }
                forwardSoftplusLoop(x, xo, y, yo, end, a, b);
            }
            default -> {
                return 0;
            }
        }
        return end;
    }

    @Override
    public int backward(ElementwiseKernel op, float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n,
                        float a, float b) {
        int end = F.loopBound(n);
        switch (op) {
            case SIGMOID -> backwardSigmoidLoop(x, xo, dy, dyo, dx, dxo, end, a, b);
            case TANH -> backwardTanhLoop(x, xo, dy, dyo, dx, dxo, end, a, b);
            case ELU -> backwardEluLoop(x, xo, dy, dyo, dx, dxo, end, 1, a);
            case SELU -> backwardEluLoop(x, xo, dy, dyo, dx, dxo, end, FloatFunctions.SELU_SCALE,
                    FloatFunctions.SELU_SCALED_ALPHA);
            case SWISH, CELU -> {
                if (a != 1) {
                    return 0;
                }
                if (op == ElementwiseKernel.SWISH) {
                    backwardSiluLoop(x, xo, dy, dyo, dx, dxo, end, a, b);
                } else {
                    backwardEluLoop(x, xo, dy, dyo, dx, dxo, end, 1, 1);
                }
            }
            case LOGSIGMOID -> backwardLogsigmoidLoop(x, xo, dy, dyo, dx, dxo, end, a, b);
            case RELU -> {
                if (xo == dyo && xo == dxo) {
                    return 0;  // the scalar loop, see forwardReluLoop
                }
                backwardReluLoop(x, xo, dy, dyo, dx, dxo, end, a, b);
            }
            case GELU -> backwardGeluLoop(x, xo, dy, dyo, dx, dxo, end, a, b);
            case SILU -> backwardSiluLoop(x, xo, dy, dyo, dx, dxo, end, a, b);
            case MISH -> backwardMishLoop(x, xo, dy, dyo, dx, dxo, end, a, b);
            case SOFTPLUS -> {
                if (a != 1) {
                    return 0;
                }
                backwardSoftplusLoop(x, xo, dy, dyo, dx, dxo, end, a, b);
            }
            default -> {
                return 0;
            }
        }
        return end;
    }

    @Override
    public int backwardFromOutput(OutputBackward op, float[] y, float[] dy, float[] dx, int from, int n, float a,
                                  float b) {
        int end = F.loopBound(n);
        switch (op) {
            case SIGMOID -> fromOutputSigmoidLoop(y, dy, dx, from, from + end);
            case TANH -> fromOutputTanhLoop(y, dy, dx, from, from + end);
            default -> {
                return 0;
            }
        }
        return end;
    }

    // One loop per op, each a method of its own that is never inlined (see the static block above): compiled with its
    // own profile, so the math inlines into it. Where an op has a near form (|x| <= NEAR, see VectorMath.expNear),
    // its loop takes that and hands a vector with a lane past NEAR to the op's full loop, one vector long. Loads are
    // FloatVector.fromArray itself, never a helper of ours: C2 (JDK 17) stops inlining our own methods once a
    // compilation holds 18000 nodes (NodeCountInliningCutoff; the Vector API's methods are inlined later instead),
    // and a helper that takes or returns a vector and is not inlined boxes that vector on every call.

    private static void forwardSigmoidLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            if (v.abs().compare(VectorOperators.GT, NEAR).anyTrue()) {
                forwardSigmoidFullLoop(x, xo + i, y, yo + i, LANES, a, b);
            } else {
                sigmoidNear(v).intoArray(y, yo + i);
            }
        }
    }

    private static void forwardSigmoidFullLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            sigmoid(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        }
    }

    private static void forwardTanhLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            tanh(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        }
    }

    private static void forwardSiluLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            if (v.abs().compare(VectorOperators.GT, NEAR).anyTrue()) {
                forwardSiluFullLoop(x, xo + i, y, yo + i, LANES, a, b);
            } else {
                siluNear(v).intoArray(y, yo + i);
            }
        }
    }

    private static void forwardSiluFullLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            silu(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        }
    }

    private static void forwardMishLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector magnitude = v.abs();
            if (magnitude.compare(VectorOperators.GT, NEAR).or(magnitude.compare(VectorOperators.LT, TINY))
                    .anyTrue()) {
                forwardMishFullLoop(x, xo + i, y, yo + i, LANES, a, b);
            } else {
                mishNear(v).intoArray(y, yo + i);
            }
        }
    }

    private static void forwardMishFullLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            mish(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        }
    }

    /** elu (scale 1) and selu, as ElementwiseKernel's eluBlock. */
    private static void forwardEluLoop(float[] x, int xo, float[] y, int yo, int end, float scale, float alpha) {
        for (int i = 0; i < end; i += LANES) {
            elu(FloatVector.fromArray(F, x, xo + i), scale, alpha).intoArray(y, yo + i);
        }
    }

    private static void forwardLogsigmoidLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        float[] e = EXP_BLOCKS.get();
        for (int from = 0; from < end; from += EXP_BLOCK) {
            int n = Math.min(EXP_BLOCK, end - from);
            expOfMinusAbsLoop(x, xo + from, e, n);
            for (int i = 0; i < n; i += LANES) {
                FloatVector v = FloatVector.fromArray(F, x, xo + from + i);
                logsigmoid(v, FloatVector.fromArray(F, e, i)).intoArray(y, yo + from + i);
            }
        }
    }

    /*
     * relu's loops run only where the arrays sit at different offsets. Where they share one, the scalar loops
     * (ElementwiseKernel.RELU, OutputBackward.RELU) are vectorised by SuperWord and were faster through the kernels'
     * call path (16M floats, two threads: relu 0.93-1.02x the copy against 1.06-1.13x here, relu' from y 1.52x
     * against 1.77x); where they do not, SuperWord leaves the scalar loop scalar (25 ms against 2.3).
     */
    private static void forwardReluLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector.fromArray(F, x, xo + i).max(0f).intoArray(y, yo + i);
        }
    }

    private static void forwardSoftplusLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        float[] e = EXP_BLOCKS.get();
        for (int from = 0; from < end; from += EXP_BLOCK) {
            int n = Math.min(EXP_BLOCK, end - from);
            expOfMinusAbsLoop(x, xo + from, e, n);
            for (int i = 0; i < n; i += LANES) {
                FloatVector v = FloatVector.fromArray(F, x, xo + from + i);
                softplus(v, FloatVector.fromArray(F, e, i), b).intoArray(y, yo + from + i);
            }
        }
    }

    private static void expOfMinusAbsLoop(float[] x, int xo, float[] e, int n) {
        for (int i = 0; i < n; i += LANES) {
            exp(FloatVector.fromArray(F, x, xo + i).abs().neg()).intoArray(e, i);
        }
    }

    // dx = dy f'(x) from a derivative scaled by 2^64 as FloatFunctions.scaledProduct takes it, written out in the loop
    // body: a helper called after the derivative's math was past C2's inlining node budget and boxed its vectors.

    private static void forwardGeluLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            if (v.abs().compare(VectorOperators.GT, GAUSSIAN_NEAR).anyTrue()) {
                forwardGeluFullLoop(x, xo + i, y, yo + i, LANES, a, b);
            } else {
                geluNear(v).intoArray(y, yo + i);
            }
        }
    }

    private static void forwardGeluFullLoop(float[] x, int xo, float[] y, int yo, int end, float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            gelu(FloatVector.fromArray(F, x, xo + i)).intoArray(y, yo + i);
        }
    }

    private static void backwardGeluLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a,
                                         float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            if (v.abs().compare(VectorOperators.GT, GAUSSIAN_NEAR).anyTrue()) {
                backwardGeluFullLoop(x, xo + i, dy, dyo + i, dx, dxo + i, LANES, a, b);
            } else {
                FloatVector.fromArray(F, dy, dyo + i).mul(geluDerivativeNear(v)).intoArray(dx, dxo + i);
            }
        }
    }

    private static void backwardGeluFullLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end,
                                             float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector derivative = geluDerivativeScaled(v);
            FloatVector d = FloatVector.fromArray(F, dy, dyo + i);
            d.mul(derivative.mul(SCALE_DOWN)).blend(d.mul(derivative).mul(SCALE_DOWN),
                    derivative.abs().compare(VectorOperators.LT, SCALED_TINY)).intoArray(dx, dxo + i);
            if (v.abs().compare(VectorOperators.GT, GAUSSIAN_CLAMP).anyTrue()) {
                for (int lane = 0; lane < LANES; lane++) {
                    if (Math.abs(v.lane(lane)) > GAUSSIAN_CLAMP) {
                        dx[dxo + i + lane] = FloatFunctions.geluBackwardFar(d.lane(lane), v.lane(lane));
                    }
                }
            }
        }
    }

    private static void backwardSiluLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a,
                                         float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            if (v.abs().compare(VectorOperators.GT, NEAR).anyTrue()) {
                backwardSiluFullLoop(x, xo + i, dy, dyo + i, dx, dxo + i, LANES, a, b);
            } else {
                FloatVector.fromArray(F, dy, dyo + i).mul(siluDerivativeNear(v)).intoArray(dx, dxo + i);
            }
        }
    }

    private static void backwardSiluFullLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end,
                                             float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector derivative = siluDerivativeScaled(v);
            FloatVector d = FloatVector.fromArray(F, dy, dyo + i);
            d.mul(derivative.mul(SCALE_DOWN)).blend(d.mul(derivative).mul(SCALE_DOWN),
                    derivative.abs().compare(VectorOperators.LT, SCALED_TINY)).intoArray(dx, dxo + i);
            if (v.compare(VectorOperators.LT, SILU_FAR).anyTrue()) {
                for (int lane = 0; lane < LANES; lane++) {
                    if (v.lane(lane) < SILU_FAR) {
                        dx[dxo + i + lane] = FloatFunctions.siluBackwardFar(d.lane(lane), v.lane(lane));
                    }
                }
            }
        }
    }

    private static void backwardMishLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a,
                                         float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector derivative = mishDerivativeScaled(v);
            FloatVector d = FloatVector.fromArray(F, dy, dyo + i);
            d.mul(derivative.mul(SCALE_DOWN)).blend(d.mul(derivative).mul(SCALE_DOWN),
                    derivative.abs().compare(VectorOperators.LT, SCALED_TINY)).intoArray(dx, dxo + i);
            if (v.compare(VectorOperators.LT, MISH_FAR).anyTrue()) {
                for (int lane = 0; lane < LANES; lane++) {
                    if (v.lane(lane) < MISH_FAR) {
                        dx[dxo + i + lane] = (float) (d.lane(lane) * Functions.mishDerivative(v.lane(lane)));
                    }
                }
            }
        }
    }

    // Backward from the output y: float slopes of one rounding (see OutputBackward), dx = dy * slope rounded once.

    private static void fromOutputSigmoidLoop(float[] y, float[] dy, float[] dx, int start, int end) {
        for (int i = start; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, y, i);
            FloatVector.fromArray(F, dy, i).mul(v.neg().fma(v, v)).intoArray(dx, i);
        }
    }

    private static void fromOutputTanhLoop(float[] y, float[] dy, float[] dx, int start, int end) {
        for (int i = start; i < end; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, y, i);
            FloatVector.fromArray(F, dy, i).mul(v.neg().lanewise(FMA, v, 1f)).intoArray(dx, i);
        }
    }

    private static void backwardSigmoidLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end,
                                        float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector.fromArray(F, dy, dyo + i).mul(sigmoidDerivative(FloatVector.fromArray(F, x, xo + i))).intoArray(dx, dxo + i);
        }
    }

    private static void backwardTanhLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a,
                                     float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector.fromArray(F, dy, dyo + i).mul(tanhDerivative(FloatVector.fromArray(F, x, xo + i))).intoArray(dx, dxo + i);
        }
    }

    private static void backwardEluLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end,
                                        float scale, float alpha) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector.fromArray(F, dy, dyo + i).mul(eluDerivative(FloatVector.fromArray(F, x, xo + i), scale, alpha))
                    .intoArray(dx, dxo + i);
        }
    }

    private static void backwardLogsigmoidLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end,
                                           float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector.fromArray(F, dy, dyo + i).mul(sigmoid(FloatVector.fromArray(F, x, xo + i).neg())).intoArray(dx, dxo + i);
        }
    }

    private static void backwardReluLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end, float a,
                                     float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector.fromArray(F, dy, dyo + i).mul(reluDerivative(FloatVector.fromArray(F, x, xo + i))).intoArray(dx, dxo + i);
        }
    }

    private static void backwardSoftplusLoop(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int end,
                                         float a, float b) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector.fromArray(F, dy, dyo + i).mul(softplusDerivative(FloatVector.fromArray(F, x, xo + i), b)).intoArray(dx, dxo + i);
        }
    }

    @Override
    public int expPrefix(float[] x, int from, float[] out, int at, int n) {
        int end = F.loopBound(n);
        expLoop(x, from, out, at, end);
        return end;
    }

    private static void expLoop(float[] x, int from, float[] out, int at, int end) {
        for (int i = 0; i < end; i += LANES) {
            VectorMath.exp(FloatVector.fromArray(F, x, from + i)).intoArray(out, at + i);
        }
    }

    @Override
    public int maxPrefix(int n) {
        return F.loopBound(n);
    }

    /**
     * Per-thread accumulators of the row loops, kept in memory between iterations: C2 (JDK 17) allocates a vector
     * that is carried around a loop, so the loops below load and store theirs instead. A row's terms are summed in
     * the loop that computes them: acc[0, LANES) holds sums that start at 1, acc[LANES, 2 LANES) their rounding
     * errors. Every term is in [0, 1], so a sum that starts at 1 is never smaller than the term added to it and
     * Fast2Sum gives the error exactly in three operations (the two-sum with a count of the 1s that this replaces
     * took a third of a softmax row's time). acc[2 LANES, 3 LANES) holds the lane-wise maximum of the row read ahead.
     */
    private static final ThreadLocal<float[]> ACCUMULATORS = ThreadLocal.withInitial(() -> new float[3 * LANES]);

    @Override
    public float maxOfPrefix(float[] x, int from, int n) {
        float[] acc = ACCUMULATORS.get();
        maxLoop(x, from, F.loopBound(n), acc);
        float max = Float.NEGATIVE_INFINITY;
        for (int lane = 0; lane < LANES; lane++) {
            max = Math.max(max, acc[lane]);
        }
        return max;
    }

    /**
     * acc[0, LANES) = the lane-wise maximum of x[from, from + end) and -inf. Four vectors are reduced in registers
     * before each update of acc: one update a vector made the pass a chain of store-to-load latencies (about a third
     * of a softmax row's time) rather than a read at memory speed. Max is exact, so the order changes no result.
     */
    private static void maxLoop(float[] x, int from, int end, float[] acc) {
        FloatVector.broadcast(F, Float.NEGATIVE_INFINITY).intoArray(acc, 0);
        int unrolled = end - end % (4 * LANES);
        int i = 0;
        for (; i < unrolled; i += 4 * LANES) {
            FloatVector pair = FloatVector.fromArray(F, x, from + i).max(FloatVector.fromArray(F, x, from + i + LANES));
            FloatVector other = FloatVector.fromArray(F, x, from + i + 2 * LANES)
                    .max(FloatVector.fromArray(F, x, from + i + 3 * LANES));
            FloatVector.fromArray(F, acc, 0).max(pair.max(other)).intoArray(acc, 0);
        }
        for (; i < end; i += LANES) {
            FloatVector.fromArray(F, acc, 0).max(FloatVector.fromArray(F, x, from + i)).intoArray(acc, 0);
        }
    }

    /** The terms of a log-softmax row, kept apart from x (which may be the output). */
    private static final ThreadLocal<float[]> TERMS = ThreadLocal.withInitial(() -> new float[0]);

    @Override
    public boolean takesRows(float t) {
        return invertible(t);
    }

    @Override
    public float softmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, float t, int aheadXb) {
        int end = F.loopBound(cols);
        Rowwise.CompensatedSum sum = storeTerms(x, xb, y, yb, end, cols, m, t, aheadXb);
        for (int i = end; i < cols; i++) {
            float e = Rowwise.term(x[xb + i], m, t);
            y[yb + i] = e;
            sum.add(e);
        }
        scaleRowLoop(y, yb, end, 1 / sum.value());
        for (int i = end; i < cols; i++) {
            y[yb + i] *= 1 / sum.value();
        }
        return aheadMax();
    }

    @Override
    public float logSoftmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, float t, int aheadXb) {
        int end = F.loopBound(cols);
        // the terms go to the output row (the write to memory overlaps their arithmetic) unless it overlaps x's row
        boolean apart = x != y || yb + end <= xb || xb + cols <= yb;
        Rowwise.CompensatedSum sum = apart ? storeTerms(x, xb, y, yb, end, cols, m, t, aheadXb)
                : storeTerms(x, xb, scratchTerms(end), 0, end, cols, m, t, aheadXb);
        for (int i = end; i < cols; i++) {
            sum.add(Rowwise.term(x[xb + i], m, t));
        }
        float logSum = Rowwise.logOfSum(sum);
        // below 2^103, x - m - logSum cannot round past -FLT_MAX for any finite x (as Rowwise's MAY_OVERFLOW)
        if (t == 1 && m + logSum < 0x1p103f) {
            shiftLoop(x, xb, y, yb, end, m, logSum);
        } else {
            storeLogTermsLoop(x, xb, y, yb, end, m, t, logSum);
        }
        for (int i = end; i < cols; i++) {
            y[yb + i] = Rowwise.logTerm(x[xb + i], m, t, logSum);
        }
        return aheadMax();
    }

    /** This thread's scratch for a row's terms, at least length long. */
    private static float[] scratchTerms(int length) {
        float[] terms = TERMS.get();
        if (terms.length < length) {
            terms = new float[length];
            TERMS.set(terms);
        }
        return terms;
    }

    /** The maximum of the row read ahead by this thread's last storeTerms (its own row when there was none). */
    private static float aheadMax() {
        float[] acc = ACCUMULATORS.get();
        float max = Float.NEGATIVE_INFINITY;
        for (int lane = 0; lane < LANES; lane++) {
            max = Math.max(max, acc[2 * LANES + lane]);
        }
        return max;
    }

    /** Whether 1 / T is a normal float, as the row loops' quotients need (else the scalar loop's divisions run). */
    private static boolean invertible(float t) {
        float inverse = 1 / t;
        return inverse >= Float.MIN_NORMAL && inverse < Float.MAX_VALUE;
    }

    /**
     * Stores the terms of x[xb, xb + end) at y[yb] and returns their compensated sum, x[xb, xb + cols) being a row
     * whose maximum is m: the sum of the terms other than one 1 (the maximum's) is kept apart as the sum of the others,
     * as {@link Rowwise.CompensatedSum} keeps it, unless the maximum is in the tail after end (whose scalar loop counts
     * it).
     */
    private static Rowwise.CompensatedSum storeTerms(float[] x, int xb, float[] y, int yb, int end, int cols, float m,
                                                     float t, int aheadXb) {
        float[] acc = ACCUMULATORS.get();
        java.util.Arrays.fill(acc, 0, LANES, 1f);
        java.util.Arrays.fill(acc, LANES, 2 * LANES, 0f);
        java.util.Arrays.fill(acc, 2 * LANES, 3 * LANES, Float.NEGATIVE_INFINITY);
        // without a row ahead the loop reads its own row again, from L1: one loop body, no branch in it
        storeTermsLoop(x, xb, y, yb, end, m, t, acc, aheadXb < 0 ? xb : aheadXb);
        boolean maxInTail = false;
        for (int i = end; i < cols; i++) {
            maxInTail |= x[xb + i] == m;
        }
        // each sum less its starting 1 is exact in double, and so is their total (16 floats of at most 2^43 ULPs)
        double sums = 0;
        double errors = 0;
        for (int lane = 0; lane < LANES; lane++) {
            sums += acc[lane] - 1.0;
            errors += acc[LANES + lane];
        }
        double others = (maxInTail ? sums : sums - 1) + errors;
        Rowwise.CompensatedSum sum = new Rowwise.CompensatedSum();
        sum.ones = maxInTail ? 0 : 1;
        sum.high = (float) others;
        sum.low = (float) (others - sum.high);
        return sum;
    }

    private static void storeTermsLoop(float[] x, int xb, float[] y, int yb, int end, float m, float t, float[] acc,
                                       int aheadXb) {
        // broadcasts in the loop body, not before it: C2 (JDK 17) allocates vectors live across a loop's back edge
        for (int i = 0; i < end; i += LANES) {
            FloatVector e = term(FloatVector.fromArray(F, x, xb + i), FloatVector.broadcast(F, m), FloatVector.broadcast(F, t),
                    FloatVector.broadcast(F, 1 / t));
            e.intoArray(y, yb + i);
            // Fast2Sum written out here: a helper called after term's math was past C2's inlining budget and boxed
            FloatVector h = FloatVector.fromArray(F, acc, 0);
            FloatVector s = h.add(e);
            FloatVector.fromArray(F, acc, LANES).add(e.sub(s.sub(h))).intoArray(acc, LANES);
            s.intoArray(acc, 0);
            FloatVector.fromArray(F, acc, 2 * LANES).max(FloatVector.fromArray(F, x, aheadXb + i))
                    .intoArray(acc, 2 * LANES);
        }
    }

    private static void storeLogTermsLoop(float[] x, int xb, float[] y, int yb, int end, float m, float t, float logSum) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector max = FloatVector.broadcast(F, m);
            FloatVector temperature = FloatVector.broadcast(F, t);
            FloatVector inverse = FloatVector.broadcast(F, 1 / t);
            FloatVector v = FloatVector.fromArray(F, x, xb + i);
            FloatVector hi = v.sub(max);
            FloatVector zhi = hi.mul(inverse);
            zhi.sub(logSum).add(quotientLow(v, max, hi, zhi, temperature, inverse)).intoArray(y, yb + i);
        }
    }

    /**
     * y = (x - m) - logSum, log_softmax at T = 1 (RowPasses.shift): both differences are of terms of one sign (x <= m,
     * logSum >= 0), so nothing cancels and the result is within about an ULP; -inf stays -inf. An exact two-sum of x
     * and m + logSum, rounded once, took six more operations a vector and 1.5 ms of a 16M-float log_softmax's 6.9.
     */
    private static void shiftLoop(float[] x, int xb, float[] y, int yb, int end, float m, float logSum) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector.fromArray(F, x, xb + i).sub(m).sub(logSum).intoArray(y, yb + i);
        }
    }

    private static void scaleRowLoop(float[] y, int yb, int end, float factor) {
        for (int i = 0; i < end; i += LANES) {
            FloatVector.fromArray(F, y, yb + i).mul(FloatVector.broadcast(F, factor)).intoArray(y, yb + i);
        }
    }

    /**
     * {@link Rowwise#term} lane by lane, the quotient by 1 / T and its residual instead of two divisions (the same
     * bits at T = 1, where the residual is 0; within an ULP of the scalar term elsewhere). The low part needs no
     * bound where zhi is in exp's range (it is below 2^-16 there); below it, where the term is 0 whatever the low
     * part and the low part is NaN for v = -inf, it is 0: two operations where the clamps of quotientLow take six.
     */
    private static FloatVector term(FloatVector v, FloatVector m, FloatVector t, FloatVector inverse) {
        FloatVector hi = v.sub(m);
        FloatVector zhi = hi.mul(inverse);
        FloatVector lo = zhi.neg().fma(t, hi).add(differenceLow(v, m, hi)).mul(inverse)
                .blend(FloatVector.zero(F), zhi.compare(VectorOperators.LT, FloatMath.EXP_MIN));
        return expScaledUp(zhi, lo).mul(SCALE_DOWN);
    }

    /** {@link Rowwise#quotientLow} lane by lane: (hi - zhi T + lo) / T, hi - zhi T exact (a fused multiply-add). */
    private static FloatVector quotientLow(FloatVector v, FloatVector m, FloatVector hi, FloatVector zhi, FloatVector t,
                                          FloatVector inverse) {
        return boundedLow(hi, zhi.neg().fma(t, hi).add(differenceLow(v, m, hi)).mul(inverse));
    }

    /** v - m = hi + lo exactly (Knuth's two-sum): lo. */
    private static FloatVector differenceLow(FloatVector v, FloatVector m, FloatVector hi) {
        FloatVector back = hi.sub(v);
        return v.sub(hi.sub(back)).add(back.neg().sub(m));
    }

    /** A low part clamped to [-1, 1], 0 where hi = -inf. */
    private static FloatVector boundedLow(FloatVector hi, FloatVector lo) {
        return atLeast(atMost(lo, 1f), -1f)
                .blend(FloatVector.broadcast(F, 0f), hi.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
    }


    // No helper here takes or returns a VectorMask: C2 (JDK 17) refuses to inline a method whose signature names a
    // class its holder's loader has not resolved yet ("unloaded signature classes"), and VectorMask is one until
    // some bytecode of the holder resolves it; the mask is then boxed on every call (silu and mish allocated 140 MB
    // per 16M-float call that way).

    static FloatVector sigmoidDerivative(FloatVector x) {
        FloatVector e = exp(x.abs().neg());
        FloatVector d = e.add(1f);
        return e.div(d.mul(d));
    }

    static FloatVector tanhDerivative(FloatVector x) {
        FloatVector e = exp(x.abs().mul(-2f));
        FloatVector d = e.add(1f);
        return e.mul(4f).div(d.mul(d));
    }

    static FloatVector silu(FloatVector x) {
        FloatVector xc = atLeast(x, -CLAMP);
        VectorMask<Float> negative = x.compare(VectorOperators.LT, 0f);
        FloatVector big = expScaledUp(xc.abs().neg(), FloatVector.zero(F));
        FloatVector e = big.mul(SCALE_DOWN);
        return x.blend(xc.mul(big), negative).div(e.add(1f)).mul(FloatVector.broadcast(F, 1f).blend(FloatVector.broadcast(F, SCALE_DOWN), negative));
    }

    /** silu for |x| <= NEAR: e^-|x| unscaled (x e^x is normal there), the same bits. */
    static FloatVector siluNear(FloatVector x) {
        FloatVector e = expNear(x.abs().neg());
        return x.mul(FloatVector.broadcast(F, 1f).blend(e, x.compare(VectorOperators.LT, 0f))).div(e.add(1f));
    }

    /** sigmoid for |x| <= NEAR, the same bits. */
    static FloatVector sigmoidNear(FloatVector x) {
        FloatVector e = expNear(x.abs().neg());
        return FloatVector.broadcast(F, 1f).blend(e, x.compare(VectorOperators.LT, 0f)).div(e.add(1f));
    }

    /**
     * gelu = max(x, 0) - a Phi(-a), a = min(|x|, the clamp), the tail e^(-a^2/2) times FloatMath.geluTailRatio's w g
     * folded into exp's last fma, scaled by 2^64 until the last product. For subnormal x, w and w g are subnormal
     * too, each rounded once on the subnormal grid, as the result is: no separate form for tiny x.
     */
    static FloatVector gelu(FloatVector x) {
        FloatVector a = atMost(x.abs(), GAUSSIAN_CLAMP);
        FloatVector tail = gaussianTimes(a, geluTailRatio(a), true);
        return FloatVector.zero(F).blend(x, x.compare(VectorOperators.GT, 0f)).sub(tail.mul(SCALE_DOWN));
    }

    /** gelu for |x| <= GAUSSIAN_NEAR, unscaled (2^q is a normal float there): the same bits. */
    static FloatVector geluNear(FloatVector x) {
        FloatVector a = x.abs();
        return FloatVector.zero(F).blend(x, x.compare(VectorOperators.GT, 0f)).sub(gaussianTimes(a, geluTailRatio(a),
                false));
    }

    /** {@link FloatMath#geluTailRatio}. */
    private static FloatVector geluTailRatio(FloatVector a) {
        FloatVector w = a.div(a.add(TAIL_K));
        return w.fma(tailPolynomial(w), w.mul(0.5f));
    }

    /** gelu' for |x| <= GAUSSIAN_NEAR, unscaled: the same bits as geluDerivativeScaled / 2^64. */
    static FloatVector geluDerivativeNear(FloatVector x) {
        return geluDerivative(x, x.abs(), false);
    }

    /**
     * gelu' = Phi(x) + x phi(x) scaled by 2^64: Phi(-a) - a phi(a) for x < 0, 1 - Phi(-a) + a phi(a) above, a =
     * min(|x|, the clamp).
     */
    static FloatVector geluDerivativeScaled(FloatVector x) {
        return geluDerivative(x, atMost(x.abs(), GAUSSIAN_CLAMP), true);
    }

    /** Called with a constant scaledUp, so that C2 parses one form only. */
    private static FloatVector geluDerivative(FloatVector x, FloatVector a, boolean scaledUp) {
        FloatVector m = halfSquareExpm1(a);
        FloatVector scale = halfSquareScale(a, scaledUp);
        FloatVector density = scale.mul(INV_SQRT_2PI);
        density = m.fma(density, density);
        FloatVector tail = scale.mul(normalTailRatio(a));
        tail = m.fma(tail, tail);
        return a.fma(density, tail.neg().add(scaledUp ? SCALE_UP : 1f))
                .blend(a.neg().fma(density, tail), x.compare(VectorOperators.LT, 0f));
    }

    /** {@link FloatMath#normalTailRatio}. */
    private static FloatVector normalTailRatio(FloatVector a) {
        FloatVector d = a.add(TAIL_K);
        FloatVector v = FloatVector.broadcast(F, 1f).div(d);
        return tailPolynomial(a.div(d)).fma(v, v.mul(0.5f));
    }

    static FloatVector siluDerivativeScaled(FloatVector x) {
        FloatVector xc = atLeast(atMost(x, CLAMP), -CLAMP);
        VectorMask<Float> negative = x.compare(VectorOperators.LT, 0f);
        FloatVector big = expScaledUp(xc.abs().neg(), FloatVector.zero(F));
        FloatVector e = big.mul(SCALE_DOWN);
        FloatVector r = FloatVector.broadcast(F, 1f).div(e.add(1f));
        FloatVector s = FloatVector.broadcast(F, SCALE_UP).blend(big, negative).mul(r);
        return xc.mul(s).fma(e.mul(r).blend(r, negative), s);
    }

    /** silu' for |x| <= NEAR, unscaled (it is at least 2^-100 there): the same bits as siluDerivativeScaled / 2^64. */
    static FloatVector siluDerivativeNear(FloatVector x) {
        VectorMask<Float> negative = x.compare(VectorOperators.LT, 0f);
        FloatVector e = expNear(x.abs().neg());
        FloatVector r = FloatVector.broadcast(F, 1f).div(e.add(1f));
        FloatVector er = e.mul(r);
        FloatVector s = r.blend(er, negative);
        return x.mul(s).fma(er.blend(r, negative), s);
    }

    static FloatVector mish(FloatVector x) {
        FloatVector xc = atLeast(x, -CLAMP);
        VectorMask<Float> negative = x.compare(VectorOperators.LT, 0f);
        FloatVector scaled = expScaledUp(atMost(xc, MISH_SATURATION), FloatVector.zero(F));
        FloatVector e = scaled.mul(SCALE_DOWN);
        return mishOf(xc, e, e.blend(scaled, negative))
                .mul(FloatVector.broadcast(F, 1f).blend(FloatVector.broadcast(F, SCALE_DOWN), negative));
    }

    /**
     * mish'(x) 2^64 = tanh(softplus x) + x sech^2(softplus x) sigma(x) from e = e^x (x clamped, its exp scaled by
     * 2^64 as big): big (e + 2) t + 4 x big (1 + e) t^2, t = 1 / (e (e + 2) + 2), in ElementwiseKernel's order.
     */
    static FloatVector mishDerivativeScaled(FloatVector x) {
        FloatVector xc = atMost(atLeast(x, -CLAMP), MISH_SATURATION);
        FloatVector big = expScaledUp(xc, FloatVector.zero(F));
        FloatVector e = big.mul(SCALE_DOWN);
        FloatVector t = FloatVector.broadcast(F, 1f).div(e.lanewise(FMA, e.add(2f), 2f));
        return big.mul(e.add(2f).mul(t)).add(xc.mul(4f).mul(big.mul(e.add(1f).mul(t))).mul(t));
    }

    /** mish for TINY <= |x| <= NEAR, unscaled (its products are normal there), the same bits. */
    static FloatVector mishNear(FloatVector x) {
        FloatVector e = expNear(atMost(x, MISH_SATURATION));
        return mishOf(x, e, e);
    }

    /** x n / (n + 2), n = e (e + 2), e = e^x, given big = e or e scaled up (then so is the result). */
    private static FloatVector mishOf(FloatVector xc, FloatVector e, FloatVector big) {
        FloatVector t = e.add(2f);
        FloatVector tb = t.sub(e);
        FloatVector tlo = e.sub(t.sub(tb)).add(FloatVector.broadcast(F, 2f).sub(tb));
        FloatVector n = big.mul(t);
        FloatVector nlo = big.lanewise(FMA, t, n.neg()).add(big.mul(tlo));
        FloatVector d = e.lanewise(FMA, t, e.lanewise(FMA, tlo, 2f));
        FloatVector inverse = FloatVector.broadcast(F, 1f).div(d);
        FloatVector q = n.mul(inverse);
        FloatVector residual = q.neg().lanewise(FMA, d, n).add(nlo).mul(inverse);
        return xc.lanewise(FMA, q, xc.mul(residual));
    }

    /** Given e = e^-|x|. */
    static FloatVector softplus(FloatVector x, FloatVector e, float threshold) {
        FloatVector value = x.max(0f).add(log1p(e));
        return value.blend(x, x.compare(VectorOperators.GT, threshold));
    }

    static FloatVector softplusDerivative(FloatVector x, float threshold) {
        return sigmoid(x).blend(FloatVector.broadcast(F, 1f), x.compare(VectorOperators.GT, threshold));
    }

    /** Given e = e^-|x|. */
    static FloatVector logsigmoid(FloatVector x, FloatVector e) {
        return x.min(0f).sub(log1p(e));
    }

    static FloatVector elu(FloatVector x, float scale, float alpha) {
        return expm1OfNonPositive(x).mul(alpha).blend(x.mul(scale), x.compare(VectorOperators.GT, 0f));
    }

    static FloatVector eluDerivative(FloatVector x, float scale, float alpha) {
        return exp(x).mul(alpha).blend(FloatVector.broadcast(F, scale), x.compare(VectorOperators.GT, 0f));
    }

    /**
     * {@link FloatFunctions#reluDerivative} lane by lane, x > 0 read from the bits (-b and ~b both negative only for
     * b > 0, so their sign bit spread selects the bits of 1): JDK 17 builds the lanes of a float compare's mask with
     * several instructions, and the two compares and blends this took before made relu's backward from y half as slow
     * again as sigmoid's in L1 (2.6 against 1.7 ms per 16M on one thread).
     */
    static FloatVector reluDerivative(FloatVector x) {
        IntVector bits = x.reinterpretAsInts();
        return bits.neg().and(bits.not()).lanewise(VectorOperators.ASHR, 31).and(ONE_BITS).reinterpretAsFloats()
                .blend(x, x.compare(VectorOperators.NE, x));
    }
}
