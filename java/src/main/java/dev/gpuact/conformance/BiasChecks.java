package dev.gpuact.conformance;

import static dev.gpuact.conformance.Conformance.BACKWARD_ULP;
import static dev.gpuact.conformance.Conformance.FORWARD_ULP;
import static dev.gpuact.conformance.Conformance.REDUCTION_ULP;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Bias and activation, read as its unfused definition: t = x + bias rounded to float, then f. y and dx are held to
 * f's bounds at t, dbias to a channel reduction of dy f'(t); channel indexing, in-place calls and determinism too.
 */
final class BiasChecks {
    /** One channel per bias: zero (the sweep's own inputs), either sign, and one far below most inputs. */
    private static final float[] SWEEP_BIASES = {0f, 1.5f, -0.71875f, 0x1p-10f};

    private final Backend backend;
    private final Tally tally;
    private final SplittableRandom random;

    private BiasChecks(Backend backend, Op op) {
        this.backend = backend;
        this.tally = new Tally(op.id() + "+bias");
        this.random = new SplittableRandom(Conformance.seed(op) + 3);
    }

    static OpReport run(Backend backend, Op op) {
        BiasChecks checks = new BiasChecks(backend, op);
        for (Activation activation : op.checkedSettings()) {
            checks.sweep(activation);
            checks.checkLayout(activation, "NCHW N=3 C=5 HxW=7x9", 3 * 5 * 63, 5, 63);
            checks.checkLayout(activation, "[N, C] N=200 C=16", 200 * 16, 16, 1);
            checks.checkLayout(activation, "C=1 N=4096", 4096, 1, 1);
            checks.checkLayout(activation, "C=3 inner beyond n", 1000, 3, 1 << 20);
        }
        checks.checkInPlace(op.defaults());
        checks.checkEmptyInputZeroesBiasGradient(op.defaults());
        return checks.tally.report();
    }

    private record Result(float[] y, float[] dx, float[] dbias) {
    }

