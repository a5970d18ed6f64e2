package dev.gpuact.fallback;

import java.util.Arrays;

/**
 * Backward passes from the saved output y = f(x): {@code dx = dy * f'(y)}, for the elementwise ops of the gpuact
 * catalog whose derivative is a function of y (named like them; gpuact's {@code Op.hasBackwardFromOutput} says
 * which and at what parameters), and softmax / log_softmax rows. Each slope is formed in double from the float y
 * (sigmoid's and tanh's as a float fma, rounded once) and dy * slope rounds once; the row sums are double. Sigmoid,
 * tanh and relu have vector loops ({@link VectorLoops#backwardFromOutput}) that give the same bits.
 */
public enum OutputBackward {
    IDENTITY {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, 1);
        }
    },
    STEP {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, 0);
        }
    },
    /**
     * y - y^2 with one rounding (a float fma of the float y): dy * slope is then an exact double product, rounded
     * once to float, the same bits as the float product the vector loop forms.
     */
    SIGMOID {
        @Override
        double slope(double y, double a, double b) {
            float v = (float) y;
            return Math.fma(-v, v, v);
        }

        @Override
        void backwardSequential(float[] y, float[] dy, float[] dx, int from, int to, float a, float b) {
            for (int i = from; i < to; i++) {
                float v = y[i];
                dx[i] = dy[i] * Math.fma(-v, v, v);
            }
        }
    },
    /** 1 - y^2 with one rounding, as {@link #SIGMOID}. */
    TANH {
        @Override
        double slope(double y, double a, double b) {
            float v = (float) y;
            return Math.fma(-v, v, 1f);
        }

        @Override
        void backwardSequential(float[] y, float[] dy, float[] dx, int from, int to, float a, float b) {
            for (int i = from; i < to; i++) {
                float v = y[i];
                dx[i] = dy[i] * Math.fma(-v, v, 1f);
            }
        }
    },
    RELU {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y > 0, 1, 0));
        }

        @Override
        void backwardSequential(float[] y, float[] dy, float[] dx, int from, int to, float a, float b) {
            for (int i = from; i < to; i++) {
                dx[i] = dy[i] * FloatFunctions.reluDerivative(y[i]);
            }
        }
    },
    RELU6 {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y > 0, select(y < 6, 1, 0), 0));
        }
    },
    LEAKY_RELU {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y > 0, 1, a));
        }
    },
    /** alpha e^x = y + alpha where x &lt;= 0: exact in double from a float y. */
    ELU {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y > 0, 1, y + a));
        }
    },
    SELU {
        private static final double LAMBDA = 1.0507009873554804934193349852946;
        private static final double LAMBDA_ALPHA = LAMBDA * 1.6732632423543772848170429916717;

        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y > 0, LAMBDA, y + LAMBDA_ALPHA));
        }
    },
    CELU {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y > 0, 1, (y + a) / a));
        }
    },
    SOFTSIGN {
        @Override
        double slope(double y, double a, double b) {
            double r = 1 - Math.abs(y);
            return r * r;
        }
    },
    /** sigma(-x) = 1 - e^y. */
    LOGSIGMOID {
        @Override
        double slope(double y, double a, double b) {
            return -Math.expm1(y);
        }
    },
    HARDTANH {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y > a, select(y < b, 1, 0), 0));
        }
    },
    HARDSIGMOID {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y > 0, select(y < 1, a, 0), 0));
        }
    },
    SOFTSHRINK {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y != 0, 1, 0));
        }
    },
    HARDSHRINK {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y != 0, 1, 0));
        }
    },
    THRESHOLD {
        @Override
        double slope(double y, double a, double b) {
            return nanOr(y, select(y > a, 1, 0));
        }
    };

    private final WarmUp warmUp = new WarmUp();

    /** f' at the output y. */
    abstract double slope(double y, double a, double b);

    /**
     * dx[i] = dy[i] * f'(y[i]) for i in [from, to), element by element: the slope in double and the product rounded
     * once. The slopes choose by {@link #select}, not by jumps: elu's from y took 54 ms per 16M floats with random
     * signs (a mispredicted jump every other element), 10 ms branch-free. One comparison per select: C2 compiles a
     * select of two comparisons joined by a logical and to jumps again (hardtanh 74 ms). Sigmoid, tanh and relu form
     * the same floats in float arithmetic, each in a loop of its own so that the slope inlines and the JIT vectorises
     * the loop (SuperWord) where the Vector API is missing: their double form took 26-61 ms per 16M floats there,
     * against a copy's 3.
     */
    void backwardSequential(float[] y, float[] dy, float[] dx, int from, int to, float a, float b) {
        for (int i = from; i < to; i++) {
            dx[i] = (float) (dy[i] * slope(y[i], a, b));
        }
    }

    private static double nanOr(double y, double v) {
        return select(y != y, y, v);
    }

    /** a where the condition holds, else b, as a conditional move (FloatMath.select): random signs mispredict a jump. */
    private static double select(boolean condition, double a, double b) {
        long mask = condition ? -1L : 0L;
        return Double.longBitsToDouble((Double.doubleToRawLongBits(a) & mask) | (Double.doubleToRawLongBits(b) & ~mask));
    }

    /** dx[i] = dy[i] * f'(y[i]) for i in [0, n); dx may be y or dy. */
    public void backward(float[] y, float[] dy, float[] dx, int n, float a, float b) {
        if (n < 0 || n > y.length || n > dy.length || n > dx.length) {
            throw new IllegalArgumentException("n = " + n + " does not fit the arrays");
        }
        Parallel.forEachChunk(n, (from, to) -> warmUp.run(to - from,
                (start, length) -> Vectorization.LOOPS.backwardFromOutput(this, y, dy, dx, from + start, length, a, b),
                (start, length) -> {
                    backwardSequential(y, dy, dx, from + start, from + start + length, a, b);
                    return length;
                }));
    }

    /**
     * Softmax backward from its output: dx = y (dy - sum_j dy_j y_j) / T per row; y and dy rows are
     * {@code layout.yStride()} apart, dx rows {@code layout.xStride()}. The sum in double (each product exact there),
     * the rest in float: rounding s, dy - s, the product and the quotient add at most 2 ULP of the contract's scale
     * y (|dy| + sum |dy_j| y_j) / T, and the float loop vectorises.
     */
    public static void softmax(float[] y, float[] dy, float[] dx, Rowwise.Layout layout, double temperature) {
        float t = (float) temperature;
        int cols = layout.cols();
        eachRow(layout, (yb, xb) -> {
            float s = (float) dot(dy, yb, y, yb, cols);
            if (xb == yb) {  // one index for the three arrays: SuperWord vectorises only that form
                for (int i = yb; i < yb + cols; i++) {
                    dx[i] = y[i] * (dy[i] - s) / t;
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    dx[xb + j] = y[yb + j] * (dy[yb + j] - s) / t;
                }
            }
        });
    }

    private static final WarmUp LOG_SOFTMAX_EXP_WARM_UP = new WarmUp();

    /**
     * Log-softmax backward from its output: dx = (dy - e^y sum_j dy_j) / T per row, strides as {@link #softmax}: the
     * sum in double, e^y a block at a time by the vector loop or {@link BlockMath#exp} (the same bits, within 1 ULP for
     * y at most 0), dy - e^y s as one fma.
     */
    public static void logSoftmax(float[] y, float[] dy, float[] dx, Rowwise.Layout layout, double temperature) {
        float t = (float) temperature;
        int cols = layout.cols();
        eachRow(layout, (yb, xb) -> {
            float s = (float) sum(dy, yb, cols);
            float[][] scratch = BlockMath.scratch();
            float[] block = scratch[0];
            float[] gradient = scratch[2];
            for (int from = 0; from < cols; from += BlockMath.BLOCK) {
                int n = Math.min(BlockMath.BLOCK, cols - from);
                int at = yb + from;
                System.arraycopy(dy, at, gradient, 0, n);
                if (Rowwise.rowMax(y, at, n) > EXP_DOMAIN) {  // far from a log-probability, past exp's domain
                    for (int j = 0; j < n; j++) {
                        block[j] = (float) Math.exp(y[at + j]);
                    }
                } else {
                    LOG_SOFTMAX_EXP_WARM_UP.run(n,
                            (start, length) -> Vectorization.LOOPS.expPrefix(y, at + start, block, start, length),
                            (start, length) -> {
                                System.arraycopy(y, at + start, block, start, length);
                                if (start == 0) {
                                    BlockMath.exp(block, block, scratch[1], length);
                                } else {
                                    for (int k = start; k < start + length; k++) {
                                        block[k] = FloatMath.exp(block[k]);
                                    }
                                }
                                return length;
                            });
                }
                for (int j = 0; j < n; j++) {  // one index for every array: SuperWord vectorises only that form
                    block[j] = Math.fma(-block[j], s, gradient[j]) / t;
                }
                System.arraycopy(block, 0, dx, xb + from, n);
            }
        });
    }

    /** The largest x that BlockMath.exp and VectorLoops.expPrefix take (FloatMath.exp's domain). */
    private static final float EXP_DOMAIN = 43f;

    /** y[j] = y[j] (dy[j] - sum_k dy[k] y[k]) / t over j in [0, n): softmax backward on rows of scratch. */
    static void softmaxInPlace(float[] y, float[] dy, int n, float t) {
        float s = (float) dot(dy, 0, y, 0, n);
        for (int j = 0; j < n; j++) {
            y[j] = y[j] * (dy[j] - s) / t;
        }
    }

    /** p[j] = (dy[j] - p[j] sum_k dy[k]) / t over j in [0, n): log-softmax backward from the softmax row p. */
    static void logSoftmaxFromProbabilities(float[] p, float[] dy, int n, float t) {
        float s = (float) sum(dy, 0, n);
        for (int j = 0; j < n; j++) {
            p[j] = Math.fma(-p[j], s, dy[j]) / t;
        }
    }

    /**
     * sum_j a[aBase + j] b[bBase + j] over j in [0, n), in double (each product exact), four sums apart so that the
     * adds overlap.
     */
    private static double dot(float[] a, int aBase, float[] b, int bBase, int n) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            s0 += (double) a[aBase + j] * b[bBase + j];
            s1 += (double) a[aBase + j + 1] * b[bBase + j + 1];
            s2 += (double) a[aBase + j + 2] * b[bBase + j + 2];
            s3 += (double) a[aBase + j + 3] * b[bBase + j + 3];
        }
        for (; j < n; j++) {
            s0 += (double) a[aBase + j] * b[bBase + j];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static final float[] ONES = ones(BlockMath.BLOCK);

    private static float[] ones(int n) {
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        return ones;
    }

    /** sum_j a[base + j] over j in [0, n), in double: {@link #dot} with ones, a block at a time. */
    private static double sum(float[] a, int base, int n) {
        double total = 0;
        for (int from = 0; from < n; from += BlockMath.BLOCK) {
            total += dot(a, base + from, ONES, 0, Math.min(BlockMath.BLOCK, n - from));
        }
        return total;
    }

    private interface Row {
        void run(int yBase, int xBase);
    }

    private static void eachRow(Rowwise.Layout layout, Row row) {
        long work = (long) layout.rows() * layout.cols();
        Parallel.forEachChunk(layout.rows(), Parallel.balancedChunk(layout.rows(), 1), work, (from, to) -> {
            for (int r = from; r < to; r++) {
                row.run(layout.yo() + r * layout.yStride(), layout.xo() + r * layout.xStride());
            }
        });
    }
}
