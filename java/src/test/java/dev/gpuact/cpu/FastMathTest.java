package dev.gpuact.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Reference;
import dev.gpuact.fallback.FastMath;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** The fast double functions against StrictMath and the catalog's reference, over many points and the limits. */
class FastMathTest {
    private static final int POINTS = 400_000;

    /** Largest relative error of {@code fast} against {@code exact} over random points in [low, high]. */
    private static double worstRelativeError(DoubleUnaryOperator fast, DoubleUnaryOperator exact, double low, double high) {
        SplittableRandom random = new SplittableRandom(42);
        double worst = 0;
        for (int i = 0; i < POINTS; i++) {
            double x = random.nextDouble(low, high);
            double e = exact.applyAsDouble(x);
            if (e != 0) {
                worst = Math.max(worst, Math.abs(fast.applyAsDouble(x) / e - 1));
            }
        }
        return worst;
    }

    @Test
    void expIsAccurateOverTheWholeRangeAndHasTheRightLimits() {
        assertThat(worstRelativeError(FastMath::exp, StrictMath::exp, -708, 709)).isLessThan(1e-15);
        assertThat(worstRelativeError(FastMath::exp, StrictMath::exp, -1, 1)).isLessThan(1e-15);
        assertThat(FastMath.exp(0)).isEqualTo(1);
        assertThat(FastMath.exp(710)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(FastMath.exp(Double.POSITIVE_INFINITY)).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(FastMath.exp(-746)).isZero();
        assertThat(FastMath.exp(Double.NEGATIVE_INFINITY)).isZero();
        assertThat(FastMath.exp(Double.NaN)).isNaN();
        // results below 2^-1022 lose relative precision, as every double exp does; the absolute error stays tiny
        assertThat(Math.abs(FastMath.exp(-740) - StrictMath.exp(-740))).isLessThan(4 * Double.MIN_VALUE);
    }

    @Test
    void expm1AndLog1pKeepRelativeAccuracyNearZero() {
        assertThat(worstRelativeError(FastMath::expm1, StrictMath::expm1, -1, 1)).isLessThan(2e-15);
        assertThat(worstRelativeError(FastMath::expm1, StrictMath::expm1, -1e-12, 1e-12)).isLessThan(2e-15);
        assertThat(worstRelativeError(FastMath::log1p, StrictMath::log1p, 0, 1)).isLessThan(2e-15);
        assertThat(worstRelativeError(FastMath::log1p, StrictMath::log1p, 0, 1e-12)).isLessThan(2e-15);
        assertThat(FastMath.log1p(Double.POSITIVE_INFINITY)).isEqualTo(Double.POSITIVE_INFINITY);
    }

    @Test
    void sigmoidMatchesTheReference() {
        assertThat(worstRelativeError(FastMath::sigmoid, Reference::sigmoid, -700, 700)).isLessThan(1e-14);
        assertThat(FastMath.sigmoid(Double.NEGATIVE_INFINITY)).isZero();
        assertThat(FastMath.sigmoid(Double.POSITIVE_INFINITY)).isEqualTo(1);
    }
}
