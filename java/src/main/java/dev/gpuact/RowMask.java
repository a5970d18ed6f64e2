package dev.gpuact;

import java.util.Arrays;
import java.util.Objects;

/**
 * What softmax and log_softmax leave out of each row, as attention masks its scores: an additive float mask, valid
 * lengths (key padding) and a causal limit, each optional and all composable with one another and with the
 * temperature. Immutable; built fluently from {@link #none()}:
 *
 * <pre>{@code
 * RowMask.none().add(maskBuffer, headsPerMaskRow).lengths(validKeys).causal(cacheLength)
 * }</pre>
 *
 * <p>Row {@code r} of a {@link RowLayout} computes the op over {@code z_j = x_j + mask[r / rowsPerMaskRow][j]}
 * (the sum rounded to float32 first) for the columns {@code j < min(length(r), i + offset + 1)} and treats every
 * other column as {@code -inf}: softmax gives 0 there, log_softmax {@code -inf}. The result is the unmasked op on
 * that z row, so a row left with nothing but {@code -inf} follows the op's {@code masked_nan} choice (zeros or
 * {@code -inf}, or NaN), and a NaN or {@code +inf} in z makes the whole row NaN. The backward pass is the unmasked
 * one at z: softmax's gradient is 0 in a masked column, log_softmax's {@code dy / T}; the backward pass from the
 * saved output needs no mask (y carries it).
 *
 * <p>Lengths are host integers, one per row or per group of rows, between 0 and the row length (checked before any
 * work starts): they are few, an engine's scheduler holds them, and the backend copies them with the call. The
 * additive mask is a float32 buffer of the backend, dense rows of {@code cols} values.
 */
public final class RowMask {
    private static final RowMask NONE = new RowMask(null, 1, null, 1, false, 0, 0);

    private final DeviceBuffer additive;
    private final long rowsPerMaskRow;
    private final int[] lengths;
    private final long rowsPerLength;
    private final boolean causal;
    private final long offset;
    private final long rowsPerQuery;

    private RowMask(DeviceBuffer additive, long rowsPerMaskRow, int[] lengths, long rowsPerLength, boolean causal,
                    long offset, long rowsPerQuery) {
        this.additive = additive;
        this.rowsPerMaskRow = rowsPerMaskRow;
        this.lengths = lengths;
        this.rowsPerLength = rowsPerLength;
        this.causal = causal;
        this.offset = offset;
        this.rowsPerQuery = rowsPerQuery;
    }

    /** No mask: the plain op. */
    public static RowMask none() {
        return NONE;
    }

    /**
     * An additive float mask with one row of {@code cols} values for each group of {@code rowsPerMaskRow}
     * consecutive rows (1: a row of mask per row; the heads of one sequence share theirs with rowsPerMaskRow =
     * heads x queries). It must hold exactly ceil(rows / rowsPerMaskRow) x cols values.
     */
    public RowMask add(DeviceBuffer mask, long rowsPerMaskRow) {
        Objects.requireNonNull(mask, "mask");
        requirePositive("rowsPerMaskRow", rowsPerMaskRow);
        return new RowMask(mask, rowsPerMaskRow, lengths, rowsPerLength, causal, offset, rowsPerQuery);
    }

    /** {@link #add(DeviceBuffer, long)} with a row of mask per row. */
    public RowMask add(DeviceBuffer mask) {
        return add(mask, 1);
    }

    /** Valid lengths, one per row: row r keeps its first lengths[r] columns. */
    public RowMask lengths(int[] lengths) {
        return lengths(lengths, 1);
    }

    /** Valid lengths, one per group of {@code rowsPerLength} consecutive rows (the queries of one sequence). */
    public RowMask lengths(int[] lengths, long rowsPerLength) {
        Objects.requireNonNull(lengths, "lengths");
        requirePositive("rowsPerLength", rowsPerLength);
        int[] copy = lengths.clone();
        for (int i = 0; i < copy.length; i++) {
            if (copy[i] < 0) {
                throw new IllegalArgumentException("lengths[" + i + "] is " + copy[i] + "; a valid length is >= 0");
            }
        }
        return new RowMask(additive, rowsPerMaskRow, copy, rowsPerLength, causal, offset, rowsPerQuery);
    }

