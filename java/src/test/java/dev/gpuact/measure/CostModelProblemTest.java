package dev.gpuact.measure;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** What makes a cached cost model untrustworthy, so that it is measured again instead of believed. */
class CostModelProblemTest {
    private static final Set<String> USABLE = Set.of("cpu", "opencl");
    private static final String GOOD = "cpu\tresident:relu\t4096\t1000.0\ncpu\te2e:relu\t4096\t1500.0\n"
            + "opencl\tresident:relu\t4096\t3000.0\nopencl\te2e:relu\t4096\t9000.0\n";

    private static String problem(String text) {
        return CostModel.parse(text).problem(USABLE).orElse("none");
    }

    @Test
    void aMeasuredModelHasNone() {
        assertThat(problem(GOOD)).isEqualTo("none");
        assertThat(problem("")).isEqualTo("none");
        // Noise: a resident median somewhat above end to end is still a measurement.
        assertThat(problem("cpu\tresident:relu\t4096\t4000.0\ncpu\te2e:relu\t4096\t1000.0\n")).isEqualTo("none");
    }

    @Test
    void aBackendThatIsNotHereTimesThatAreNotTimesAndResidentFarAboveEndToEndAreProblems() {
        assertThat(problem(GOOD + "ghost\te2e:relu\t4096\t1.0\n")).contains("backend 'ghost' is not usable here");
        assertThat(problem(GOOD + "cpu\te2e:gelu\t4096\tNaN\n")).contains("cpu e2e:gelu at 4096 elements: NaN ns");
        assertThat(problem(GOOD + "cpu\te2e:gelu\t4096\tInfinity\n")).contains("Infinity ns is not a finite positive");
        assertThat(problem(GOOD + "cpu\te2e:gelu\t4096\t-5\n")).contains("-5.0 ns is not a finite positive");
        assertThat(problem(GOOD + "cpu\te2e:gelu\t4096\t0\n")).contains("0.0 ns is not a finite positive");
        assertThat(problem(GOOD + "cpu\te2e:gelu\t0\t10\n")).contains("at 0 elements");
        assertThat(problem(GOOD + "cpu\tresident:gelu\t4096\t1e9\ncpu\te2e:gelu\t4096\t1000\n"))
                .contains("cpu gelu at 4096 elements: resident 1.0E9 ns is more than end to end 1000.0 ns");
    }
}
