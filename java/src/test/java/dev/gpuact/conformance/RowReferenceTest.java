package dev.gpuact.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import org.junit.jupiter.api.Test;

class RowReferenceTest {
    private static final float INF = Float.POSITIVE_INFINITY;

    @Test
    void softmaxOfKnownRows() {
        float[] x = {0, (float) Math.log(3), 100000};
        // x holds ln 3 rounded to float, hence the 1e-7
        assertThat(RowReference.softmax(x, 0, 2, 1, false, false)).containsExactly(new double[] {0.25, 0.75}, offset(1e-7));
        assertThat(RowReference.softmax(x, 0, 2, 1, true, false))
                .containsExactly(new double[] {Math.log(0.25), Math.log(0.75)}, offset(1e-7));
        // temperature 2 halves the logits: e^0 : e^(ln 3 / 2) = 1 : sqrt 3
        assertThat(RowReference.softmax(x, 0, 2, 2, false, false)[0]).isCloseTo(1 / (1 + Math.sqrt(3)), offset(1e-7));
        assertThat(RowReference.softmax(x, 2, 1, 1, false, false)).containsExactly(1.0);
    }

    @Test
    void logSoftmaxOfTheMaximumKeepsItsAccuracyWhenTheOthersAreBelowEpsilon() {
        // log(1 + 1e-25) rounds to 0 in double; the true value is -1e-25 (log1p of the others)
        float[] x = {0, -57.56463f};
        double others = Math.exp(-57.56463f);
        assertThat(RowReference.softmax(x, 0, 2, 1, true, false)[0]).isCloseTo(-others, offset(others * 1e-15));
        // the same at temperature 0.5: the other term is e^(2 x)
        double othersAtHalf = Math.exp(2 * (double) -57.56463f);
        assertThat(RowReference.softmax(x, 0, 2, 0.5, true, false)[0]).isCloseTo(-othersAtHalf,
                offset(othersAtHalf * 1e-15));
    }

    @Test
    void specialRowsFollowTheContract() {
        float[] masked = {-INF, -INF};
        assertThat(RowReference.softmax(masked, 0, 2, 1, false, false)).containsExactly(0.0, 0.0);
        assertThat(RowReference.softmax(masked, 0, 2, 1, true, false)).containsExactly(-INF, -INF);
        assertThat(RowReference.softmax(masked, 0, 2, 1, false, true)).containsOnly(Double.NaN);
        assertThat(RowReference.softmax(new float[] {1, INF}, 0, 2, 1, false, false)).containsOnly(Double.NaN);
        assertThat(RowReference.softmax(new float[] {1, Float.NaN}, 0, 2, 1, true, false)).containsOnly(Double.NaN);
        assertThat(RowReference.softmax(new float[] {-INF, 5}, 0, 2, 1, true, false)).containsExactly(-INF, 0.0);
    }

    @Test
    void softmaxBackwardMatchesFiniteDifferences() {
        float[] x = {0.3f, -1.2f, 2f, 0.7f};
        float[] dy = {0.5f, -1f, 0.25f, 2f};
        for (boolean log : new boolean[] {false, true}) {
            double[] p = RowReference.softmax(x, 0, 4, 1.5, false, false);
            double[] dx = RowReference.softmaxBackward(p, dy, 0, 4, 1.5, log).dx();
            for (int i = 0; i < 4; i++) {
                double h = 1e-3;
                float[] above = bump(x, i, h);
                float[] below = bump(x, i, -h);
                double up = dot(dy, RowReference.softmax(above, 0, 4, 1.5, log, false));
                double down = dot(dy, RowReference.softmax(below, 0, 4, 1.5, log, false));
                double step = (double) above[i] - below[i];
                assertThat(dx[i]).as("log=%s i=%d", log, i).isCloseTo((up - down) / step, offset(1e-5));
            }
        }
    }

    private static float[] bump(float[] x, int i, double h) {
        float[] y = x.clone();
        y[i] = (float) (y[i] + h);
        return y;
    }

    private static double dot(float[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void maxoutTakesTheFirstMaximumAndNaNWins() {
        float[] x = {1, 3, 3, 2, Float.NaN, 5};
        assertThat(RowReference.maxoutArgmax(x, 0, 0, 3)).isEqualTo(1);
        assertThat(RowReference.maxoutArgmax(x, 0, 1, 3)).isEqualTo(4);
    }

    @Test
    void preluWeightGradientSumsNonPositiveInputsPerChannel() {
        // NCHW, C = 2, inner = 2: channels of index 0..7 are 0 0 1 1 0 0 1 1
        float[] x = {-1, 2, -3, 0, -5, -6, 7, -8};
        float[] dy = {1, 1, 2, 2, -1, 1, 3, 0.5f};
        double[][] g = RowReference.preluWeightGradient(x, dy, 2, 2);
        assertThat(g[0]).containsExactly(-1 + 5 - 6, -6 + 0 - 4);
        assertThat(g[1]).containsExactly(1 + 5 + 6, 6 + 0 + 4);
    }
}
