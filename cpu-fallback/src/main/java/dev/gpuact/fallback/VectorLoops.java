package dev.gpuact.fallback;

/**
 * Kernel loops that a vectorised implementation takes over: each call does a prefix of the n elements and returns
 * its length; the scalar loop does the rest. {@link Vectorization} picks the implementation once.
 */
interface VectorLoops {
    /** What runs, in words for {@code gpuact info}. */
    String description();

    int forward(ElementwiseKernel op, float[] x, int xo, float[] y, int yo, int n, float a, float b);

    int backward(ElementwiseKernel op, float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo, int n, float a,
                 float b);

    /** {@link OutputBackward#backward} on [from, from + done), done returned; the same bits as its scalar loop. */
    int backwardFromOutput(OutputBackward op, float[] y, float[] dy, float[] dx, int from, int n, float a, float b);

    /**
     * out[at, at + done) = FloatMath.exp(x[from, from + done)), done returned: the same bits as {@link BlockMath#exp}
     * where x is at most 43 (or NaN), as FloatMath.exp's domain; above, unspecified.
     */
    int expPrefix(float[] x, int from, float[] out, int at, int n);

    /** How many leading elements of x[from, from + n) {@link #maxOfPrefix} covers. */
    int maxPrefix(int n);

    /** The maximum of x[from, from + maxPrefix(n)), NaN if one is NaN; -inf when the prefix is empty. */
    float maxOfPrefix(float[] x, int from, int n);

    /** Whether {@link #softmaxRow} and {@link #logSoftmaxRow} take rows at temperature t (else the scalar loop does). */
    boolean takesRows(float t);

    /**
     * Softmax of one row whose maximum m is finite, at a temperature it takes. Its loop also reads the row of the same
     * length at aheadXb and returns that row's {@link #maxOfPrefix}: the next row comes from memory while this row's
     * arithmetic runs, instead of in a pass of its own. With aheadXb = -1 (no row ahead) the result has no meaning.
     */
    float softmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, float t, int aheadXb);

    /** Log-softmax of one row as {@link #softmaxRow}. */
    float logSoftmaxRow(float[] x, int xb, float[] y, int yb, int cols, float m, float t, int aheadXb);
}
