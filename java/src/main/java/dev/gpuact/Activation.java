package dev.gpuact;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * An op from the catalog with its parameter values: what a backend is asked to compute.
 * Immutable; parameter values are validated on creation and held as the float32 values every kernel receives.
 */
public final class Activation {
    public static final Activation IDENTITY = Op.IDENTITY.defaults();
    public static final Activation STEP = Op.STEP.defaults();
    public static final Activation ABS = Op.ABS.defaults();
    public static final Activation SQUARE = Op.SQUARE.defaults();
    public static final Activation SIGMOID = Op.SIGMOID.defaults();
    public static final Activation TANH = Op.TANH.defaults();
    public static final Activation RELU = Op.RELU.defaults();
    public static final Activation RELU6 = Op.RELU6.defaults();
    public static final Activation LEAKY_RELU = Op.LEAKY_RELU.defaults();
    public static final Activation ELU = Op.ELU.defaults();
    public static final Activation SELU = Op.SELU.defaults();
    public static final Activation CELU = Op.CELU.defaults();
    public static final Activation GELU = Op.GELU.defaults();
    public static final Activation GELU_TANH = Op.GELU_TANH.defaults();
    public static final Activation SILU = Op.SILU.defaults();
    public static final Activation SWISH = Op.SWISH.defaults();
    public static final Activation MISH = Op.MISH.defaults();
    public static final Activation SOFTPLUS = Op.SOFTPLUS.defaults();
    public static final Activation SOFTSIGN = Op.SOFTSIGN.defaults();
    public static final Activation LOGSIGMOID = Op.LOGSIGMOID.defaults();
    public static final Activation HARDTANH = Op.HARDTANH.defaults();
    public static final Activation HARDSIGMOID = Op.HARDSIGMOID.defaults();
    public static final Activation HARDSWISH = Op.HARDSWISH.defaults();
    public static final Activation TANHSHRINK = Op.TANHSHRINK.defaults();
    public static final Activation SOFTSHRINK = Op.SOFTSHRINK.defaults();
    public static final Activation HARDSHRINK = Op.HARDSHRINK.defaults();
    public static final Activation THRESHOLD = Op.THRESHOLD.defaults();
    public static final Activation RICKER = Op.RICKER.defaults();
    public static final Activation SOFTMAX = Op.SOFTMAX.defaults();
    public static final Activation LOG_SOFTMAX = Op.LOG_SOFTMAX.defaults();
    public static final Activation MAXOUT = Op.MAXOUT.defaults();
    public static final Activation GLU = Op.GLU.defaults();
    public static final Activation SWIGLU = Op.SWIGLU.defaults();
    public static final Activation GEGLU = Op.GEGLU.defaults();
    public static final Activation GEGLU_TANH = Op.GEGLU_TANH.defaults();
    public static final Activation REGLU = Op.REGLU.defaults();

    private final Op op;
    private final double a;
    private final double b;

    private Activation(Op op, double a, double b) {
        this.op = op;
        this.a = a;
        this.b = b;
    }

    /** The op with its defaults. */
    public static Activation of(Op op) {
        return of(op, Map.of());
    }

