package dev.gpuact;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What the checks and the kernel shapes need to know about an op beyond its math, held by its {@link Op} entry (as
 * PyTorch's OpInfo): the parameter settings every backend is checked at, where the parameters put corners, the
 * rule that ties two parameters together, and which kernels a CPU OpenCL device runs faster in strips.
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

    private static final OpInfo NONE = new OpInfo(List.of(), (a, b) -> new double[0], null, null, false, false);

    private final List<double[]> samples;
    private final Kinks kinks;
    private final ParameterRule rule;
    private final String ruleText;
    private final boolean cpuStripsForward;
    private final boolean cpuStripsBackward;

    private OpInfo(List<double[]> samples, Kinks kinks, ParameterRule rule, String ruleText,
                   boolean cpuStripsForward, boolean cpuStripsBackward) {
        this.samples = samples;
        this.kinks = kinks;
        this.rule = rule;
        this.ruleText = ruleText;
        this.cpuStripsForward = cpuStripsForward;
        this.cpuStripsBackward = cpuStripsBackward;
    }

    /** Nothing known yet: no samples besides the defaults, no parameter kinks, no rule, one element per item. */
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
        return new OpInfo(List.copyOf(more), kinks, rule, ruleText, cpuStripsForward, cpuStripsBackward);
    }

    /** Where the parameters put corners. */
    OpInfo kinks(Kinks where) {
        return new OpInfo(samples, where, rule, ruleText, cpuStripsForward, cpuStripsBackward);
    }

    /**
     * A rule both parameters must meet; {@code text} says it with two {@code %s} for the values, e.g.
     * {@code "parameter 'min' (%s) must be <= 'max' (%s)"}.
     */
    OpInfo requires(ParameterRule holds, String text) {
        return new OpInfo(samples, kinks, holds, text, cpuStripsForward, cpuStripsBackward);
    }

    /**
     * Which kernels of this op a CPU OpenCL device runs faster with a strip of consecutive elements per work-item
     * than with one element per work-item: measured, not guessed (see bench/RESULTS.md and
     * gpuact-opencl's ElementwiseShape). Formulas without branches vectorise in strips (with the device math's
     * own exp, mish and ricker forward too); branchy ones (gelu, gelu_tanh, mish and ricker backward, tanhshrink
     * forward) run 2x to 30x slower there, and so do gelu and softplus forward since they carry their roundings
     * as hi + lo (3x slower in strips, PoCL 3.1, 16M floats).
     */
    OpInfo cpuStrips(boolean forward, boolean backward) {
        return new OpInfo(samples, kinks, rule, ruleText, forward, backward);
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

    /** Whether a CPU OpenCL device runs this op's forward ({@code backward} false) or backward kernel in strips. */
    public boolean cpuStrips(boolean backward) {
        return backward ? cpuStripsBackward : cpuStripsForward;
    }
}
