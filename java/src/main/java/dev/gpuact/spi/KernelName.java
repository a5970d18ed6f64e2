package dev.gpuact.spi;

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

    /** {@link #FORWARD} or {@link #BACKWARD}. */
    public static String direction(boolean backward) {
        return backward ? BACKWARD : FORWARD;
    }
}
