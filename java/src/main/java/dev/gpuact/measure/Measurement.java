package dev.gpuact.measure;

import dev.gpuact.Backend;

/**
 * One timed cell: a phase of a workload (empty for pure transfers and copies) on a backend at a size.
 *
 * @param elements the elements processed (a row-wise workload rounds the size down to whole rows)
 */
public record Measurement(String backend, String workload, Phase phase, long elements, Sample sample,
                          Backend.Clock clock) {
    /** Bytes per second (10^9 per GB/s) from the median time, counting {@link Phase#bytesPerElement()}. */
    public double bytesPerSecond() {
        return (double) elements * phase.bytesPerElement() / (sample.median() * 1e-9);
    }
}
