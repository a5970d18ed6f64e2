package dev.gpuact;

import static dev.gpuact.OpInfo.facts;
import static dev.gpuact.Param.Range.BOOLEAN;
import static dev.gpuact.Param.Range.FINITE;
import static dev.gpuact.Param.Range.NON_NEGATIVE;
import static dev.gpuact.Param.Range.POSITIVE;
import static dev.gpuact.Param.Range.POSITIVE_INTEGER;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The activation catalog: every function of ACTIVATIONS.md, named once.
 *
 * <p>Each entry carries its parameters (at most two, called {@code a} and {@code b} by every kernel, in the
 * order listed), for elementwise functions a double-precision reference forward and derivative that every
 * backend is tested against, and its {@link OpInfo}: what the checks need to know beyond the math. The order of the elementwise entries is the op code the device kernels switch
 * on; {@code kernels-opencl/.../activations.def} lists the same names in the same order, and a test checks it.
 */
public enum Op {
    IDENTITY("identity", Reference::identity, Reference::identityDerivative, facts()),
    STEP("step", Reference::step, Reference::stepDerivative, facts()),
    ABS("abs", Reference::abs, Reference::absDerivative, facts()),
    SQUARE("square", Reference::square, Reference::squareDerivative, facts()),
    SIGMOID("sigmoid", Reference::sigmoid, Reference::sigmoidDerivative, facts()),
    TANH("tanh", Reference::tanh, Reference::tanhDerivative, facts()),
    RELU("relu", Reference::relu, Reference::reluDerivative, facts()),
    RELU6("relu6", Reference::relu6, Reference::relu6Derivative, facts()),
    LEAKY_RELU("leaky_relu", Reference::leakyRelu, Reference::leakyReluDerivative,
            facts().sample(0).sample(-0.5),
            Param.of("alpha", 0.01, FINITE, "slope for x <= 0")),
    /** Per-channel slope: {@code a} is the channel's weight, supplied as a weight buffer rather than a parameter. */
    PRELU("prelu", Kind.CHANNELWISE, Reference::leakyRelu, Reference::leakyReluDerivative,
            facts().sample(0.25).sample(-0.1).sample(0).sample(1.5)),
    ELU("elu", Reference::elu, Reference::eluDerivative,
            facts().sample(0.5).sample(2).kinks((a, b) -> new double[] {a, -a}),
            Param.of("alpha", 1.0, FINITE, "value approached as x -> -inf is -alpha")),
    SELU("selu", Reference::selu, Reference::seluDerivative, facts()),
    // alpha = 0.15: x / alpha leaves float's exponent range within |x| <= 20, where dy = +-1e30 meets a subnormal
    // e^(x / alpha) (a soak found 14 ULP there at alpha = 0.158, dy = -19).
    CELU("celu", Reference::celu, Reference::celuDerivative,
            facts().sample(0.5).sample(3).sample(0.15).kinks((a, b) -> new double[] {a, -a}),
            Param.of("alpha", 1.0, POSITIVE, "scale of the negative part")),
    GELU("gelu", Reference::gelu, Reference::geluDerivative, Reference::geluDerivativeScale,
            facts()),
    GELU_TANH("gelu_tanh", Reference::geluTanh, Reference::geluTanhDerivative, Reference::geluTanhDerivativeScale,
            facts()),
    SILU("silu", Reference::silu, Reference::siluDerivative, Reference::siluDerivativeScale,
            facts()),
    SWISH("swish", Reference::swish, Reference::swishDerivative, Reference::swishDerivativeScale,
            facts().sample(0.5).sample(1.702).kinks((a, b) -> new double[] {1 / a, -1 / a}),
            Param.of("beta", 1.0, FINITE, "x * sigmoid(beta * x)")),
    MISH("mish", Reference::mish, Reference::mishDerivative, Reference::mishDerivativeScale,
            facts()),
    // a beta that is not a power of two makes the division by beta round (found by a soak at these values)
    SOFTPLUS("softplus", Reference::softplus, Reference::softplusDerivative,
            facts().sample(2, 10).sample(0.5, 5).sample(0.5292891, 2.110737).kinks((a, b) -> new double[] {b / a}),
            Param.of("beta", 1.0, POSITIVE, "log1p(exp(beta * x)) / beta"),
            Param.of("threshold", 20.0, FINITE, "above beta * x > threshold the result is x")),
    SOFTSIGN("softsign", Reference::softsign, Reference::softsignDerivative, facts()),
    LOGSIGMOID("logsigmoid", Reference::logsigmoid, Reference::logsigmoidDerivative, facts()),
    HARDTANH("hardtanh", Reference::hardtanh, Reference::hardtanhDerivative,
            facts().sample(-2, 0.5).sample(-2, 3).kinks((a, b) -> new double[] {a, b})
                    .requires((a, b) -> a <= b, "parameter 'min' (%s) must be <= 'max' (%s)"),
            Param.of("min", -1.0, FINITE, "lower clamp"),
            Param.of("max", 1.0, FINITE, "upper clamp, >= min")),
    HARDSIGMOID("hardsigmoid", Reference::hardsigmoid, Reference::hardsigmoidDerivative,
            facts().sample(0.2, 0.5).kinks((a, b) -> new double[] {-b / a, (1 - b) / a}),
            Param.of("alpha", 1.0 / 6.0, FINITE, "slope"),
            Param.of("beta", 0.5, FINITE, "offset")),
    HARDSWISH("hardswish", Reference::hardswish, Reference::hardswishDerivative, facts()),
    TANHSHRINK("tanhshrink", Reference::tanhshrink, Reference::tanhshrinkDerivative, facts()),
    SOFTSHRINK("softshrink", Reference::softshrink, Reference::softshrinkDerivative,
            facts().sample(1.25).sample(1).kinks((a, b) -> new double[] {a, -a}),
            Param.of("lambda", 0.5, NON_NEGATIVE, "half-width of the dead zone")),
    HARDSHRINK("hardshrink", Reference::hardshrink, Reference::hardshrinkDerivative,
            facts().sample(1.25).sample(1.5).kinks((a, b) -> new double[] {a, -a}),
            Param.of("lambda", 0.5, NON_NEGATIVE, "half-width of the dead zone")),
    THRESHOLD("threshold", Reference::threshold, Reference::thresholdDerivative,
            facts().sample(0.5, -2).sample(1, -2).kinks((a, b) -> new double[] {a, b}),
            Param.of("threshold", 0.0, FINITE, "x > threshold passes"),
            Param.of("value", 0.0, FINITE, "what the rest becomes")),
    RICKER("ricker", Reference::ricker, Reference::rickerDerivative, Reference::rickerDerivativeScale,
            facts()),

