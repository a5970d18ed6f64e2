package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.NativeCallException;
import dev.gpuact.OutOfDeviceMemoryException;
import org.jocl.CL;
import org.jocl.Sizeof;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Memory accounting against the device's reported size, typed native failures, and PReLU's index arithmetic. */
class OpenClReliabilityTest {
    private OpenClBackend backend;

    @BeforeEach
    void open() {
        backend = OpenClTestDevice.open();
    }

    @AfterEach
    void close() {
        assertThat(backend.memory()).isEqualTo(new Backend.MemoryStats(0, 0));
        backend.close();
    }

    @Test
    void allocationsBeyondTheDevicesMemoryAreRefusedBeforeTheRuntimeOvercommits() {
        assertThat(backend.deviceMemoryLimit()).isEqualTo(
                OpenClDevices.deviceLong(backend.openClDevice().id(), CL.CL_DEVICE_GLOBAL_MEM_SIZE, Sizeof.cl_ulong));
        backend.limitMemory(3 << 20);
        int mib = (1 << 20) / Float.BYTES;
        try (DeviceBuffer a = backend.allocate(mib); DeviceBuffer b = backend.allocate(mib)) {
            assertThatThrownBy(() -> backend.allocate(mib + 1)).isInstanceOf(OutOfDeviceMemoryException.class)
                    .hasMessageContaining("more than is left of the device's reported memory (3145728 bytes)")
                    .hasMessageContaining("this backend holds 2097152 bytes in 2 buffer(s)");
            b.close();
            try (DeviceBuffer c = backend.allocate(mib + 1)) {
                assertThat(c.length()).isEqualTo(mib + 1);
            }
        }
    }

    @Test
    void aNativeFailureOtherThanMemoryIsATypedExceptionNamingTheCall() {
        long maxAlloc = OpenClDevices.deviceLong(backend.openClDevice().id(), CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE,
                Sizeof.cl_ulong);
        long global = backend.deviceMemoryLimit();
        org.junit.jupiter.api.Assumptions.assumeTrue(maxAlloc < global, "the device allows one buffer of all its memory");
        // Larger than one buffer may be but within the device's memory: the runtime's CL_INVALID_BUFFER_SIZE.
        assertThatThrownBy(() -> backend.allocate(maxAlloc / Float.BYTES + 1024))
                .isExactlyInstanceOf(NativeCallException.class)
                .hasMessageContaining("opencl: clCreateBuffer failed: CL_INVALID_BUFFER_SIZE (-61)")
                .satisfies(e -> {
                    NativeCallException n = (NativeCallException) e;
                    assertThat(n.backend()).isEqualTo("opencl");
                    assertThat(n.call()).isEqualTo("clCreateBuffer");
                    assertThat(n.code()).isEqualTo(CL.CL_INVALID_BUFFER_SIZE);
                    assertThat(n.outOfMemory()).isFalse();
                });
    }

    @Test
    void preluWeightGradientIsRightForAnInnerSizeNear2To62() {
        // Every element is in channel 0 (inner > n), but channel 4's first element index, 4 * inner, wraps to 4.
        long inner = (1L << 62) + 1;
        float[] x = {-1, -2, -3, -4, -5, -6, -7, -8};
        float[] dy = {1, 1, 1, 1, 1, 1, 1, 1};
        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer bdy = backend.upload(dy);
             DeviceBuffer w = backend.upload(new float[] {0.25f, 0.25f, 0.25f, 0.25f, 0.25f});
             DeviceBuffer dx = backend.allocate(8); DeviceBuffer dw = backend.allocate(5)) {
            backend.preluBackward(bx, w, bdy, dx, dw, 5, inner);
            assertThat(dw.toArray()).containsExactly(-36f, 0f, 0f, 0f, 0f);
            assertThat(dx.toArray()).containsOnly(0.25f);
        }
    }
}
