package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class LaunchGeometryTest {
    private static final int H100_SMS = 132;

    @Test
    void smallArraysGetOneThreadPerElementOrFloat4() {
        assertThat(LaunchGeometry.elementwise(1, true, H100_SMS)).isEqualTo(new Launch(1, 256, 0));
        assertThat(LaunchGeometry.elementwise(1024, true, H100_SMS).grid()).isEqualTo(1);
        assertThat(LaunchGeometry.elementwise(1025, true, H100_SMS).grid()).isEqualTo(2);
        assertThat(LaunchGeometry.elementwise(1024, false, H100_SMS).grid()).isEqualTo(4);
        assertThat(LaunchGeometry.elementwise(257, false, H100_SMS).grid()).isEqualTo(2);
    }

    @Test
    void hugeArraysAreCappedAtAFewWavesAndLoop() {
        int cap = LaunchGeometry.gridCap(H100_SMS, 256);
        assertThat(cap).isEqualTo(H100_SMS * 4 * LaunchGeometry.WAVES);
        for (long n : new long[] {1L << 31, (1L << 31) + 3, 1L << 40, Long.MAX_VALUE / 4}) {
            assertThat(LaunchGeometry.elementwise(n, true, H100_SMS).grid()).isEqualTo(cap);
            assertThat(LaunchGeometry.elementwise(n, false, H100_SMS).grid()).isEqualTo(cap);
        }
    }

    @Property
    void theGridCoversTheWorkInOnePassOrIsCapped(@ForAll @LongRange(min = 1, max = 1L << 42) long n,
                                                 @ForAll boolean vectorized,
                                                 @ForAll @IntRange(min = 1, max = 256) int sms) {
        Launch l = LaunchGeometry.elementwise(n, vectorized, sms);
        long perPass = (long) l.grid() * l.block() * (vectorized ? 4 : 1);
        assertThat(l.grid()).isBetween(1, LaunchGeometry.gridCap(sms, l.block()));
        if (l.grid() < LaunchGeometry.gridCap(sms, l.block())) {
            assertThat(perPass).isGreaterThanOrEqualTo(n);
            assertThat(perPass - (long) l.block() * (vectorized ? 4 : 1)).isLessThan(n);
        }
    }

    @Test
    void float4OnlyWhenEveryAddressIs16ByteAligned() {
        assertThat(LaunchGeometry.vectorizable(0x7f0000000000L, 0x7f0000000100L)).isTrue();
        assertThat(LaunchGeometry.vectorizable(0x7f0000000000L, 0x7f0000000104L)).isFalse();
        assertThat(LaunchGeometry.vectorizable(0x7f0000000008L)).isFalse();
        assertThat(LaunchGeometry.vectorizable()).isTrue();
    }

    @Test
    void preluSlicesFillTheDeviceOnlyWhenChannelsAreFewAndLong() {
        int cap = LaunchGeometry.gridCap(H100_SMS, LaunchGeometry.BLOCK);
        assertThat(LaunchGeometry.preluSlices(1L << 30, 1, 1, H100_SMS)).isEqualTo(cap);
        assertThat(LaunchGeometry.preluSlices(1L << 30, 64, 1 << 16, H100_SMS)).isEqualTo(cap / 64);
        assertThat(LaunchGeometry.preluSlices(1L << 30, 1L << 20, 1, H100_SMS)).isEqualTo(1);
        assertThat(LaunchGeometry.preluSlices(100, 1, 1, H100_SMS)).isEqualTo(1);
        // n need not be a multiple of channels * inner: the last, partial group still belongs to a slice.
        assertThat(LaunchGeometry.preluSlices(3 * 2 * 2048 + 5, 3, 1, H100_SMS)).isEqualTo(2);
    }

    @Test
    void preluInnerBeyondTheArrayMeansOneGroupAndCannotOverflow() {
        assertThat(LaunchGeometry.preluInner(1000, 10)).isEqualTo(10);
        assertThat(LaunchGeometry.preluInner(1000, 5000)).isEqualTo(1000);
        assertThat(LaunchGeometry.preluInner(1000, Long.MAX_VALUE)).isEqualTo(1000);
        // Unclamped, channels * inner wrapped negative and the dweight slices covered no element at all.
        long n = 1 << 20;
        assertThat(LaunchGeometry.preluSlices(n, 2, LaunchGeometry.preluInner(n, Long.MAX_VALUE), H100_SMS))
                .isEqualTo(LaunchGeometry.preluSlices(n, 2, n, H100_SMS))
                .isEqualTo(n / (LaunchGeometry.BLOCK * LaunchGeometry.MIN_SLICE_PER_THREAD));  // all n in channel 0
    }

    @Test
    void eventMillisecondsBecomeNanoseconds() {
        assertThat(CudaBackend.millisToNanos(1.5f)).isEqualTo(1_500_000);
        assertThat(CudaBackend.millisToNanos(0.0005f)).isEqualTo(500);
        assertThat(CudaBackend.millisToNanos(0f)).isZero();
    }
}
