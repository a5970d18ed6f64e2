package dev.gpuact.opencl;

/**
 * How a softmax row maps onto work-items. A CPU device runs best with a whole row per work-item in float16
 * vectors, which its compiler turns into SIMD code (on PoCL with AVX-512, 16 columns per instruction; rows of
 * neighbouring work-items lie a row apart, so vectorising across work-items would gather); a work-group per row
 * costs it barriers. A GPU wants a work-group per row, reducing in local memory, except for rows so short that
 * most of the group would idle: those run a row per work-item, many rows to a work-group.
 */
enum RowKernelShape {
    /** One work-item per row: kernels {@code *_item}. */
    ITEM("item"),
    /** One work-group of GPUACT_WG items per row: kernels {@code *_group}. */
    GROUP("group");

    /** On a GPU, rows up to this many columns still run one per work-item. */
    static final long GPU_ITEM_MAX_COLS = 32;

    private final String suffix;

    RowKernelShape(String suffix) {
        this.suffix = suffix;
    }

    String suffix() {
        return suffix;
    }

    static RowKernelShape choose(OpenClDevice device, long cols) {
        return device.isGpu() && cols > GPU_ITEM_MAX_COLS ? GROUP : ITEM;
    }
}
