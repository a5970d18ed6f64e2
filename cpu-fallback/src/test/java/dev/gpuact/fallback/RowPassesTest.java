package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The scalar path's softmax and log-softmax passes against a double-precision reference, within the contract's
 * 8 ULP: rows shorter and longer than a block and of odd lengths (the zeros and -inf that pad a block's last chunk),
 * rows whose others are tiny (log-softmax of the maximum is -log1p(others)), rows of many equal maxima and of -inf
 * entries, at offsets, in place and at temperatures other than 1.
 */
class RowPassesTest {
    private static final float[] TEMPERATURES = {1f, 0.3f, 2.5f};

    /** What a row holds. */
    private enum Kind {
        RANDOM, TINY_OTHERS, EQUAL_MAXIMA, MASKED
    }

    private static float[] row(Kind kind, int cols, SplittableRandom random, float t) {
        float[] x = new float[cols];
        float top = (float) random.nextDouble(-20, 20);
        for (int j = 0; j < cols; j++) {
            x[j] = switch (kind) {
                case RANDOM -> (float) (top + random.nextDouble(-30, 30));
                // each other entry 20..60 temperatures below the maximum, which is anywhere in the row
                case TINY_OTHERS -> (float) (top - random.nextDouble(20, 60) * t);
                case EQUAL_MAXIMA -> random.nextInt(3) == 0 ? top : (float) (top - random.nextDouble(0, 5));
                case MASKED -> random.nextInt(4) == 0 ? Float.NEGATIVE_INFINITY : (float) (top + random.nextDouble(-9, 9));
            };
        }
        if (kind == Kind.TINY_OTHERS) {
            x[random.nextInt(cols)] = top;
        }
        if (kind == Kind.MASKED) {
            x[random.nextInt(cols)] = top;
        }
        return x;
    }

    /** Softmax (or log-softmax) of the row in double: the others summed apart from one maximum. */
    private static double[] reference(float[] x, int xb, int cols, double t, boolean log) {
        int arg = xb;
        for (int j = xb; j < xb + cols; j++) {
            arg = x[j] > x[arg] ? j : arg;
        }
        double m = x[arg];
        double others = 0;
        for (int j = xb; j < xb + cols; j++) {
            others += j == arg ? 0 : Math.exp((x[j] - m) / t);
        }
        double[] y = new double[cols];
        for (int j = 0; j < cols; j++) {
            double z = (x[xb + j] - m) / t;
            y[j] = log ? z - Math.log1p(others) : Math.exp(z) / (1 + others);
        }
        return y;
    }

    /** ULPs of the float nearest the reference between the two; infinities (past the float range too) must match. */
    private static double ulps(float got, double want) {
        float nearest = (float) want;
        if (Float.isInfinite(nearest) || Float.isInfinite(got)) {
            return got == nearest ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.abs(got - want) / Math.ulp(nearest);
    }

    private static float rowMax(float[] x, int xb, int cols) {
        float m = Float.NEGATIVE_INFINITY;
        for (int j = xb; j < xb + cols; j++) {
            m = Math.max(m, x[j]);
        }
        return m;
    }

    @ParameterizedTest(name = "cols={0}")
    @ValueSource(ints = {1, 2, 15, 64, 255, 257, 1023, 1024, 1025, 3000, 8192, 8193})
    void rowsAreWithin8UlpOfTheReference(int cols) {
        SplittableRandom random = new SplittableRandom(cols);
        List<String> failures = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (float t : TEMPERATURES) {
                for (boolean log : new boolean[] {false, true}) {
                    float[] row = row(kind, cols, random, t);
                    // the row at an offset in x, its output at another in y
                    int xb = 3;
                    int yb = 7;
                    float[] x = new float[xb + cols + 5];
                    System.arraycopy(row, 0, x, xb, cols);
                    float[] y = new float[yb + cols + 5];
                    Arrays.fill(y, 42f);
                    float m = RowPasses.max(x, xb, cols);
                    assertThat(m).isEqualTo(rowMax(x, xb, cols));
                    assertThat(RowPasses.takes(Math.max(cols, RowPasses.MIN_COLUMNS), m, t)).isTrue();
                    if (log) {
                        RowPasses.logSoftmax(x, xb, y, yb, cols, m, t);
                    } else {
                        RowPasses.softmax(x, xb, y, yb, cols, m, t);
                    }
                    double[] want = reference(x, xb, cols, t, log);
                    for (int j = 0; j < cols; j++) {
                        double d = ulps(y[yb + j], want[j]);
                        if (!(d <= 8) && failures.size() < 10) {
                            failures.add((log ? "log_softmax " : "softmax ") + kind + " T=" + t + " col " + j + ": got "
                                    + y[yb + j] + " want " + want[j] + " (" + d + " ULP)");
                        }
                    }
                    assertThat(y[yb - 1]).as("before the row").isEqualTo(42f);
                    assertThat(y[yb + cols]).as("after the row").isEqualTo(42f);
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    /** In place (x = y, the same offset) each block of x is read before its outputs are written: the same floats. */
    @ParameterizedTest(name = "cols={0}")
    @ValueSource(ints = {15, 1025, 8193})
    void inPlaceRowsGiveTheOutOfPlaceFloats(int cols) {
        SplittableRandom random = new SplittableRandom(7);
        for (float t : TEMPERATURES) {
            for (boolean log : new boolean[] {false, true}) {
                float[] x = row(Kind.MASKED, cols, random, t);
                float m = RowPasses.max(x, 0, cols);
                float[] apart = new float[cols];
                float[] same = x.clone();
                if (log) {
                    RowPasses.logSoftmax(x, 0, apart, 0, cols, m, t);
                    RowPasses.logSoftmax(same, 0, same, 0, cols, m, t);
                } else {
                    RowPasses.softmax(x, 0, apart, 0, cols, m, t);
                    RowPasses.softmax(same, 0, same, 0, cols, m, t);
                }
                assertThat(same).as("T=%s log=%s", t, log).containsExactly(apart);
            }
        }
    }

    /**
     * At the largest maximum the passes take, |m| = 2^22 T, the floor m - 130 T is coarsest (its ULP near T): entries
     * around it, far below it and -inf still give the reference's terms.
     */
    @Test
    void rowsAtTheLargestMaximumTakenAreWithin8Ulp() {
        SplittableRandom random = new SplittableRandom(22);
        for (float t : TEMPERATURES) {
            for (float sign : new float[] {1, -1}) {
                float m = (float) (sign * 0x1p22 * t);
                assertThat(RowPasses.takes(1500, m, t)).isTrue();
                float[] x = new float[1500];
                for (int j = 0; j < x.length; j++) {
                    x[j] = j % 7 == 0 ? Float.NEGATIVE_INFINITY : (float) (m - random.nextDouble(0, 140) * t);
                }
                x[1499] = -Float.MAX_VALUE;
                x[700] = m;
                for (boolean log : new boolean[] {false, true}) {
                    float[] y = new float[x.length];
                    if (log) {
                        RowPasses.logSoftmax(x, 0, y, 0, x.length, m, t);
                    } else {
                        RowPasses.softmax(x, 0, y, 0, x.length, m, t);
                    }
                    double[] want = reference(x, 0, x.length, t, log);
                    for (int j = 0; j < x.length; j++) {
                        assertThat(ulps(y[j], want[j])).as("m=%s T=%s log=%s col %d: got %s want %s", m, t, log, j,
                                y[j], want[j]).isLessThanOrEqualTo(8);
                    }
                }
            }
        }
    }

    @Test
    void maskedEntriesGiveZeroAndMinusInfinity() {
        float[] x = new float[2049];
        Arrays.fill(x, Float.NEGATIVE_INFINITY);
        x[0] = 1;
        x[2048] = 1;
        for (float t : TEMPERATURES) {
            float[] y = new float[x.length];
            RowPasses.softmax(x, 0, y, 0, x.length, 1, t);
            assertThat(y[0]).isEqualTo(0.5f);
            assertThat(y[2048]).isEqualTo(0.5f);
            assertThat(Arrays.copyOfRange(y, 1, 2048)).containsOnly(0f);
            RowPasses.logSoftmax(x, 0, y, 0, x.length, 1, t);
            assertThat(y[0]).isEqualTo((float) -Math.log(2));
            assertThat(Arrays.copyOfRange(y, 1, 2048)).containsOnly(Float.NEGATIVE_INFINITY);
        }
    }

    @Test
    void maxPropagatesNaNAndSeesEveryBlock() {
        for (int cols : new int[] {1, 15, 1023, 1025, 8193}) {
            float[] x = new float[cols + 2];
            Arrays.fill(x, -5f);
            x[cols] = 99f;
            assertThat(RowPasses.max(x, 0, cols)).isEqualTo(-5f);
            x[cols - 1] = 3f;
            assertThat(RowPasses.max(x, 0, cols)).isEqualTo(3f);
            x[cols / 2] = Float.NaN;
            assertThat(RowPasses.max(x, 0, cols)).isNaN();
        }
        assertThat(RowPasses.max(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 0, 2))
                .isEqualTo(Float.NEGATIVE_INFINITY);
    }

    /**
     * Rows the passes leave to the per-element loop: short rows, logits millions of temperatures large, extreme
     * temperatures.
     */
    @Test
    void shortAndExtremeRowsAreNotTaken() {
        assertThat(RowPasses.takes(64, 1e4f, 1)).isTrue();
        assertThat(RowPasses.takes(63, 0, 1)).isFalse();
        assertThat(RowPasses.takes(1024, 1e8f, 1)).isFalse();
        assertThat(RowPasses.takes(1024, 3, 1e-37f)).isFalse();
        assertThat(RowPasses.takes(1024, 0, 1e-39f)).isFalse();
        assertThat(RowPasses.takes(1024, 0, 3e38f)).isFalse();
    }
}
