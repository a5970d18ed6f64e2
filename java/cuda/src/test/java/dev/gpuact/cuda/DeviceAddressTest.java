package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

class DeviceAddressTest {
    @Test
    void readsPointerPlusByteOffsetWithoutTheDriver() {
        CUdeviceptr base = new CUdeviceptr();
        assertThat(DeviceAddress.of(base)).isZero();
        assertThat(DeviceAddress.of(base.withByteOffset(20))).isEqualTo(20);
        assertThat(DeviceAddress.of(base.withByteOffset(16).withByteOffset(4))).isEqualTo(20);
        assertThat(LaunchGeometry.vectorizable(DeviceAddress.of(base.withByteOffset(4)))).isFalse();
        assertThat(LaunchGeometry.vectorizable(DeviceAddress.of(base.withByteOffset(32)))).isTrue();
    }
}
