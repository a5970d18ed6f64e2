package dev.gpuact.spi;

/**
 * Where a gated op's halves lie, for the {@code computeGated*} methods: row r's gate element c is at
 * {@code gateOffset + r * inputStride + c} of the gate buffer, its other element at
 * {@code otherOffset + r * inputStride + c} of the other buffer; the output and dy are dense [rows, hidden]. The
 * input gradients use the inputs' offsets and stride. One buffer [rows, 2H]: stride 2H, offsets 0 and H (which
 * is the gate depends on the op); two buffers [rows, H]: stride H, offsets 0.
 */
public record GatedLayout(long rows, long hidden, long inputStride, long gateOffset, long otherOffset) {
    /** Output elements: rows x hidden. */
    public long outputs() {
        return rows * hidden;
    }

    /** Whether gate and other rows are dense (the two-buffer form), so element i of a half is at offset + i. */
    public boolean dense() {
        return inputStride == hidden;
    }
}
