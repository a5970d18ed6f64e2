package dev.gpuact.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.DType;
import dev.gpuact.Op;
import dev.gpuact.conformance.DoubleBackend.Defect;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The checks themselves: a correct backend passes them all, and each planted bug is caught and named. */
class ConformanceSelfTest {
    @Test
    void aDoublePrecisionBackendPassesEveryOpWithinOneUlp() {
        try (DoubleBackend backend = new DoubleBackend(Defect.NONE)) {
            List<OpReport> reports = Conformance.checkAll(backend);
            assertThat(reports).extracting(OpReport::name)
                    .containsExactly(Arrays.stream(Op.values()).map(Op::id).toArray(String[]::new));
            for (OpReport r : reports) {
                assertThat(r.failures()).as(r.name()).isEmpty();
                assertThat(r.passed()).isTrue();
                assertThat(r.points()).as(r.name()).isGreaterThan(1000);
                assertThat(r.maxUlpForward()).as(r.name()).isLessThanOrEqualTo(1);
                assertThat(r.maxUlpBackward()).as(r.name()).isLessThanOrEqualTo(1);
            }
            assertThat(backend.memory().liveBuffers()).as("buffers left open by the checks").isZero();
        }
    }

    @Test
    void aDoublePrecisionBackendPassesBiasAndActivationForEveryElementwiseOp() {
        try (DoubleBackend backend = new DoubleBackend(Defect.NONE)) {
            for (Op op : Op.ELEMENTWISE) {
                OpReport r = Conformance.checkBias(backend, op);
                assertThat(r.name()).isEqualTo(op.id() + "+bias");
                assertThat(r.failures()).as(r.name()).isEmpty();
                assertThat(r.points()).as(r.name()).isGreaterThan(1000);
                assertThat(r.maxUlpForward()).as(r.name()).isLessThanOrEqualTo(1);
                assertThat(r.maxUlpBackward()).as(r.name()).isLessThanOrEqualTo(1);
            }
            assertThat(backend.memory().liveBuffers()).as("buffers left open by the checks").isZero();
        }
    }

    @ParameterizedTest(name = "{0} is caught in {1}+bias")
    @CsvSource({
        "BIAS_IGNORES_INNER,     gelu,     gelu+bias forward NCHW N=3 C=5 HxW=7x9 at index",
        "BIAS_DBIAS_ACCUMULATES, sigmoid,  sigmoid+bias dbias NCHW N=3 C=5 HxW=7x9 channel 0",
    })
    void aPlantedBiasBugFailsItsOpWithAReadableLine(Defect defect, String opId, String expectedLine) {
        try (DoubleBackend backend = new DoubleBackend(defect)) {
            OpReport report = Conformance.checkBias(backend, Op.byName(opId));
            assertThat(report.passed()).isFalse();
            assertThat(report.failures()).anySatisfy(line -> assertThat(line).contains(expectedLine));
            assertThat(Conformance.check(backend, Op.byName(opId)).passed()).as("the plain op is unaffected").isTrue();
        }
    }

    @Test
    void aDoublePrecisionBackendPassesEveryOpInBothSixteenBitTypes() {
        try (DoubleBackend backend = new DoubleBackend(Defect.NONE)) {
            for (DType type : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
                for (Op op : Op.values()) {
                    OpReport r = Conformance.checkStorage(backend, op, type);
                    assertThat(r.name()).isEqualTo(op.id() + "@" + type.name().toLowerCase(Locale.ROOT));
                    assertThat(r.failures()).as(r.name()).isEmpty();
                    assertThat(r.points()).as(r.name()).isGreaterThan(100);
                }
            }
            assertThat(backend.memory().liveBuffers()).as("buffers left open by the checks").isZero();
        }
    }

    @ParameterizedTest(name = "float16 rounded through bfloat16 is caught in {0}@float16")
    @CsvSource({
        "sigmoid,  forward into FLOAT16 at x=",
        "log_softmax, in FLOAT16: output 0 element",
        "softmax,  in FLOAT16: output 0 element",
        "prelu,    prelu forward in FLOAT16",
        "swiglu,   swiglu forward in FLOAT16",
    })
    void aStorageThatRoundsTwiceFailsWithAReadableLine(String opId, String expectedLine) {
        try (DoubleBackend backend = new DoubleBackend(Defect.FLOAT16_THROUGH_BFLOAT16)) {
            OpReport report = Conformance.checkStorage(backend, Op.byName(opId), DType.FLOAT16);
            assertThat(report.passed()).isFalse();
            assertThat(report.failures()).anySatisfy(line -> assertThat(line).contains(expectedLine));
            assertThat(Conformance.checkStorage(backend, Op.byName(opId), DType.BFLOAT16).passed())
                    .as("bfloat16 storage is unaffected").isTrue();
            assertThat(Conformance.check(backend, Op.byName(opId)).passed()).as("float32 is unaffected").isTrue();
        }
    }