    /** {@link #lengths(int[], long)} from 64-bit lengths (int64 tensors); each must fit an int. */
    public RowMask lengths(long[] lengths, long rowsPerLength) {
        Objects.requireNonNull(lengths, "lengths");
        int[] narrow = new int[lengths.length];
        for (int i = 0; i < lengths.length; i++) {
            if (lengths[i] < 0 || lengths[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("lengths[" + i + "] is " + lengths[i]
                        + "; a valid length is between 0 and " + Integer.MAX_VALUE);
            }
            narrow[i] = (int) lengths[i];
        }
        return lengths(narrow, rowsPerLength);
    }

    /**
     * Causal: row r (query i = r) sees the columns {@code j <= i + offset}; offset is the number of keys before the
     * first query (a decoding step with a cache of n keys: offset n). Negative offsets hide the first rows entirely.
     */
    public RowMask causal(long offset) {
        return causal(offset, 0);
    }

    /**
     * Causal over batches of {@code rowsPerQuery} queries: row r is query i = r mod rowsPerQuery (batch x heads x
     * queries rows); 0 means the rows are one run of queries.
     */
    public RowMask causal(long offset, long rowsPerQuery) {
        if (rowsPerQuery < 0) {
            throw new IllegalArgumentException("rowsPerQuery must be >= 0 (0: no wrap), got " + rowsPerQuery);
        }
        return new RowMask(additive, rowsPerMaskRow, lengths, rowsPerLength, true, offset, rowsPerQuery);
    }

    /** Whether this masks nothing. */
    public boolean isNone() {
        return additive == null && lengths == null && !causal;
    }

    /** The additive mask buffer, or null. */
    public DeviceBuffer additive() {
        return additive;
    }

    public long rowsPerMaskRow() {
        return rowsPerMaskRow;
    }

    /** A copy of the lengths, or null. */
    public int[] lengths() {
        return lengths == null ? null : lengths.clone();
    }

    public long rowsPerLength() {
        return rowsPerLength;
    }

    public boolean isCausal() {
        return causal;
    }

    public long offset() {
        return offset;
    }

    public long rowsPerQuery() {
        return rowsPerQuery;
    }

    /** How many rows of mask (or lengths) {@code rows} rows need in groups of {@code perGroup}. */
    public static long groups(long rows, long perGroup) {
        return rows == 0 ? 0 : (rows - 1) / perGroup + 1;
    }

    /**
     * The columns of row r that take part: its length and its causal limit, within [0, cols]; the rest is -inf.
     * Every backend's kernel computes the same prefix from the same three numbers.
     */
    public long validColumns(long row, long cols) {
        long valid = cols;
        if (lengths != null) {
            valid = Math.min(valid, lengths[(int) (row / rowsPerLength)]);
        }
        if (causal) {
            long query = rowsPerQuery == 0 ? row : row % rowsPerQuery;
            // query + offset + 1, without overflow for offsets near the ends of long
            long limit = offset >= cols - query ? cols : Math.max(0, query + offset + 1);
            valid = Math.min(valid, limit);
        }
        return valid;
    }

    @Override
    public String toString() {
        if (isNone()) {
            return "RowMask.none()";
        }
        StringBuilder sb = new StringBuilder("RowMask");
        if (additive != null) {
            sb.append(".add(").append(additive).append(", ").append(rowsPerMaskRow).append(')');
        }
        if (lengths != null) {
            sb.append(".lengths(").append(lengths.length > 8 ? lengths.length + " lengths"
                    : Arrays.toString(lengths)).append(", ").append(rowsPerLength).append(')');
        }
        if (causal) {
            sb.append(".causal(").append(offset).append(", ").append(rowsPerQuery).append(')');
        }
        return sb.toString();
    }

    private static void requirePositive(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
    }
}
