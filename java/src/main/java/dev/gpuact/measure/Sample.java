package dev.gpuact.measure;

import java.util.Arrays;
import java.util.function.LongSupplier;

/** The durations of repeated runs of one measurement: median and spread, in nanoseconds. */
public record Sample(double median, double p10, double p90, double min, double max, int runs) {
    /** How many runs to make and for how long. */
    public record Plan(int warmup, int minRuns, int maxRuns, long budgetNanos) {
        public Plan {
            if (warmup < 0 || minRuns < 1 || maxRuns < minRuns || budgetNanos < 0) {
                throw new IllegalArgumentException("need warmup >= 0, 1 <= minRuns <= maxRuns and budget >= 0; got "
                        + warmup + ", " + minRuns + ", " + maxRuns + ", " + budgetNanos);
            }
        }
    }

    /** The statistics of the given durations. */
    public static Sample of(long... nanos) {
        if (nanos.length == 0) {
            throw new IllegalArgumentException("a sample needs at least one duration");
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return new Sample(quantile(sorted, 0.5), quantile(sorted, 0.1), quantile(sorted, 0.9), sorted[0],
                sorted[sorted.length - 1], sorted.length);
    }

    /**
     * Runs {@code oneRun} (which returns the duration it measured) {@code warmup} times untimed, then at least
     * {@code minRuns} and at most {@code maxRuns} times, stopping once the budget is spent.
     */
    public static Sample measure(Plan plan, LongSupplier oneRun) {
        for (int i = 0; i < plan.warmup(); i++) {
            oneRun.getAsLong();
        }
        long[] nanos = new long[plan.maxRuns()];
        long start = System.nanoTime();
        int runs = 0;
        while (runs < plan.maxRuns() && (runs < plan.minRuns() || System.nanoTime() - start < plan.budgetNanos())) {
            nanos[runs++] = oneRun.getAsLong();
        }
        return of(Arrays.copyOf(nanos, runs));
    }

    /** Linear interpolation between order statistics. */
    private static double quantile(long[] sorted, double q) {
        double at = q * (sorted.length - 1);
        int below = (int) Math.floor(at);
        int above = Math.min(below + 1, sorted.length - 1);
        return sorted[below] + (at - below) * (sorted[above] - sorted[below]);
    }
}