    @Test
    void storageChecksRefuseAFloat32Type() {
        try (DoubleBackend backend = new DoubleBackend(Defect.NONE)) {
            assertThatThrownBy(() -> Conformance.checkStorage(backend, Op.RELU, DType.FLOAT32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FLOAT32");
        }
    }

    @Test
    void biasChecksRefuseARowWiseOp() {
        try (DoubleBackend backend = new DoubleBackend(Defect.NONE)) {
            assertThatThrownBy(() -> Conformance.checkBias(backend, Op.SOFTMAX))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("softmax");
        }
    }

    @ParameterizedTest(name = "{0} is caught in {1}")
    @CsvSource({
        "RELU_NAN_TO_ZERO,              relu,     NaN in must give NaN out: forward at x=NaN",
        "GELU_ONE_PLUS_ERF,             gelu,     forward at x=-",
        "TANH_COARSE,                   tanh,     ULP > 4",
        "SIGMOID_FLUSHES_SUBNORMALS,    sigmoid,  forward at x=-",
        "SOFTMAX_NO_MAX_SHIFT,          softmax,  row 2 col",
        "SOFTMAX_WRITES_PADDING,        softmax,  but was overwritten with 0.0",
        "MAXOUT_LAST_MAXIMUM,           maxout,   dy goes to the first maximum",
        "PRELU_DWEIGHT_ACCUMULATES,     prelu,    ULP of sum|dy x|",
        "GELU_BACKWARD_NONDETERMINISTIC, gelu,    not deterministic: gelu backward",
        "SIGMOID_FROM_OUTPUT_IN_FLOAT,  sigmoid,  backward from y (dy=1.0) at y=",
        "SWIGLU_GATES_SECOND_HALF,      swiglu,   swiglu forward [1, 2 x",
    })
    void aPlantedBugFailsItsOpWithAReadableLine(Defect defect, String opId, String expectedLine) {
        try (DoubleBackend backend = new DoubleBackend(defect)) {
            OpReport report = Conformance.check(backend, Op.byName(opId));
            assertThat(report.passed()).isFalse();
            assertThat(report.failures()).anySatisfy(line -> assertThat(line).contains(expectedLine));
            assertThat(report.failures().size()).isLessThanOrEqualTo(Tally.LISTED_FAILURES + 1);
            // the bug stays in its op: a neighbour of the catalog is unaffected
            assertThat(Conformance.check(backend, Op.IDENTITY).passed()).isTrue();
        }
    }

    @Test
    void tooManyFailuresAreCountedNotListed() {
        try (DoubleBackend backend = new DoubleBackend(Defect.TANH_COARSE)) {
            List<String> failures = Conformance.check(backend, Op.TANH).failures();
            assertThat(failures).hasSize(Tally.LISTED_FAILURES + 1);
            assertThat(failures.get(Tally.LISTED_FAILURES)).matches("\\.\\.\\. and \\d+ more failures \\(\\d+ in all\\)");
        }
    }

    @Test
    void everyParameterisedOpIsCheckedAwayFromItsDefaults() {
        for (Op op : Op.ELEMENTWISE) {
            List<Activation> sets = op.checkedSettings();
            assertThat(sets).as(op.id()).hasSizeBetween(op.params().isEmpty() ? 1 : 2, op.params().isEmpty() ? 1 : 4)
                    .doesNotHaveDuplicates().first().isEqualTo(op.defaults());
        }
    }

    @Test
    void maskedRowsPassOnADoublePrecisionBackendAndAnOffByOneCausalLimitIsCaught() {
        try (DoubleBackend exact = new DoubleBackend(Defect.NONE);
             DoubleBackend offByOne = new DoubleBackend(Defect.CAUSAL_ONE_TOO_MANY)) {
            for (Op op : Conformance.MASKABLE) {
                OpReport report = Conformance.checkMasked(exact, op);
                assertThat(report.name()).isEqualTo(op.id() + "+mask");
                assertThat(report.failures()).as(report.name()).isEmpty();
                assertThat(report.points()).isGreaterThan(10_000);
                assertThat(report.maxUlpForward()).isLessThanOrEqualTo(1);
                assertThat(report.maxUlpBackward()).isLessThanOrEqualTo(1);
                assertThat(Conformance.checkMasked(offByOne, op).failures())
                        .anySatisfy(line -> assertThat(line).contains("causal(0, 0)"));
            }
            assertThat(exact.memory().liveBuffers()).as("buffers left open by the checks").isZero();
        }
    }
}
