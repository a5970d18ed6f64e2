package dev.gpuact.conformance;

import dev.gpuact.Activation;
import dev.gpuact.Op;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;

/**
 * The float inputs an elementwise op is checked at: every exponent, the special values, the kinks of the op with
 * their neighbours, the cancellation zones, and seeded random floats.
 */
final class ElementwiseInputs {
    static final float[] SPECIAL = {
        Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MAX_VALUE, -Float.MAX_VALUE,
        Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL,
    };
    /** Kinks and zeros shared by many ops: hardswish/relu6 corners, ricker's roots and those of its derivative. */
    private static final double[] COMMON_KINKS = {0, 1, -1, 3, -3, 6, -6, Math.sqrt(3), -Math.sqrt(3)};
    private static final int RANDOM_COUNT = 2048;
    /**
     * Inputs where a device once went over its bound, found by {@code gpuact soak} or a dense scan: gelu forward
     * (5-6 ULP from a rounded erfcx, exp and product), softplus forward with beta != 1 (5 ULP from a rounded log1p
     * and quotient), celu backward into the subnormals (14 ULP).
     */
    private static final Map<Op, float[]> FOUND = Map.of(
            Op.GELU, new float[] {-2.19148f, -2.1949975f, -2.574501f, -0.14008f, -12.669033f},
            Op.SOFTPLUS, new float[] {-10.431818f, -11.295198f, -10.3727f},
            Op.CELU, new float[] {-14.50829f, -7.8582225f});
    /** gelu's 1 + erf cancels over [-14, -5]; a naive x sigmoid(x) or log1p(exp) goes wrong in the same range. */
    private static final double ZONE_LOW = -14;
    private static final double ZONE_HIGH = -5;
    private static final int ZONE_POINTS = 289;
    /** Where the sign changes of f and f' are searched for, and how finely. */
    private static final double ROOT_RANGE = 16;
    private static final double ROOT_STEP = 1.0 / 32;

    private ElementwiseInputs() {
    }

    static float[] of(Activation activation, long seed) {
        Set<Integer> bits = new LinkedHashSet<>();
        for (float s : SPECIAL) {
            bits.add(Float.floatToRawIntBits(s));
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int exponent = 0; exponent <= 254; exponent++) {
            int[] mantissas = {exponent == 0 ? 1 : 0, 1, 0x400000, 0x7fffff, random.nextInt(0x800000)};
            for (int m : mantissas) {
                int b = exponent << 23 | m;
                bits.add(b);
                bits.add(b | 0x80000000);
            }
        }
        for (double kink : kinks(activation)) {
            addAround(bits, kink);
        }
        for (float found : FOUND.getOrDefault(activation.op(), new float[0])) {
            bits.add(Float.floatToRawIntBits(found));
        }
        for (int i = 0; i < ZONE_POINTS; i++) {
            bits.add(Float.floatToRawIntBits((float) (ZONE_LOW + (ZONE_HIGH - ZONE_LOW) * i / (ZONE_POINTS - 1))));
        }
        for (int i = 0; i < RANDOM_COUNT; i++) {
            bits.add(Float.floatToRawIntBits((float) random.nextDouble(-20, 20)));
            bits.add(random.nextInt());
        }
        float[] x = new float[bits.size()];
        int i = 0;
        for (int b : bits) {
            x[i++] = Float.intBitsToFloat(b);
        }
        return x;
    }

    /** The finite part of the extreme-dy check: every op's f' is a double without underflow here. */
    static final double EXTREME_DY_RANGE = 20;
    /** A finite dy that a float f' in its subnormal range would spoil: dy f' must keep its relative accuracy. */
    static final float HUGE_DY = 1e30f;

    /**
     * {x, dy}: each input within {@link #EXTREME_DY_RANGE} of 0, and each non-finite one, four times, with dy =
     * +inf, -inf, {@link #HUGE_DY} and -{@link #HUGE_DY}.
     */
    static float[][] withExtremeDy(float[] inputs) {
        float[] dys = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, HUGE_DY, -HUGE_DY};
        List<Float> xs = new ArrayList<>();
        for (float v : inputs) {
            if (!Float.isFinite(v) || Math.abs(v) <= EXTREME_DY_RANGE) {
                xs.add(v);
            }
        }
        float[] x = new float[xs.size() * dys.length];
        float[] dy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = xs.get(i / dys.length);
            dy[i] = dys[i % dys.length];
        }
        return new float[][] {x, dy};
    }

    /** A point, its float neighbours, and points closing in on it geometrically (1 - 2^-k, 1 + 2^-k, ...). */
    private static void addAround(Set<Integer> bits, double kink) {
        float center = (float) kink;
        float down = center;
        float up = center;
        bits.add(Float.floatToRawIntBits(center));
        for (int i = 0; i < 4; i++) {
            down = Math.nextDown(down);
            up = Math.nextUp(up);
            bits.add(Float.floatToRawIntBits(down));
            bits.add(Float.floatToRawIntBits(up));
        }
        double size = kink == 0 ? 1 : Math.abs(kink);
        for (int k = 1; k <= 23; k++) {
            bits.add(Float.floatToRawIntBits((float) (kink - size * Math.scalb(1.0, -k))));
            bits.add(Float.floatToRawIntBits((float) (kink + size * Math.scalb(1.0, -k))));
        }
    }

    /** The common kinks, those set by the op's parameters, and every sign change of f and f' near the origin. */
    static double[] kinks(Activation activation) {
        Op op = activation.op();
        double a = activation.a();
        double b = activation.b();
        double[] byParams = op.info().kinks(a, b);
        List<Double> all = new ArrayList<>();
        for (double k : COMMON_KINKS) {
            all.add(k);
        }
        for (double k : byParams) {
            all.add(k);
        }
        addRoots(all, x -> op.reference(x, a, b));
        addRoots(all, x -> op.referenceDerivative(x, a, b));
        return all.stream().filter(Double::isFinite).mapToDouble(Double::doubleValue).toArray();
    }

    /** Zeros of g on [-16, 16], found by bisection in double between grid points where g changes sign. */
    private static void addRoots(List<Double> into, DoubleUnaryOperator g) {
        double previous = g.applyAsDouble(-ROOT_RANGE);
        for (double x = -ROOT_RANGE + ROOT_STEP; x <= ROOT_RANGE; x += ROOT_STEP) {
            double value = g.applyAsDouble(x);
            if (previous != 0 && value != 0 && (previous < 0) != (value < 0)) {
                into.add(bisect(g, x - ROOT_STEP, x));
            }
            previous = value;
        }
    }

    private static double bisect(DoubleUnaryOperator g, double low, double high) {
        boolean lowNegative = g.applyAsDouble(low) < 0;
        for (int i = 0; i < 60; i++) {
            double mid = (low + high) / 2;
            if (g.applyAsDouble(mid) < 0 == lowNegative) {
                low = mid;
            } else {
                high = mid;
            }
        }
        return (low + high) / 2;
    }
}
