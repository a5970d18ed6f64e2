package dev.gpuact.cuda;

import dev.gpuact.Op;
import java.util.ArrayList;
import java.util.List;

/** The entry points of gpuact.fatbin, named once on the host side (the .cu files generate the same names). */
final class KernelNames {
    static final String PRELU_FORWARD = "gpuact_prelu_fwd";
    static final String PRELU_BACKWARD = "gpuact_prelu_bwd";
    static final String PRELU_DWEIGHT_PARTIAL = "gpuact_prelu_dweight_partial";
    static final String PRELU_DWEIGHT_FINISH = "gpuact_prelu_dweight_finish";
    static final String MAXOUT_FORWARD = "gpuact_maxout_fwd";
    static final String MAXOUT_BACKWARD = "gpuact_maxout_bwd";
    /** Per-chunk statistics of the long softmax path; the same for softmax and log_softmax. */
    static final String SOFTMAX_ROW_STATS = "gpuact_softmax_row_stats";

    // Built once: a launch looks its kernel up by name and should not build a string to do it.
    private static final String[] FORWARD = Op.ELEMENTWISE.stream().map(op -> "gpuact_fwd_" + op.id()).toArray(String[]::new);
    private static final String[] BACKWARD = Op.ELEMENTWISE.stream().map(op -> "gpuact_bwd_" + op.id()).toArray(String[]::new);

    private KernelNames() {
    }

    static String forward(Op op) {
        return FORWARD[requireElementwise(op).kernelCode()];
    }

    static String backward(Op op) {
        return BACKWARD[requireElementwise(op).kernelCode()];
    }

    /** {@code gpuact_bwdy_<id>}: the backward pass from the saved output (ops with that form). */
    static String backwardFromOutput(Op op) {
        return "gpuact_bwdy_" + requireElementwise(op).id();
    }

    /** {@code gpuact_<softmax|log_softmax>_bwdy}: the row-wise backward pass from the saved output. */
    static String softmaxFromOutput(Op op) {
        return softmax(op, true, "").replace("_bwd_", "_bwdy");
    }

    /** {@code gpuact_<softmax|log_softmax>_<fwd|bwd>_<variant>}. */
    static String softmax(Op op, boolean backward, String variant) {
        if (op != Op.SOFTMAX && op != Op.LOG_SOFTMAX) {
            throw new IllegalArgumentException("op must be softmax or log_softmax, got " + op);
        }
        return "gpuact_" + op.id() + (backward ? "_bwd_" : "_fwd_") + variant;
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
        }
        names.addAll(List.of(SOFTMAX_ROW_STATS, PRELU_FORWARD, PRELU_BACKWARD, PRELU_DWEIGHT_PARTIAL,
                PRELU_DWEIGHT_FINISH, MAXOUT_FORWARD, MAXOUT_BACKWARD));
        return names;
    }

    private static Op requireElementwise(Op op) {
        if (op.kind() != Op.Kind.ELEMENTWISE) {
            throw new IllegalArgumentException(op + " has no elementwise kernel");
        }
        return op;
    }
}
