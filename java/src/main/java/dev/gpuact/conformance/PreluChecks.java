package dev.gpuact.conformance;

import static dev.gpuact.conformance.Conformance.BACKWARD_ULP;
import static dev.gpuact.conformance.Conformance.FORWARD_ULP;
import static dev.gpuact.conformance.Conformance.REDUCTION_ULP;

import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/** PReLU: y and dx like leaky_relu with the channel's weight, dweight as a channel reduction, channel indexing. */
final class PreluChecks {
    private final Backend backend;
    private final Tally tally;
    private final SplittableRandom random = new SplittableRandom(Conformance.seed(Op.PRELU));

    private PreluChecks(Backend backend, Tally tally) {
        this.backend = backend;
        this.tally = tally;
    }

    static void run(Backend backend, Tally tally) {
        new PreluChecks(backend, tally).run();
    }

    private record Result(float[] y, float[] dx, float[] dweight) {
    }

    /** One channel per sample weight of the catalog, whose signs differ. */
    private static float[] weights() {
        List<double[]> samples = Op.PRELU.info().samples();
        float[] weights = new float[samples.size()];
        for (int c = 0; c < weights.length; c++) {
            weights[c] = (float) samples.get(c)[0];
        }
        return weights;
    }

    private void run() {
        // every float exponent, special value and kink, over four channels whose weights differ in sign
        float[] sweep = ElementwiseInputs.of(Op.PRELU.defaults(), Conformance.seed(Op.PRELU));
        float[] weights = weights();
        float[] ones = new float[sweep.length];
        Arrays.fill(ones, 1f);
        Result withUnitDy = run(sweep, weights, ones, weights.length, 1);
        compareY("[N, C] sweep", sweep, weights, 1, withUnitDy.y());
        compareDx("[N, C] sweep", sweep, weights, 1, ones, withUnitDy.dx());
        float[] dy = uniform(sweep.length, 2);
        compareDx("[N, C] sweep", sweep, weights, 1, dy, run(sweep, weights, dy, weights.length, 1).dx());

        checkLayout("NCHW N=3 C=5 HxW=7x9", 3 * 5 * 63, 5, 63);
        checkLayout("[N, C] N=200 C=16", 200 * 16, 16, 1);
        checkLayout("C=1 N=4096", 4096, 1, 1);
        checkLayout("C=1 NCHW HxW=32x32 N=2", 2 * 1024, 1, 1024);
        checkEmptyInputZeroesWeightGradient();
    }

    private Result run(float[] x, float[] weight, float[] dy, int channels, int inner) {
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer bw = backend.upload(weight);
             DeviceBuffer by = backend.allocate(x.length); DeviceBuffer bdy = backend.upload(dy);
             DeviceBuffer bdx = backend.allocate(x.length);
             DeviceBuffer bdw = backend.upload(Conformance.sentinels(channels))) {
            backend.prelu(bx, bw, by, channels, inner);
            backend.preluBackward(bx, bw, bdy, bdx, bdw, channels, inner);
            return new Result(by.toArray(), bdx.toArray(), bdw.toArray());
        }
    }

    /** y of every element against leaky_relu with its channel's weight. */
    private void compareY(String layout, float[] x, float[] weight, int inner, float[] y) {
        for (int i = 0; i < x.length; i++) {
            float w = weight[(i / inner) % weight.length];
            double want = Op.PRELU.reference(x[i], w, 0);
            double ulps = Ulp.distance(y[i], want);
            tally.forward(ulps);
            if (!(ulps <= FORWARD_ULP)) {
                tally.fail(failure("forward", layout, i, x[i], w, y[i], want, ulps, FORWARD_ULP));
            }
        }
    }

    /** dx of every element against dy times leaky_relu' with its channel's weight. */
    private void compareDx(String layout, float[] x, float[] weight, int inner, float[] dy, float[] dx) {
        for (int i = 0; i < x.length; i++) {
            float w = weight[(i / inner) % weight.length];
            double want = dy[i] * Op.PRELU.referenceDerivative(x[i], w, 0);
            double ulps = Ulp.distance(dx[i], want);
            tally.backward(ulps);
            if (!(ulps <= BACKWARD_ULP)) {
                tally.fail(failure("backward dx (dy=" + dy[i] + ")", layout, i, x[i], w, dx[i], want, ulps,
                        BACKWARD_ULP));
            }
        }
    }

    private static String failure(String what, String layout, int i, float x, float w, float got, double want,
                                  double ulps, double bound) {
        String rule = Float.isNaN(x) ? "NaN in must give NaN out: " : "";
        return String.format(Locale.ROOT, "%sprelu %s %s at index %d, x=%s (0x%08x) weight=%s: got %s want %s, %s ULP > %s",
                rule, what, layout, i, x, Float.floatToRawIntBits(x), w, got, (float) want, Conformance.formatUlps(ulps),
                Conformance.formatUlps(bound));
    }

    /** Finite random x, dy and per-channel weights: y, dx, dweight against the references, and dweight twice. */
    private void checkLayout(String layout, int n, int channels, int inner) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (2 * random.nextGaussian());
        }
        float[] weight = uniform(channels, 0.5);
        float[] dy = uniform(n, 2);
        Result r = run(x, weight, dy, channels, inner);
        compareY(layout, x, weight, inner, r.y());
        compareDx(layout, x, weight, inner, dy, r.dx());
        double[][] want = RowReference.preluWeightGradient(x, dy, channels, inner);
        for (int c = 0; c < channels; c++) {
            double magnitude = want[1][c];
            double ulps = Math.abs(r.dweight()[c] - want[0][c]) / Math.ulp((float) magnitude);
            tally.backward(ulps);
            if (!(ulps <= REDUCTION_ULP)) {
                tally.fail(String.format(Locale.ROOT, "prelu dweight %s channel %d: got %s want %s, error %s ULP of "
                                + "sum|dy x| = %s > %s", layout, c, r.dweight()[c], (float) want[0][c],
                        Conformance.formatUlps(ulps), (float) magnitude, Conformance.formatUlps(REDUCTION_ULP)));
            }
        }
        Conformance.checkSameBits(tally, "prelu dweight " + layout, r.dweight(), run(x, weight, dy, channels, inner).dweight());
    }

    private void checkEmptyInputZeroesWeightGradient() {
        float[] dweight = run(new float[0], new float[] {0.25f, 0.5f}, new float[0], 2, 1).dweight();
        tally.point();
        if (dweight[0] != 0 || dweight[1] != 0) {
            tally.fail("prelu dweight of an empty input must be zeros (overwritten, not added to), got "
                    + Arrays.toString(dweight));
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
