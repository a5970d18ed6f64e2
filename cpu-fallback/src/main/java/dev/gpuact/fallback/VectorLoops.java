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
}
