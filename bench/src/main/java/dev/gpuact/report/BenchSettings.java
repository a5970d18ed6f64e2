package dev.gpuact.report;

import dev.gpuact.measure.Sample;
import dev.gpuact.measure.Workload;
import java.util.ArrayList;
import java.util.List;

/**
 * What a benchmark run measures and how long it may take.
 *
 * @param sizes           element counts, ascending
 * @param timeBounded     whether sizes are cut when predicted too slow (true for the default sizes)
 * @param maxSizeNanos    with {@code timeBounded}, a backend skips a size whose measurement is predicted (from
 *                        the size before, scaled by the size) to take longer than this
 * @param overlapStreams  streams of the overlap pipeline; its chunks are four times as many
 * @param fusedSizes      output sizes of the fused-versus-unfused measurements (multiples of 1M), ascending
 */
public record BenchSettings(List<String> backends, List<Workload> workloads, List<Long> sizes, boolean timeBounded,
                            Sample.Plan plan, long maxSizeNanos, int overlapStreams,
                            List<Long> fusedSizes) {
    /** The workloads measured when none are named. */
    public static final String DEFAULT_WORKLOADS = "relu,sigmoid,gelu,silu,softmax:1024,softmax:32768";

    public BenchSettings {
        backends = List.copyOf(backends);
        workloads = List.copyOf(workloads);
        sizes = sizes.stream().sorted().distinct().toList();
        fusedSizes = fusedSizes.stream().sorted().distinct().toList();
    }

    /** The fused sizes measured when the sizes are the default ones: 1M and 16M, as the targets are stated. */
    public static List<Long> defaultFusedSizes() {
        return List.of(1L << 20, 1L << 24);
    }

    /** 1K, 4K, 16K, ... 256M: a factor of four apart, so each doubling of the chart has a point every other step. */
    public static List<Long> defaultSizes() {
        List<Long> sizes = new ArrayList<>();
        for (long n = 1 << 10; n <= 1L << 28; n *= 4) {
            sizes.add(n);
        }
        return sizes;
    }
}
