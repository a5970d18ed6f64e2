package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Softmax and log_softmax backward from x on both of their paths (through the forward row for rows up to
 * Rowwise.SCRATCH_ROW_LIMIT, in double past it) within the contract's 8 ULP at its scale: y_i (|dy_i| + sum |dy_j| y_j)
 * / T for softmax, (|dy_i| + p_i sum |dy_j|) / T for log_softmax, against the formulas in double.
 */
class SoftmaxBackwardTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 300, 4096, Rowwise.SCRATCH_ROW_LIMIT + 16})
    void withinEightUlpsAtTheContractsScale(int cols) {
        SplittableRandom random = new SplittableRandom(cols);
        int rows = 2;
        float[] x = new float[rows * cols];
        float[] dy = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-12, 12);
            dy[i] = (float) random.nextDouble(-2, 2);
        }
        double t = 0.8;
        Rowwise.Layout layout = new Rowwise.Layout(rows, cols, 0, cols, 0, cols);
        for (boolean log : new boolean[] {false, true}) {
            float[] dx = new float[x.length];
            if (log) {
                Rowwise.logSoftmaxBackward(x, dy, dx, layout, t, false);
            } else {
                Rowwise.softmaxBackward(x, dy, dx, layout, t, false);
            }
            for (int r = 0; r < rows; r++) {
                int b = r * cols;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < cols; j++) {
                    max = Math.max(max, x[b + j]);
                }
                double sum = 0;
                for (int j = 0; j < cols; j++) {
                    sum += Math.exp((x[b + j] - max) / t);
                }
                double dot = 0;
                double dotMagnitude = 0;
                double dySum = 0;
                double dyMagnitude = 0;
                for (int j = 0; j < cols; j++) {
                    double p = Math.exp((x[b + j] - max) / t) / sum;
                    dot += dy[b + j] * p;
                    dotMagnitude += Math.abs(dy[b + j]) * p;
                    dySum += dy[b + j];
                    dyMagnitude += Math.abs(dy[b + j]);
                }
                for (int j = 0; j < cols; j++) {
                    double p = Math.exp((x[b + j] - max) / t) / sum;
                    double want = log ? (dy[b + j] - p * dySum) / t : p * (dy[b + j] - dot) / t;
                    double scale = log ? (Math.abs(dy[b + j]) + p * dyMagnitude) / t
                            : p * (Math.abs(dy[b + j]) + dotMagnitude) / t;
                    assertThat(Math.abs(dx[b + j] - want))
                            .as("%s, %d columns, row %d col %d", log ? "log_softmax" : "softmax", cols, r, j)
                            .isLessThanOrEqualTo(8 * Math.ulp((float) scale));
                }
            }
        }
    }
}
