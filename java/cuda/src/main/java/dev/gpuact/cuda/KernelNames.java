package dev.gpuact.cuda;

import dev.gpuact.DType;
import dev.gpuact.Op;
import dev.gpuact.spi.KernelName;
import java.util.ArrayList;
import java.util.List;

/** The entry points of gpuact.fatbin, named by {@link KernelName}'s rule (the .cu files generate the same names). */
final class KernelNames {
    static final String PRELU_FORWARD = KernelName.of(Op.PRELU, KernelName.FORWARD);
    static final String PRELU_BACKWARD = KernelName.of(Op.PRELU, KernelName.BACKWARD);
    static final String PRELU_DWEIGHT_PARTIAL = KernelName.of(Op.PRELU, "dweight_partial");
    static final String PRELU_DWEIGHT_FINISH = KernelName.of(Op.PRELU, "dweight_finish");
    static final String MAXOUT_FORWARD = KernelName.of(Op.MAXOUT, KernelName.FORWARD);
    static final String MAXOUT_BACKWARD = KernelName.of(Op.MAXOUT, KernelName.BACKWARD);
    /** Per-chunk statistics of the long softmax path; the same for softmax and log_softmax. */
    static final String SOFTMAX_ROW_STATS = KernelName.of(Op.SOFTMAX, "row_stats");
    /** The types the conversion kernels of storage.cuh convert between. */
    static final List<DType> STORAGE = List.of(DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16);
    /** The variant of the masked softmax kernels (masked_softmax.cuh), a block per row. */
    static final String MASKED = "masked";

    // Built once: a launch looks its kernel up by name and should not build a string to do it.
    private static final String[] FORWARD = names(KernelName.FORWARD);
    private static final String[] BACKWARD = names(KernelName.BACKWARD);

    private KernelNames() {
    }

    private static final String[] BIAS_FORWARD = names(KernelName.BIAS_FORWARD);
    private static final String[] BIAS_BACKWARD = names(KernelName.BIAS_BACKWARD);

    private static String[] names(String pass) {
        return Op.ELEMENTWISE.stream().map(op -> KernelName.of(op, pass)).toArray(String[]::new);
    }

    static String forward(Op op) {
        return FORWARD[requireElementwise(op).kernelCode()];
    }

    static String backward(Op op) {
        return BACKWARD[requireElementwise(op).kernelCode()];
    }

    /** {@code gpuact_<id>_bias_fwd}: bias and activation. */
    static String biasForward(Op op) {
        return BIAS_FORWARD[requireElementwise(op).kernelCode()];
    }

    /** {@code gpuact_<id>_bias_bwd}: dx and the first stage of the bias gradient. */
    static String biasBackward(Op op) {
        return BIAS_BACKWARD[requireElementwise(op).kernelCode()];
    }

    /** {@code gpuact_<id>_bwdy}: the backward pass from the saved output (ops with that form). */
    static String backwardFromOutput(Op op) {
        return KernelName.of(requireElementwise(op), KernelName.FROM_OUTPUT);
    }

    /** {@code gpuact_<softmax|log_softmax>_bwdy}: the row-wise backward pass from the saved output. */
    static String softmaxFromOutput(Op op) {
        return KernelName.of(requireSoftmax(op), KernelName.FROM_OUTPUT);
    }

    /** {@code gpuact_<softmax|log_softmax>_<fwd|bwd>_<variant>}. */
    static String softmax(Op op, boolean backward, String variant) {
        return KernelName.of(requireSoftmax(op), KernelName.direction(backward), variant);
    }

    /** The second of the three kernels of a long backward pass over several chunks per row. */
    static String softmaxLongDot(Op op) {
        return softmax(op, true, "long_dot");
    }

    /** Every kernel the host code can launch. */
    static List<String> all() {
        List<String> names = new ArrayList<>();
        for (Op op : Op.ELEMENTWISE) {
            names.add(forward(op));
            names.add(backward(op));
        }
        for (Op op : Op.ELEMENTWISE) {
            names.add(biasForward(op));
            names.add(biasBackward(op));
        }
        for (Op op : Op.ELEMENTWISE) {
            if (op.hasBackwardFromOutput()) {
                names.add(backwardFromOutput(op));
            }
        }
        for (Op op : List.of(Op.SOFTMAX, Op.LOG_SOFTMAX)) {
            names.add(softmaxFromOutput(op));
            for (String variant : SoftmaxPlan.variants()) {
                names.add(softmax(op, false, variant));
                names.add(softmax(op, true, variant));
            }
            names.add(softmaxLongDot(op));
            names.add(softmax(op, false, MASKED));
            names.add(softmax(op, true, MASKED));
        }
        names.addAll(List.of(SOFTMAX_ROW_STATS, PRELU_FORWARD, PRELU_BACKWARD, PRELU_DWEIGHT_PARTIAL,
                PRELU_DWEIGHT_FINISH, MAXOUT_FORWARD, MAXOUT_BACKWARD));
        for (Op op : Op.values()) {
            if (op.kind() == Op.Kind.GATED) {
                names.add(gated(op, false));
                names.add(gated(op, true));
            }
        }
        for (DType from : STORAGE) {
            for (DType to : STORAGE) {
                if (from != to) {
                    names.add(KernelName.convert(from, to));
                }
            }
        }
        names.add(KernelName.convert(DType.FLOAT16, DType.FLOAT16));
        return names;
    }

    /** {@code gpuact_<gated op id>_<fwd|bwd>}: a gated activation (gated.cuh). */
    static String gated(Op op, boolean backward) {
        if (op.kind() != Op.Kind.GATED) {
            throw new IllegalArgumentException(op + " is not a gated op");
        }
        return KernelName.of(op, KernelName.direction(backward));
    }

    private static Op requireSoftmax(Op op) {
        if (op != Op.SOFTMAX && op != Op.LOG_SOFTMAX) {
            throw new IllegalArgumentException("op must be softmax or log_softmax, got " + op);
        }
        return op;
    }

    private static Op requireElementwise(Op op) {
        if (op.kind() != Op.Kind.ELEMENTWISE) {
            throw new IllegalArgumentException(op + " has no elementwise kernel");
        }
        return op;
    }
}
