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
    /** Floats per thread-local block: a block of f(gate) and one of dy * other stay in the L1 cache. */
    private static final int BLOCK = 2048;
    private static final ThreadLocal<float[][]> BLOCKS = ThreadLocal.withInitial(() -> new float[2][BLOCK]);

    /** One piece of a row: {@code length} elements from column {@code column} of row {@code row}. */
    @FunctionalInterface
    private interface Piece {
        void run(int row, int column, int length);
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
        forEachPiece(rows, hidden, (row, column, length) -> {
            float[] activated = BLOCKS.get()[0];
            int in = row * inputStride + column;
            f.forwardChunk(gate, go + in, activated, 0, length, a, b);
            int out = yo + row * hidden + column;
            for (int i = 0; i < length; i++) {
                y[out + i] = activated[i] * other[oo + in + i];
            }
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
        forEachPiece(rows, hidden, (row, column, length) -> {
            float[][] blocks = BLOCKS.get();
            float[] activated = blocks[0];
            float[] scaledDy = blocks[1];
            int in = row * inputStride + column;
            int out = dyo + row * hidden + column;
            f.forwardChunk(gate, go + in, activated, 0, length, a, b);
            for (int i = 0; i < length; i++) {
                scaledDy[i] = dy[out + i] * other[oo + in + i];
            }
            for (int i = 0; i < length; i++) {
                dOther[doo + in + i] = dy[out + i] * activated[i];
            }
            f.backwardChunk(gate, go + in, scaledDy, 0, dGate, dgo + in, length, a, b);
        });
    }

    /** Runs {@code piece} over every row's columns in blocks of at most {@link #BLOCK}, on all cores when large. */
    private static void forEachPiece(int rows, int hidden, Piece piece) {
        int blocksPerRow = (hidden + BLOCK - 1) / BLOCK;
        long pieces = (long) rows * blocksPerRow;
        if (pieces > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(rows + " rows of " + hidden + " are too many pieces");
        }
        // Rows shorter than a block are grouped so a parallel chunk still holds about CHUNK_ELEMENTS floats.
        int rowsPerChunk = Math.max(1, Parallel.CHUNK_ELEMENTS / Math.max(1, hidden));
        if (blocksPerRow == 1) {
            Parallel.forEachChunk(rows, rowsPerChunk, (long) rows * hidden, (from, to) -> {
                for (int row = from; row < to; row++) {
                    piece.run(row, 0, hidden);
                }
            });
            return;
        }
        Parallel.forEachChunk((int) pieces, Math.max(1, Parallel.CHUNK_ELEMENTS / BLOCK), (long) rows * hidden,
                (from, to) -> {
                    for (int p = from; p < to; p++) {
                        int row = p / blocksPerRow;
                        int column = p % blocksPerRow * BLOCK;
                        piece.run(row, column, Math.min(BLOCK, hidden - column));
                    }
                });
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
