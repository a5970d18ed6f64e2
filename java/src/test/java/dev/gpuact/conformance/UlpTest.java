package dev.gpuact.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UlpTest {
    @Test
    void distanceCountsStepsInTheOrderedFloatLattice() {
        assertThat(Ulp.distance(1f, Math.nextUp(1f))).isEqualTo(1);
        assertThat(Ulp.distance(Math.nextDown(1f), Math.nextUp(1f))).isEqualTo(2);
        assertThat(Ulp.distance(-Float.MIN_VALUE, Float.MIN_VALUE)).isEqualTo(2);
        assertThat(Ulp.distance(0f, Float.MIN_NORMAL)).isEqualTo(1 << 23);
        assertThat(Ulp.distance(Float.MAX_VALUE, Float.POSITIVE_INFINITY)).isEqualTo(1);
        assertThat(Ulp.distance(-2f, 2f)).isEqualTo(2.0 * Float.floatToRawIntBits(2f));
    }

    @Test
    void zerosAreEqualAndNaNIsOnlyCloseToNaN() {
        assertThat(Ulp.distance(0f, -0f)).isZero();
        assertThat(Ulp.distance(Float.NaN, Float.intBitsToFloat(0xffc00001))).isZero();
        assertThat(Ulp.distance(Float.NaN, 0f)).isInfinite();
        assertThat(Ulp.distance(Float.POSITIVE_INFINITY, Float.NaN)).isInfinite();
    }

    @Test
    void theTrueValueIsRoundedToFloatFirst() {
        assertThat(Ulp.distance(1f, 1.0 + 0x1p-25)).isZero();
        assertThat(Ulp.distance(1f, 1.0 + 0x1p-23)).isEqualTo(1);
    }

    @Test
    void aTermScaleOnlyEverRelievesTheError() {
        // a sum of +-1 terms that nearly cancels: 1e-9; a float result 1e-8 off is < 1 ULP of the terms
        assertThat(Ulp.distance(1.1e-8f, 1e-9, 2)).isLessThan(1);
        assertThat(Ulp.distance(1.1e-8f, 1e-9)).isGreaterThan(1e6);
        // a scale no larger than the value changes nothing
        assertThat(Ulp.distance(Math.nextUp(3f), 3.0, 3)).isEqualTo(1);
        assertThat(Ulp.distance(Float.NaN, 1e-9, 2)).isInfinite();
    }
}