    SOFTMAX("softmax", Kind.ROWWISE,
            Param.of("temperature", 1.0, POSITIVE, "divides the logits"),
            Param.of("masked_nan", 0, BOOLEAN, "a fully masked (all -inf) row gives NaN, as PyTorch, instead of zeros")),
    LOG_SOFTMAX("log_softmax", Kind.ROWWISE,
            Param.of("temperature", 1.0, POSITIVE, "divides the logits"),
            Param.of("masked_nan", 0, BOOLEAN, "a fully masked (all -inf) row gives NaN, as PyTorch, instead of -inf")),
    MAXOUT("maxout", Kind.ROWWISE,
            Param.of("pieces", 2, POSITIVE_INTEGER, "k: each output is the max of k adjacent inputs; k divides cols")),

    // Gated: the last axis of width 2H holds two halves; one goes through an elementwise op, the other multiplies it.
    GLU("glu", SIGMOID, false),
    SWIGLU("swiglu", SILU, true),
    GEGLU("geglu", GELU, true),
    GEGLU_TANH("geglu_tanh", GELU_TANH, true),
    REGLU("reglu", RELU, true);

    /** How an op walks its input. */
    public enum Kind {
        /** y[i] = f(x[i]; a, b). */
        ELEMENTWISE,
        /** y[i] = f(x[i]; weight[channel(i)]): PReLU. */
        CHANNELWISE,
        /** A function of a whole row of a rows x cols matrix. */
        ROWWISE,
        /** y = f(gate) * other over the two halves of a last axis of width 2H: glu, swiglu, geglu, reglu. */
        GATED
    }

    /** A real function of x with the op's two parameters. */
    @FunctionalInterface
    public interface RealFunction {
        double at(double x, double a, double b);
    }

    private final String id;
    private final Kind kind;
    private final List<Param> params;
    private final RealFunction forward;
    private final RealFunction derivative;
    private final RealFunction derivativeScale;
    private final OpInfo info;
    private final Op activated;
    private final boolean activatesFirstHalf;

    Op(String id, RealFunction forward, RealFunction derivative, OpInfo info, Param... params) {
        this(id, forward, derivative, null, info, params);
    }

