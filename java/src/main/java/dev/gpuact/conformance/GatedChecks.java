package dev.gpuact.conformance;

import static dev.gpuact.conformance.Conformance.BACKWARD_ULP;
import static dev.gpuact.conformance.Conformance.FORWARD_ULP;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Gated activations (glu, swiglu, geglu, geglu_tanh, reglu): y = f(gate) * other against the double reference of
 * the unfused definition, within f's forward bound plus {@value #PRODUCT_ULP} ULP for the product; da and db within
 * the backward bound (in ULPs of the summed terms' size next to a zero of f', as the elementwise backward). Where
 * f(gate) is subnormal in float, f's error is counted in its own ULPs carried through the product ({@link #carried}),
 * as the unfused definition has it. The gate
 * half sweeps the activated op's elementwise inputs (every exponent, special values, kinks); the other half and dy
 * are seeded random floats with zeros, signs, subnormals and large values among them. An infinite other half times
 * an f(gate) the forward bound admits as 0 may give +-inf or NaN (0 * inf); a finite result there is an error.
 * Checked in the one-buffer form at several row widths (one row, narrow rows, rows wider than a block of the CPU
 * kernels) and in the two-buffer form, which must give the same bits, in place too.
 */
final class GatedChecks {
    /** What the product adds to f's forward bound. */
    static final double PRODUCT_ULP = 1;
    /** Values of the other half besides random ones: signs, zeros, subnormal, tiny and huge magnitudes. */
    private static final float[] OTHER_VALUES = {1f, -1f, 0f, -0f, Float.MIN_VALUE, -1e-30f, 1e30f, -3.5f, 1e-3f};

    private final Backend backend;
    private final Activation gate;
    private final Op op;
    private final Tally tally;
    private final SplittableRandom random;

    private GatedChecks(Backend backend, Activation gate, Tally tally) {
        this.backend = backend;
        this.gate = gate;
        this.op = gate.op();
        this.tally = tally;
        this.random = new SplittableRandom(Conformance.seed(op));
    }

    static void run(Backend backend, Op op, Tally tally) {
        new GatedChecks(backend, op.defaults(), tally).run();
    }

    /** The two halves of each row, as the one-buffer form lays them out; dy as the output. */
    private record Inputs(float[] first, float[] second, float[] dy) {
        int length() {
            return first.length;
        }
    }

    private record Gradients(float[] da, float[] db) {
    }

    private void run() {
        float[] sweep = ElementwiseInputs.of(activated(), Conformance.seed(op));
        float[] gateHalf = sweep;
        float[] otherHalf = others(sweep.length, false);
        float[] dy = uniform(sweep.length, 2);
        Inputs inputs = op.activatesFirstHalf() ? new Inputs(gateHalf, otherHalf, dy) : new Inputs(otherHalf, gateHalf, dy);
        for (int hidden : new int[] {sweep.length, 37, 1, 3001}) {
            checkOneBuffer(inputs, hidden);
        }
        checkTwoBuffers(inputs);

        // infinite other halves: the limit of the product, NaN for 0 * inf
        float[] infinite = others(sweep.length, true);
        checkOneBuffer(op.activatesFirstHalf() ? new Inputs(gateHalf, infinite, dy) : new Inputs(infinite, gateHalf, dy),
                sweep.length);
        float[] ones = new float[sweep.length];
        Arrays.fill(ones, 1f);
        checkOneBuffer(new Inputs(inputs.first(), inputs.second(), ones), 64);
        checkEmpty();
    }

    /** The activated op with the gated op's parameters (the same list). */
    private Activation activated() {
        Map<String, Double> values = new LinkedHashMap<>();
        op.params().forEach(p -> values.put(p.name(), gate.param(p.name())));
        return Activation.of(op.activated(), values);
    }

