package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpuact.Activation;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jocl.CL;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Host memory used in place on a CPU device (PoCL in CI): kernels read what the caller put in a direct ByteBuffer
 * after wrapping it, and their results are in it when the call returns, with no read or map in between.
 */
class OpenClZeroCopyTest {
    private OpenClBackend backend;
    private int alignment;

    @BeforeEach
    void open() {
        backend = OpenClTestDevice.open();
        alignment = backend.hostAlignment();
    }

    /** The tests of memory used in place run on a CPU device; on another, wrapping is refused (the last test). */
    private void requireCpuDevice() {
        assumeTrue(backend.openClDevice().isCpu(), "the OpenCL test device is not a CPU device");
    }

    @AfterEach
    void close() {
        backend.close();
    }

    /** {@code floats} floats of host memory in native order, at the device's base alignment. */
    private ByteBuffer engineMemory(int floats) {
        int bytes = floats * Float.BYTES;
        int whole = (bytes + alignment - 1) / alignment * alignment;  // alignedSlice rounds both ends
        return ByteBuffer.allocateDirect(whole + alignment).alignedSlice(alignment).limit(bytes)
                .order(ByteOrder.nativeOrder());
    }

    @Test
    void kernelsReadAndWriteTheCallersBytesWhereTheyLie() {
        requireCpuDevice();
        ByteBuffer x = engineMemory(6);
        ByteBuffer y = engineMemory(6);
        try (DeviceBuffer bx = backend.wrap(x, DType.FLOAT32); DeviceBuffer by = backend.wrap(y, DType.FLOAT32)) {
            assertThat(bx.length()).isEqualTo(6);
            float[] values = {-2, -0.5f, 0, 1.5f, 3, 99};
            for (int i = 0; i < values.length; i++) {
                x.putFloat(i * Float.BYTES, values[i]);  // after wrapping: a copy made at wrap time would miss these
            }
            backend.apply(Activation.RELU6, bx, by);
            backend.apply(Activation.RELU, bx, bx);
            float[] relu6 = {0, 0, 0, 1.5f, 3, 6};
            float[] relu = {0, 0, 0, 1.5f, 3, 99};
            for (int i = 0; i < values.length; i++) {
                assertThat(y.getFloat(i * Float.BYTES)).as("y[%d] straight from the ByteBuffer", i).isEqualTo(relu6[i]);
                assertThat(x.getFloat(i * Float.BYTES)).as("x[%d] in place", i).isEqualTo(relu[i]);
            }
            assertThat(by.toArray()).containsExactly(relu6);
        }
    }

