package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Op;
import org.junit.jupiter.api.Test;

class KernelNamesTest {
    @Test
    void kernelsAreNamedByOpIdThenPass() {
        assertThat(KernelNames.forward(Op.LEAKY_RELU)).isEqualTo("gpuact_leaky_relu_fwd");
        assertThat(KernelNames.backward(Op.GELU_TANH)).isEqualTo("gpuact_gelu_tanh_bwd");
        assertThat(KernelNames.forward(Op.RICKER)).isEqualTo("gpuact_ricker_fwd");
        assertThat(KernelNames.PRELU_BACKWARD).isEqualTo("gpuact_prelu_bwd");
        assertThat(KernelNames.SOFTMAX_ROW_STATS).isEqualTo("gpuact_softmax_row_stats");
    }

    @Test
    void rowWiseAndChannelwiseOpsHaveNoElementwiseKernel() {
        assertThatThrownBy(() -> KernelNames.forward(Op.PRELU)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("prelu has no elementwise kernel");
        assertThatThrownBy(() -> KernelNames.softmax(Op.MAXOUT, false, "block"))
                .hasMessage("op must be softmax or log_softmax, got maxout");
    }

    @Test
    void softmaxKernelsNameOpDirectionAndPath() {
        assertThat(KernelNames.softmax(Op.LOG_SOFTMAX, true, "warp8")).isEqualTo("gpuact_log_softmax_bwd_warp8");
        assertThat(KernelNames.softmaxLongDot(Op.SOFTMAX)).isEqualTo("gpuact_softmax_bwd_long_dot");
        assertThat(KernelNames.softmaxFromOutput(Op.LOG_SOFTMAX)).isEqualTo("gpuact_log_softmax_bwdy");
        assertThat(KernelNames.backwardFromOutput(Op.TANH)).isEqualTo("gpuact_tanh_bwdy");
        assertThat(KernelNames.softmax(Op.SOFTMAX, false, KernelNames.MASKED)).isEqualTo("gpuact_softmax_fwd_masked");
        assertThat(KernelNames.biasForward(Op.GELU)).isEqualTo("gpuact_gelu_bias_fwd");
        assertThat(KernelNames.biasBackward(Op.SILU)).isEqualTo("gpuact_silu_bias_bwd");
        // 28 ops x 2, with a bias x 2, + 17 from the output + 2 ops x (7 variants x 2 + long_dot + from the output +
        // masked x 2) + row stats, PReLU x 4, maxout x 2, 5 gated ops x 2, + 3 x 2 conversions and the bits copy.
        assertThat(KernelNames.all()).hasSize(28 * 2 + 28 * 2 + 17 + 2 * 18 + 1 + 4 + 2 + 5 * 2 + 7)
                .doesNotHaveDuplicates();
        assertThat(KernelNames.gated(Op.GEGLU_TANH, true)).isEqualTo("gpuact_geglu_tanh_bwd");
        assertThat(KernelNames.all()).contains("gpuact_convert_float_half", "gpuact_convert_bfloat16_half",
                "gpuact_convert_bits");
        assertThatThrownBy(() -> KernelNames.gated(Op.GELU, false)).isInstanceOf(IllegalArgumentException.class);
    }
}