    /** Inputs padded with zeros to whole rows of {@code hidden}, as [rows, 2 * hidden]. */
    private void checkOneBuffer(Inputs inputs, int hidden) {
        int rows = (inputs.length() + hidden - 1) / hidden;
        int n = rows * hidden;
        Inputs padded = new Inputs(Arrays.copyOf(inputs.first(), n), Arrays.copyOf(inputs.second(), n),
                Arrays.copyOf(inputs.dy(), n));
        float[] x = interleave(padded, rows, hidden);
        String layout = "[" + rows + ", 2 x " + hidden + "]";
        float[] y;
        float[] dx;
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer by = backend.upload(Conformance.sentinels(n));
             DeviceBuffer bdy = backend.upload(padded.dy()); DeviceBuffer bdx = backend.upload(Conformance.sentinels(2 * n))) {
            backend.gated(gate, bx, by, rows, hidden);
            backend.gatedBackward(gate, bx, bdy, bdx, rows, hidden);
            y = by.toArray();
            dx = bdx.toArray();
            Conformance.checkSameBits(tally, op.id() + " forward " + layout, y, forwardAgain(bx, rows, hidden));
            backend.gatedBackward(gate, bx, bdy, bx, rows, hidden);
            Conformance.checkSameBits(tally, op.id() + " backward in place (dx = x) " + layout, dx, bx.toArray());
        }
        Gradients g = split(dx, rows, hidden);
        compare(layout, padded, y, g);
    }

    private float[] forwardAgain(DeviceBuffer x, int rows, int hidden) {
        try (DeviceBuffer y = backend.allocate((long) rows * hidden)) {
            backend.gated(gate, x, y, rows, hidden);
            return y.toArray();
        }
    }

    /** Two buffers a and b: against the reference, and in place (y = a, then da = a and db = b) the same bits. */
    private void checkTwoBuffers(Inputs inputs) {
        int n = inputs.length();
        float[] y;
        Gradients g;
        try (DeviceBuffer a = backend.upload(inputs.first()); DeviceBuffer b = backend.upload(inputs.second());
             DeviceBuffer dy = backend.upload(inputs.dy()); DeviceBuffer by = backend.allocate(n);
             DeviceBuffer da = backend.allocate(n); DeviceBuffer db = backend.allocate(n)) {
            backend.gated(gate, a, b, by);
            backend.gatedBackward(gate, a, b, dy, da, db);
            y = by.toArray();
            g = new Gradients(da.toArray(), db.toArray());
            backend.gatedBackward(gate, a, b, dy, a, b);
            Conformance.checkSameBits(tally, op.id() + " backward in place (da = a)", g.da(), a.toArray());
            Conformance.checkSameBits(tally, op.id() + " backward in place (db = b)", g.db(), b.toArray());
            a.upload(inputs.first());
            b.upload(inputs.second());
            backend.gated(gate, a, b, a);
            Conformance.checkSameBits(tally, op.id() + " forward in place (y = a)", y, a.toArray());
        }
        compare("two buffers of " + n, inputs, y, g);
    }

    private void compare(String layout, Inputs in, float[] y, Gradients g) {
        float a = gate.a();
        float b = gate.b();
        double forwardBound = FORWARD_ULP + PRODUCT_ULP;
        for (int i = 0; i < in.length(); i++) {
            float first = in.first()[i];
            float second = in.second()[i];
            float other = op.activatesFirstHalf() ? second : first;
            float gateValue = op.activatesFirstHalf() ? first : second;
            double want = op.referenceGated(first, second, a, b);
            double activatedValue = op.activated().reference(gateValue, a, b);
            boolean zeroTimesInfinity = Float.isInfinite(other) && Ulp.distance(0f, activatedValue) <= FORWARD_ULP;
            double ulps = zeroTimesInfinity ? (Float.isFinite(y[i]) ? Double.POSITIVE_INFINITY : 0)
                    : carried(y[i], want, other, activatedValue);
            tally.forward(ulps);
            if (!(ulps <= forwardBound)) {
                tally.fail(failure("forward", layout, i, first, second, in.dy()[i], y[i], want, ulps, forwardBound));
            }
            if (Float.isInfinite(other)) {
                continue; // the gradients of an infinite half are products with infinity: not held to a bound
            }
            comparePartial(layout, in, i, true, g.da()[i]);
            comparePartial(layout, in, i, false, g.db()[i]);
        }
    }

    private void comparePartial(String layout, Inputs in, int i, boolean first, float got) {
        float a = gate.a();
        float b = gate.b();
        float dy = in.dy()[i];
        double want = dy * op.referenceGatedPartial(in.first()[i], in.second()[i], a, b, first);
        double scale = Math.abs(dy) * op.referenceGatedPartialScale(in.first()[i], in.second()[i], a, b, first);
        double ulps = first == op.activatesFirstHalf() ? Ulp.distance(got, want, scale)
                : carried(got, want, dy, op.activated().reference(op.activatesFirstHalf() ? in.first()[i] : in.second()[i], a, b));
        tally.backward(ulps);
        if (!(ulps <= BACKWARD_ULP)) {
            tally.fail(failure(first ? "backward da" : "backward db", layout, i, in.first()[i], in.second()[i], dy, got,
                    want, ulps, BACKWARD_ULP));
        }
    }

    /**
     * The error of {@code got} = f * factor against {@code want}: the lattice distance, or f's own error carried
     * through the product (|got - want| in ULPs of the float f, times |factor|) where that is smaller. Where f is
     * subnormal in float, its few ULPs are a large relative error that a large factor carries into a normal result;
     * the unfused definition (f rounded to float, then multiplied) has it too.
     */
    private static double carried(float got, double want, float factor, double f) {
        double lattice = Ulp.distance(got, want);
        double unit = Math.abs((double) factor) * Math.ulp((float) f);
        if (lattice == 0 || !Float.isFinite(got) || !Double.isFinite(want) || !(unit > 0) || !Double.isFinite(unit)) {
            return lattice;
        }
        return Math.min(lattice, Math.abs(got - want) / unit);
    }

    private String failure(String what, String layout, int i, float first, float second, float dy, float got,
                           double want, double ulps, double bound) {
        String rule = Float.isNaN(first) || Float.isNaN(second) ? "NaN in must give NaN out: " : "";
        return String.format(Locale.ROOT, "%s%s %s %s at index %d, a=%s (0x%08x) b=%s dy=%s: got %s want %s, %s ULP > %s",
                rule, op.id(), what, layout, i, first, Float.floatToRawIntBits(first), second, dy, got, (float) want,
                Conformance.formatUlps(ulps), Conformance.formatUlps(bound));
    }

    private void checkEmpty() {
        try (DeviceBuffer x = backend.allocate(0); DeviceBuffer y = backend.allocate(0)) {
            backend.gated(gate, x, y, 0, 16);
            backend.gated(gate, x, y, 5, 0);
            backend.gatedBackward(gate, x, y, x, 0, 16);
            tally.point();
        }
    }

    /** [rows, 2 * hidden] with the first half of row r from {@code first}, the second from {@code second}. */
    private static float[] interleave(Inputs in, int rows, int hidden) {
        float[] x = new float[2 * rows * hidden];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(in.first(), r * hidden, x, 2 * r * hidden, hidden);
            System.arraycopy(in.second(), r * hidden, x, (2 * r + 1) * hidden, hidden);
        }
        return x;
    }

    /** dx [rows, 2 * hidden] back into da and db. */
    private static Gradients split(float[] dx, int rows, int hidden) {
        float[] da = new float[rows * hidden];
        float[] db = new float[rows * hidden];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(dx, 2 * r * hidden, da, r * hidden, hidden);
            System.arraycopy(dx, (2 * r + 1) * hidden, db, r * hidden, hidden);
        }
        return new Gradients(da, db);
    }

    /** The other half: the fixed values in 9 of every 16, uniform in [-4, 4] in the rest; with {@code infinite}, every third one is +-inf. */
    private float[] others(int n, boolean infinite) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            int k = i % 16;
            v[i] = k < OTHER_VALUES.length ? OTHER_VALUES[k] : (float) random.nextDouble(-4, 4);
            if (infinite && i % 3 == 0) {
                v[i] = i % 2 == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            }
        }
        return v;
    }

    private float[] uniform(int n, double bound) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextDouble(-bound, bound);
        }
        return v;
    }
}
