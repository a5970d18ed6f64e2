package dev.gpuact.opencl;

import dev.gpuact.Op;
import java.util.EnumSet;
import java.util.Set;

/**
 * How an elementwise op maps onto work-items (the kernels of elementwise.cl). A GPU takes one element per
 * work-item. On a CPU device PoCL vectorises across the work-items of a group, which suits the ops whose math
 * branches (gelu, silu, softplus, ...); the cheap ops and those built on a plain exp or tanh run faster, up to the
 * copy limit, when each work-item takes a strip of consecutive elements that the compiler turns into vector code.
 */
enum ElementwiseShape {
    /** One element per work-item: kernels {@code fwd_NAME}, {@code bwd_NAME}. */
    ITEM("_", 1),
    /** {@link #STRIP_ELEMENTS} consecutive elements per work-item: kernels {@code fwd_strip_NAME}, .... */
    STRIP("_strip_", ElementwiseShape.STRIP_ELEMENTS);

    /** Elements of a strip: one AVX-512 vector of floats (GPUACT_STRIP). */
    static final int STRIP_ELEMENTS = 16;

    /**
     * The ops a CPU device runs faster in strips: measured with PoCL 3.1 on AVX-512 at 16M floats, forward, both
     * shapes twice (see bench/RESULTS.md): 1.3x (identity) to 3x (softshrink) faster, sigmoid, tanh and the elu
     * family 2x. The others (gelu, gelu_tanh, silu, swish, mish, softplus, tanhshrink, ricker), whose math
     * branches, were 2.3x (mish) to 5x (softplus) slower in strips: their strip loop stays scalar.
     */
    private static final Set<Op> CPU_STRIP_OPS = EnumSet.of(Op.IDENTITY, Op.STEP, Op.ABS, Op.SQUARE, Op.SIGMOID,
            Op.TANH, Op.RELU, Op.RELU6, Op.LEAKY_RELU, Op.ELU, Op.SELU, Op.CELU, Op.SOFTSIGN, Op.LOGSIGMOID,
            Op.HARDTANH, Op.HARDSIGMOID, Op.HARDSWISH, Op.SOFTSHRINK, Op.HARDSHRINK, Op.THRESHOLD);

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

    static ElementwiseShape choose(OpenClDevice device, Op op) {
        return device.isCpu() && CPU_STRIP_OPS.contains(op) ? STRIP : ITEM;
    }
}
