package dev.gpuact;

/**
 * A matrix of {@code rows x cols} for the row-wise ops, with the distance between rows of the input
 * ({@code xStride}, also used by dx in a backward pass) and of the output ({@code yStride}, also used by dy).
 * For maxout the output has {@code cols / pieces} columns.
 */
public record RowLayout(long rows, long cols, long xStride, long yStride) {
    public RowLayout {
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        }
        if (cols < 0) {
            throw new IllegalArgumentException("cols must be >= 0, got " + cols);
        }
        if (xStride < cols) {
            throw new IllegalArgumentException("xStride must be >= cols (" + cols + "), got " + xStride);
        }
        if (yStride < 0) {
            throw new IllegalArgumentException("yStride must be >= 0, got " + yStride);
        }
        if (rows > 0 && (Long.MAX_VALUE - cols) / rows < Math.max(xStride, yStride)) {
            throw new IllegalArgumentException("rows x stride overflows: rows=" + rows + ", xStride=" + xStride + ", yStride=" + yStride);
        }
    }

    /** A dense matrix: both strides equal {@code cols}. */
    public static RowLayout of(long rows, long cols) {
        return new RowLayout(rows, cols, cols, cols);
    }

    /** Dense input, and an output row of {@code outCols} elements (maxout: cols / pieces). */
    public static RowLayout of(long rows, long cols, long outCols) {
        return new RowLayout(rows, cols, cols, outCols);
    }

    /** Elements an input buffer must hold: the last row need not be padded to the stride. */
    public long xExtent() {
        return rows == 0 ? 0 : (rows - 1) * xStride + cols;
    }

    /** Elements an output buffer must hold for an output row of {@code outCols}. */
    public long yExtent(long outCols) {
        return rows == 0 ? 0 : (rows - 1) * yStride + outCols;
    }

    public boolean isEmpty() {
        return rows == 0 || cols == 0;
    }
}
