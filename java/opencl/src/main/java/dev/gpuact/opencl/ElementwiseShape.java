package dev.gpuact.opencl;

import dev.gpuact.Op;
import dev.gpuact.spi.KernelName;

/**
 * How an elementwise op maps onto work-items (the kernels of elementwise.cl). A GPU takes one element per
 * work-item. A CPU device takes a strip of consecutive elements per work-item, whose loop the compiler turns into
 * vector code, for every op and direction: with the device math inlined into every kernel (activation_math.h),
 * every strip loop vectorises, and each op ran 1.1x (softplus forward) to 7x (softsign forward) faster in strips
 * than as items, measured with PoCL 3.1 on AVX-512 at 16M floats (see bench/RESULTS.md). Before the math was
 * inlined, PoCL left the strip loops of its longest formulas (gelu, mish backward, ...) scalar, and those ran as
 * items.
 */
enum ElementwiseShape {
    /** One element per work-item: kernels {@code gpuact_<id>_fwd}, {@code gpuact_<id>_bwd}. */
    ITEM("", 1),
    /** {@link #STRIP_ELEMENTS} consecutive elements per work-item: kernels {@code gpuact_<id>_fwd_strip}, .... */
    STRIP("strip", ElementwiseShape.STRIP_ELEMENTS);

    /** Elements of a strip: one AVX-512 vector of floats (GPUACT_STRIP). */
    static final int STRIP_ELEMENTS = 16;

    private final String variant;
    private final int elementsPerItem;

    ElementwiseShape(String variant, int elementsPerItem) {
        this.variant = variant;
        this.elementsPerItem = elementsPerItem;
    }

    /** The kernel of {@code op} in this shape, forward or backward. */
    String kernel(Op op, boolean backward) {
        return KernelName.of(op, KernelName.direction(backward), variant);
    }

    /** Work-items that cover {@code n} elements. */
    long items(long n) {
        return (n + elementsPerItem - 1) / elementsPerItem;
    }

    /** The backward kernel from the saved output y ({@code gpuact_<id>_bwdy}, {@code gpuact_<id>_bwdy_strip}). */
    String kernelFromOutput(Op op) {
        return KernelName.of(op, KernelName.FROM_OUTPUT, variant);
    }

    /** The bias-and-activation forward kernel of {@code op} in this shape ({@code gpuact_<id>_bias_fwd}, ...). */
    String biasKernel(Op op) {
        return KernelName.of(op, KernelName.BIAS_FORWARD, variant);
    }

    /**
     * The bias backward kernel that writes dx alone ({@code gpuact_<id>_bias_bwd_strip}): strips only, for a bias
     * per column on a CPU device; the one-pass kernel {@code gpuact_<id>_bias_bwd} sums dbias as it goes.
     */
    String biasBackwardKernel(Op op) {
        if (this != STRIP) {
            throw new IllegalStateException("the dx-only bias backward kernel is a strip kernel");
        }
        return KernelName.of(op, KernelName.BIAS_BACKWARD, variant);
    }

    /** The shape of every elementwise kernel on {@code device}, forward, backward and from the output. */
    static ElementwiseShape of(OpenClDevice device) {
        return device.isCpu() ? STRIP : ITEM;
    }
}
