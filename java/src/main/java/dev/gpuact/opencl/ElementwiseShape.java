package dev.gpuact.opencl;

import dev.gpuact.Op;
import java.util.EnumSet;
import java.util.Set;

/**
 * How an elementwise op maps onto work-items (the kernels of elementwise.cl), per op and direction. A GPU takes
 * one element per work-item. On a CPU device PoCL vectorises across the work-items of a group, which suits the
 * formulas that branch (gelu, silu, ...); the cheap ones and some built on a plain exp or tanh run faster, up to
 * the copy limit, when each work-item takes a strip of consecutive elements that the compiler turns into vector
 * code. Which formula is which was measured, not guessed (the sets below).
 */
enum ElementwiseShape {
    /** One element per work-item: kernels {@code fwd_NAME}, {@code bwd_NAME}. */
    ITEM("_", 1),
    /** {@link #STRIP_ELEMENTS} consecutive elements per work-item: kernels {@code fwd_strip_NAME}, .... */
    STRIP("_strip_", ElementwiseShape.STRIP_ELEMENTS);

    /** Elements of a strip: one AVX-512 vector of floats (GPUACT_STRIP). */
    static final int STRIP_ELEMENTS = 16;

    /**
     * The ops a CPU device runs faster in strips, forward: measured with PoCL 3.1 on AVX-512 at 16M floats, both
     * shapes (see bench/RESULTS.md): 1.3x (identity) to 3x (softshrink) faster, sigmoid, tanh and the elu family
     * 2x; silu, swish and gelu_tanh 2-3x since their sigmoid is one exp and selects (no branch). The others (gelu,
     * mish, softplus, tanhshrink, ricker) were 2x (mish) to 10x (gelu) slower in strips, where the compiler leaves
     * their loop scalar: items are vectorised across the work-group instead.
     */
    private static final Set<Op> CPU_STRIP_FORWARD = EnumSet.of(Op.IDENTITY, Op.STEP, Op.ABS, Op.SQUARE,
            Op.SIGMOID, Op.TANH, Op.RELU, Op.RELU6, Op.LEAKY_RELU, Op.ELU, Op.SELU, Op.CELU, Op.GELU_TANH, Op.SILU,
            Op.SWISH, Op.SOFTSIGN, Op.LOGSIGMOID, Op.HARDTANH, Op.HARDSIGMOID, Op.HARDSWISH, Op.SOFTSHRINK,
            Op.HARDSHRINK, Op.THRESHOLD);
    /**
     * The same, backward (other formulas, so another set): 1.2x (sigmoid) to 3x faster in strips, tanh, silu,
     * swish, elu and selu among them since their formulas are one exp without branches; gelu, gelu_tanh and mish
     * 5x-30x slower (a scalar loop), ricker slower, and celu since its derivative scales e^(x/alpha) where it
     * would be subnormal (7x slower in strips than as items, in one loaded run).
     */
    private static final Set<Op> CPU_STRIP_BACKWARD = EnumSet.of(Op.IDENTITY, Op.STEP, Op.ABS, Op.SQUARE,
            Op.SIGMOID, Op.TANH, Op.RELU, Op.RELU6, Op.LEAKY_RELU, Op.ELU, Op.SELU, Op.SILU, Op.SWISH, Op.SOFTPLUS,
            Op.SOFTSIGN, Op.LOGSIGMOID, Op.HARDTANH, Op.HARDSIGMOID, Op.HARDSWISH, Op.TANHSHRINK,
            Op.SOFTSHRINK, Op.HARDSHRINK, Op.THRESHOLD);

    private final String infix;
    private final int elementsPerItem;

    ElementwiseShape(String infix, int elementsPerItem) {
        this.infix = infix;
        this.elementsPerItem = elementsPerItem;
    }

    /** The kernel of {@code op} in this shape, forward or backward. */
    String kernel(Op op, boolean backward) {
        return (backward ? "bwd" : "fwd") + infix + op.name();
    }

    /** Work-items that cover {@code n} elements. */
    long items(long n) {
        return (n + elementsPerItem - 1) / elementsPerItem;
    }

    /** The backward kernel from the saved output y ({@code bwdy_NAME}, {@code bwdy_strip_NAME}). */
    String kernelFromOutput(Op op) {
        return "bwdy" + infix + op.name();
    }

    /** Every backward formula from y is a few flops without a branch: strips on a CPU device, as the cheap ops. */
    static ElementwiseShape fromOutput(OpenClDevice device) {
        return device.isCpu() ? STRIP : ITEM;
    }

    static ElementwiseShape choose(OpenClDevice device, Op op, boolean backward) {
        return device.isCpu() && (backward ? CPU_STRIP_BACKWARD : CPU_STRIP_FORWARD).contains(op) ? STRIP : ITEM;
    }
}
