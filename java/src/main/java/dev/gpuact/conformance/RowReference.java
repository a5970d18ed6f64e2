package dev.gpuact.conformance;

import java.util.Arrays;

/**
 * Double-precision references of the row-wise ops and of PReLU's weight gradient, written straight from
 * ACTIVATIONS.md so they share nothing with any backend.
 */
final class RowReference {
    private RowReference() {
    }

    /**
     * Softmax or log-softmax of {@code x[offset .. offset + cols)}: a row holding NaN or +inf is all NaN; a
     * fully masked row (all -inf) is zeros (softmax) or -inf (log_softmax), or NaN when {@code maskedNaN}.
     */
    static double[] softmax(float[] x, int offset, int cols, double temperature, boolean log, boolean maskedNaN) {
        double[] y = new double[cols];
        double max = Double.NEGATIVE_INFINITY;
        boolean poisoned = false;
        for (int j = 0; j < cols; j++) {
            float v = x[offset + j];
            poisoned |= Float.isNaN(v) || v == Float.POSITIVE_INFINITY;
            max = Math.max(max, v);
        }
        if (poisoned || max == Double.NEGATIVE_INFINITY) {
            double fill = poisoned || maskedNaN ? Double.NaN : log ? Double.NEGATIVE_INFINITY : 0;
            Arrays.fill(y, fill);
            return y;
        }
        // The maximum's term is exactly 1: the others are summed apart, so that log(sum) = log1p(others) keeps
        // its accuracy when the others are below double's epsilon (log_softmax of the maximum is -log1p(others)).
        double others = 0;
        boolean maximumSeen = false;
        for (int j = 0; j < cols; j++) {
            if (!maximumSeen && x[offset + j] == max) {
                maximumSeen = true;
            } else {
                others += Math.exp((x[offset + j] - max) / temperature);
            }
        }
        double sum = 1 + others;
        double logSum = Math.log1p(others);
        for (int j = 0; j < cols; j++) {
            double z = (x[offset + j] - max) / temperature;
            y[j] = log ? z - logSum : Math.exp(z) / sum;
        }
        return y;
    }

    /** The true gradient and, per element, the magnitude of the terms it is the difference of. */
    record Gradient(double[] dx, double[] scale) {
    }

    /**
     * Softmax backward, dx_i = y_i (dy_i - sum_j dy_j y_j) / T, or log-softmax backward,
     * dx_i = (dy_i - p_i sum_j dy_j) / T with p = softmax; {@code y} is the softmax (not its log) in both cases.
     * The scale of dx_i replaces the sums by sums of magnitudes: that is what a float sum's error is relative to.
     */
    static Gradient softmaxBackward(double[] y, float[] dy, int offset, int cols, double temperature, boolean log) {
        double sum = 0;
        double sumOfMagnitudes = 0;
        for (int j = 0; j < cols; j++) {
            double weight = log ? 1 : y[j];
            sum += dy[offset + j] * weight;
            sumOfMagnitudes += Math.abs(dy[offset + j]) * weight;
        }
        double[] dx = new double[cols];
        double[] scale = new double[cols];
        for (int i = 0; i < cols; i++) {
            double g = dy[offset + i];
            if (log) {
                dx[i] = (g - y[i] * sum) / temperature;
                scale[i] = (Math.abs(g) + y[i] * sumOfMagnitudes) / temperature;
            } else {
                dx[i] = y[i] * (g - sum) / temperature;
                scale[i] = y[i] * (Math.abs(g) + sumOfMagnitudes) / temperature;
            }
        }
        return new Gradient(dx, scale);
    }

    /** Index within the row of the first maximum of group {@code group} of {@code pieces}; NaN wins. */
    static int maxoutArgmax(float[] x, int offset, int group, int pieces) {
        int best = group * pieces;
        for (int p = 1; p < pieces; p++) {
            int j = group * pieces + p;
            float v = x[offset + j];
            if (Float.isNaN(x[offset + best])) {
                break;
            }
            if (v > x[offset + best] || Float.isNaN(v)) {
                best = j;
            }
        }
        return best;
    }

    /** dweight[c] = sum over channel c of dy x where x <= 0, and the sum of |dy x| over the same terms. */
    static double[][] preluWeightGradient(float[] x, float[] dy, int channels, int inner) {
        double[] sum = new double[channels];
        double[] magnitude = new double[channels];
        for (int i = 0; i < x.length; i++) {
            if (x[i] <= 0) {
                int c = (i / inner) % channels;
                double term = (double) dy[i] * x[i];
                sum[c] += term;
                magnitude[c] += Math.abs(term);
            }
        }
        return new double[][] {sum, magnitude};
    }
}
