package dev.gpuact.spi;

import dev.gpuact.DType;
import dev.gpuact.Op;

/**
 * The one rule every device kernel is named by, on CUDA and OpenCL alike: {@code gpuact_<op id>_<pass>}, the pass
 * being the direction ({@value #FORWARD}, {@value #BACKWARD}, or {@value #FROM_OUTPUT} from the saved output) and
 * the kernel's variant if it has one: {@code gpuact_leaky_relu_fwd}, {@code gpuact_gelu_bwd_strip},
 * {@code gpuact_softmax_fwd_warp8}, {@code gpuact_prelu_dweight_partial}. The kernel sources write the same names
 * with {@code GPUACT_KERNEL_NAME(id, pass)} of activation_math.h.
 */
public final class KernelName {
    public static final String FORWARD = "fwd";
    public static final String BACKWARD = "bwd";
    public static final String FROM_OUTPUT = "bwdy";
    /** Bias and activation: {@code gpuact_<op id>_bias_fwd}, and {@code _bias_bwd} (dx and the bias gradient's stage 1). */
    public static final String BIAS_FORWARD = "bias_fwd";
    public static final String BIAS_BACKWARD = "bias_bwd";

    private KernelName() {
    }

    /** {@code gpuact_<op id>_<pass>}. */
    public static String of(Op op, String pass) {
        return "gpuact_" + op.id() + "_" + pass;
    }

    /** {@code gpuact_<op id>_<direction>_<variant>}, or without the variant where it is empty. */
    public static String of(Op op, String direction, String variant) {
        return of(op, variant.isEmpty() ? direction : direction + "_" + variant);
    }

    /**
     * The conversion kernel from one storage type to another, {@code gpuact_convert_<from>_<to>} with the types'
     * names in the kernel sources ({@code float}, {@code half}, {@code bfloat16}); between two buffers of one
     * 16-bit type, {@code gpuact_convert_bits}, a copy that keeps every NaN's bits.
     */
    public static String convert(DType from, DType to) {
        return from == to ? "gpuact_convert_bits" : "gpuact_convert_" + storage(from) + "_" + storage(to);
    }

    /** The name of a storage type in the kernel sources. */
    public static String storage(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> "float";
            case FLOAT16 -> "half";
            case BFLOAT16 -> "bfloat16";
            default -> throw new IllegalArgumentException(dtype + " has no kernel storage");
        };
    }

    /** {@link #FORWARD} or {@link #BACKWARD}. */
    public static String direction(boolean backward) {
        return backward ? BACKWARD : FORWARD;
    }
}
