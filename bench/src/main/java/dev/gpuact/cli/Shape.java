package dev.gpuact.cli;

import java.util.Arrays;
import java.util.StringJoiner;

/** The dimensions of a C-order array, checked so that the element count fits in a long. */
public final class Shape {
    /** numpy's NPY_MAXDIMS (64 since numpy 2.0): a file of more dimensions could not be loaded there. */
    static final int MAX_RANK = 64;
    private final long[] dims;
    private final long count;

    /**
     * As numpy does: the non-zero dimensions times the float32 item size must fit in a long even when another
     * dimension is 0 (numpy calls a (2**61, 0) float32 array "too big" although it holds nothing).
     */
    private Shape(long[] dims) {
        if (dims.length > MAX_RANK) {
            throw new IllegalArgumentException("shape has " + dims.length + " dimensions; numpy holds at most " + MAX_RANK);
        }
        long nonZero = 1;
        boolean empty = false;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) {
                throw new IllegalArgumentException("dimension " + i + " is negative (" + dims[i] + ")");
            }
            if (dims[i] == 0) {
                empty = true;
                continue;
            }
            try {
                nonZero = Math.multiplyExact(nonZero, dims[i]);
                Math.multiplyExact(nonZero, (long) Float.BYTES);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + format(dims) + " is too big: its float32 bytes overflow a long");
            }
        }
        this.dims = dims;
        this.count = empty ? 0 : nonZero;
    }

    /** @throws IllegalArgumentException for a negative dimension or an element count that overflows */
    public static Shape of(long... dims) {
        return new Shape(dims.clone());
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int axis) {
        return dims[axis];
    }

    public long[] dims() {
        return dims.clone();
    }

    /** Elements in the array: 1 for a 0-d scalar. */
    public long count() {
        return count;
    }

    /** Product of the dimensions in [from, to). */
    public long product(int from, int to) {
        long n = 1;
        for (int i = from; i < to; i++) {
            n *= dims[i];
        }
        return n;
    }

    /** This shape with its last dimension replaced; the rank must be at least 1. */
    public Shape withLast(long last) {
        long[] d = dims.clone();
        d[d.length - 1] = last;
        return new Shape(d);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape other && Arrays.equals(other.dims, dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** As numpy prints a shape: {@code ()}, {@code (5,)}, {@code (2, 3)}. */
    @Override
    public String toString() {
        return format(dims);
    }

    private static String format(long[] dims) {
        if (dims.length == 1) {
            return "(" + dims[0] + ",)";
        }
        StringJoiner j = new StringJoiner(", ", "(", ")");
        for (long d : dims) {
            j.add(Long.toString(d));
        }
        return j.toString();
    }
}