    /** An op whose derivative is a sum of terms that cancel near its zeros; {@code derivativeScale} sums their sizes. */
    Op(String id, RealFunction forward, RealFunction derivative, RealFunction derivativeScale, OpInfo info,
       Param... params) {
        this(id, Kind.ELEMENTWISE, forward, derivative, derivativeScale, info, params);
    }

    Op(String id, Kind kind, Param... params) {
        this(id, kind, null, null, null, facts(), params);
    }

    Op(String id, Kind kind, RealFunction forward, RealFunction derivative, OpInfo info) {
        this(id, kind, forward, derivative, null, info);
    }

    Op(String id, Kind kind, RealFunction forward, RealFunction derivative, RealFunction derivativeScale,
       OpInfo info, Param... params) {
        if (params.length > 2) {
            throw new AssertionError("kernels take at most two parameters: " + id);
        }
        int valuesPerSample = kind == Kind.CHANNELWISE ? 1 : params.length;
        if (info.samples().stream().anyMatch(sample -> sample.length != valuesPerSample)) {
            throw new AssertionError(id + ": each sample setting takes " + valuesPerSample + " values");
        }
        this.id = id;
        this.kind = kind;
        this.forward = forward;
        this.derivative = derivative;
        this.derivativeScale = derivativeScale;
        this.info = info;
        this.params = List.of(params);
        this.activated = null;
        this.activatesFirstHalf = false;
    }

    /** A gated op: {@code activated} applied to the first half ({@code activatesFirstHalf}) or the second. */
    Op(String id, Op activated, boolean activatesFirstHalf) {
        this.id = id;
        this.kind = Kind.GATED;
        this.forward = null;
        this.derivative = null;
        this.derivativeScale = null;
        this.info = facts();
        this.params = activated.params;
        this.activated = activated;
        this.activatesFirstHalf = activatesFirstHalf;
    }

    /** The name used by ACTIVATIONS.md, the command line and the kernels, e.g. {@code leaky_relu}. */
    public String id() {
        return id;
    }

    public Kind kind() {
        return kind;
    }

    public List<Param> params() {
        return params;
    }

    /** Whether the op is a function of whole rows (softmax, log_softmax, maxout). */
    public boolean isRowwise() {
        return kind == Kind.ROWWISE;
    }

    /** What the checks and kernel shapes need to know about this op beyond its math. */
    public OpInfo info() {
        return info;
    }

    /**
     * The settings every backend is checked at: the defaults, then {@link OpInfo#samples()} (elementwise ops; for
     * PReLU, whose slope is a weight buffer, the defaults alone).
     */
    public List<Activation> checkedSettings() {
        List<Activation> settings = new ArrayList<>();
        settings.add(defaults());
        if (kind == Kind.ELEMENTWISE) {
            for (double[] values : info.samples()) {
                Map<String, Double> named = new LinkedHashMap<>();
                for (int i = 0; i < params.size(); i++) {
                    named.put(params.get(i).name(), values[i]);
                }
                settings.add(Activation.of(this, named));
            }
        }
        return settings;
    }

    /** The elementwise ops in catalog order: position i has kernel op code i (see activations.def). */
    public static final List<Op> ELEMENTWISE = Arrays.stream(values()).filter(op -> op.kind == Kind.ELEMENTWISE).toList();

    /** The op code the device kernels switch on; only for {@link Kind#ELEMENTWISE} ops. */
    public int kernelCode() {
        int code = ELEMENTWISE.indexOf(this);
        if (code < 0) {
            throw new UnsupportedOperationException(id + " has no elementwise kernel code");
        }
        return code;
    }

    /** Double-precision reference f(x); elementwise and channelwise ops only (for PReLU, {@code a} is the weight). */
    public double reference(double x, double a, double b) {
        return requireElementwise().forward.at(x, a, b);
    }

    /** Double-precision reference f'(x); elementwise and channelwise ops only. */
    public double referenceDerivative(double x, double a, double b) {
        return requireElementwise().derivative.at(x, a, b);
    }

    /**
     * The size of the terms f'(x) is a sum of, e.g. |Phi(x)| + |x phi(x)| for gelu; |f'(x)| when f' is a single
     * term. Near a zero of f' (gelu at -0.7518, silu at -1.2785, mish at -1.1924, ricker at +-sqrt 3) the terms
     * cancel, and no float computation of f' is relatively accurate there; its error is measured against this
     * scale instead (as benchdnn does). Elementwise and channelwise ops only.
     */
    public double referenceDerivativeScale(double x, double a, double b) {
        requireElementwise();
        return derivativeScale == null ? Math.abs(derivative.at(x, a, b)) : derivativeScale.at(x, a, b);
    }