    /**
     * The op with the named parameters set and the rest at their defaults.
     *
     * @throws IllegalArgumentException naming the parameter for an unknown name or a value out of range
     */
    public static Activation of(Op op, Map<String, ? extends Number> values) {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(values, "values");
        List<Param> params = op.params();
        for (String key : values.keySet()) {
            if (params.stream().noneMatch(p -> p.name().equals(key))) {
                throw new IllegalArgumentException(op.id() + ": unknown parameter '" + key + "'; "
                        + (params.isEmpty() ? "it takes none" : "it takes " + params));
            }
        }
        double[] v = new double[2];
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            Number given = values.get(p.name());
            if (given == null && values.containsKey(p.name())) {
                throw new IllegalArgumentException(op.id() + ": parameter '" + p.name() + "' is null; leave it out for its default");
            }
            v[i] = given == null ? p.defaultValue() : p.validate(op.id(), given.doubleValue());
        }
        op.info().violation(v[0], v[1]).ifPresent(problem -> {
            throw new IllegalArgumentException(op.id() + ": " + problem);
        });
        return new Activation(op, v[0], v[1]);
    }

    /** A copy with one parameter changed. */
    public Activation with(String name, double value) {
        Map<String, Double> values = new java.util.LinkedHashMap<>();
        List<Param> params = op.params();
        for (int i = 0; i < params.size(); i++) {
            values.put(params.get(i).name(), i == 0 ? a : b);
        }
        if (!values.containsKey(name)) {
            throw new IllegalArgumentException(op.id() + ": unknown parameter '" + name + "'; "
                    + (params.isEmpty() ? "it takes none" : "it takes " + params));
        }
        values.put(name, value);
        return of(op, values);
    }

    public static Activation leakyRelu(double alpha) {
        return LEAKY_RELU.with("alpha", alpha);
    }

    public static Activation elu(double alpha) {
        return ELU.with("alpha", alpha);
    }

    public static Activation celu(double alpha) {
        return CELU.with("alpha", alpha);
    }

    public static Activation swish(double beta) {
        return SWISH.with("beta", beta);
    }

    public static Activation softplus(double beta, double threshold) {
        return of(Op.SOFTPLUS, Map.of("beta", beta, "threshold", threshold));
    }

    public static Activation hardtanh(double min, double max) {
        return of(Op.HARDTANH, Map.of("min", min, "max", max));
    }

    public static Activation hardsigmoid(double alpha, double beta) {
        return of(Op.HARDSIGMOID, Map.of("alpha", alpha, "beta", beta));
    }

    public static Activation softshrink(double lambda) {
        return SOFTSHRINK.with("lambda", lambda);
    }

    public static Activation hardshrink(double lambda) {
        return HARDSHRINK.with("lambda", lambda);
    }

    public static Activation threshold(double threshold, double value) {
        return of(Op.THRESHOLD, Map.of("threshold", threshold, "value", value));
    }

    /** Softmax with a temperature; {@code nanForMaskedRows} gives NaN for an all -inf row, as PyTorch does, instead of zeros. */
    public static Activation softmax(double temperature, boolean nanForMaskedRows) {
        return of(Op.SOFTMAX, Map.of("temperature", temperature, "masked_nan", nanForMaskedRows ? 1 : 0));
    }

    /** Log-softmax; {@code nanForMaskedRows} gives NaN for an all -inf row instead of -inf. */
    public static Activation logSoftmax(double temperature, boolean nanForMaskedRows) {
        return of(Op.LOG_SOFTMAX, Map.of("temperature", temperature, "masked_nan", nanForMaskedRows ? 1 : 0));
    }

    public static Activation maxout(int pieces) {
        return of(Op.MAXOUT, Map.of("pieces", pieces));
    }

    public Op op() {
        return op;
    }

    /** First parameter as the kernels receive it (0 when the op has none). */
    public float a() {
        return (float) a;
    }

    /** Second parameter as the kernels receive it (0 when the op has fewer than two). */
    public float b() {
        return (float) b;
    }

    /** A parameter's value by name. */
    public double param(String name) {
        List<Param> params = op.params();
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i).name().equals(name)) {
                return i == 0 ? a : b;
            }
        }
        throw new IllegalArgumentException(op.id() + ": unknown parameter '" + name + "'");
    }

    /** Reference f(x) at these parameters (elementwise ops). */
    public double reference(double x) {
        return op.reference(x, a, b);
    }

    /**
     * Whether {@link Backend#applyBackwardFromOutput} (elementwise) or {@link Backend#applyRowsBackwardFromOutput}
     * (softmax, log_softmax) takes this activation: its derivative is a function of its output at these parameters.
     */
    public boolean hasBackwardFromOutput() {
        return op.hasBackwardFromOutput(a, b);
    }

    /** Reference f'(x) at these parameters (elementwise ops). */
    public double referenceDerivative(double x) {
        return op.referenceDerivative(x, a, b);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Activation other && other.op == op
                && Double.compare(other.a, a) == 0 && Double.compare(other.b, b) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(op, a, b);
    }

    /** {@code leaky_relu(alpha=0.2)}; ops without parameters print their bare id. */
    @Override
    public String toString() {
        if (op.params().isEmpty()) {
            return op.id();
        }
        StringJoiner j = new StringJoiner(", ", op.id() + "(", ")");
        List<Param> params = op.params();
        for (int i = 0; i < params.size(); i++) {
            j.add(params.get(i).name() + "=" + Param.format(i == 0 ? a : b));
        }
        return j.toString();
    }
}
