package dev.gpuact.measure;

import java.util.Locale;

/** Element counts with binary suffixes (1K = 1024, 1M = 1024K, 1G = 1024M) and durations, as people read them. */
public final class Sizes {
    private static final String SUFFIXES = "KMG";

    private Sizes() {
    }

    /**
     * {@code 4096}, {@code 4K}, {@code 16M}: a positive count.
     *
     * @throws IllegalArgumentException naming the text and what was expected
     */
    public static long parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        int shift = 0;
        if (!t.isEmpty() && SUFFIXES.indexOf(t.charAt(t.length() - 1)) >= 0) {
            shift = 10 * (SUFFIXES.indexOf(t.charAt(t.length() - 1)) + 1);
            t = t.substring(0, t.length() - 1);
        }
        long value;
        try {
            value = Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a count (a whole number, optionally with K, M or G)");
        }
        if (value < 1) {
            throw new IllegalArgumentException("'" + text + "' must be at least 1");
        }
        if (value > Long.MAX_VALUE >> shift) {
            throw new IllegalArgumentException("'" + text + "' is too large");
        }
        return value << shift;
    }

    /** The shortest exact form: {@code 1K}, {@code 256M}, {@code 1500}. */
    public static String format(long count) {
        int unit = 0;
        while (unit < SUFFIXES.length() && count != 0 && count % 1024 == 0) {
            count /= 1024;
            unit++;
        }
        return unit == 0 ? Long.toString(count) : count + SUFFIXES.substring(unit - 1, unit);
    }

    /** {@code 850 ns}, {@code 12.3 us}, {@code 4.56 ms}, {@code 1.20 s}. */
    public static String formatNanos(double nanos) {
        if (nanos < 1e3) {
            return String.format(Locale.ROOT, "%.0f ns", nanos);
        }
        if (nanos < 1e6) {
            return String.format(Locale.ROOT, "%.3g us", nanos / 1e3);
        }
        if (nanos < 1e9) {
            return String.format(Locale.ROOT, "%.3g ms", nanos / 1e6);
        }
        return String.format(Locale.ROOT, "%.3g s", nanos / 1e9);
    }
}
