package dev.gpuact;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What the checks and the kernel shapes need to know about an op beyond its math, held by its {@link Op} entry (as
 * PyTorch's OpInfo): the parameter settings every backend is checked at, where the parameters put corners, the
 * rule that ties two parameters together.
 * Immutable; each method that adds something returns a new one.
 */
public final class OpInfo {
    /** Where an op's parameters put a corner (a kink) in f or f', at parameters {@code a, b}. */
    @FunctionalInterface
    public interface Kinks {
        double[] at(double a, double b);
    }

    /** A rule over both parameters together, {@code a} and {@code b} in the order of {@link Op#params()}. */
    @FunctionalInterface
    public interface ParameterRule {
        boolean holds(double a, double b);
    }

    private static final OpInfo NONE = new OpInfo(List.of(), (a, b) -> new double[0], null, null);

    private final List<double[]> samples;
    private final Kinks kinks;
    private final ParameterRule rule;
    private final String ruleText;

    private OpInfo(List<double[]> samples, Kinks kinks, ParameterRule rule, String ruleText) {
        this.samples = samples;
        this.kinks = kinks;
        this.rule = rule;
        this.ruleText = ruleText;
    }

    /** Nothing known yet: no samples besides the defaults, no parameter kinks, no rule. */
    static OpInfo facts() {
        return NONE;
    }

    /**
     * A setting the checks run at besides the defaults: values in the order of {@link Op#params()}; for PReLU,
     * whose slope is a weight buffer, one weight.
     */
    OpInfo sample(double... values) {
        List<double[]> more = new ArrayList<>(samples);
        more.add(values.clone());
        return new OpInfo(List.copyOf(more), kinks, rule, ruleText);
    }

    /** Where the parameters put corners. */
    OpInfo kinks(Kinks where) {
        return new OpInfo(samples, where, rule, ruleText);
    }

    /**
     * A rule both parameters must meet; {@code text} says it with two {@code %s} for the values, e.g.
     * {@code "parameter 'min' (%s) must be <= 'max' (%s)"}.
     */
    OpInfo requires(ParameterRule holds, String text) {
        return new OpInfo(samples, kinks, holds, text);
    }

    /** The settings added with {@link #sample}, in order, each a fresh copy. */
    public List<double[]> samples() {
        return samples.stream().map(double[]::clone).toList();
    }

    /** The corners the parameters {@code a, b} put in f or f' (none for most ops). */
    public double[] kinks(double a, double b) {
        return kinks.at(a, b);
    }

    /** What is wrong with parameters {@code a, b} taken together, if anything (without the op's name). */
    public Optional<String> violation(double a, double b) {
        return rule == null || rule.holds(a, b) ? Optional.empty()
                : Optional.of(String.format(Locale.ROOT, ruleText, Param.format(a), Param.format(b)));
    }
}
