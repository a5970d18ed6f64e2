package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DeviceScratchTest {
    @Test
    void sizesAreInBytesOfDoubles() {
        assertThat(DeviceScratch.bytesFor(1)).isEqualTo(8);
        assertThat(DeviceScratch.bytesFor(3L * 132 * 4)).isEqualTo(8L * 3 * 132 * 4);
    }

    @Test
    void impossibleSizesAreRefusedNotWrapped() {
        assertThatThrownBy(() -> DeviceScratch.bytesFor(Long.MAX_VALUE / 4)).isInstanceOf(ArithmeticException.class);
        assertThatThrownBy(() -> DeviceScratch.bytesFor(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one double, got 0");
    }
}
