package dev.gpuact.conformance;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Every op on float16 or bfloat16 buffers, read as the contract's storage rule: the float32 result rounded once to
 * the output's type. Precisely:
 * <ul>
 * <li>Elementwise forward, backward and backward from the output: within {@link #STORAGE_ULP} ULP of the storage
 *     type of the true value (the double reference at the 16-bit inputs, rounded to that type), measured, where the
 *     true value is a difference of terms that cancel, in ULPs of the storage type at the terms' scale, as
 *     {@link Conformance} does for float32. Mixed types: 16-bit x and dy with a float32 dx must meet the float32
 *     bounds; float32 x and dy with a 16-bit dx (and a 16-bit x with a float32 y) the bound of dx's type.</li>
 * <li>Every other op (softmax, log_softmax and maxout rows, forward, backward and from the output, PReLU, bias and
 *     activation, the gated ops in both layouts, masked and causal softmax): within {@link #STORAGE_ULP} ULP of the
 *     same call on float32 buffers holding the same 16-bit values, rounded to the storage type; the float32 call
 *     is held to the contract by the float32 checks. Outputs are pre-filled, so what lies between rows is compared
 *     too.</li>
 * </ul>
 * Infinite and huge dy are left to the float32 checks: a 16-bit dy of such size overflows to infinity anyway.
 */
final class StorageChecks {
    /** The bound, in ULPs of the output's 16-bit type. */
    static final double STORAGE_ULP = 1;

    private StorageChecks() {
    }

    static void run(Backend backend, Op op, DType type, Tally tally) {
        switch (op.kind()) {
            case ELEMENTWISE -> {
                for (Activation activation : op.checkedSettings()) {
                    elementwise(backend, activation, type, tally);
                }
                bias(backend, op.defaults(), type, tally);
            }
            case GATED -> gated(backend, op.defaults(), type, tally);
            case CHANNELWISE -> prelu(backend, type, tally);
            default -> {
                rows(backend, op.defaults(), type, tally);
                if (op != Op.MAXOUT) {
                    masked(backend, op.defaults(), type, tally);
                }
            }
        }
    }

    // ---- elementwise, against the double reference ------------------------------------------------------------

    private static void elementwise(Backend backend, Activation activation, DType type, Tally tally) {
        Op op = activation.op();
        float[] x = rounded(ElementwiseInputs.of(activation, Conformance.seed(op)), type);
        float[] dy = randomValues(x.length, -2, 2, Conformance.seed(op) + 3, type);
        float[] y = run(backend, type, type, x, null, (b, in, out) -> b.apply(activation, in[0], out));
        for (int i = 0; i < x.length; i++) {
            double want = op.reference(x[i], activation.a(), activation.b());
            check(tally, type, "forward", activation, x[i], 1, y[i], want, 0, true);
        }
        float[] dx = run(backend, type, type, x, dy, (b, in, out) -> b.applyBackward(activation, in[0], in[1], out));
        for (int i = 0; i < x.length; i++) {
            double want = dy[i] * op.referenceDerivative(x[i], activation.a(), activation.b());
            double scale = Math.abs(dy[i]) * op.referenceDerivativeScale(x[i], activation.a(), activation.b());
            check(tally, type, "backward", activation, x[i], dy[i], dx[i], want, scale, false);
        }
        if (activation.hasBackwardFromOutput()) {
            float[] dxFromY = run(backend, type, type, y, dy,
                    (b, in, out) -> b.applyBackwardFromOutput(activation, in[0], in[1], out));
            for (int i = 0; i < y.length; i++) {
                double want = dy[i] * op.referenceDerivativeFromOutput(y[i], activation.a(), activation.b());
                check(tally, type, "backward from y", activation, y[i], dy[i], dxFromY[i], want, 0, false);
            }
        }
        mixed(backend, activation, type, x, dy, tally);
    }

    /** 16-bit in with float32 out, and float32 in with 16-bit out. */
    private static void mixed(Backend backend, Activation activation, DType type, float[] x, float[] dy, Tally tally) {
        Op op = activation.op();
        float[] wide = run(backend, type, DType.FLOAT32, x, dy, (b, in, out) -> b.applyBackward(activation, in[0], in[1], out));
        for (int i = 0; i < x.length; i++) {
            double ulps = Conformance.backwardUlps(activation, x[i], dy[i], wide[i]);
            tally.backward(ulps);
            if (!(ulps <= Conformance.BACKWARD_ULP)) {
                tally.fail(failure("backward from " + type + " x and dy into FLOAT32", activation, x[i], dy[i], wide[i],
                        dy[i] * op.referenceDerivative(x[i], activation.a(), activation.b()), ulps,
                        Conformance.BACKWARD_ULP));
            }
        }
        float[] narrow = run(backend, DType.FLOAT32, type, x, dy, (b, in, out) -> b.applyBackward(activation, in[0], in[1], out));
        for (int i = 0; i < x.length; i++) {
            double want = dy[i] * op.referenceDerivative(x[i], activation.a(), activation.b());
            double scale = Math.abs(dy[i]) * op.referenceDerivativeScale(x[i], activation.a(), activation.b());
            check(tally, type, "backward from FLOAT32 x and dy", activation, x[i], dy[i], narrow[i], want, scale, false);
        }
        float[] y = run(backend, type, DType.FLOAT32, x, null, (b, in, out) -> b.apply(activation, in[0], out));
        for (int i = 0; i < x.length; i++) {
            double want = op.reference(x[i], activation.a(), activation.b());
            double ulps = Ulp.distance(y[i], want);
            tally.forward(ulps);
            if (!(ulps <= Conformance.FORWARD_ULP)) {
                tally.fail(failure("forward from " + type + " x into FLOAT32", activation, x[i], 1, y[i], want, ulps,
                        Conformance.FORWARD_ULP));
            }
        }
    }

    /** One elementwise call: the inputs in buffers of {@code in}, the output of {@code out}, read back as floats. */
    private static float[] run(Backend backend, DType in, DType out, float[] first, float[] second, Call call) {
        try (DeviceBuffer a = upload(backend, in, first);
             DeviceBuffer b = second == null ? backend.allocate(in, 0) : upload(backend, in, second);
             DeviceBuffer y = backend.allocate(out, first.length)) {
            call.run(backend, new DeviceBuffer[] {a, b}, y);
            return y.toArray();
        }
    }

    /** An elementwise call on its inputs (x, and dy or nothing) into its output. */
    @FunctionalInterface
    private interface Call {
        void run(Backend backend, DeviceBuffer[] inputs, DeviceBuffer output);
    }

    private static void check(Tally tally, DType type, String what, Activation activation, float x, float dy, float got,
                              double want, double scale, boolean forward) {
        double ulps = distance(type, got, want, scale);
        if (forward) {
            tally.forward(ulps);
        } else {
            tally.backward(ulps);
        }
        if (!(ulps <= STORAGE_ULP)) {
            tally.fail(failure(what + " into " + type, activation, x, dy, got, want, ulps, STORAGE_ULP));
        }
    }

    private static String failure(String what, Activation activation, float x, float dy, float got, double want,
                                  double ulps, double bound) {
        return String.format(Locale.ROOT, "%s at x=%s (0x%08x) dy=%s%s: got %s want %s, %s ULP > %s", what, x,
                Float.floatToRawIntBits(x), dy, Conformance.parameterText(activation), got, want,
                Conformance.formatUlps(ulps), Conformance.formatUlps(bound));
    }

    // ---- the other ops, against the same call in float32 -------------------------------------------------------

    /** A call on buffers of one type: the inputs and outputs in the order {@link #compare} was given their contents. */
    @FunctionalInterface
    private interface BufferCall {
        void run(Backend backend, DeviceBuffer[] buffers);
    }

    /**
     * Runs {@code call} on float32 buffers and on {@code type} buffers holding {@code contents} (rounded to the
     * type); the buffers from index {@code firstOutput} on are outputs, compared element by element.
     */
    private static void compare(Backend backend, DType type, Tally tally, String what, float[][] contents,
                                int firstOutput, BufferCall call) {
        float[][] values = new float[contents.length][];
        for (int i = 0; i < contents.length; i++) {
            values[i] = rounded(contents[i], type);
        }
        float[][] wide = outputs(backend, DType.FLOAT32, values, firstOutput, call);
        float[][] narrow = outputs(backend, type, values, firstOutput, call);
        for (int o = 0; o < wide.length; o++) {
            for (int i = 0; i < wide[o].length; i++) {
                double ulps = distance(type, narrow[o][i], type.round(wide[o][i]), 0);
                tally.backward(ulps);
                if (!(ulps <= STORAGE_ULP)) {
                    tally.fail(String.format(Locale.ROOT, "%s in %s: output %d element %d: got %s, the float32 call "
                            + "gave %s (%s rounded), %s ULP > %s", what, type, o, i, narrow[o][i], wide[o][i],
                            type.round(wide[o][i]), Conformance.formatUlps(ulps), Conformance.formatUlps(STORAGE_ULP)));
                    return;
                }
            }
        }
    }

    private static float[][] outputs(Backend backend, DType type, float[][] values, int firstOutput, BufferCall call) {
        DeviceBuffer[] buffers = new DeviceBuffer[values.length];
        try {
            for (int i = 0; i < values.length; i++) {
                buffers[i] = upload(backend, type, values[i]);
            }
            call.run(backend, buffers);
            float[][] out = new float[values.length - firstOutput][];
            for (int i = firstOutput; i < values.length; i++) {
                out[i - firstOutput] = buffers[i].toArray();
            }
            return out;
        } finally {
            for (DeviceBuffer b : buffers) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }

    private static void rows(Backend backend, Activation activation, DType type, Tally tally) {
        Op op = activation.op();
        SplittableRandom seeds = new SplittableRandom(Conformance.seed(op) + 11);
        long pieces = op == Op.MAXOUT ? (long) activation.param("pieces") : 1;
        for (int[] shape : new int[][] {{3, 8, 8, 8}, {5, 40, 44, 41}, {2, 1030, 1030, 1030}}) {
            int cols = (int) (shape[1] / pieces * pieces);
            int outCols = (int) (cols / pieces);
            RowLayout layout = new RowLayout(shape[0], cols, shape[2], Math.max(outCols, shape[3]));
            int xLength = (int) layout.xExtent();
            int yLength = (int) layout.yExtent(outCols);
            float[] x = randomValues(xLength, -6, 6, seeds.nextLong(), type);
            float[] dy = randomValues(yLength, -2, 2, seeds.nextLong(), type);
            String where = activation + " " + Conformance.describe(layout);
            compare(backend, type, tally, where + " forward", new float[][] {x, Conformance.sentinels(yLength)}, 1,
                    (b, v) -> b.applyRows(activation, v[0], v[1], layout));
            compare(backend, type, tally, where + " backward", new float[][] {x, dy, Conformance.sentinels(xLength)}, 2,
                    (b, v) -> b.applyRowsBackward(activation, v[0], v[1], v[2], layout));
            if (activation.hasBackwardFromOutput()) {
                float[] y = Conformance.rows(backend, activation, x, layout, yLength);
                compare(backend, type, tally, where + " backward from y",
                        new float[][] {y, dy, Conformance.sentinels(xLength)}, 2,
                        (b, v) -> b.applyRowsBackwardFromOutput(activation, v[0], v[1], v[2], layout));
            }
        }
    }

    private static void masked(Backend backend, Activation activation, DType type, Tally tally) {
        SplittableRandom seeds = new SplittableRandom(Conformance.seed(activation.op()) + 13);
        RowLayout layout = RowLayout.of(6, 37);
        int n = (int) layout.xExtent();
        float[] x = randomValues(n, -6, 6, seeds.nextLong(), type);
        float[] dy = randomValues(n, -2, 2, seeds.nextLong(), type);
        float[] mask = randomValues(2 * 37, -4, 0, seeds.nextLong(), type);
        int[] lengths = {37, 20, 1, 0, 36, 5};
        String where = activation + " masked " + Conformance.describe(layout);
        compare(backend, type, tally, where + " forward", new float[][] {mask, x, Conformance.sentinels(n)}, 2,
                (b, v) -> b.applyRows(activation, v[1], v[2], layout, RowMask.none().add(v[0], 3).lengths(lengths)
                        .causal(30)));
        compare(backend, type, tally, where + " backward", new float[][] {mask, x, dy, Conformance.sentinels(n)}, 3,
                (b, v) -> b.applyRowsBackward(activation, v[1], v[2], v[3], layout, RowMask.none().add(v[0], 3)
                        .lengths(lengths).causal(30)));
    }

    private static void prelu(Backend backend, DType type, Tally tally) {
        SplittableRandom seeds = new SplittableRandom(Conformance.seed(Op.PRELU) + 17);
        int channels = 5;
        int inner = 7;
        int n = 3 * channels * inner;
        float[] x = randomValues(n, -8, 8, seeds.nextLong(), type);
        float[] dy = randomValues(n, -2, 2, seeds.nextLong(), type);
        float[] weight = randomValues(channels, 0, 0.5, seeds.nextLong(), type);
        compare(backend, type, tally, "prelu forward", new float[][] {x, weight, new float[n]}, 2,
                (b, v) -> b.prelu(v[0], v[1], v[2], channels, inner));
        compare(backend, type, tally, "prelu backward", new float[][] {x, weight, dy, new float[n], new float[channels]},
                3, (b, v) -> b.preluBackward(v[0], v[1], v[2], v[3], v[4], channels, inner));
    }

    private static void bias(Backend backend, Activation activation, DType type, Tally tally) {
        SplittableRandom seeds = new SplittableRandom(Conformance.seed(activation.op()) + 19);
        int channels = 6;
        int inner = 5;
        int n = 4 * channels * inner;
        float[] x = randomValues(n, -6, 6, seeds.nextLong(), type);
        float[] dy = randomValues(n, -2, 2, seeds.nextLong(), type);
        float[] bias = randomValues(channels, -1, 1, seeds.nextLong(), type);
        compare(backend, type, tally, activation + " bias forward", new float[][] {x, bias, new float[n]}, 2,
                (b, v) -> b.applyBias(activation, v[0], v[1], v[2], channels, inner));
        compare(backend, type, tally, activation + " bias backward",
                new float[][] {x, bias, dy, new float[n], new float[channels]}, 3,
                (b, v) -> b.applyBiasBackward(activation, v[0], v[1], v[2], v[3], v[4], channels, inner));
    }

    private static void gated(Backend backend, Activation gate, DType type, Tally tally) {
        SplittableRandom seeds = new SplittableRandom(Conformance.seed(gate.op()) + 23);
        int rows = 3;
        int hidden = 37;
        int outputs = rows * hidden;
        float[] x = randomValues(2 * outputs, -6, 6, seeds.nextLong(), type);
        float[] dy = randomValues(outputs, -2, 2, seeds.nextLong(), type);
        float[] a = Arrays.copyOf(x, outputs);
        float[] b2 = Arrays.copyOfRange(x, outputs, 2 * outputs);
        compare(backend, type, tally, gate + " forward", new float[][] {x, new float[outputs]}, 1,
                (b, v) -> b.gated(gate, v[0], v[1], rows, hidden));
        compare(backend, type, tally, gate + " backward", new float[][] {x, dy, new float[2 * outputs]}, 2,
                (b, v) -> b.gatedBackward(gate, v[0], v[1], v[2], rows, hidden));
        compare(backend, type, tally, gate + " forward, two buffers", new float[][] {a, b2, new float[outputs]}, 2,
                (b, v) -> b.gated(gate, v[0], v[1], v[2]));
        compare(backend, type, tally, gate + " backward, two buffers",
                new float[][] {a, b2, dy, new float[outputs], new float[outputs]}, 3,
                (b, v) -> b.gatedBackward(gate, v[0], v[1], v[2], v[3], v[4]));
    }

    // ---- values and distances in a 16-bit type --------------------------------------------------------------------

    private static DeviceBuffer upload(Backend backend, DType type, float[] values) {
        DeviceBuffer buffer = backend.allocate(type, values.length);
        try {
            buffer.upload(values);
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        return buffer;
    }

    private static float[] rounded(float[] values, DType type) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = type.round(values[i]);
        }
        return out;
    }

    private static float[] randomValues(int n, double low, double high, long seed, DType type) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = type.round((float) random.nextDouble(low, high));
        }
        return out;
    }

    /** Position in the ordered lattice of a 16-bit type: adjacent values differ by 1, +0 and -0 are both 0. */
    private static long ordinal(DType type, float value) {
        int bits = type.toBits(value) & 0xffff;
        return (bits & 0x8000) == 0 ? bits : -(long) (bits & 0x7fff);
    }

    /**
     * Steps of the 16-bit type between {@code got} (a value of the type) and the true value {@code want} rounded to
     * it; where the true value is a sum of terms whose magnitudes add up to {@code scale}, the error in ULPs of the
     * type at that scale when that is smaller (as {@link Ulp#distance(float, double, double)}).
     */
    static double distance(DType type, float got, double want, double scale) {
        boolean gotNaN = Float.isNaN(got);
        boolean wantNaN = Double.isNaN(want);
        if (gotNaN || wantNaN) {
            return gotNaN && wantNaN ? 0 : Double.POSITIVE_INFINITY;
        }
        double lattice = Math.abs(ordinal(type, got) - ordinal(type, (float) want));
        if (lattice == 0 || !Float.isFinite(got) || !Double.isFinite(want) || !(scale > Math.abs(want))) {
            return lattice;
        }
        return Math.min(lattice, Math.abs(got - want) / ulp(type, (float) scale));
    }

    /** The spacing of the 16-bit type at {@code value}: 13 (float16) or 16 (bfloat16) fewer significand bits. */
    private static double ulp(DType type, float value) {
        return type == DType.FLOAT16 ? Math.max(Math.ulp(value) * 0x1p13, 0x1p-24) : Math.ulp(value) * 0x1p16;
    }
}
