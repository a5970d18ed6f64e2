package dev.gpuact;

import dev.gpuact.fallback.HalfFloats;

/**
 * Element type of a {@link DeviceBuffer}: how its elements are stored. Every op computes in float32; a 16-bit
 * buffer (float16, bfloat16) is widened exactly where it is read and the float32 result is rounded once, to the
 * nearest (ties to even), where it is written. {@link #FLOAT64} is named so the API does not change when it arrives.
 */
public enum DType {
    FLOAT32(4, true),
    FLOAT16(2, true),
    BFLOAT16(2, true),
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

    /** Whether the elements are 16-bit storage (float16 or bfloat16), which raw {@code short} access reads and writes. */
    public boolean isHalf() {
        return bytes == 2;
    }

    /** Throws {@link UnsupportedOperationException} naming the type when no backend computes it yet. */
    public DType requireSupported() {
        if (!supported) {
            throw new UnsupportedOperationException("element type " + this + " is not supported yet; use FLOAT32, "
                    + "FLOAT16 or BFLOAT16");
        }
        return this;
    }

    /** {@code value} rounded once to this 16-bit type (to nearest, ties to even; NaN stays a quiet NaN), as its bits. */
    public short toBits(float value) {
        return switch (this) {
            case FLOAT16 -> HalfFloats.floatToFloat16(value);
            case BFLOAT16 -> HalfFloats.floatToBfloat16(value);
            default -> throw notHalf();
        };
    }

    /** The value of this 16-bit type with bits {@code bits}, as a float (exact). */
    public float fromBits(short bits) {
        return switch (this) {
            case FLOAT16 -> HalfFloats.float16ToFloat(bits);
            case BFLOAT16 -> HalfFloats.bfloat16ToFloat(bits);
            default -> throw notHalf();
        };
    }

    /** {@code value} rounded to this type and widened back: the float a buffer of this type holds after a write. */
    public float round(float value) {
        return isHalf() ? fromBits(toBits(value)) : value;
    }

    private IllegalArgumentException notHalf() {
        return new IllegalArgumentException(this + " is not a 16-bit type; raw bits are FLOAT16 or BFLOAT16");
    }
}