    private Result run(Activation activation, float[] x, float[] bias, float[] dy, int channels, int inner) {
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer bb = backend.upload(bias);
             DeviceBuffer by = backend.allocate(x.length); DeviceBuffer bdy = backend.upload(dy);
             DeviceBuffer bdx = backend.allocate(x.length);
             DeviceBuffer bdb = backend.upload(Conformance.sentinels(channels))) {
            backend.applyBias(activation, bx, bb, by, channels, inner);
            backend.applyBiasBackward(activation, bx, bb, bdy, bdx, bdb, channels, inner);
            return new Result(by.toArray(), bdx.toArray(), bdb.toArray());
        }
    }

    /** Every input of the op's sweep with every bias of {@link #SWEEP_BIASES}: [N, 4], each x repeated per channel. */
    private void sweep(Activation activation) {
        float[] inputs = ElementwiseInputs.of(activation, Conformance.seed(activation.op()));
        int channels = SWEEP_BIASES.length;
        float[] x = new float[inputs.length * channels];
        for (int i = 0; i < x.length; i++) {
            x[i] = inputs[i / channels];
        }
        float[] dy = uniform(x.length, 2);
        Result r = run(activation, x, SWEEP_BIASES, dy, channels, 1);
        compareElements(activation, "[N, 4] sweep", x, SWEEP_BIASES, 1, dy, r);
    }

    /** y and dx of every element against f and dy f' at the float sum. */
    private void compareElements(Activation activation, String layout, float[] x, float[] bias, int inner, float[] dy,
                                 Result r) {
        for (int i = 0; i < x.length; i++) {
            float b = bias[(i / inner) % bias.length];
            float t = x[i] + b;
            double ulps = Ulp.distance(r.y()[i], activation.reference(t));
            tally.forward(ulps);
            if (!(ulps <= FORWARD_ULP)) {
                tally.fail(failure(activation, "forward", layout, i, x[i], b, r.y()[i], activation.reference(t), ulps,
                        FORWARD_ULP));
            }
            ulps = Conformance.backwardUlps(activation, t, dy[i], r.dx()[i]);
            tally.backward(ulps);
            if (!(ulps <= BACKWARD_ULP)) {
                tally.fail(failure(activation, "backward dx (dy=" + dy[i] + ")", layout, i, x[i], b, r.dx()[i],
                        dy[i] * activation.referenceDerivative(t), ulps, BACKWARD_ULP));
            }
        }
    }

    private static String failure(Activation activation, String what, String layout, int i, float x, float bias,
                                  float got, double want, double ulps, double bound) {
        String rule = Float.isNaN(x) ? "NaN in must give NaN out: " : "";
        return String.format(Locale.ROOT, "%s%s+bias %s %s at index %d, x=%s (0x%08x) bias=%s%s: got %s want %s, %s "
                        + "ULP > %s", rule, activation.op().id(), what, layout, i, x, Float.floatToRawIntBits(x), bias,
                Conformance.parameterText(activation), got, (float) want, Conformance.formatUlps(ulps),
                Conformance.formatUlps(bound));
    }

    /** Random finite x, bias and dy in a layout: y, dx, dbias against the references, and dbias twice. */
    private void checkLayout(Activation activation, String layout, int n, int channels, int inner) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (2 * random.nextGaussian());
        }
        float[] bias = uniform(channels, 1);
        float[] dy = uniform(n, 2);
        Result r = run(activation, x, bias, dy, channels, inner);
        compareElements(activation, layout, x, bias, inner, dy, r);
        double[] sum = new double[channels];
        double[] magnitude = new double[channels];
        for (int i = 0; i < n; i++) {
            int c = (int) ((i / (long) inner) % channels);
            float t = x[i] + bias[c];
            sum[c] += dy[i] * activation.referenceDerivative(t);
            magnitude[c] += Math.abs(dy[i]) * activation.op().referenceDerivativeScale(t, activation.a(), activation.b());
        }
        for (int c = 0; c < channels; c++) {
            double ulps = Math.abs(r.dbias()[c] - sum[c]) / Math.ulp((float) magnitude[c]);
            tally.backward(ulps);
            if (!(ulps <= REDUCTION_ULP)) {
                tally.fail(String.format(Locale.ROOT, "%s+bias dbias %s%s channel %d: got %s want %s, error %s ULP of "
                                + "sum|dy f'| = %s > %s", activation.op().id(), layout,
                        Conformance.parameterText(activation), c, r.dbias()[c], (float) sum[c],
                        Conformance.formatUlps(ulps), (float) magnitude[c], Conformance.formatUlps(REDUCTION_ULP)));
            }
        }
        Result again = run(activation, x, bias, dy, channels, inner);
        Conformance.checkSameBits(tally, activation + "+bias dbias " + layout, r.dbias(), again.dbias());
        Conformance.checkSameBits(tally, activation + "+bias dx " + layout, r.dx(), again.dx());
    }

    /** y into x's buffer and dx into dy's or x's give the bits of separate buffers. */
    private void checkInPlace(Activation activation) {
        int n = 5 * 700;
        int channels = 5;
        float[] x = uniform(n, 4);
        float[] bias = uniform(channels, 1);
        float[] dy = uniform(n, 2);
        Result apart = run(activation, x, bias, dy, channels, 7);
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer bb = backend.upload(bias);
             DeviceBuffer bdy = backend.upload(dy); DeviceBuffer bdb = backend.allocate(channels)) {
            backend.applyBiasBackward(activation, bx, bb, bdy, bdy, bdb, channels, 7);
            Conformance.checkSameBits(tally, activation + "+bias dx into dy's buffer", apart.dx(), bdy.toArray());
            Conformance.checkSameBits(tally, activation + "+bias dbias with dx in dy's buffer", apart.dbias(),
                    bdb.toArray());
            bdy.upload(dy);
            backend.applyBiasBackward(activation, bx, bb, bdy, bx, bdb, channels, 7);
            Conformance.checkSameBits(tally, activation + "+bias dx into x's buffer", apart.dx(), bx.toArray());
            bx.upload(x);
            backend.applyBias(activation, bx, bb, bx, channels, 7);
            Conformance.checkSameBits(tally, activation + "+bias y into x's buffer", apart.y(), bx.toArray());
        }
    }

    private void checkEmptyInputZeroesBiasGradient(Activation activation) {
        float[] dbias = run(activation, new float[0], new float[] {0.25f, 0.5f}, new float[0], 2, 1).dbias();
        tally.point();
        if (dbias[0] != 0 || dbias[1] != 0) {
            tally.fail(activation.op().id() + "+bias dbias of an empty input must be zeros (overwritten, not added to), "
                    + "got " + Arrays.toString(dbias));
        }
    }

    private float[] uniform(int n, double bound) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextDouble(-bound, bound);
        }
        return v;
    }
}
