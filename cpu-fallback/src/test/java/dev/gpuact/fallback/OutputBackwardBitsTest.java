package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The float loops of the backward pass from the output, vector and scalar, give dy f'(y) as the double slope rounds
 * it, for every y and dy: zeros of both signs, infinities, NaNs, subnormals and random floats of every magnitude.
 */
class OutputBackwardBitsTest {
    private static final float[] SPECIALS = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1f, -1f,
        0.5f, 6f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
        Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001)};

    private final float[] y;
    private final float[] dy;

    OutputBackwardBitsTest() {
        int n = SPECIALS.length * SPECIALS.length + 4096;
        y = new float[n];
        dy = new float[n];
        for (int i = 0; i < SPECIALS.length * SPECIALS.length; i++) {
            y[i] = SPECIALS[i / SPECIALS.length];
            dy[i] = SPECIALS[i % SPECIALS.length];
        }
        SplittableRandom random = new SplittableRandom(21);
        for (int i = SPECIALS.length * SPECIALS.length; i < n; i++) {
            y[i] = Float.intBitsToFloat(random.nextInt());
            dy[i] = i % 2 == 0 ? (float) random.nextDouble(-2, 2) : Float.intBitsToFloat(random.nextInt());
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"SIGMOID", "TANH", "RELU"})
    void theScalarFloatLoopGivesTheDoubleSlopesFloat(OutputBackward op) {
        float[] dx = new float[y.length];
        op.backwardSequential(y, dy, dx, 0, y.length, 0, 0);
        assertSameFloats(op, dx);
    }

    @ParameterizedTest
    @EnumSource(names = {"SIGMOID", "TANH"})
    void theVectorLoopGivesTheDoubleSlopesFloat(OutputBackward op) {
        assumeTrue(Vectorization.vectorised(), "the Vector API path runs");
        int n = y.length;
        assertThat(Vectorization.LOOPS.backwardFromOutput(op, y, dy, new float[n], 0, n, 0, 0))
                .as("elements the vector loop covers").isGreaterThan(n - 64);
        float[] dx = new float[n];
        op.backward(y, dy, dx, n, 0, 0);
        assertSameFloats(op, dx);
    }

    private void assertSameFloats(OutputBackward op, float[] dx) {
        List<String> differences = new ArrayList<>();
        for (int i = 0; i < dx.length && differences.size() < 10; i++) {
            float expected = (float) (dy[i] * op.slope(y[i], 0, 0));
            if (Float.floatToIntBits(dx[i]) != Float.floatToIntBits(expected)) {
                differences.add("y=" + y[i] + " dy=" + dy[i] + ": " + dx[i] + ", from the double slope " + expected);
            }
        }
        assertThat(differences).isEmpty();
    }

    /**
     * log_softmax's backward pass from y gives the derivative at the y given, also where y is no log-probability
     * (above 0, past exp's passes' domain, up to e^y overflowing): (dy - e^y sum dy) / T within 2 ULP of the double
     * formula at the scale |dy| + e^y sum |dy|, infinite where e^y is.
     */
    @Test
    void logSoftmaxFromAnyY() {
        float[] row = {-3f, -0.25f, 0f, 0.5f, 43.5f, 50f, 88f, 89f, -1e30f, Float.NEGATIVE_INFINITY};
        float[] gradient = {0.5f, -1.25f, 2f, 0.125f, -0.75f, 1f, -0.5f, 0.25f, 3f, -2f};
        int cols = row.length;
        float[] dx = new float[cols];
        float t = 0.7f;
        OutputBackward.logSoftmax(row, gradient, dx, new Rowwise.Layout(1, cols, 0, cols, 0, cols), t);
        double s = 0;
        double magnitude = 0;
        for (float g : gradient) {
            s += g;
            magnitude += Math.abs(g);
        }
        for (int j = 0; j < cols; j++) {
            double e = Math.exp(row[j]);
            double want = (gradient[j] - e * (float) s) / t;
            if (Double.isInfinite(e * s) || Math.abs(want) > Float.MAX_VALUE) {
                assertThat(Float.isInfinite(dx[j])).as("y = %s: %s", row[j], dx[j])
                        .isTrue();
                continue;
            }
            double scale = (Math.abs(gradient[j]) + e * magnitude) / t;
            assertThat(Math.abs(dx[j] - want)).as("y = %s", row[j])
                    .isLessThanOrEqualTo(2 * Math.ulp((float) scale));
        }
    }
}
