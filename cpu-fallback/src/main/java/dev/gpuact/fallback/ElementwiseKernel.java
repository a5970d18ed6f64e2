package dev.gpuact.fallback;


import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * The elementwise activations on float arrays and float buffers: {@code y = f(x; a, b)} forward and
 * {@code dx = dy * f'(x; a, b)} backward, named like the elementwise ops of the gpuact catalog and in the same order.
 *
 * <p>Each constant has its own loop on purpose: a shared loop calling {@code f} through an interface becomes a
 * megamorphic call per element, and a switch per element keeps C2 from vectorising; a per-op loop is compiled
 * with its formula inlined. The transcendental ops compute in float ({@link FloatFunctions}, the Vector API loops'
 * formulas lane by lane) or in double rounded once ({@link Functions}); the piecewise-linear ops in float without
 * branches (see the loops shared by several ops below).
 *
 * <p>{@link #forward} and {@link #backward} check their ranges and split large inputs over the cores; the
 * {@code *Sequential} methods are the single-threaded loops. Output may be the same array region as an input
 * (in place); each element is read before it is written.
 */
public enum ElementwiseKernel {
    IDENTITY {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            System.arraycopy(x, xo, y, yo, n);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (xo == dyo && xo == dxo) {
                for (int i = xo; i < xo + n; i++) {
                    dx[i] = dy[i] + zeroUnlessNaN(x[i]);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                dx[dxo + i] = dy[dyo + i] + zeroUnlessNaN(x[xo + i]);
            }
        }
    },
    STEP {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (xo == yo) {
                for (int i = xo; i < xo + n; i++) {
                    y[i] = step(x[i]);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                y[yo + i] = step(x[xo + i]);
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (xo == dyo && xo == dxo) {
                for (int i = xo; i < xo + n; i++) {
                    dx[i] = dy[i] * zeroUnlessNaN(x[i]);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                dx[dxo + i] = dy[dyo + i] * zeroUnlessNaN(x[xo + i]);
            }
        }
    },
    ABS {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            for (int i = 0; i < n; i++) {
                y[yo + i] = Math.abs(x[xo + i]);
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (xo == dyo && xo == dxo) {
                for (int i = xo; i < xo + n; i++) {
                    dx[i] = dy[i] * signum(x[i]);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                dx[dxo + i] = dy[dyo + i] * signum(x[xo + i]);
            }
        }
    },
    SQUARE {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            for (int i = 0; i < n; i++) {
                y[yo + i] = x[xo + i] * x[xo + i];
            }
        }

        /**
         * x dy rounded once, then doubled exactly: 2 x dy rounded once except next to the subnormal range (1 ULP
         * there). The double form's conversions kept the loop scalar (11.7 ms per 16M floats at 2 threads).
         */
        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (xo == dyo && xo == dxo) {
                for (int i = xo; i < xo + n; i++) {
                    dx[i] = x[i] * dy[i] * 2;
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                dx[dxo + i] = x[xo + i] * dy[dyo + i] * 2;
            }
        }
    },
    SIGMOID {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, 1, 1);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            expSlopePasses(x, xo, dy, dyo, dx, dxo, n, 1, 1);
        }
    },
    TANH {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, 1, 1);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            expSlopePasses(x, xo, dy, dyo, dx, dxo, n, 2, 4);
        }
    },
    RELU {
        /**
         * Java's Math.max returns NaN for a NaN argument, so relu(NaN) is NaN as the contract asks. Here and in the
         * backward loop, the JIT vectorises the loop (SuperWord) only when the arrays share an index: with distinct
         * offsets they might overlap at a distance it cannot see (JDK 17, relu backward: 25 ms per 16M floats against
         * 2.3 on one thread).
         */
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (xo == yo) {
                for (int i = xo; i < xo + n; i++) {
                    y[i] = Math.max(x[i], 0f);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                y[yo + i] = Math.max(x[xo + i], 0f);
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (xo == dyo && xo == dxo) {
                for (int i = xo; i < xo + n; i++) {
                    dx[i] = dy[i] * FloatFunctions.reluDerivative(x[i]);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                dx[dxo + i] = dy[dyo + i] * FloatFunctions.reluDerivative(x[xo + i]);
            }
        }
    },
    RELU6 {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            clamp(x, xo, y, yo, n, 0, 6);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            insideOpenInterval(x, xo, dy, dyo, dx, dxo, n, 0, 6);
        }
    },
    LEAKY_RELU {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            leakyForward(x, xo, y, yo, n, a);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            leakyBackward(x, xo, dy, dyo, dx, dxo, n, a);
        }
    },
    ELU {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, 1, a);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            eluSlopePasses(x, xo, dy, dyo, dx, dxo, n, 1, a);
        }
    },
    SELU {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, FloatFunctions.SELU_SCALE, FloatFunctions.SELU_SCALED_ALPHA);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            eluSlopePasses(x, xo, dy, dyo, dx, dxo, n, FloatFunctions.SELU_SCALE, FloatFunctions.SELU_SCALED_ALPHA);
        }
    },
    /** With alpha = 1 (its default) celu is elu, whose float loops it takes. */
    CELU {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (a == 1) {
                ELU.forwardSequential(x, xo, y, yo, n, a, b);
                return;
            }
            double alpha = a;
            for (int i = 0; i < n; i++) {
                double v = x[xo + i];
                y[yo + i] = (float) (v > 0 || v != v ? v : alpha * FastMath.expm1(v / alpha));
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (a == 1) {
                ELU.backwardSequential(x, xo, dy, dyo, dx, dxo, n, a, b);
                return;
            }
            double alpha = a;
            for (int i = 0; i < n; i++) {
                double v = x[xo + i];
                dx[dxo + i] = (float) (dy[dyo + i] * (v > 0 ? 1 : FastMath.exp(v / alpha)));
            }
        }
    },
    GELU {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, a, b);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            scaledSlopePasses(this, x, xo, dy, dyo, dx, dxo, n);
        }
    },
    GELU_TANH {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, a, b);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            scaledSlopePasses(this, x, xo, dy, dyo, dx, dxo, n);
        }
    },
    SILU {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, 1, 1);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            scaledSlopePasses(this, x, xo, dy, dyo, dx, dxo, n);
        }
    },
    /** With beta = 1 (its default) swish is silu, whose float loops it takes. */
    SWISH {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (a == 1) {
                SILU.forwardSequential(x, xo, y, yo, n, a, b);
                return;
            }
            for (int i = 0; i < n; i++) {
                y[yo + i] = (float) Functions.swish(x[xo + i], a);
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (a == 1) {
                SILU.backwardSequential(x, xo, dy, dyo, dx, dxo, n, a, b);
                return;
            }
            for (int i = 0; i < n; i++) {
                dx[dxo + i] = (float) (dy[dyo + i] * Functions.swishDerivative(x[xo + i], a));
            }
        }
    },
    MISH {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, 1, 1);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            scaledSlopePasses(this, x, xo, dy, dyo, dx, dxo, n);
        }
    },
    SOFTPLUS {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (a == 1 && Float.isFinite(b)) {
                forwardInPasses(this, x, xo, y, yo, n, a, b);
                return;
            }
            if (a == 1) {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = FloatFunctions.softplus(x[xo + i], b);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                y[yo + i] = (float) Functions.softplus(x[xo + i], a, b);
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (a == 1 && Float.isFinite(b)) {
                dyTimesSlopePasses(this, x, xo, dy, dyo, dx, dxo, n, b);
                return;
            }
            if (a == 1) {
                for (int i = 0; i < n; i++) {
                    dx[dxo + i] = dy[dyo + i] * FloatFunctions.softplusDerivative(x[xo + i], b);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                dx[dxo + i] = (float) (dy[dyo + i] * Functions.softplusDerivative(x[xo + i], a, b));
            }
        }
    },
    SOFTSIGN {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (xo == yo) {
                for (int i = xo; i < xo + n; i++) {
                    y[i] = FloatFunctions.softsign(x[i]);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                y[yo + i] = FloatFunctions.softsign(x[xo + i]);
            }
        }

        /**
         * dy / d / d, d = 1 + |x|, in float: two quotients rather than one by d^2, which overflows for |x| past 2^64
         * while the result may still be a float; within 4 ULP (3.0 at worst over 50M random floats). Float division
         * vectorises (SuperWord) where the arrays share an index (see {@link #RELU}); the double form it replaces did
         * not, and took 11-20 ms per 16M floats on two threads.
         */
        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (xo == dyo && xo == dxo) {
                for (int i = xo; i < xo + n; i++) {
                    float d = 1 + Math.abs(x[i]);
                    dx[i] = dy[i] / d / d;
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                float d = 1 + Math.abs(x[xo + i]);
                dx[dxo + i] = dy[dyo + i] / d / d;
            }
        }
    },
    LOGSIGMOID {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, 1, 1);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            dyTimesSlopePasses(this, x, xo, dy, dyo, dx, dxo, n, b);
        }
    },
    HARDTANH {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            clamp(x, xo, y, yo, n, a, b);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            insideOpenInterval(x, xo, dy, dyo, dx, dxo, n, a, b);
        }
    },
    HARDSIGMOID {
        /**
         * alpha * x is exact in double, so alpha x + beta rounds once even next to the zero of the line; the float
         * nearest 1/6 (the default slope) stands for 1/6 itself, as in the contract's reference.
         */
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (isDefault(a, b)) {
                unitStepOfThirds(x, xo, y, yo, n);
                return;
            }
            double alpha = slope(a, b);
            double beta = b;
            for (int i = 0; i < n; i++) {
                y[yo + i] = FloatFunctions.unitClamp((float) (alpha * x[xo + i] + beta));
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (isDefault(a, b)) {
                sixthInsideThree(x, xo, dy, dyo, dx, dxo, n);
                return;
            }
            double alpha = slope(a, b);
            double beta = b;
            long alphaBits = Double.doubleToRawLongBits(alpha);
            for (int i = 0; i < n; i++) {
                double v = alpha * x[xo + i] + beta;
                // alpha inside (0, 1), 0 outside, NaN for NaN, by long selects of constants (conditional moves):
                // the branches of v > 0 && v < 1 ? alpha : ... took 86 ms per 16M floats on random inputs
                long inside = (v > 0) & (v < 1) ? -1L : 0L;
                long nan = v != v ? -1L : 0L;
                double slope = Double.longBitsToDouble((alphaBits & inside) | (NAN_BITS & nan));
                dx[dxo + i] = (float) (dy[dyo + i] * slope);
            }
        }

        private static double slope(float a, float b) {
            return a == (float) (1.0 / 6) && Math.abs(b) < 1e30 ? 1.0 / 6 : a;
        }

        /** The defaults, alpha = 1/6 (as a float) and beta = 1/2, where hardsigmoid is (x + 3) / 6. */
        private static boolean isDefault(float a, float b) {
            return a == (float) (1.0 / 6) && b == 0.5f;
        }
    },
    HARDSWISH {
        /**
         * x (x + 3) / 6 for x in (-3, 3), in float: x + 3 is exact next to the zero at -3 (Sterbenz), so the result
         * keeps its relative accuracy there (1.5 ULP at most).
         */
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (xo == yo) {
                for (int i = xo; i < xo + n; i++) {
                    y[i] = hardswish(x[i]);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                y[yo + i] = hardswish(x[xo + i]);
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (xo == dyo && xo == dxo) {
                for (int i = xo; i < xo + n; i++) {
                    dx[i] = dy[i] * hardswishSlope(x[i]);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                dx[dxo + i] = dy[dyo + i] * hardswishSlope(x[xo + i]);
            }
        }
    },
    TANHSHRINK {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, a, b);
        }

        /** dy tanh^2 x from tanhBlock's passes (the double loop took 53 ms per 16M floats at 2 threads). */
        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            dyTimesSlopePasses(this, x, xo, dy, dyo, dx, dxo, n, b);
        }
    },
    SOFTSHRINK {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (xo == yo) {
                for (int i = xo; i < xo + n; i++) {
                    y[i] = softshrink(x[i], a);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                y[yo + i] = softshrink(x[xo + i], a);
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            outsideDeadZone(x, xo, dy, dyo, dx, dxo, n, a);
        }
    },
    HARDSHRINK {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (xo == yo) {
                for (int i = xo; i < xo + n; i++) {
                    y[i] = x[i] * step(Math.abs(x[i]) - a);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                y[yo + i] = x[xo + i] * step(Math.abs(x[xo + i]) - a);
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            outsideDeadZone(x, xo, dy, dyo, dx, dxo, n, a);
        }
    },
    THRESHOLD {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            if (xo == yo) {
                for (int i = xo; i < xo + n; i++) {
                    y[i] = threshold(x[i], a, b);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                y[yo + i] = threshold(x[xo + i], a, b);
            }
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            if (xo == dyo && xo == dxo) {
                for (int i = xo; i < xo + n; i++) {
                    dx[i] = dy[i] * step(x[i] - a);
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                dx[dxo + i] = dy[dyo + i] * step(x[xo + i] - a);
            }
        }
    },
    RICKER {
        @Override
        public void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
            forwardInPasses(this, x, xo, y, yo, n, a, b);
        }

        @Override
        public void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
            scaledSlopePasses(this, x, xo, dy, dyo, dx, dxo, n);
        }
    };

    /** Floats per thread-local block when a float buffer is staged through arrays. */
    private static final int BLOCK = 4096;
    private static final ThreadLocal<float[][]> BLOCKS = ThreadLocal.withInitial(() -> new float[3][BLOCK]);

    /** y = f(x) on one thread, no checks beyond the array bounds; a and b are the op's parameters (0 if unused). */
    public abstract void forwardSequential(float[] x, int xo, float[] y, int yo, int n, float a, float b);

    /** dx = dy * f'(x) on one thread. */
    public abstract void backwardSequential(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n,
                                            float a, float b);

    /** y[yo..yo+n) = f(x[xo..xo+n)), on all cores when n is large. */
    public final void forward(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
        checkCount(n);
        checkRange("x", x, xo, n);
        checkRange("y", y, yo, n);
        Parallel.forEachChunk(n, (from, to) -> forwardChunk(x, xo + from, y, yo + from, to - from, a, b));
    }

    private final WarmUp forwardWarmUp = new WarmUp();
    private final WarmUp backwardWarmUp = new WarmUp();

    /** The vector loops where they cover this op, the scalar loop for the rest. */
    public final void forwardChunk(float[] x, int xo, float[] y, int yo, int n, float a, float b) {
        forwardWarmUp.run(n, (from, length) -> Vectorization.LOOPS.forward(this, x, xo + from, y, yo + from, length, a, b),
                (from, length) -> {
                    forwardSequential(x, xo + from, y, yo + from, length, a, b);
                    return length;
                });
    }

    public final void backwardChunk(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
        backwardWarmUp.run(n, (from, length) -> Vectorization.LOOPS.backward(this, x, xo + from, dy, dyo + from, dx,
                dxo + from, length, a, b), (from, length) -> {
                    backwardSequential(x, xo + from, dy, dyo + from, dx, dxo + from, length, a, b);
                    return length;
                });
    }

    /** dx[dxo..dxo+n) = dy * f'(x), on all cores when n is large. */
    public final void backward(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a, float b) {
        checkCount(n);
        checkRange("x", x, xo, n);
        checkRange("dy", dy, dyo, n);
        checkRange("dx", dx, dxo, n);
        Parallel.forEachChunk(n, (from, to) -> backwardChunk(x, xo + from, dy, dyo + from, dx, dxo + from, to - from, a, b));
    }

    /**
     * y = f(x) over the remaining elements of {@code x} into those of {@code y} (direct or heap buffers, equal
     * remaining counts); positions are left unchanged.
     */
    public final void forward(FloatBuffer x, FloatBuffer y, float a, float b) {
        int n = checkBuffers(x, y);
        int xp = x.position();
        int yp = y.position();
        Parallel.forEachChunk(n, (from, to) -> {
            float[][] block = BLOCKS.get();
            for (int i = from; i < to; i += BLOCK) {
                int len = Math.min(BLOCK, to - i);
                x.get(xp + i, block[0], 0, len);
                forwardChunk(block[0], 0, block[1], 0, len, a, b);
                y.put(yp + i, block[1], 0, len);
            }
        });
    }

    /** dx = dy * f'(x) over the remaining elements of the three buffers; positions are left unchanged. */
    public final void backward(FloatBuffer x, FloatBuffer dy, FloatBuffer dx, float a, float b) {
        int n = checkBuffers(x, dx);
        Objects.requireNonNull(dy, "dy");
        if (dy.remaining() != n) {
            throw new IllegalArgumentException("dy has " + dy.remaining() + " elements remaining, x has " + n);
        }
        int xp = x.position();
        int dyp = dy.position();
        int dxp = dx.position();
        Parallel.forEachChunk(n, (from, to) -> {
            float[][] block = BLOCKS.get();
            for (int i = from; i < to; i += BLOCK) {
                int len = Math.min(BLOCK, to - i);
                x.get(xp + i, block[0], 0, len);
                dy.get(dyp + i, block[1], 0, len);
                backwardChunk(block[0], 0, block[1], 0, block[2], 0, len, a, b);
                dx.put(dxp + i, block[2], 0, len);
            }
        });
    }

    // ---- loops shared by ops that differ only in their parameters -------------------------------------------

    // The piecewise-linear ops (these loops, and those of step, abs, hardswish, the shrinks and threshold above) have
    // no Vector API form, so every user runs them as written: each is branch-free (Math.min, Math.max and products,
    // which the JIT vectorises) and, like relu's, has a second form for arrays that share an index, the only form
    // JDK 17's SuperWord vectorises (with distinct offsets the arrays might overlap). Their branches on random signs
    // took 10-75 ms per 16M floats at 2 threads (bench/RESULTS.md).

    /** min(max(x, low), high): NaN stays NaN. */
    private static void clamp(float[] x, int xo, float[] y, int yo, int n, float low, float high) {
        if (xo == yo) {
            for (int i = xo; i < xo + n; i++) {
                y[i] = Math.min(Math.max(x[i], low), high);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            y[yo + i] = Math.min(Math.max(x[xo + i], low), high);
        }
    }

    /**
     * max(x, 0) + alpha min(x, 0): x above 0, the rounded alpha x below (the other term is a zero), NaN for NaN. With
     * alpha = 0 it is relu, since 0 times -inf would be NaN.
     */
    private static void leakyForward(float[] x, int xo, float[] y, int yo, int n, float alpha) {
        if (alpha == 0) {
            RELU.forwardSequential(x, xo, y, yo, n, 0, 0);
        } else if (xo == yo) {
            for (int i = xo; i < xo + n; i++) {
                y[i] = Math.max(x[i], 0f) + alpha * Math.min(x[i], 0f);
            }
        } else {
            for (int i = 0; i < n; i++) {
                y[yo + i] = Math.max(x[xo + i], 0f) + alpha * Math.min(x[xo + i], 0f);
            }
        }
    }

    /** dy times step + (1 - step) alpha, step = [x > 0] (NaN for NaN): dy above 0, dy alpha below. */
    private static void leakyBackward(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float alpha) {
        if (xo == dyo && xo == dxo) {
            for (int i = xo; i < xo + n; i++) {
                float above = step(x[i]);
                dx[i] = dy[i] * (above + (1 - above) * alpha);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            float above = step(x[xo + i]);
            dx[dxo + i] = dy[dyo + i] * (above + (1 - above) * alpha);
        }
    }

    /**
     * clamp((x + 3) / 6, 0, 1) in float, branch-free: x + 3 is exact next to the line's zero at -3 (Sterbenz),
     * so the result keeps its relative accuracy there; 1 ULP elsewhere. The double line took 19 ms per 16M
     * floats at 2 threads (its conversions keep the loop scalar).
     */
    private static void unitStepOfThirds(float[] x, int xo, float[] y, int yo, int n) {
        if (xo == yo) {
            for (int i = xo; i < xo + n; i++) {
                y[i] = Math.min(Math.max((x[i] + 3) / 6, 0f), 1f);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            y[yo + i] = Math.min(Math.max((x[xo + i] + 3) / 6, 0f), 1f);
        }
    }

    /** dy / 6 for x in (-3, 3), 0 outside, NaN for NaN: one rounding, branch-free (the double form: 53 ms). */
    private static void sixthInsideThree(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        if (xo == dyo && xo == dxo) {
            for (int i = xo; i < xo + n; i++) {
                dx[i] = dy[i] * (step(x[i] + 3) * step(3 - x[i])) / 6;
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            dx[dxo + i] = dy[dyo + i] * (step(v + 3) * step(3 - v)) / 6;
        }
    }

    private static final long NAN_BITS = Double.doubleToRawLongBits(Double.NaN);

    /**
     * Derivative 1 strictly inside (low, high), 0 outside, NaN for NaN: [x - low > 0] [high - x > 0], exact tests
     * since a difference of two floats is 0 only when they are equal (low and high are finite).
     */
    private static void insideOpenInterval(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n,
                                           float low, float high) {
        if (xo == dyo && xo == dxo) {
            for (int i = xo; i < xo + n; i++) {
                dx[i] = dy[i] * (step(x[i] - low) * step(high - x[i]));
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            dx[dxo + i] = dy[dyo + i] * (step(v - low) * step(high - v));
        }
    }

    /** Derivative 1 where |x| > lambda, 0 inside, NaN for NaN: [|x| - lambda > 0]. */
    private static void outsideDeadZone(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float lambda) {
        if (xo == dyo && xo == dxo) {
            for (int i = xo; i < xo + n; i++) {
                dx[i] = dy[i] * step(Math.abs(x[i]) - lambda);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            dx[dxo + i] = dy[dyo + i] * step(Math.abs(x[xo + i]) - lambda);
        }
    }

    // ---- exp-based loops in passes (BlockMath): blocks copied in and out, so every loop indexes its arrays alike ----

    /**
     * dx = dy * k e / (1 + e)^2, e = e^(-c|x|): sigmoid' (c = 1, k = 1) and tanh' = 1 - tanh^2 (c = 2, k = 4), the
     * floats of VectorKernels.sigmoidDerivative and tanhDerivative.
     */
    private static void expSlopePasses(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float c,
                                       float k) {
        float[][] scratch = BlockMath.scratch();
        float[] e = scratch[0];
        float[] d = scratch[1];
        for (int from = 0; from < n; from += BlockMath.BLOCK) {
            int length = Math.min(BlockMath.BLOCK, n - from);
            System.arraycopy(x, xo + from, e, 0, length);
            for (int i = 0; i < length; i++) {
                e[i] = -c * Math.abs(e[i]);
            }
            BlockMath.exp(e, e, scratch[2], length);
            System.arraycopy(dy, dyo + from, d, 0, length);
            for (int i = 0; i < length; i++) {
                float sum = 1 + e[i];
                d[i] = d[i] * (k * e[i] / (sum * sum));
            }
            System.arraycopy(d, 0, dx, dxo + from, length);
        }
    }

    /**
     * dx = dy FloatFunctions.eluDerivative(x, scale, alpha) in passes, the same bits: the one-element loop took exp
     * one float at a time (62 ms per 16M floats on two threads, 18 in passes).
     */
    private static void eluSlopePasses(float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n,
                                       float scale, float alpha) {
        float[][] scratch = BlockMath.scratch();
        float[] v = scratch[0];
        float[] e = scratch[1];
        float[] d = scratch[2];
        for (int from = 0; from < n; from += BlockMath.BLOCK) {
            int length = Math.min(BlockMath.BLOCK, n - from);
            System.arraycopy(x, xo + from, v, 0, length);
            System.arraycopy(dy, dyo + from, d, 0, length);
            BlockMath.exp(v, e, scratch[3], length);
            for (int i = 0; i < length; i++) {
                d[i] = d[i] * FloatMath.select(v[i] > 0, scale, alpha * e[i]);
            }
            System.arraycopy(d, 0, dx, dxo + from, length);
        }
    }

    /**
     * y = f(x) in passes over blocks: x copied in, the op's passes over the block in place, the block copied out.
     * a and b are the op's parameters as its loops take them (selu: its two float factors, elu's scale and alpha).
     */
    private static void forwardInPasses(ElementwiseKernel op, float[] x, int xo, float[] y, int yo, int n, float a,
                                        float b) {
        float[][] scratch = BlockMath.scratch();
        float[] v = scratch[0];
        for (int from = 0; from < n; from += BlockMath.BLOCK) {
            int length = Math.min(BlockMath.BLOCK, n - from);
            System.arraycopy(x, xo + from, v, 0, length);
            switch (op) {
                case SIGMOID -> sigmoidBlock(v, scratch[1], scratch[2], length);
                case TANH -> tanhBlock(v, scratch[1], scratch[2], length);
                case SILU -> siluBlock(v, scratch[1], scratch[2], length);
                case MISH -> mishBlock(v, scratch[1], scratch[2], length);
                case GELU -> geluBlock(v, scratch[1], scratch[2], scratch[3], length);
                case GELU_TANH -> geluTanhBlock(v, scratch[1], scratch[2], scratch[3], length);
                case RICKER -> rickerBlock(v, scratch[1], scratch[2], scratch[3], length);
                case TANHSHRINK -> tanhshrinkBlock(v, scratch[1], scratch[2], scratch[3], length);
                case SOFTPLUS -> softplusBlock(v, scratch[1], scratch[2], scratch[3], length, b);
                case LOGSIGMOID -> logsigmoidBlock(v, scratch[1], scratch[2], scratch[3], length);
                case ELU, SELU -> eluBlock(v, scratch[1], scratch[2], length, a, b);
                default -> throw new IllegalStateException(op + " has no passes");
            }
            System.arraycopy(v, 0, y, yo + from, length);
        }
    }

    /**
     * dx = dy f'(x) block by block for the ops whose slope comes from another op's passes, the same floats as their
     * one-element forms: logsigmoid' = sigma(-x); softplus' for a finite threshold (1 above it, sigma(x) at or
     * below, chosen by arithmetic); tanhshrink' = tanh^2 x, taken as (dy t) t, since t t alone underflows where dy t t
     * is still a float.
     */
    private static void dyTimesSlopePasses(ElementwiseKernel op, float[] x, int xo, float[] dy, int dyo, float[] dx,
                                           int dxo, int n, float threshold) {
        float[][] scratch = BlockMath.scratch();
        float[] slope = scratch[0];
        float[] d = scratch[3];
        for (int from = 0; from < n; from += BlockMath.BLOCK) {
            int length = Math.min(BlockMath.BLOCK, n - from);
            System.arraycopy(x, xo + from, slope, 0, length);
            switch (op) {
                case LOGSIGMOID -> {
                    for (int i = 0; i < length; i++) {
                        slope[i] = -slope[i];
                    }
                    sigmoidBlock(slope, scratch[1], scratch[2], length);
                }
                case SOFTPLUS -> {
                    System.arraycopy(slope, 0, d, 0, length);
                    sigmoidBlock(slope, scratch[1], scratch[2], length);
                    for (int i = 0; i < length; i++) {
                        float above = step(d[i] - threshold);
                        slope[i] = above + (1 - above) * slope[i];
                    }
                }
                case TANHSHRINK -> tanhBlock(slope, scratch[1], scratch[2], length);
                default -> throw new IllegalStateException(op + " has no slope passes");
            }
            System.arraycopy(dy, dyo + from, d, 0, length);
            if (op == TANHSHRINK) {
                for (int i = 0; i < length; i++) {
                    d[i] = d[i] * slope[i] * slope[i];
                }
            } else {
                for (int i = 0; i < length; i++) {
                    d[i] *= slope[i];
                }
            }
            System.arraycopy(d, 0, dx, dxo + from, length);
        }
    }

    /** FloatMath.sigmoid, its select(x < 0, e, 1) as max(e, step(x)): the same floats. */
    private static void sigmoidBlock(float[] v, float[] e, float[] temp, int n) {
        for (int i = 0; i < n; i++) {
            e[i] = -Math.abs(v[i]);
        }
        BlockMath.exp(e, e, temp, n);
        for (int i = 0; i < n; i++) {
            v[i] = Math.max(e[i], step(v[i])) / (1 + e[i]);
        }
    }

    /** VectorKernels.silu: x sigma(x), the same floats. */
    private static void siluBlock(float[] v, float[] big, float[] temp, int n) {
        for (int i = 0; i < n; i++) {
            big[i] = -Math.abs(Math.max(v[i], -FloatFunctions.CLAMP));
        }
        BlockMath.expScaledUp(big, big, temp, n);
        timesLogistic(v, big, n);
    }

    /**
     * gelu_tanh = x sigma(z), z = 2 sqrt(2/pi) (x + c x^3): z is carried as hi + lo into exp, whose argument must be
     * exact to far below an ULP of z for e^-|z| to keep its relative accuracy where x is negative (|z| up to 130);
     * x clamped to [-20, 20] for z, past which the result is x or 0 either way.
     */
    private static void geluTanhBlock(float[] v, float[] big, float[] low, float[] temp, int n) {
        geluTanhArgument(v, big, low, n);
        BlockMath.expScaledUp(big, low, big, temp, n);
        timesLogistic(v, big, n);
    }

    /**
     * y = x sigma(z) given big = e^-|z| 2^64 for a z of x's sign: x / (1 + e) at or above 0, x e / (1 + e) below,
     * scaled, as VectorKernels.silu, its selects written as arithmetic with neg = step(-x). The numerator takes
     * min(x, 1) in its negative term, so that for x >= 0 it is a finite product times 0 rather than inf times 0.
     */
    private static void timesLogistic(float[] v, float[] big, int n) {
        for (int i = 0; i < n; i++) {
            float xc = Math.max(v[i], -FloatFunctions.CLAMP);
            float negative = step(-v[i]);
            float numerator = negative * (Math.min(xc, 1f) * big[i]) + (1 - negative) * xc;
            float scale = negative * FloatMath.SCALE_DOWN + (1 - negative);
            v[i] = numerator / (1 + big[i] * FloatMath.SCALE_DOWN) * scale;
        }
    }

    /** 2 sqrt(2/pi) in two floats, and gelu_tanh's cubic coefficient c = 0.044715 in two. */
    private static final float TWO_K_HI = (float) (2 * Functions.SQRT_2_OVER_PI);
    private static final float TWO_K_LO = (float) (2 * Functions.SQRT_2_OVER_PI - TWO_K_HI);
    private static final float CUBIC_HI = (float) Functions.GELU_TANH_C;
    private static final float CUBIC_LO = (float) (Functions.GELU_TANH_C - CUBIC_HI);

    /**
     * -|z| = hi + lo, z = 2k x (1 + c x^2), each product's rounding error carried by an fma, the sum's by TwoSum.
     * In two loops: as one, its body passed C2's unroll limit and the loop stayed scalar (160 ms per 16M floats on
     * one thread; 36 with -XX:LoopUnrollLimit=250).
     */
    private static void geluTanhArgument(float[] v, float[] hi, float[] lo, int n) {
        for (int i = 0; i < n; i++) {
            float x = clampGeluTanh(v[i]);
            float square = x * x;
            float p = CUBIC_HI * square;
            float pLo = Math.fma(CUBIC_HI, square, -p) + (CUBIC_HI * Math.fma(x, x, -square) + CUBIC_LO * square);
            float w = 1 + p;
            float back = w - p;
            hi[i] = w;
            lo[i] = ((p - (w - back)) + (1 - back)) + pLo;
        }
        for (int i = 0; i < n; i++) {
            float x = clampGeluTanh(v[i]);
            float m = x * hi[i];
            float mLo = Math.fma(x, hi[i], -m) + x * lo[i];
            float z = TWO_K_HI * m;
            float zLo = Math.fma(TWO_K_HI, m, -z) + (TWO_K_HI * mLo + TWO_K_LO * m);
            hi[i] = -Math.abs(z);
            lo[i] = zLo * (2 * step(-v[i]) - 1);
        }
    }

    private static float clampGeluTanh(float x) {
        return Math.min(Math.max(x, -20f), 20f);
    }

    /**
     * tanhshrink = x - tanh x: below |x| = 1.5, where the difference cancels, x^3 P(x^2) (FloatMath.TS0..TS9) with
     * x^3 from x^2 and its rounding error; x - tanh x from 1.5 up, which loses at most a factor 1.5 there. Chosen by
     * arithmetic, the polynomial's x clamped to 1.5 so that the term discarded is finite. Within 3 ULP; the double
     * loop took 66 ms per 16M floats at 2 threads.
     */
    private static void tanhshrinkBlock(float[] v, float[] t, float[] m, float[] temp, int n) {
        System.arraycopy(v, 0, t, 0, n);
        tanhBlock(t, m, temp, n);
        for (int i = 0; i < n; i++) {
            float x = Math.min(Math.max(v[i], -1.5f), 1.5f);
            float s = x * x;
            float cube = Math.fma(x, s, x * Math.fma(x, x, -s));
            float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(
                    FloatMath.TS9, s, FloatMath.TS8), s, FloatMath.TS7), s, FloatMath.TS6), s, FloatMath.TS5), s,
                    FloatMath.TS4), s, FloatMath.TS3), s, FloatMath.TS2), s, FloatMath.TS1), s, FloatMath.TS0);
            float near = step(1.5f - Math.abs(v[i]));
            m[i] = near * (cube * p) + (1 - near) * (v[i] - t[i]);
        }
        System.arraycopy(m, 0, v, 0, n);
    }

    /**
     * ricker = (1 - x^2) e^(-x^2/2): the exponent exact as hi + lo, 1 - x^2 one fma (so the zeros at +-1 keep their
     * relative accuracy), the exponential scaled by 2^64 and scaled back once; x clamped to 20, past which the
     * result is 0 either way. The double loop took 36 ms per 16M floats at 2 threads.
     */
    private static void rickerBlock(float[] v, float[] e, float[] low, float[] temp, int n) {
        halfSquareExponential(v, e, low, temp, n);
        for (int i = 0; i < n; i++) {
            float x = clampRicker(v[i]);
            v[i] = Math.fma(-x, x, 1) * e[i] * FloatMath.SCALE_DOWN;
        }
    }

    /** slope = x (x^2 - 3) e^(-x^2/2) 2^64, ricker's derivative scaled as rickerBlock; low and temp are scratch. */
    private static void rickerSlopeScaled(float[] v, float[] slope, float[] low, float[] temp, int n) {
        halfSquareExponential(v, slope, low, temp, n);
        for (int i = 0; i < n; i++) {
            float xc = clampRicker(v[i]);
            slope[i] = xc * Math.fma(xc, xc, -3) * slope[i];
        }
    }

    /** e = e^(-x^2/2) 2^64 for x = clampRicker(v), the exponent exact as hi + lo; low and temp are scratch. */
    private static void halfSquareExponential(float[] v, float[] e, float[] low, float[] temp, int n) {
        for (int i = 0; i < n; i++) {
            float x = clampRicker(v[i]);
            float square = x * x;
            e[i] = -0.5f * square;
            low[i] = -0.5f * Math.fma(x, x, -square);
        }
        BlockMath.expScaledUp(e, low, e, temp, n);
    }

    private static float clampRicker(float x) {
        return Math.min(Math.max(x, -20f), 20f);
    }

    /**
     * slope = mish'(x) 2^64, mish' = n / (n + 2) + 4 x e (1 + e) / (n + 2)^2 with e = e^x, n = e (e + 2) (tanh and
     * sech^2 of softplus, sigma(x) folded in), scaled throughout, as big = e 2^64 fits a float up to the saturation at
     * 40 and each factor next to big is at most 1; temp is scratch. VectorKernels.mishDerivativeScaled gives the same
     * floats lane by lane.
     */
    private static void mishSlopeScaled(float[] v, float[] slope, float[] temp, int n) {
        for (int i = 0; i < n; i++) {
            slope[i] = clampMish(v[i]);
        }
        BlockMath.expScaledUp(slope, slope, temp, n);
        for (int i = 0; i < n; i++) {
            float big = slope[i];
            float e = big * FloatMath.SCALE_DOWN;
            float t = 1 / Math.fma(e, e + 2, 2);
            slope[i] = big * ((e + 2) * t) + 4 * clampMish(v[i]) * (big * ((1 + e) * t)) * t;
        }
    }

    private static float clampMish(float x) {
        return Math.min(Math.max(x, -FloatFunctions.CLAMP), FloatFunctions.MISH_SATURATION);
    }

    /** slope = silu'(x) 2^64, the floats of VectorKernels.siluDerivativeScaled; xSlope and temp are scratch. */
    private static void siluSlopeScaled(float[] v, float[] slope, float[] xSlope, float[] temp, int n) {
        for (int i = 0; i < n; i++) {
            slope[i] = -Math.abs(clampSilu(v[i]));
        }
        BlockMath.expScaledUp(slope, slope, temp, n);
        for (int i = 0; i < n; i++) {
            xSlope[i] = clampSilu(v[i]);
        }
        logisticSlopeScaled(v, slope, xSlope, n);
    }

    /** slope = gelu_tanh'(x) 2^64, z' = 2k (1 + 3c x^2); xSlope and temp are scratch. */
    private static void geluTanhSlopeScaled(float[] v, float[] slope, float[] xSlope, float[] temp, int n) {
        geluTanhArgument(v, slope, xSlope, n);
        BlockMath.expScaledUp(slope, xSlope, slope, temp, n);
        for (int i = 0; i < n; i++) {
            float xc = clampGeluTanh(v[i]);
            xSlope[i] = xc * (TWO_K_HI * Math.fma(3 * CUBIC_HI, xc * xc, 1));
        }
        logisticSlopeScaled(v, slope, xSlope, n);
    }

    /**
     * d = big = e^-|z| 2^64 in, f'(x) 2^64 out for f = x sigma(z) (silu: z = x; gelu_tanh), f' = sigma(z) + x z'
     * sigma(z) sigma(-z), xSlope = x z' (x clamped), as VectorKernels.siluDerivativeScaled, its selects as arithmetic.
     */
    private static void logisticSlopeScaled(float[] v, float[] d, float[] xSlope, int n) {
        for (int i = 0; i < n; i++) {
            float negative = step(-v[i]);
            float big = d[i];
            float e = big * FloatMath.SCALE_DOWN;
            float r = 1 / (1 + e);
            float s = (negative * big + (1 - negative) * FloatMath.SCALE_UP) * r;
            d[i] = Math.fma(xSlope[i] * s, negative * r + (1 - negative) * (e * r), s);
        }
    }

    private static float clampSilu(float x) {
        return Math.min(Math.max(x, -FloatFunctions.CLAMP), FloatFunctions.CLAMP);
    }

    /**
     * VectorKernels.gelu: max(x, 0) - a Phi(-a), a = min(|x|, GAUSSIAN_CLAMP), the tail's ratio w g in a pass of its
     * own, the Gaussian's exp in BlockMath's passes, its factor folded into exp's last fma in the last pass.
     */
    private static void geluBlock(float[] v, float[] m, float[] scale, float[] ratio, int n) {
        for (int i = 0; i < n; i++) {
            float a = Math.min(Math.abs(v[i]), FloatFunctions.GAUSSIAN_CLAMP);
            ratio[i] = FloatMath.geluTailRatio(a);
            m[i] = FloatMath.halfSquare(a);
            scale[i] = FloatMath.halfSquareLow(a);
        }
        BlockMath.expScaledUpParts(m, scale, m, scale, n);
        for (int i = 0; i < n; i++) {
            float scaled = scale[i] * ratio[i];
            v[i] = Math.max(v[i], 0f) - Math.fma(m[i], scaled, scaled) * FloatMath.SCALE_DOWN;
        }
    }

    /**
     * dx = dy f'(x) for the ops whose derivative the passes compute scaled by 2^64 (silu, gelu_tanh, gelu, mish,
     * ricker): block by block, the op's slope passes, then the one scalar pass, FloatFunctions.scaledProduct, or past
     * the op's far bounds, where the scaled derivative nears the subnormals while dy times it may still be a float,
     * the product in double (a branch almost never taken).
     */
    private static void scaledSlopePasses(ElementwiseKernel op, float[] x, int xo, float[] dy, int dyo, float[] dx,
                                          int dxo, int n) {
        float farBelow = switch (op) {
            case SILU -> FloatFunctions.SILU_FAR;
            case MISH -> FloatFunctions.MISH_FAR;
            case GELU -> -FloatFunctions.GAUSSIAN_CLAMP;
            case GELU_TANH -> -11f;
            default -> -16f;
        };
        float farAbove = op == GELU ? FloatFunctions.GAUSSIAN_CLAMP : op == RICKER ? 16f : Float.POSITIVE_INFINITY;
        float[][] scratch = BlockMath.scratch();
        float[] v = scratch[0];
        float[] slope = scratch[1];
        for (int from = 0; from < n; from += BlockMath.BLOCK) {
            int length = Math.min(BlockMath.BLOCK, n - from);
            System.arraycopy(x, xo + from, v, 0, length);
            switch (op) {
                case SILU -> siluSlopeScaled(v, slope, scratch[2], scratch[3], length);
                case GELU_TANH -> geluTanhSlopeScaled(v, slope, scratch[2], scratch[3], length);
                case GELU -> geluSlopeScaled(v, slope, scratch[2], scratch[3], length);
                case MISH -> mishSlopeScaled(v, slope, scratch[2], length);
                case RICKER -> rickerSlopeScaled(v, slope, scratch[2], scratch[3], length);
                default -> throw new IllegalStateException(op + " has no scaled slope");
            }
            for (int i = 0; i < length; i++) {
                float value = v[i];
                float dyi = dy[dyo + from + i];
                dx[dxo + from + i] = value < farBelow || value > farAbove ? farProduct(op, dyi, value)
                        : FloatFunctions.scaledProduct(dyi, slope[i]);
            }
        }
    }

    /** dy f'(x) past the op's far bounds, in double. */
    private static float farProduct(ElementwiseKernel op, float dy, float x) {
        return switch (op) {
            case SILU -> FloatFunctions.siluBackwardFar(dy, x);
            case GELU -> FloatFunctions.geluBackwardFar(dy, x);
            case GELU_TANH -> (float) (dy * Functions.geluTanhDerivative(x));
            case MISH -> (float) (dy * Functions.mishDerivative(x));
            default -> (float) (dy * Functions.rickerDerivative(x));
        };
    }

    /**
     * slope = VectorKernels.geluDerivativeScaled(v): the tail's ratio in a pass of its own, the Gaussian's exp in
     * BlockMath's passes, then the density, the tail and the select as arithmetic (both terms finite); m and scale
     * are scratch.
     */
    private static void geluSlopeScaled(float[] v, float[] slope, float[] m, float[] scale, int n) {
        for (int i = 0; i < n; i++) {
            float a = Math.min(Math.abs(v[i]), FloatFunctions.GAUSSIAN_CLAMP);
            slope[i] = FloatMath.normalTailRatio(a);
            m[i] = FloatMath.halfSquare(a);
            scale[i] = FloatMath.halfSquareLow(a);
        }
        BlockMath.expScaledUpParts(m, scale, m, scale, n);
        for (int i = 0; i < n; i++) {
            float density = scale[i] * FloatMath.INV_SQRT_2PI;
            float tail = scale[i] * slope[i];
            scale[i] = Math.fma(m[i], density, density);
            slope[i] = Math.fma(m[i], tail, tail);
        }
        for (int i = 0; i < n; i++) {
            float a = Math.min(Math.abs(v[i]), FloatFunctions.GAUSSIAN_CLAMP);
            float negative = step(-v[i]);
            slope[i] = negative * Math.fma(-a, scale[i], slope[i])
                    + (1 - negative) * Math.fma(a, scale[i], FloatMath.SCALE_UP - slope[i]);
        }
    }

    /**
     * VectorKernels.mish, its selects as arithmetic with neg = step(-x) (both terms finite: e^x is clamped at
     * saturation), the same floats.
     */
    private static void mishBlock(float[] v, float[] scaled, float[] temp, int n) {
        for (int i = 0; i < n; i++) {
            scaled[i] = Math.min(Math.max(v[i], -FloatFunctions.CLAMP), FloatFunctions.MISH_SATURATION);
        }
        BlockMath.expScaledUp(scaled, scaled, temp, n);
        for (int i = 0; i < n; i++) {
            float xc = Math.max(v[i], -FloatFunctions.CLAMP);
            float negative = step(-v[i]);
            float e = scaled[i] * FloatMath.SCALE_DOWN;
            float big = negative * scaled[i] + (1 - negative) * e;
            float t = e + 2;
            float tb = t - e;
            float tlo = (e - (t - tb)) + (2 - tb);
            float numerator = big * t;
            float numeratorLow = Math.fma(big, t, -numerator) + big * tlo;
            float d = Math.fma(e, t, Math.fma(e, tlo, 2));
            float inverse = 1 / d;
            float q = numerator * inverse;
            float residual = (Math.fma(-q, d, numerator) + numeratorLow) * inverse;
            v[i] = Math.fma(xc, q, xc * residual) * (negative * FloatMath.SCALE_DOWN + (1 - negative));
        }
    }

    /**
     * FloatFunctions.softplus for a finite threshold: x above it, max(x, 0) + log1p(e^-|x|) at or below, chosen by
     * arithmetic; in the second term x is lowered to MAX_VALUE and in the first raised to -MAX_VALUE, so that the
     * term discarded is finite. The threshold only in a difference: as a bound of Math.min it kept the loop scalar
     * (44 ms per 16M floats at 2 threads against 18 for logsigmoid's passes).
     */
    private static void softplusBlock(float[] v, float[] l, float[] f, float[] e, int n, float threshold) {
        log1pOfExpMinusAbs(v, l, f, e, n);
        for (int i = 0; i < n; i++) {
            float above = step(v[i] - threshold);
            float value = Math.max(Math.min(v[i], Float.MAX_VALUE), 0f) + l[i];
            v[i] = above * Math.max(v[i], -Float.MAX_VALUE) + (1 - above) * value;
        }
    }

    /** VectorKernels.logsigmoid: min(x, 0) - log1p(e^-|x|). */
    private static void logsigmoidBlock(float[] v, float[] l, float[] f, float[] e, int n) {
        log1pOfExpMinusAbs(v, l, f, e, n);
        for (int i = 0; i < n; i++) {
            v[i] = Math.min(v[i], 0f) - l[i];
        }
    }

    /** l = log1p(e^-|v|), softplus's and logsigmoid's common part; f and e are scratch. */
    private static void log1pOfExpMinusAbs(float[] v, float[] l, float[] f, float[] e, int n) {
        for (int i = 0; i < n; i++) {
            l[i] = -Math.abs(v[i]);
        }
        BlockMath.exp(l, l, f, n);
        BlockMath.log1p(l, l, f, e, n);
    }

    /**
     * tanh x = t = -m / (2 + m), m = expm1(-2|x|) (no cancellation anywhere), with the sign of x as a factor
     * 1 - 2 step(-x), which gives the floats of VectorMath.tanh's blend.
     */
    private static void tanhBlock(float[] v, float[] m, float[] temp, int n) {
        for (int i = 0; i < n; i++) {
            m[i] = -2 * Math.abs(v[i]);
        }
        BlockMath.expm1OfNonPositive(m, m, temp, n);
        for (int i = 0; i < n; i++) {
            v[i] = -m[i] / (2 + m[i]) * (1 - 2 * step(-v[i]));
        }
    }

    /**
     * elu (scale 1) and selu: scale x above 0, alpha expm1(x) at or below, chosen by arithmetic, step(x) scale x +
     * (1 - step(x)) alpha expm1(min(x, 0)), where -inf scale is raised to -MAX_VALUE so that 0 times it is a zero:
     * the floats of VectorKernels.elu's blend, zero signs included.
     */
    private static void eluBlock(float[] v, float[] m, float[] temp, int n, float scale, float alpha) {
        for (int i = 0; i < n; i++) {
            m[i] = Math.min(v[i], 0f);
        }
        BlockMath.expm1OfNonPositive(m, m, temp, n);
        for (int i = 0; i < n; i++) {
            float above = step(v[i]);
            v[i] = above * Math.max(scale * v[i], -Float.MAX_VALUE) + (1 - above) * (alpha * m[i]);
        }
    }

    /** The derivative 0, except NaN for a NaN input (NaN in gives NaN out, gradients included), branch-free. */
    private static float zeroUnlessNaN(float v) {
        return Math.min(Math.max(v, 0f), 0f);
    }

    /** 1 for x > 0, 0 for x <= 0, NaN for NaN (relu's derivative). */
    private static float step(float x) {
        return FloatFunctions.reluDerivative(x);
    }

    /** Math.signum without its branches (the sign of a zero result is free). */
    private static float signum(float x) {
        return step(x) - step(-x);
    }

    /** x - lambda above lambda, x + lambda below -lambda, 0 between: one of the two terms is a zero. */
    private static float softshrink(float x, float lambda) {
        return Math.max(x - lambda, 0f) + Math.min(x + lambda, 0f);
    }

    /**
     * x above the threshold t (or NaN), the value v elsewhere: each product is the term or a zero (-inf is raised to
     * -MAX_VALUE first, since -inf times 0 would be NaN; it is never above t).
     */
    private static float threshold(float x, float t, float v) {
        float above = step(x - t);
        return above * Math.max(x, -Float.MAX_VALUE) + (1 - above) * v;
    }

    private static float hardswish(float x) {
        float clamped = Math.min(Math.max(x, -3f), 3f);
        float above = step(x - 3);
        return above * Math.max(x, 3f) + (1 - above) * (clamped * (clamped + 3) / 6);
    }

    /** 0 below -3, 1 above 3, (2x + 3) / 6 between (and at both ends). */
    private static float hardswishSlope(float x) {
        float clamped = Math.min(Math.max(x, -3f), 3f);
        float above = step(x - 3);
        return (1 - above - step(-3 - x)) * ((2 * clamped + 3) / 6) + above;
    }

    // ---- argument checks --------------------------------------------------------------------------------------

    private static void checkCount(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
    }

    static void checkRange(String name, float[] array, int offset, int n) {
        Objects.requireNonNull(array, name);
        if (offset < 0 || offset > array.length - n) {
            throw new IndexOutOfBoundsException(name + ": offset " + offset + " + n " + n
                    + " is outside an array of " + array.length);
        }
    }

    private static int checkBuffers(FloatBuffer x, FloatBuffer output) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(output, "output");
        if (x.remaining() != output.remaining()) {
            throw new IllegalArgumentException("output has " + output.remaining() + " elements remaining, x has "
                    + x.remaining());
        }
        if (output.isReadOnly()) {
            throw new IllegalArgumentException("output buffer is read-only");
        }
        return x.remaining();
    }
}
