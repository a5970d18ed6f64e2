package dev.gpuact.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.fallback.Rowwise;
import dev.gpuact.fallback.Vectorization;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * log_softmax where outputs are near 0 (one dominant entry, the others far below it), across temperatures from
 * 1e-37 to 1e30, on the cpu kernels against {@link RowReference}: the maximum's output is -log1p(others), which a
 * log of the rounded sum loses entirely (cases found by {@code gpuact soak}: temperature 0.95344764 on 8 x 3 rows,
 * 0.427 with outputs near -7.5e-15). The maximum sits in the vector loop's part of a row, in its scalar tail, or
 * in both.
 */
class LogSoftmaxNearZeroTest {
    @Test
    void outputsNearZeroAreWithin8UlpAtEveryTemperature() {
        SplittableRandom random = new SplittableRandom(15);
        List<Float> temperatures = new ArrayList<>(List.of(0.95344764f, 0.427f, 1f));
        for (int decade = -37; decade <= 30; decade++) {
            temperatures.add((float) (Math.pow(10, decade) * random.nextDouble(1, 10)));
        }
        List<String> failures = new ArrayList<>();
        for (float t : temperatures) {
            for (int cols : new int[] {3, 8, 37, 1024}) {
                int rows = 8;
                float[] x = new float[rows * cols];
                for (int r = 0; r < rows; r++) {
                    // each other entry sits 20..60 temperatures below the maximum: e^-20 .. e^-60 per term
                    float max = (float) random.nextDouble(-3, 3);
                    for (int j = 0; j < cols; j++) {
                        double gap = random.nextDouble(20, 60) * t;
                        x[r * cols + j] = isMaximum(r, j, cols) ? max : (float) (max - gap);
                    }
                }
                float[] y = new float[x.length];
                Rowwise.logSoftmax(x, y, new Rowwise.Layout(rows, cols, 0, cols, 0, cols), t, false);
                for (int r = 0; r < rows; r++) {
                    double[] want = RowReference.softmax(x, r * cols, cols, t, true, false);
                    for (int j = 0; j < cols; j++) {
                        double d = Ulp.distance(y[r * cols + j], want[j]);
                        if (d > Conformance.BACKWARD_ULP && failures.size() < 10) {
                            failures.add("T=" + t + " " + rows + "x" + cols + " [" + r + "," + j + "]: got "
                                    + y[r * cols + j] + " want " + (float) want[j] + " (" + d + " ULP)");
                        }
                    }
                }
            }
        }
        assertThat(failures).as("log_softmax near 0 on %s", Vectorization.description()).isEmpty();
    }

    /**
     * Where row r holds its maximum: at the start, at the end (past the last whole vector of a vectorised row, where
     * the scalar tail finds it), at both, or inside.
     */
    private static boolean isMaximum(int r, int j, int cols) {
        return switch (r % 4) {
            case 0 -> j == 0;
            case 1 -> j == cols - 1;
            case 2 -> j == 0 || j == cols - 1;
            default -> j == r % cols;
        };
    }
}
