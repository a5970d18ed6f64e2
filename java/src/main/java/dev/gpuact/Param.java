package dev.gpuact;

import java.util.Locale;
import java.util.function.DoublePredicate;

/**
 * One parameter of an activation: its name, default and the range it must lie in.
 * Values travel to every backend as float32, so the default is rounded to float once here.
 */
public final class Param {
    /** The set of values a parameter accepts, with words for the error message. */
    public static final class Range {
        private final DoublePredicate test;
        private final String description;

        private Range(DoublePredicate test, String description) {
            this.test = test;
            this.description = description;
        }

        public static final Range FINITE = new Range(Double::isFinite, "a finite number");
        public static final Range POSITIVE = new Range(v -> Double.isFinite(v) && v > 0, "a finite number > 0");
        public static final Range NON_NEGATIVE = new Range(v -> Double.isFinite(v) && v >= 0, "a finite number >= 0");
        public static final Range NON_ZERO = new Range(v -> Double.isFinite(v) && v != 0, "a finite non-zero number");
        public static final Range POSITIVE_INTEGER = new Range(v -> v >= 1 && v <= Integer.MAX_VALUE && v == Math.rint(v), "an integer >= 1");
        public static final Range BOOLEAN = new Range(v -> v == 0 || v == 1, "true or false (1 or 0)");

        public boolean contains(double v) {
            return test.test(v);
        }

        public String description() {
            return description;
        }
    }

    private final String name;
    private final double defaultValue;
    private final Range range;
    private final String doc;

    private Param(String name, double defaultValue, Range range, String doc) {
        this.name = name;
        this.defaultValue = range == Range.BOOLEAN || range == Range.POSITIVE_INTEGER ? defaultValue : (float) defaultValue;
        this.range = range;
        this.doc = doc;
    }

    public static Param of(String name, double defaultValue, Range range, String doc) {
        return new Param(name, defaultValue, range, doc);
    }

    public String name() {
        return name;
    }

    public double defaultValue() {
        return defaultValue;
    }

    public Range range() {
        return range;
    }

    public String doc() {
        return doc;
    }

    public boolean isBoolean() {
        return range == Range.BOOLEAN;
    }

    /** Checks a value for this parameter of {@code op}; returns it rounded to the float32 the kernels receive. */
    public double validate(String op, double value) {
        if (!range.contains(value)) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%s: parameter '%s' must be %s, got %s", op, name, range.description(), format(value)));
        }
        if (isBoolean() || range == Range.POSITIVE_INTEGER) {
            return value;
        }
        // What the kernels see: 1e-50 would reach them as 0 and 1e300 as infinity, both outside the range.
        double rounded = (float) value;
        if (!range.contains(rounded) || rounded == 0 && value != 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%s: parameter '%s' must be %s, got %s, which is %s as the float32 the kernels receive",
                    op, name, range.description(), value, format(rounded)));
        }
        return rounded;
    }

    static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Float.toString((float) v);
    }

    @Override
    public String toString() {
        return name + "=" + format(defaultValue);
    }
}
