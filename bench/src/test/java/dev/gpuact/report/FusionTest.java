package dev.gpuact.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.measure.Sample;
import org.junit.jupiter.api.Test;

/** The verdicts of the fused table against the targets, from given times. */
class FusionTest {
    private static Fusion fusion(Fusion.Case op, boolean onCpu, long plain, long fused, long unfused) {
        return new Fusion("b", op, Fusion.BLOCK, onCpu, Sample.of(1), Sample.of(plain), Sample.of(fused),
                Sample.of(unfused), "wall");
    }

    @Test
    void aDeviceMeetsTheFusionTargetsOnlyWithBothRatios() {
        assertThat(fusion(Fusion.Case.SWIGLU, false, 100, 115, 184).verdict()).isEqualTo("meets both");
        assertThat(fusion(Fusion.Case.SWIGLU, false, 100, 116, 300).verdict())
                .isEqualTo("misses: 1.16x plain, target 1.15x");
        assertThat(fusion(Fusion.Case.BIAS_GELU, false, 100, 100, 159).verdict())
                .isEqualTo("misses: 1.59x faster than unfused, target 1.6x");
        assertThat(fusion(Fusion.Case.MASKED_SOFTMAX, false, 100, 200, 100).verdict())
                .isEqualTo("misses: 2.00x plain, target 1.15x, 0.50x faster than unfused, target 1.6x");
    }

    @Test
    void theCpuStatesFusionRatiosButCausalIsJudgedEverywhere() {
        assertThat(fusion(Fusion.Case.SWIGLU, true, 100, 300, 100).verdict()).isEqualTo("stated (CPU)");
        assertThat(fusion(Fusion.Case.CAUSAL_SOFTMAX, true, 100, 60, 300).verdict()).isEqualTo("meets <= 0.6x softmax");
        assertThat(fusion(Fusion.Case.CAUSAL_SOFTMAX, false, 100, 75, 300).verdict())
                .isEqualTo("misses: 0.75x softmax, target 0.6x");
    }
}
