package dev.gpuact;

/** Element type of a {@link DeviceBuffer}. Only {@link #FLOAT32} is computed today; the others are named so the API does not change when they arrive. */
public enum DType {
    FLOAT32(4, true),
    FLOAT16(2, false),
    BFLOAT16(2, false),
    FLOAT64(8, false);

    private final int bytes;
    private final boolean supported;

    DType(int bytes, boolean supported) {
        this.bytes = bytes;
        this.supported = supported;
    }

    public int bytes() {
        return bytes;
    }

    public boolean supported() {
        return supported;
    }

    /** Throws {@link UnsupportedOperationException} naming the type when no backend computes it yet. */
    public DType requireSupported() {
        if (!supported) {
            throw new UnsupportedOperationException("element type " + this + " is not supported yet; use FLOAT32");
        }
        return this;
    }
}
