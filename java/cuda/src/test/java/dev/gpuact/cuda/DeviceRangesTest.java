package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DeviceRangesTest {
    private static final long BASE = 0x7f00_0000_0000L;

    @Test
    void rangesThatShareAByteOverlap() {
        assertThat(DeviceRanges.overlap(BASE, 400, BASE + 396, 400)).as("last float shared").isTrue();
        assertThat(DeviceRanges.overlap(BASE + 396, 400, BASE, 400)).as("either order").isTrue();
        assertThat(DeviceRanges.overlap(BASE, 4000, BASE + 400, 4)).as("one inside the other").isTrue();
        assertThat(DeviceRanges.overlap(BASE, 400, BASE, 400)).as("the same range").isTrue();
    }

    @Test
    void touchingOrEmptyRangesDoNot() {
        assertThat(DeviceRanges.overlap(BASE, 400, BASE + 400, 400)).as("adjacent").isFalse();
        assertThat(DeviceRanges.overlap(BASE + 400, 400, BASE, 400)).as("adjacent, other order").isFalse();
        assertThat(DeviceRanges.overlap(BASE, 0, BASE, 400)).as("empty").isFalse();
        assertThat(DeviceRanges.overlap(BASE + 4, 400, BASE, 0)).as("empty inside").isFalse();
    }

    @Test
    void addressesAboveTheSignedRangeCompareAsUnsigned() {
        long high = 0xffff_8000_0000_0000L;
        assertThat(DeviceRanges.overlap(high, 400, high + 200, 400)).isTrue();
        assertThat(DeviceRanges.overlap(high, 400, BASE, 400)).isFalse();
    }
}
