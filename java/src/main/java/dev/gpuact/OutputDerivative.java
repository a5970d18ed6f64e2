package dev.gpuact;

/**
 * f' as a function of the output y = f(x), for the ops whose derivative is one: the backward pass engines and
 * autograd run from the saved output. Each is the true derivative at the given float y (in double), so a backend
 * is measured against f'(y) exactly, not against f'(x) of an x it never sees.
 *
 * <p>Which ops have one, and why the others have none: f must map y back to a unique f'. sigmoid, tanh, softsign,
 * logsigmoid (strictly monotone, f' a closed form of y), identity and step; the piecewise linear ones whose pieces
 * have disjoint output ranges: relu, relu6, hardtanh, hardsigmoid, softshrink, hardshrink, leaky_relu with
 * alpha >= 0 and threshold with value <= threshold (otherwise a negative slope or the fill value reuses outputs of
 * the other piece); elu with alpha >= 0, selu and celu (f' = y + alpha, y + lambda alpha, y/alpha + 1 where x <= 0).
 * Row-wise: softmax (dx = y (dy - sum dy y) / T) and log_softmax (dx = (dy - e^y sum dy) / T); not maxout, whose
 * gradient needs the position of each maximum in x. Not: abs, square, gelu, gelu_tanh, silu, swish, mish, hardswish, ricker (not monotone: one y, two slopes),
 * tanhshrink (monotone, but f' has no closed form in y), softplus (y overlaps across its threshold switch).
 */
final class OutputDerivative {
    private OutputDerivative() {
    }

    /** The map for an elementwise {@code op}, or null where it has none at any parameters. */
    static Op.RealFunction of(Op op) {
        return switch (op) {
            case IDENTITY -> (y, a, b) -> Double.isNaN(y) ? y : 1;
            case STEP -> (y, a, b) -> Double.isNaN(y) ? y : 0;
            case SIGMOID -> (y, a, b) -> y * (1 - y);
            case TANH -> (y, a, b) -> (1 - y) * (1 + y);
            case RELU -> (y, a, b) -> Double.isNaN(y) ? y : y > 0 ? 1 : 0;
            case RELU6 -> (y, a, b) -> Double.isNaN(y) ? y : y > 0 && y < 6 ? 1 : 0;
            case LEAKY_RELU -> (y, a, b) -> Double.isNaN(y) ? y : y > 0 ? 1 : a;
            case ELU -> (y, a, b) -> Double.isNaN(y) ? y : y > 0 ? 1 : y + a;
            case SELU -> (y, a, b) -> Double.isNaN(y) ? y : y > 0 ? Reference.SELU_LAMBDA
                    : y + Reference.SELU_LAMBDA * Reference.SELU_ALPHA;
            case CELU -> (y, a, b) -> Double.isNaN(y) ? y : y > 0 ? 1 : (y + a) / a;
            case SOFTSIGN -> (y, a, b) -> (1 - Math.abs(y)) * (1 - Math.abs(y));
            case LOGSIGMOID -> (y, a, b) -> -Math.expm1(y);
            case HARDTANH -> (y, a, b) -> Double.isNaN(y) ? y : y > a && y < b ? 1 : 0;
            case HARDSIGMOID -> (y, a, b) -> Double.isNaN(y) ? y : y > 0 && y < 1 ? a : 0;
            case SOFTSHRINK, HARDSHRINK -> (y, a, b) -> Double.isNaN(y) ? y : y != 0 ? 1 : 0;
            case THRESHOLD -> (y, a, b) -> Double.isNaN(y) ? y : y > a ? 1 : 0;
            default -> null;
        };
    }

    /** Whether {@code op} at these parameters has the map: some ops only where their pieces keep outputs apart. */
    static boolean holds(Op op, double a, double b) {
        return switch (op) {
            case LEAKY_RELU, ELU -> a >= 0;
            case THRESHOLD -> b <= a;
            case SOFTMAX, LOG_SOFTMAX -> true;
            default -> op.kind() == Op.Kind.ELEMENTWISE && of(op) != null;
        };
    }
}
