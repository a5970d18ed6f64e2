package dev.gpuact.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Backend;
import dev.gpuact.Choice;
import dev.gpuact.measure.CostModel;
import dev.gpuact.measure.Measurement;
import dev.gpuact.measure.Phase;
import dev.gpuact.Residency;
import dev.gpuact.measure.Sample;
import dev.gpuact.measure.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.LongToDoubleFunction;
import org.junit.jupiter.api.Test;

/** The model's predictions, crossovers and choices on synthetic tables whose answers are known in closed form. */
class CostModelTest {
    private static final long[] SIZES = {1 << 10, 1 << 14, 1 << 18, 1 << 22};
    private static final Workload RELU = Workload.parse("relu");

    /** cpu: 1 us + 1 ns/element end to end; gpu: 50 us + 0.1 ns/element end to end, 20 us + 0.01 resident. */
    private static CostModel model() {
        List<Measurement> ms = new ArrayList<>();
        add(ms, "cpu", "relu", Phase.END_TO_END, n -> 1_000 + n);
        add(ms, "cpu", "relu", Phase.RESIDENT, n -> 500 + 0.5 * n);
        add(ms, "gpu", "relu", Phase.END_TO_END, n -> 50_000 + 0.1 * n);
        add(ms, "gpu", "relu", Phase.RESIDENT, n -> 20_000 + 0.01 * n);
        add(ms, "gpu", "", Phase.UPLOAD_PAGEABLE, n -> 10_000 + 0.04 * n);
        add(ms, "gpu", "", Phase.DOWNLOAD_PAGEABLE, n -> 10_000 + 0.04 * n);
        add(ms, "gpu", "", Phase.DEVICE_COPY, n -> 1); // not a phase the model uses
        return CostModel.of(ms);
    }

    private static void add(List<Measurement> ms, String backend, String workload, Phase phase, LongToDoubleFunction nanos) {
        for (long n : SIZES) {
            double t = nanos.applyAsDouble(n);
            ms.add(new Measurement(backend, workload, phase, n, new Sample(t, t, t, t, t, 1), Backend.Clock.WALL));
        }
    }

    @Test
    void interpolatesLinearlyBetweenSizesAndHoldsTheFixedCostBelowThem() {
        CostModel m = model();
        assertThat(m.cost("cpu", "relu", 100_000, Residency.HOST).getAsDouble()).isCloseTo(101_000, within(1));
        assertThat(m.cost("cpu", "relu", 10, Residency.HOST).getAsDouble()).isEqualTo(1_000 + 1024);
        assertThat(m.cost("gpu", "relu", 1L << 30, Residency.HOST).getAsDouble())
                .as("extrapolated with the last segment's slope").isCloseTo(50_000 + 0.1 * (1L << 30), within(1));
        assertThat(m.cost("gpu", "softmax:1024", 4096, Residency.HOST)).isEmpty();
    }

    @Test
    void cpuOnDeviceDataPaysTheCheapestDeviceRoundTrip() {
        long n = 1 << 20;
        double expected = (1_000 + n) + 2 * (10_000 + 0.04 * n);
        assertThat(model().cost("cpu", "relu", n, Residency.DEVICE).getAsDouble()).isCloseTo(expected, within(1));
        assertThat(model().cost("gpu", "relu", n, Residency.DEVICE).getAsDouble()).isCloseTo(20_000 + 0.01 * n, within(1));
    }

    @Test
    void crossoverOnHostDataIsWhereTheLinesMeet() {
        // 1000 + n = 50000 + 0.1 n  =>  n = 54444; the grid has eight points per doubling (9% apart).
        OptionalLong from = model().crossover("gpu", "relu", Residency.HOST, SIZES[0], SIZES[3]);
        assertThat(from).isPresent();
        assertThat((double) from.getAsLong()).isBetween(54_444.0, 54_444 * 1.1);
    }

    @Test
    void crossoverOnDeviceDataComesEarlier() {
        // 1000 + n + 20000 + 0.08 n = 20000 + 0.01 n: the gpu wins from the smallest size.
        assertThat(model().crossover("gpu", "relu", Residency.DEVICE, SIZES[0], SIZES[3])).hasValue(SIZES[0]);
    }

    @Test
    void noCrossoverWhenTheDeviceLosesAtTheLargestSize() {
        assertThat(model().crossover("gpu", "relu", Residency.HOST, SIZES[0], 40_000)).isEmpty();
    }

    @Test
    void choosesTheCpuForSmallHostWorkAndTheDeviceForLargeOrResidentWork() {
        Choice small = model().choose(RELU, 4096, Residency.HOST);
        assertThat(small.backend()).isEqualTo("cpu");
        assertThat(small.reason()).startsWith("cpu: 4K relu on host data: ").contains(" on cpu vs ", " end to end on gpu");
        assertThat(model().choose(RELU, 1 << 22, Residency.HOST).backend()).isEqualTo("gpu");
        Choice resident = model().choose(RELU, 4096, Residency.DEVICE);
        assertThat(resident.backend()).isEqualTo("gpu");
        assertThat(resident.reason()).contains("resident on gpu", "with the device round trip on cpu");
    }

    @Test
    void aDeviceWithinTheMarginOfTheCpuLosesTheTie() {
        List<Measurement> ms = new ArrayList<>();
        add(ms, "cpu", "relu", Phase.END_TO_END, n -> 1000);
        add(ms, "gpu", "relu", Phase.END_TO_END, n -> 1000 * (1 - CostModel.DEVICE_MARGIN / 2));
        assertThat(CostModel.of(ms).choose(RELU, 4096, Residency.HOST).backend()).isEqualTo("cpu");
        ms.clear();
        add(ms, "cpu", "relu", Phase.END_TO_END, n -> 1000);
        add(ms, "gpu", "relu", Phase.END_TO_END, n -> 1000 * (1 - 2 * CostModel.DEVICE_MARGIN));
        assertThat(CostModel.of(ms).choose(RELU, 4096, Residency.HOST).backend()).isEqualTo("gpu");
    }

    @Test
    void anUnmeasuredWorkloadIsAClearError() {
        assertThatThrownBy(() -> model().choose(Workload.parse("gelu"), 10, Residency.HOST))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no measurement of gelu");
    }

    @Test
    void survivesItsTextForm() {
        CostModel m = model();
        CostModel back = CostModel.parse("# comment\n" + m.toText());
        assertThat(back.toText()).isEqualTo(m.toText());
        assertThat(back.choose(RELU, 1 << 22, Residency.HOST)).isEqualTo(m.choose(RELU, 1 << 22, Residency.HOST));
        assertThatThrownBy(() -> CostModel.parse("cpu\te2e:relu\t12\n")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line 1").hasMessageContaining("expected 4 tab-separated fields, got 3");
    }

    private static org.assertj.core.data.Offset<Double> within(double d) {
        return org.assertj.core.data.Offset.offset(d);
    }
}
