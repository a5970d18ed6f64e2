package dev.gpuact.cli;

import java.util.Arrays;
import java.util.StringJoiner;

/** The dimensions of a C-order array, checked so that the element count fits in a long. */
public final class Shape {
    private final long[] dims;
    private final long count;

    private Shape(long[] dims) {
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) {
                throw new IllegalArgumentException("dimension " + i + " is negative (" + dims[i] + ")");
            }
            try {
                n = Math.multiplyExact(n, dims[i]);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("the element count of shape " + format(dims) + " overflows a long");
            }
        }
        this.dims = dims;
        this.count = n;
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
