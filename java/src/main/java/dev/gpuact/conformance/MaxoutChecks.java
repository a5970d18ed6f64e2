package dev.gpuact.conformance;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import java.util.Locale;
import java.util.SplittableRandom;

/** Maxout: forward exact (NaN wins), backward routes dy to the first position of the maximum, strides honoured. */
final class MaxoutChecks {
    private static final int GROUPS = 37;

    private MaxoutChecks() {
    }

    static void run(Backend backend, Tally tally) {
        SplittableRandom random = new SplittableRandom(Conformance.seed(Op.MAXOUT));
        for (int pieces : new int[] {1, 2, 3, 4, 8}) {
            int cols = pieces * GROUPS;
            int outCols = GROUPS;
            check(backend, tally, random, Activation.maxout(pieces), new RowLayout(5, cols, cols, outCols));
            check(backend, tally, random, Activation.maxout(pieces), new RowLayout(3, cols, cols + 2, outCols + 3));
        }
    }

    /**
     * Small integers, so ties are common and "the first maximum" matters; row 0 group 0 holds a NaN, which must
     * come out NaN (its gradient routing is not specified and is not checked).
     */
    private static void check(Backend backend, Tally tally, SplittableRandom random, Activation activation,
                              RowLayout layout) {
        int pieces = (int) activation.param("pieces");
        int outCols = (int) (layout.cols() / pieces);
        float[] x = new float[(int) layout.xExtent()];
        for (int i = 0; i < x.length; i++) {
            x[i] = i % layout.xStride() < layout.cols() ? random.nextInt(-3, 4) : Float.NaN;
        }
        x[pieces - 1] = Float.NaN;
        float[] y = Conformance.rows(backend, activation, x, layout, (int) layout.yExtent(outCols) + 3);
        float[] dy = new float[(int) layout.yExtent(outCols)];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) random.nextDouble(-2, 2);
        }
        float[] dx = Conformance.rowsBackward(backend, activation, x, dy, layout);
        String where = activation + " " + Conformance.describe(layout);
        for (int r = 0; r < layout.rows(); r++) {
            int xBase = (int) (r * layout.xStride());
            int yBase = (int) (r * layout.yStride());
            for (int g = 0; g < outCols; g++) {
                int argmax = RowReference.maxoutArgmax(x, xBase, g, pieces);
                float want = x[xBase + argmax];
                float got = y[yBase + g];
                double ulps = Ulp.distance(got, want);
                tally.forward(ulps);
                if (ulps != 0) {
                    tally.fail(String.format(Locale.ROOT, "%s forward: row %d output %d: got %s want %s (exact)",
                            where, r, g, got, want));
                }
                if (Float.isNaN(want)) {
                    continue;
                }
                for (int p = 0; p < pieces; p++) {
                    int j = g * pieces + p;
                    float wantDx = j == argmax ? dy[yBase + g] : 0f;
                    double dxUlps = Ulp.distance(dx[xBase + j], wantDx);
                    tally.backward(dxUlps);
                    if (dxUlps != 0) {
                        tally.fail(String.format(Locale.ROOT, "%s backward: row %d input %d: got %s want %s (dy goes "
                                + "to the first maximum, at input %d)", where, r, j, dx[xBase + j], wantDx, argmax));
                    }
                }
            }
        }
        Conformance.checkPadding(tally, where + " forward", y, layout.rows(), layout.yStride(), outCols);
        Conformance.checkPadding(tally, where + " backward dx", dx, layout.rows(), layout.xStride(), layout.cols());
    }
}
