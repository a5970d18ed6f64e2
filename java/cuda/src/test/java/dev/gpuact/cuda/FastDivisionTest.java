package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class FastDivisionTest {
    @Test
    void everySmallDivisorAndDividendMatchesJava() {
        for (long d = 1; d <= 1000; d++) {
            FastDivision f = FastDivision.of(d);
            for (long n = 0; n <= 5000; n++) {
                if (f.quotient(n) != n / d) {
                    throw new AssertionError(n + " / " + d + ": " + f.quotient(n) + " != " + n / d);
                }
            }
        }
    }

    @Test
    void dividendsNearMultiplesAndTheTopOfTheRangeMatchJava() {
        long[] divisors = {1, 2, 3, 5, 7, 10, 641, 1 << 20, (1 << 20) + 1, 6_700_417, Integer.MAX_VALUE, 1L << 32,
            (1L << 32) + 15, 3L << 40, Long.MAX_VALUE / 3, (1L << 62) + 1, Long.MAX_VALUE - 1, Long.MAX_VALUE};
        for (long d : divisors) {
            FastDivision f = FastDivision.of(d);
            for (long k : new long[] {0, 1, 2, 3, 1000, Long.MAX_VALUE / d - 1, Long.MAX_VALUE / d}) {
                for (long delta = -2; delta <= 2; delta++) {
                    long n = k * d + delta;
                    if (n >= 0 && (k == 0 || n / d >= k - 1)) {
                        assertThat(f.quotient(n)).as("%d / %d", n, d).isEqualTo(n / d);
                    }
                }
            }
            assertThat(f.quotient(Long.MAX_VALUE)).as("MAX / %d", d).isEqualTo(Long.MAX_VALUE / d);
        }
    }

    @Property(tries = 20_000)
    void anyIndexOverAnyDivisorMatchesJava(@ForAll @LongRange(min = 0) long n, @ForAll @LongRange(min = 1) long d) {
        assertThat(FastDivision.of(d).quotient(n)).isEqualTo(n / d);
    }

    @Property(tries = 20_000)
    void smallDivisorsOfLargeIndices(@ForAll @LongRange(min = 0) long n, @ForAll @LongRange(min = 1, max = 1 << 16) long d) {
        FastDivision f = FastDivision.of(d);
        assertThat(f.quotient(n)).isEqualTo(n / d);
        assertThat(n - f.quotient(n) * d).isEqualTo(n % d);
    }

    @Test
    void oneKeepsTheIndexAndPowersOfTwoShift() {
        assertThat(FastDivision.of(1)).isEqualTo(new FastDivision(1, 0, 0));
        assertThat(FastDivision.of(2)).isEqualTo(new FastDivision(2, Long.MIN_VALUE, 0));
        assertThat(FastDivision.of(1L << 40)).isEqualTo(new FastDivision(1L << 40, Long.MIN_VALUE, 39));
    }

    @Test
    void rejectsDivisorsBelowOne() {
        assertThatThrownBy(() -> FastDivision.of(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 0");
    }
}
