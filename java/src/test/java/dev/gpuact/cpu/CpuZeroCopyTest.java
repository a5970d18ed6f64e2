package dev.gpuact.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.fallback.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Java backend uses host memory in place, in either byte order and any type: what the caller puts in the
 * ByteBuffer after wrapping is what the kernels read, and their results are in it when the call returns. Every
 * result is checked bit for bit against the same call on the backend's own buffers.
 */
class CpuZeroCopyTest {
    private static final int N = 10_000;  // several tiles, and a partial one
    private Backend backend;

    @BeforeEach
    void open() {
        backend = new CpuBackend();
    }

    @AfterEach
    void close() {
        backend.close();
    }

    private static ByteOrder order(String name) {
        return name.equals("big") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }

    private static float[] inputs(int n, long seed) {
        Random random = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * 4);
        }
        v[0] = Float.NaN;
        v[1] = Float.NEGATIVE_INFINITY;
        return v;
    }

    /** {@code values} put in {@code memory} as elements of {@code dtype}, through the ByteBuffer. */
    private static void put(ByteBuffer memory, DType dtype, float[] values) {
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case FLOAT32 -> memory.putFloat(memory.position() + i * 4, values[i]);
                case FLOAT16 -> memory.putShort(memory.position() + i * 2, HalfFloats.floatToFloat16(values[i]));
                default -> memory.putShort(memory.position() + i * 2, HalfFloats.floatToBfloat16(values[i]));
            }
        }
    }

    private static float[] get(ByteBuffer memory, DType dtype, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (dtype) {
                case FLOAT32 -> memory.getFloat(memory.position() + i * 4);
                case FLOAT16 -> HalfFloats.float16ToFloat(memory.getShort(memory.position() + i * 2));
                default -> HalfFloats.bfloat16ToFloat(memory.getShort(memory.position() + i * 2));
            };
        }
        return v;
    }

    private ByteBuffer memory(DType dtype, int n, ByteOrder order) {
        return ByteBuffer.allocateDirect(n * dtype.bytes()).order(order);
    }

    /** The same call on the backend's own buffers of the same type, for the expected bits. */
    private float[] expectedForward(Activation activation, DType dtype, float[] x) {
        try (DeviceBuffer own = backend.allocate(dtype, x.length); DeviceBuffer out = backend.allocate(dtype, x.length)) {
            own.upload(x);
            backend.apply(activation, own, out);
            return out.toArray();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"little", "big"})
    void elementwiseCallsComputeInTheCallersBytesInEitherOrderAndType(String orderName) {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16}) {
            ByteBuffer x = memory(dtype, N, order(orderName));
            ByteBuffer y = memory(dtype, N, order(orderName));
            float[] values = inputs(N, 1);
            try (DeviceBuffer bx = backend.wrap(x, dtype); DeviceBuffer by = backend.wrap(y, dtype)) {
                put(x, dtype, values);  // after wrapping: a copy taken at wrap time would miss these
                backend.apply(Activation.GELU, bx, by);
                float[] expected = expectedForward(Activation.GELU, dtype, get(x, dtype, N));
                assertThat(get(y, dtype, N)).as("%s %s gelu straight from the ByteBuffer", dtype, orderName)
                        .containsExactly(expected);
                backend.applyBackward(Activation.GELU, bx, by, by);  // dy is y's memory, in place
                assertThat(by.toArray()).as("%s read through the buffer", dtype).containsExactly(get(y, dtype, N));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"little", "big"})
    void callsThatStageThroughScratchWriteTheirResultBackInPlace(String orderName) {
        int rows = 7;
        int cols = 300;
        float[] values = inputs(rows * cols, 2);
        values[0] = 1;  // softmax of a NaN row is NaN: keep the rows finite
        values[1] = -3;
        ByteBuffer x = memory(DType.FLOAT32, rows * cols, order(orderName));
        put(x, DType.FLOAT32, values);
        float[] expected;
        try (DeviceBuffer own = backend.upload(values)) {
            backend.softmax(own, own, rows, cols);
            expected = own.toArray();
        }
        try (DeviceBuffer bx = backend.wrap(x, DType.FLOAT32)) {
            backend.applyRows(Activation.SOFTMAX, bx, bx, RowLayout.of(rows, cols));
            assertThat(backend.memory().liveBuffers()).as("the scratch is given back").isEqualTo(1);
        }
        assertThat(get(x, DType.FLOAT32, rows * cols)).containsExactly(expected);
    }

    @Test
    void theBufferIsPositionToLimitAndClosingItLeavesTheMemoryToTheCaller() {
        ByteBuffer whole = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        for (int i = 0; i < 16; i++) {
            whole.putFloat(i * 4, -1);
        }
        whole.position(8).limit(24);  // floats 2..5
        try (DeviceBuffer b = backend.wrap(whole, DType.FLOAT32)) {
            assertThat(b.length()).isEqualTo(4);
            backend.apply(Activation.RELU, b, b);
        }
        assertThat(whole.position()).as("the caller's position is left alone").isEqualTo(8);
        ByteBuffer all = whole.duplicate().clear().order(ByteOrder.nativeOrder());
        for (int i = 0; i < 16; i++) {
            assertThat(all.getFloat(i * 4)).as("float %d", i).isEqualTo(i >= 2 && i < 6 ? 0f : -1f);
        }
        assertThat(backend.memory().liveBuffers()).isZero();
    }

    @Test
    void badMemoryIsRefusedByName() {
        assertThatThrownBy(() -> backend.wrap(ByteBuffer.allocate(16), DType.FLOAT32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("heap ByteBuffer");
        assertThatThrownBy(() -> backend.wrap(ByteBuffer.allocateDirect(16).asReadOnlyBuffer(), DType.FLOAT32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("read-only");
        assertThatThrownBy(() -> backend.wrap(ByteBuffer.allocateDirect(10), DType.FLOAT32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10 bytes");
        assertThatThrownBy(() -> backend.wrap(ByteBuffer.allocateDirect(16), DType.FLOAT64))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("FLOAT64");
        backend.close();
        assertThatThrownBy(() -> backend.wrap(ByteBuffer.allocateDirect(16), DType.FLOAT32))
                .isInstanceOf(IllegalStateException.class);
    }
}
