package dev.gpuact.fallback;

import static dev.gpuact.fallback.ElementwiseKernel.checkRange;

/**
 * Gated activations, {@code y = f(gate) * other}, over rows whose gate and other halves lie {@code inputStride}
 * apart in the input arrays (one array [rows, 2H] with the halves H apart, or two arrays [rows, H]) and whose
 * output rows are dense. f is an {@link ElementwiseKernel}, run on blocks of a row: the gated op adds one float
 * product to the activation's own loop and no math of its own.
 *
 * <p>Each block of inputs is read before any output of it is written, so an output may be the same array region
 * as the input half it replaces (in place); see the methods for which regions may be shared.
 */
public final class Gated {
    /**
     * Floats per thread-local block: gate elements of several rows are gathered into one block, so the activation's
     * vector loop sees blocks as long as it needs ({@link WarmUp} gives shorter calls to the scalar loop); three
     * blocks stay in the L2 cache.
     */
    private static final int BLOCK = 8192;
    private static final ThreadLocal<float[][]> BLOCKS = ThreadLocal.withInitial(() -> new float[3][BLOCK]);

    /** A run of {@code length} outputs from position {@code at} of a block, whose inputs start at {@code in}. */
    @FunctionalInterface
    private interface Segment {
        void run(int at, int in, int length);
    }

    private Gated() {
    }

    /**
     * y[r, c] = f(gate[go + r * inputStride + c]) * other[oo + r * inputStride + c] into y[yo + r * hidden + c].
     * y may be the gate's or the other's region when both use the output's layout.
     */
    public static void forward(ElementwiseKernel f, float[] gate, int go, float[] other, int oo, int inputStride,
                               float[] y, int yo, int rows, int hidden, float a, float b) {
        checkLayout(gate, go, other, oo, inputStride, rows, hidden);
        checkRange("y", y, yo, rows * hidden);
        forEachBlock(rows * hidden, (from, to) -> {
            float[] activated = BLOCKS.get()[0];
            forEachSegment(from, to, hidden, inputStride, (at, in, length) ->
                    System.arraycopy(gate, go + in, activated, at, length));
            f.forwardChunk(activated, 0, activated, 0, to - from, a, b);
            forEachSegment(from, to, hidden, inputStride, (at, in, length) -> {
                for (int k = 0; k < length; k++) {
                    y[yo + from + at + k] = activated[at + k] * other[oo + in + k];
                }
            });
        });
    }

    /**
     * dGate = dy * other * f'(gate) and dOther = dy * f(gate), the input gradients laid out as the inputs
     * ({@code dgo}, {@code doo}, {@code inputStride}) and dy as the output. dGate may share the gate's or dy's
     * region, dOther the other's or dy's; the two must not cross (dGate on the other's region, or the reverse).
     */
    public static void backward(ElementwiseKernel f, float[] gate, int go, float[] other, int oo, int inputStride,
                                float[] dy, int dyo, float[] dGate, int dgo, float[] dOther, int doo, int rows,
                                int hidden, float a, float b) {
        checkLayout(gate, go, other, oo, inputStride, rows, hidden);
        checkRange("dy", dy, dyo, rows * hidden);
        checkLayout(dGate, dgo, dOther, doo, inputStride, rows, hidden);
        forEachBlock(rows * hidden, (from, to) -> {
            float[][] blocks = BLOCKS.get();
            float[] gates = blocks[0];
            float[] activated = blocks[1];
            float[] scaledDy = blocks[2];
            forEachSegment(from, to, hidden, inputStride, (at, in, length) ->
                    System.arraycopy(gate, go + in, gates, at, length));
            f.forwardChunk(gates, 0, activated, 0, to - from, a, b);
            forEachSegment(from, to, hidden, inputStride, (at, in, length) -> {
                for (int k = 0; k < length; k++) {
                    float d = dy[dyo + from + at + k];
                    scaledDy[at + k] = d * other[oo + in + k];
                    dOther[doo + in + k] = d * activated[at + k];
                }
            });
            f.backwardChunk(gates, 0, scaledDy, 0, scaledDy, 0, to - from, a, b);
            forEachSegment(from, to, hidden, inputStride, (at, in, length) ->
                    System.arraycopy(scaledDy, at, dGate, dgo + in, length));
        });
    }

    /** Runs {@code block} over [0, n) in blocks of at most {@link #BLOCK} outputs, on all cores when n is large. */
    private static void forEachBlock(int n, Parallel.Range block) {
        Parallel.forEachChunk(n, BLOCK, n, (from, to) -> {
            for (int start = from; start < to; start += BLOCK) {
                block.run(start, Math.min(to, start + BLOCK));
            }
        });
    }

    /** The outputs [from, to) as runs within one row each, with where their inputs start. */
    private static void forEachSegment(int from, int to, int hidden, int inputStride, Segment segment) {
        for (int i = from; i < to; ) {
            int row = i / hidden;
            int column = i - row * hidden;
            int length = Math.min(to - i, hidden - column);
            segment.run(i - from, row * inputStride + column, length);
            i += length;
        }
    }

    private static void checkLayout(float[] gate, int go, float[] other, int oo, int inputStride, int rows,
                                    int hidden) {
        if (rows < 0 || hidden < 0) {
            throw new IllegalArgumentException("rows and hidden must be >= 0, got " + rows + " and " + hidden);
        }
        if (inputStride < hidden) {
            throw new IllegalArgumentException("inputStride must be >= hidden (" + hidden + "), got " + inputStride);
        }
        if (rows == 0 || hidden == 0) {
            return;
        }
        long extent = (long) (rows - 1) * inputStride + hidden;
        if (extent > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(rows + " rows " + inputStride + " apart do not fit an array");
        }
        checkRange("gate", gate, go, (int) extent);
        checkRange("other", other, oo, (int) extent);
    }
}
