package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.OutOfDeviceMemoryException;
import dev.gpuact.RowLayout;
import org.junit.jupiter.api.Test;

/**
 * Which calls on 16-bit buffers run on their storage and which are staged through float32 scratch, seen through
 * the memory they need: with no room left for scratch, the native calls still run and the staged ones are refused
 * cleanly, giving back what they had taken.
 */
class OpenClHalfStorageTest {
    private static final int N = 1 << 16;

    @Test
    void sameTypeElementwiseCallsNeedNoScratchAndStagedCallsGiveItBackWhenRefused() {
        try (OpenClBackend backend = OpenClTestDevice.open()) {
            for (DType type : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
                try (DeviceBuffer x = backend.allocate(type, N); DeviceBuffer dy = backend.allocate(type, N);
                     DeviceBuffer dx = backend.allocate(type, N); DeviceBuffer wide = backend.allocate(N)) {
                    float[] values = new float[N];
                    for (int i = 0; i < N; i++) {
                        values[i] = (i - N / 2) / 1024f;
                    }
                    x.upload(values);
                    dy.upload(values);
                    Backend.MemoryStats held = backend.memory();
                    // Room for one float32 scratch buffer of N elements, not two.
                    backend.limitMemory(held.bytesInUse() + (long) N * Float.BYTES + 1);
                    backend.apply(Activation.GELU, x, dx);
                    backend.applyBackward(Activation.GELU, x, dy, dx);
                    backend.applyBackwardFromOutput(Activation.SIGMOID, x, dy, dx);
                    assertThat(dx.toArray()[N / 2 + 1024]).as("%s: sigmoid' at y = 1, dy = 1", type).isZero();
                    assertThatThrownBy(() -> backend.applyRows(Activation.SOFTMAX, x, dx, RowLayout.of(64, N / 64)))
                            .as("%s softmax: x and y each need a float32 scratch buffer", type)
                            .isInstanceOf(OutOfDeviceMemoryException.class);
                    assertThat(backend.memory()).as("%s: held after the refused call", type).isEqualTo(held);
                    assertThatThrownBy(() -> backend.applyBackward(Activation.GELU, x, dy, wide))
                            .as("%s: mixed types are staged", type).isInstanceOf(OutOfDeviceMemoryException.class);
                    assertThat(backend.memory()).isEqualTo(held);
                }
            }
        }
    }
}
