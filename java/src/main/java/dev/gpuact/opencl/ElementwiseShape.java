package dev.gpuact.opencl;

import dev.gpuact.Op;
import dev.gpuact.spi.KernelName;

/**
 * How an elementwise op maps onto work-items (the kernels of elementwise.cl), per op and direction. A GPU takes
 * one element per work-item. On a CPU device PoCL vectorises across the work-items of a group, which suits the
 * formulas that branch (gelu, silu, ...); the cheap ones and some built on a plain exp or tanh run faster, up to
 * the copy limit, when each work-item takes a strip of consecutive elements that the compiler turns into vector
 * code. Which formula is which was measured, not guessed: each op's {@link dev.gpuact.OpInfo#cpuStrips} says it.
 * Measured with PoCL 3.1 on AVX-512 at 16M floats, both shapes (see bench/RESULTS.md): forward 1.3x (identity) to
 * 3x (softshrink) faster in strips, sigmoid, tanh and the elu family 2x; silu, swish and gelu_tanh 2-3x since their
 * sigmoid is one exp and selects (no branch); gelu, mish, softplus, tanhshrink and ricker 2x (mish) to 10x (gelu)
 * slower in strips, where the compiler leaves their loop scalar. Backward (other formulas): 1.2x (sigmoid) to 3x
 * faster, tanh, silu, swish, elu and selu among them; gelu, gelu_tanh and mish 5x-30x slower, ricker slower.
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

    /** Every backward formula from y is a few flops without a branch: strips on a CPU device, as the cheap ops. */
    static ElementwiseShape fromOutput(OpenClDevice device) {
        return device.isCpu() ? STRIP : ITEM;
    }

    static ElementwiseShape choose(OpenClDevice device, Op op, boolean backward) {
        return device.isCpu() && op.info().cpuStrips(backward) ? STRIP : ITEM;
    }
}
