package dev.gpuact.conformance;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The checks every backend must pass, one op at a time, through the public {@link Backend} API only: the
 * contract of ACTIVATIONS.md made executable. Used by the JUnit suite and by {@code gpuact check}.
 *
 * <p>How the contract is read, precisely:
 * <ul>
 * <li>An error is the distance in the ordered float lattice between the backend's float and the true value
 *     rounded to float (computed in double by {@link Op#reference} / {@link Op#referenceDerivative}); +0 and -0
 *     are equal, NaN and NaN are 0 apart, NaN and a number infinitely far. Forward must be within
 *     {@link #FORWARD_ULP}, backward and softmax/log_softmax within {@link #BACKWARD_ULP}. Subnormal results
 *     count like any other (a backend that flushes them to zero fails where the true result is subnormal).</li>
 * <li>Where the true value is a difference of terms that cancel, no float computation is relatively accurate,
 *     so the error there is measured in ULPs of the sum of the terms' magnitudes, when that is the smaller
 *     figure (as benchdnn does): for the elementwise backward that scale is |dy| times
 *     {@link Op#referenceDerivativeScale} (gelu: |Phi(x)| + |x phi(x)|; it only differs from |f'| for gelu,
 *     gelu_tanh, silu, swish, mish and ricker, near the zeros of f'); for softmax backward it is
 *     y_i (|dy_i| + sum_j |dy_j| y_j) / T; for log_softmax backward (|dy_i| + p_i sum_j |dy_j|) / T. Where that
 *     reading admits 0 for f'(x) (next to a zero of f'), the sign of a conforming f' is not determined, so an
 *     infinite dy may give +-inf or NaN there; a finite result is still an error.</li>
 * <li>PReLU's weight gradient is a reduction whose float result depends on the summation order: it must be
 *     within {@link #REDUCTION_ULP} ULPs of sum |dy x| over the channel's terms (a pairwise or blocked float
 *     sum is far inside; a sequential one over a few thousand terms usually is).</li>
 * <li>Bias and activation is read as its unfused definition: x + bias rounded to float, then f, held to f's
 *     bounds there; dbias (a reduction of dx) within {@link #REDUCTION_ULP} ULPs of the exact sum of dy f'(x + bias)
 *     over the channel, measured in ULPs of the sum of the terms' magnitudes as PReLU's weight gradient is.</li>
 * <li>Softmax rows sum to 1 within {@link #SOFTMAX_SUM_TOLERANCE} (summed in double), up to 2^20 columns.</li>
 * <li>Determinism: the same call twice gives the same bits, any NaN counting as one value (elementwise forward
 *     and backward, softmax and log_softmax over 65536 columns, PReLU's weight gradient).</li>
 * </ul>
 * The backward passes from the saved output y are read as {@link OutputBackwardChecks} says: against the true
 * derivative at the float y given; ops without that form must refuse it.
 * Elementwise inputs cover every float exponent with several mantissas and both signs, the special values, the
 * kinks and the zeros of f and f' of each op with their float neighbours, [-14, -5] densely, the inputs where a
 * soak or a scan once found a backend outside its bound, and seeded random floats (uniform in [-20, 20] and
 * uniform over bit patterns), at the default parameters and one to three others per op; backward runs with dy = 1, with dy uniform in [-2, 2], and with dy = +-inf and +-{@value
 * ElementwiseInputs#HUGE_DY} at the inputs within {@value ElementwiseInputs#EXTREME_DY_RANGE} of 0 and the special
 * values: an infinite dy times a real nonzero f'(x) is +-inf even where f'(x) underflows float (gelu beyond -13),
 * and NaN where f'(x) is 0 or x is infinite (the limit 0 times inf). Beyond that range the double reference of f'
 * itself underflows for some ops (gelu_tanh below -21.5) and could not tell a zero from an underflow. Row-wise outputs are written into buffers
 * pre-filled with a sentinel, and every element outside the rows (stride padding, the tail) must keep it; input
 * padding is NaN, so a kernel that reads it poisons its row. Maxout must be exact; its gradient goes to the first
 * maximum. The gradient of a row is that of its softmax p, the formula's: dy/T for log_softmax and 0 for softmax
 * where a row is fully masked (p = 0), NaN where it holds NaN or +inf. Not checked: the gradient of a fully masked
 * row with masked_nan, and maxout's gradient in a group holding NaN (the contract does not say what they are).
 * Gated ops are read as {@link GatedChecks} says: f's forward bound plus 1 ULP for the product.
 */
public final class Conformance {
    public static final double FORWARD_ULP = 4;
    public static final double BACKWARD_ULP = 8;
    /** PReLU dweight: error bound in ULPs of the channel's sum |dy x|. */
    public static final double REDUCTION_ULP = 64;
    public static final double SOFTMAX_SUM_TOLERANCE = 1e-6;

    /** Column counts that straddle the switch points of warp-, block- and multi-block-per-row kernels. */
    static final int[] SOFTMAX_COLUMNS = {1, 31, 32, 33, 1024, 1025, 4097, 65536};
    static final int LONG_ROW = 1 << 20;
    static final int DETERMINISM_COLUMNS = 65536;
    /** Written to every output element no row owns, and checked to be still there afterwards. */
    static final float SENTINEL = -12345.625f;

    private Conformance() {
    }

    /** Every check for one op on one backend. */
    public static OpReport check(Backend backend, Op op) {
        Tally tally = new Tally(op.id());
        if (op.kind() == Op.Kind.GATED) {
            GatedChecks.run(backend, op, tally);
            return tally.report();
        }
        switch (op) {
            case SOFTMAX, LOG_SOFTMAX -> {
                SoftmaxChecks.run(backend, op, tally);
                OutputBackwardChecks.rows(backend, op, tally);
            }
            case MAXOUT -> {
                MaxoutChecks.run(backend, tally);
                OutputBackwardChecks.rejected(backend, Activation.MAXOUT, tally);
            }
            case PRELU -> PreluChecks.run(backend, tally);
            default -> {
                for (Activation activation : op.checkedSettings()) {
                    checkElementwise(backend, activation, tally);
                }
            }
        }
        return tally.report();
    }

    /** The ops that take a {@link dev.gpuact.RowMask}, each checked masked by {@link #checkMasked}. */
    public static final List<Op> MASKABLE = List.of(Op.SOFTMAX, Op.LOG_SOFTMAX);

    /**
     * Masked and causal rows of softmax or log_softmax (additive masks, valid lengths, causal limits, with
     * temperatures and strides) against the unfused definition, reported as {@code <op>+mask}.
     */
    public static OpReport checkMasked(Backend backend, Op op) {
        if (!MASKABLE.contains(op)) {
            throw new IllegalArgumentException(op.id() + " takes no mask; the maskable ops are " + MASKABLE);
        }
        Tally tally = new Tally(op.id() + "+mask");
        MaskedSoftmaxChecks.run(backend, op, tally);
        return tally.report();
    }

    /**
     * Bias and activation ({@link Backend#applyBias}) for an elementwise op, a report named {@code <id>+bias}: y and
     * dx against f and f' at the float sum x + bias, dbias as a channel reduction ({@link BiasChecks}).
     */
    public static OpReport checkBias(Backend backend, Op op) {
        if (op.kind() != Op.Kind.ELEMENTWISE) {
            throw new IllegalArgumentException("bias and activation take an elementwise op, got " + op.id());
        }
        return BiasChecks.run(backend, op);
    }

    /**
     * Every op on buffers of a 16-bit type (float16 or bfloat16), as {@link StorageChecks} reads the storage rule,
     * reported as {@code <op>@<type>}: elementwise ops and their bias form, row-wise ops masked and not, PReLU and
     * the gated ops, forward and backward, and the elementwise backward with mixed types.
     */
    public static OpReport checkStorage(Backend backend, Op op, DType type) {
        if (!type.isHalf()) {
            throw new IllegalArgumentException("the storage checks take FLOAT16 or BFLOAT16, got " + type);
        }
        Tally tally = new Tally(op.id() + "@" + type.name().toLowerCase(Locale.ROOT));
        StorageChecks.run(backend, op, type, tally);
        return tally.report();
    }

    /** {@link #check} for every op, in catalog order. */
    public static List<OpReport> checkAll(Backend backend) {
        return Arrays.stream(Op.values()).map(op -> check(backend, op)).toList();
    }

    private static void checkElementwise(Backend backend, Activation activation, Tally tally) {
        Op op = activation.op();
        float[] x = ElementwiseInputs.of(activation, seed(op));
        SplittableRandom random = new SplittableRandom(seed(op) + 1);
        float[] randomDy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            randomDy[i] = (float) random.nextDouble(-2, 2);
        }
        float[] ones = new float[x.length];
        Arrays.fill(ones, 1f);
        float[] y = compareForward(backend, activation, x, tally);
        float[] dxOnes = compareBackward(backend, activation, x, ones, tally);
        compareBackward(backend, activation, x, randomDy, tally);
        float[][] extreme = ElementwiseInputs.withExtremeDy(x);
        compareBackward(backend, activation, extreme[0], extreme[1], tally);
        checkSameBits(tally, activation + " forward", y, forward(backend, activation, x));
        checkSameBits(tally, activation + " backward", dxOnes, backward(backend, activation, x, ones));
        OutputBackwardChecks.elementwise(backend, activation, x, seed(op) + 2, tally);
    }

    /**
     * Forward and backward of an elementwise activation at inputs of the caller's choosing, against the same
     * bounds as {@link #check}; for property tests and for reproducing a reported failure.
     */
    public static OpReport checkElementwise(Backend backend, Activation activation, float[] x, float[] dy) {
        if (activation.op().kind() != Op.Kind.ELEMENTWISE) {
            throw new IllegalArgumentException("activation must be elementwise (not prelu or row-wise), got " + activation);
        }
        if (dy.length != x.length) {
            throw new IllegalArgumentException("dy must have x's length " + x.length + ", got " + dy.length);
        }
        Tally tally = new Tally(activation.op().id());
        compareForward(backend, activation, x, tally);
        compareBackward(backend, activation, x, dy, tally);
        return tally.report();
    }

    /**
     * Forward and backward of softmax or log_softmax on rows of the caller's choosing, against the same reference
     * and bounds as {@link #check}; for soak runs and for reproducing a reported failure.
     */
    public static OpReport checkRows(Backend backend, Activation activation, float[] x, RowLayout layout) {
        if (activation.op() != Op.SOFTMAX && activation.op() != Op.LOG_SOFTMAX) {
            throw new IllegalArgumentException("activation must be softmax or log_softmax, got " + activation);
        }
        if (x.length < layout.xExtent()) {
            throw new IllegalArgumentException("x holds " + x.length + " floats but " + layout + " needs "
                    + layout.xExtent());
        }
        Tally tally = new Tally(activation.op().id());
        SoftmaxChecks.checkRows(backend, activation, x, layout, tally);
        return tally.report();
    }

    private static float[] compareForward(Backend backend, Activation activation, float[] x, Tally tally) {
        Op op = activation.op();
        float[] y = forward(backend, activation, x);
        for (int i = 0; i < x.length; i++) {
            double want = op.reference(x[i], activation.a(), activation.b());
            double ulps = Ulp.distance(y[i], want);
            tally.forward(ulps);
            if (!(ulps <= FORWARD_ULP)) {
                tally.fail(elementFailure("forward", activation, x[i], y[i], (float) want, ulps, FORWARD_ULP));
            }
        }
        return y;
    }

    private static float[] compareBackward(Backend backend, Activation activation, float[] x, float[] dy, Tally tally) {
        Op op = activation.op();
        float[] dx = backward(backend, activation, x, dy);
        for (int i = 0; i < x.length; i++) {
            double ulps = backwardUlps(activation, x[i], dy[i], dx[i]);
            tally.backward(ulps);
            if (!(ulps <= BACKWARD_ULP)) {
                float want = (float) (dy[i] * op.referenceDerivative(x[i], activation.a(), activation.b()));
                tally.fail(elementFailure("backward (dy=" + dy[i] + ")", activation, x[i], dx[i], want, ulps,
                        BACKWARD_ULP));
            }
        }
        return dx;
    }

    /** The error of dx = dy * f'(x) at one element, read as the class comment says (term scale, infinite dy). */
    static double backwardUlps(Activation activation, float x, float dy, float dx) {
        Op op = activation.op();
        double derivative = op.referenceDerivative(x, activation.a(), activation.b());
        double derivativeScale = op.referenceDerivativeScale(x, activation.a(), activation.b());
        return Float.isInfinite(dy) && Ulp.distance(0f, derivative, derivativeScale) <= BACKWARD_ULP
                ? (Float.isFinite(dx) ? Double.POSITIVE_INFINITY : 0)
                : Ulp.distance(dx, dy * derivative, Math.abs(dy) * derivativeScale);
    }

    /** "forward at x=-0.0075 (0xbbf5c28f) a=0.01: got 1.2 want 1.3, 17 ULP > 4", naming the rule for NaN/inf. */
    private static String elementFailure(String what, Activation activation, float x, float got, float want,
                                         double ulps, double bound) {
        String rule = Float.isNaN(x) ? "NaN in must give NaN out: "
                : Float.isInfinite(x) ? "+-inf must give the limit: " : "";
        return String.format(Locale.ROOT, "%s%s at x=%s (0x%08x)%s: got %s want %s, %s ULP > %s", rule, what, x,
                Float.floatToRawIntBits(x), parameterText(activation), got, want, formatUlps(ulps), formatUlps(bound));
    }

    static String parameterText(Activation activation) {
        StringBuilder sb = new StringBuilder();
        for (var p : activation.op().params()) {
            sb.append(' ').append(p.name()).append('=').append((float) activation.param(p.name()));
        }
        return sb.toString();
    }

    static String formatUlps(double ulps) {
        return Double.isInfinite(ulps) ? "inf" : ulps == Math.rint(ulps) ? Long.toString((long) ulps)
                : String.format(Locale.ROOT, "%.3g", ulps);
    }

    static long seed(Op op) {
        return 0x5eed_0000L + op.ordinal();
    }

    /** Bit-identical outputs, reading every NaN as the same value: Java and the devices do not keep NaN payloads. */
    static void checkSameBits(Tally tally, String what, float[] first, float[] second) {
        tally.point();
        for (int i = 0; i < first.length; i++) {
            if (Float.floatToIntBits(first[i]) != Float.floatToIntBits(second[i])) {
                tally.fail(String.format(Locale.ROOT, "not deterministic: %s gave %s then %s at index %d", what,
                        first[i], second[i], i));
                return;
            }
        }
    }

    static float[] forward(Backend backend, Activation activation, float[] x) {
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer by = backend.allocate(x.length)) {
            backend.apply(activation, bx, by);
            return by.toArray();
        }
    }

    static float[] backward(Backend backend, Activation activation, float[] x, float[] dy) {
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer bdy = backend.upload(dy);
             DeviceBuffer bdx = backend.allocate(x.length)) {
            backend.applyBackward(activation, bx, bdy, bdx);
            return bdx.toArray();
        }
    }

    /** y = op(x) row-wise, into a buffer of {@code yLength} pre-filled with {@link #SENTINEL}. */
    static float[] rows(Backend backend, Activation activation, float[] x, RowLayout layout, int yLength) {
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer by = backend.upload(sentinels(yLength))) {
            backend.applyRows(activation, bx, by, layout);
            return by.toArray();
        }
    }

    /** dx of a row-wise op, into a buffer of {@code x.length} pre-filled with {@link #SENTINEL}. */
    static float[] rowsBackward(Backend backend, Activation activation, float[] x, float[] dy, RowLayout layout) {
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer bdy = backend.upload(dy);
             DeviceBuffer bdx = backend.upload(sentinels(x.length))) {
            backend.applyRowsBackward(activation, bx, bdy, bdx, layout);
            return bdx.toArray();
        }
    }

    static float[] sentinels(int length) {
        float[] a = new float[length];
        Arrays.fill(a, SENTINEL);
        return a;
    }

    /** Every element outside the first {@code rowLength} of each row must still hold the sentinel. */
    static void checkPadding(Tally tally, String what, float[] out, long rows, long stride, long rowLength) {
        for (int i = 0; i < out.length; i++) {
            long row = i / stride;
            boolean owned = row < rows && i % stride < rowLength;
            if (!owned && Float.floatToRawIntBits(out[i]) != Float.floatToRawIntBits(SENTINEL)) {
                tally.fail(String.format(Locale.ROOT, "%s: element %d lies outside every row (stride %d, row length "
                        + "%d, %d rows) but was overwritten with %s", what, i, stride, rowLength, rows, out[i]));
                return;
            }
        }
        tally.point();
    }

    /** A layout description for failure lines. */
    static String describe(RowLayout layout) {
        return String.format(Locale.ROOT, "rows=%d cols=%d xStride=%d yStride=%d", layout.rows(), layout.cols(),
                layout.xStride(), layout.yStride());
    }

}