    /**
     * Whether a backward pass from the saved output y = f(x) exists for this op at some parameters
     * ({@link Activation#hasBackwardFromOutput()} says at which); {@link OutputDerivative} lists the ops and why.
     */
    public boolean hasBackwardFromOutput() {
        return switch (kind) {
            case ROWWISE -> OutputDerivative.holds(this, 0, 1);
            case ELEMENTWISE -> OutputDerivative.of(this) != null;
            case CHANNELWISE, GATED -> false;
        };
    }

    /** Whether the backward pass from the output exists at these parameters. */
    public boolean hasBackwardFromOutput(double a, double b) {
        return hasBackwardFromOutput() && OutputDerivative.holds(this, a, b);
    }

    /**
     * Double-precision reference f' as a function of the output: the true derivative at the float {@code y} given
     * (elementwise ops with {@link #hasBackwardFromOutput(double, double)} only).
     */
    public double referenceDerivativeFromOutput(double y, double a, double b) {
        if (kind != Kind.ELEMENTWISE || !hasBackwardFromOutput(a, b)) {
            throw new UnsupportedOperationException(id + " has no elementwise backward from its output at a=" + a
                    + ", b=" + b);
        }
        return OutputDerivative.of(this).at(y, a, b);
    }

    /** The elementwise op a gated op applies to its gate half, e.g. silu for swiglu. */
    public Op activated() {
        return requireGated().activated;
    }

    /** Whether a gated op activates the first half of the last axis (swiglu: silu(a) * b) or the second (glu). */
    public boolean activatesFirstHalf() {
        return requireGated().activatesFirstHalf;
    }

    /**
     * Double-precision reference of a gated op: f(gate) * other, with {@code first} and {@code second} the two
     * halves' elements and {@code a, b} the activated op's parameters.
     */
    public double referenceGated(double first, double second, double a, double b) {
        requireGated();
        double gate = activatesFirstHalf ? first : second;
        double other = activatesFirstHalf ? second : first;
        return activated.reference(gate, a, b) * other;
    }

    /**
     * Double-precision partial derivative of {@link #referenceGated} with respect to the first half's element
     * ({@code withRespectToFirst}) or the second's: other * f'(gate) for the gate half, f(gate) for the other.
     */
    public double referenceGatedPartial(double first, double second, double a, double b, boolean withRespectToFirst) {
        requireGated();
        double gate = activatesFirstHalf ? first : second;
        double other = activatesFirstHalf ? second : first;
        return withRespectToFirst == activatesFirstHalf ? other * activated.referenceDerivative(gate, a, b)
                : activated.reference(gate, a, b);
    }

    /** The size of the terms {@link #referenceGatedPartial} sums, as {@link #referenceDerivativeScale} says. */
    public double referenceGatedPartialScale(double first, double second, double a, double b,
                                             boolean withRespectToFirst) {
        requireGated();
        double gate = activatesFirstHalf ? first : second;
        double other = activatesFirstHalf ? second : first;
        return withRespectToFirst == activatesFirstHalf ? Math.abs(other) * activated.referenceDerivativeScale(gate, a, b)
                : Math.abs(activated.reference(gate, a, b));
    }

    /** This op with its default parameters. */
    public Activation defaults() {
        return Activation.of(this);
    }

    /** Finds an op by its id ({@code leaky_relu}) or enum name ({@code LEAKY_RELU}), ignoring case. */
    public static Optional<Op> find(String name) {
        String wanted = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        return Arrays.stream(values()).filter(op -> op.id.equals(wanted)).findFirst();
    }

    /** Like {@link #find} but an unknown name is an {@link IllegalArgumentException} listing the known ones. */
    public static Op byName(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException(
                "unknown activation '" + name + "'; known: " + String.join(", ", Arrays.stream(values()).map(Op::id).toList())));
    }

    private Op requireElementwise() {
        if (forward == null) {
            throw new UnsupportedOperationException(id + " is " + (kind == Kind.GATED ? "gated" : "row-wise")
                    + ": it has no elementwise reference");
        }
        return this;
    }

    private Op requireGated() {
        if (kind != Kind.GATED) {
            throw new UnsupportedOperationException(id + " is not a gated op");
        }
        return this;
    }

    @Override
    public String toString() {
        return id;
    }
}
