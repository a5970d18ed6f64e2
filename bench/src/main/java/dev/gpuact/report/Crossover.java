package dev.gpuact.report;

import dev.gpuact.Residency;
import dev.gpuact.measure.Sizes;
import java.util.OptionalLong;

/**
 * From what size a device beats the CPU on a workload, as the cost model of the measured sizes predicts.
 *
 * @param from the smallest size from which the device wins at every larger measured size; empty if it loses at
 *             the largest
 */
public record Crossover(String device, String workload, Residency where, OptionalLong from, long smallest,
                        long largest) {
    /** {@code from 256K}, {@code at every size measured}, {@code never up to 16M}. */
    public String text() {
        if (from.isEmpty()) {
            return "never up to " + Sizes.format(largest);
        }
        return from.getAsLong() <= smallest ? "at every size measured (from " + Sizes.format(smallest) + ")"
                : "from about " + Sizes.format(roundToTwoDigits(from.getAsLong()));
    }

    /** Two significant binary digits are as much as the model knows. */
    static long roundToTwoDigits(long n) {
        int shift = Math.max(0, 63 - Long.numberOfLeadingZeros(n) - 1);
        return Math.round((double) n / (1L << shift)) << shift;
    }
}