    @Test
    void theBufferIsPositionToLimitAndClosingItLeavesTheMemoryToTheCaller() {
        requireCpuDevice();
        ByteBuffer whole = engineMemory(3 * alignment / Float.BYTES);
        for (int i = 0; i < whole.limit() / Float.BYTES; i++) {
            whole.putFloat(i * Float.BYTES, -1);
        }
        ByteBuffer middle = whole.duplicate().order(ByteOrder.nativeOrder()).position(alignment).limit(2 * alignment);
        int floats = alignment / Float.BYTES;
        DeviceBuffer b = backend.wrap(middle, DType.FLOAT32);
        assertThat(b.length()).isEqualTo(floats);
        assertThat(backend.memory().liveBuffers()).isEqualTo(1);
        backend.apply(Activation.ABS, b, b);
        b.close();
        assertThat(backend.memory().liveBuffers()).isZero();
        assertThatThrownBy(() -> backend.apply(Activation.ABS, b, b)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed buffer");
        for (int i = 0; i < 3 * floats; i++) {
            boolean inside = i >= floats && i < 2 * floats;
            assertThat(whole.getFloat(i * Float.BYTES)).as("float %d", i).isEqualTo(inside ? 1 : -1);
        }
        assertThat(middle.position()).as("wrapping leaves the caller's position alone").isEqualTo(alignment);
    }

    @Test
    void anOpenBufferKeepsItsMemoryReachable() {
        requireCpuDevice();
        DeviceBuffer b = wrapUnreferenced();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        assertThat(memoryOf.get()).as("the ByteBuffer, referenced by the open buffer only").isNotNull();
        backend.apply(Activation.SQUARE, b, b);
        assertThat(b.toArray()).containsExactly(1, 4, 9, 16);
        b.close();
    }

    private WeakReference<ByteBuffer> memoryOf;

    private DeviceBuffer wrapUnreferenced() {
        ByteBuffer memory = engineMemory(4);
        memory.asFloatBuffer().put(new float[] {1, 2, 3, 4});
        memoryOf = new WeakReference<>(memory);
        return backend.wrap(memory, DType.FLOAT32);
    }

    @Test
    void twoWrapsOfTheSameBytesAliasForTheArgumentChecks() {
        requireCpuDevice();
        ByteBuffer memory = engineMemory(12);
        try (DeviceBuffer a = backend.wrap(memory, DType.FLOAT32);
             DeviceBuffer b = backend.wrap(memory.duplicate().order(ByteOrder.nativeOrder()), DType.FLOAT32)) {
            assertThatThrownBy(() -> backend.applyRowsBackward(Activation.SOFTMAX, a, a, b, RowLayout.of(2, 6)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dx must be a buffer of its own");
        }
    }

    @Test
    void memoryThatCannotBeUsedInPlaceIsRefusedNamingWhy() {
        requireCpuDevice();
        assertThatThrownBy(() -> backend.wrap(ByteBuffer.allocate(64), DType.FLOAT32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("heap ByteBuffer");
        assertThatThrownBy(() -> backend.wrap(engineMemory(4).asReadOnlyBuffer(), DType.FLOAT32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("read-only");
        assertThatThrownBy(() -> backend.wrap(engineMemory(4).limit(10), DType.FLOAT32))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("10 bytes remaining, not a whole number of FLOAT32 elements of 4 bytes");
        ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        assertThatThrownBy(() -> backend.wrap(engineMemory(4).order(other), DType.FLOAT32))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("memory is in " + other + " byte order");
        assertThatThrownBy(() -> backend.wrap(engineMemory(4), DType.FLOAT64))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("FLOAT64");
        assertThatThrownBy(() -> backend.wrap(null, DType.FLOAT32)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void memoryOffTheDevicesBaseAlignmentIsRefused() {
        requireCpuDevice();
        ByteBuffer shifted = engineMemory(8).position(Float.BYTES);
        if (alignment <= Float.BYTES) {
            // A device without a stricter base alignment takes any float: then this shifted memory works in place.
            backend.wrap(shifted, DType.FLOAT32).close();
            return;
        }
        assertThatThrownBy(() -> backend.wrap(shifted, DType.FLOAT32)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("memory starts 4 bytes past a " + alignment + "-byte boundary")
                .hasMessageContaining("alignedSlice(" + alignment + ")");
    }

    @Test
    void aClosedBackendRefusesToWrap() {
        backend.close();
        assertThatThrownBy(() -> backend.wrap(engineMemory(4), DType.FLOAT32)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void onlyACpuDeviceComputesInHostMemoryInPlace() {
        OpenClDevice gpu = new OpenClDevice(0, null, null, "p", "v", "a GPU", "vendor", "OpenCL 3.0", "1",
                CL.CL_DEVICE_TYPE_GPU, 1, 1L << 30, 256, true);
        assertThat(OpenClBackend.inPlaceRefusal(gpu)).contains("a GPU works on its own copy of host memory")
                .contains("allocateHost");
        OpenClDevice device = backend.openClDevice();
        if (device.isCpu()) {
            assertThat(OpenClBackend.inPlaceRefusal(device)).isNull();
        } else {
            assertThatThrownBy(() -> backend.wrap(engineMemory(4), DType.FLOAT32))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("own copy of host memory");
        }
    }
}
