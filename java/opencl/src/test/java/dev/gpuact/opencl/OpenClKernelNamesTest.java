package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.DType;
import dev.gpuact.Op;
import dev.gpuact.spi.KernelName;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The kernels the OpenCL program holds are exactly those the host launches: both sides name them by
 * {@link KernelName}'s rule, the program through GPUACT_KERNEL_NAME over activations.def.
 */
class OpenClKernelNamesTest {
    /** Every kernel name the backend can ask for, built as the backend builds them. */
    static List<String> launchable() {
        List<String> names = new ArrayList<>();
        for (ElementwiseShape shape : ElementwiseShape.values()) {
            for (Op op : Op.ELEMENTWISE) {
                names.add(shape.kernel(op, false));
                names.add(shape.kernel(op, true));
                names.add(shape.biasKernel(op));
                if (op.hasBackwardFromOutput()) {
                    names.add(shape.kernelFromOutput(op));
                }
            }
        }
        for (Op op : List.of(Op.SOFTMAX, Op.LOG_SOFTMAX)) {
            names.add(KernelName.of(op, KernelName.FROM_OUTPUT));
            for (RowKernelShape shape : RowKernelShape.values()) {
                names.add(KernelName.of(op, KernelName.FORWARD, shape.suffix()));
                names.add(KernelName.of(op, KernelName.BACKWARD, shape.suffix()));
                names.add(KernelName.of(op, KernelName.FORWARD, "masked_" + shape.suffix()));
                names.add(KernelName.of(op, KernelName.BACKWARD, "masked_" + shape.suffix()));
            }
        }
        for (String pass : List.of(KernelName.FORWARD, KernelName.BACKWARD)) {
            names.add(KernelName.of(Op.MAXOUT, pass));
            names.add(KernelName.of(Op.PRELU, pass));
        }
        for (Op op : Op.ELEMENTWISE) {
            names.add(KernelName.of(op, KernelName.BIAS_BACKWARD));
            names.add(ElementwiseShape.STRIP.biasBackwardKernel(op));
        }
        names.add(OpenClBackend.BIAS_COLUMN_SUM);
        names.add(KernelName.of(Op.PRELU, "dweight_partial"));
        names.add(KernelName.of(Op.PRELU, "dweight_finish"));
        for (Op op : Op.values()) {
            if (op.kind() == Op.Kind.GATED) {
                for (ElementwiseShape shape : ElementwiseShape.values()) {
                    names.add(shape.kernel(op, false));
                    names.add(shape.kernel(op, true));
                }
            }
        }
        for (DType from : DType.values()) {
            for (DType to : DType.values()) {
                if (from.supported() && to.supported() && from != to) {
                    names.add(KernelName.convert(from, to));
                }
            }
        }
        names.add(KernelName.convert(DType.FLOAT16, DType.FLOAT16));
        return names;
    }

    @Test
    void theProgramHoldsExactlyTheKernelsTheHostLaunches() {
        try (OpenClBackend backend = OpenClTestDevice.open()) {
            assertThat(backend.programKernelNames()).containsExactlyInAnyOrderElementsOf(launchable());
        }
        assertThat(launchable()).doesNotHaveDuplicates().contains("gpuact_gelu_fwd_strip", "gpuact_tanh_bwdy",
                "gpuact_log_softmax_bwd_group", "gpuact_prelu_dweight_finish", "gpuact_gelu_bias_fwd_strip",
                "gpuact_silu_bias_bwd", "gpuact_swiglu_bwd", "gpuact_geglu_fwd_strip", "gpuact_convert_float_half",
                "gpuact_convert_bits");
    }
}
