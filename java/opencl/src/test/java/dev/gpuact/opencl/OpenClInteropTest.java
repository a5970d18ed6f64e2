package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_TRUE;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.Stream;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_mem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A host engine's own context, queue and cl_mem, created here through JOCL, lent to the backend. */
class OpenClInteropTest {
    private OpenClDevice device;
    private cl_context context;
    private cl_command_queue queue;

    @BeforeEach
    void createEngineObjects() {
        device = OpenClTestDevice.device();
        cl_context_properties properties = new cl_context_properties();
        properties.addProperty(CL.CL_CONTEXT_PLATFORM, device.platform());
        context = CL.clCreateContext(properties, 1, new cl_device_id[] {device.id()}, null, null, null);
        queue = CL.clCreateCommandQueueWithProperties(context, device.id(), null, null);
    }

    @AfterEach
    void releaseEngineObjects() {
        CL.clReleaseCommandQueue(queue);
        CL.clReleaseContext(context);
    }

    private cl_mem engineBuffer(float[] data) {
        return CL.clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, (long) data.length * Float.BYTES,
                Pointer.to(data), null);
    }

    private float[] engineRead(cl_mem mem, int n) {
        float[] out = new float[n];
        CL.clEnqueueReadBuffer(queue, mem, CL_TRUE, 0, (long) n * Float.BYTES, Pointer.to(out), 0, null, null);
        return out;
    }

    @Test
    void activationsApplyInPlaceToTheEnginesMemoryAndLeaveItsObjectsAlive() {
        cl_mem x = engineBuffer(new float[] {-2, -0.5f, 0, 1.5f, 3, 99});
        cl_mem dx = engineBuffer(new float[6]);
        try {
            try (OpenClBackend backend = OpenClBackend.wrap(context, device.id(), queue)) {
                assertThat(backend.queue().handle()).isSameAs(queue);
                assertThat(backend.queue().owned()).isFalse();
                // five of the six floats: the wrapper may be a prefix of the engine's buffer
                try (DeviceBuffer bx = backend.wrap(x, 5); DeviceBuffer bdx = backend.wrap(dx, 5);
                     DeviceBuffer ones = backend.upload(new float[] {1, 1, 1, 1, 1})) {
                    backend.applyBackward(Activation.RELU6, bx, ones, bdx);
                    backend.apply(Activation.RELU6, bx, bx);
                    assertThat(bx.toArray()).containsExactly(0, 0, 0, 1.5f, 3);
                }
            }
            // closing the wrappers and the backend released neither the cl_mem nor the queue
            assertThat(engineRead(x, 6)).containsExactly(0, 0, 0, 1.5f, 3, 99);
            assertThat(engineRead(dx, 6)).containsExactly(0, 0, 0, 1, 1, 0);
        } finally {
            CL.clReleaseMemObject(x);
            CL.clReleaseMemObject(dx);
        }
    }

    @Test
    void twoWrapsOfOneMemAliasForTheArgumentChecks() {
        cl_mem x = engineBuffer(new float[12]);
        try (OpenClBackend backend = OpenClBackend.wrap(context, device.id(), queue);
             DeviceBuffer a = backend.wrap(x, 12); DeviceBuffer b = backend.wrap(x, 12)) {
            assertThatThrownBy(() -> backend.applyRows(Activation.maxout(2), a, b, RowLayout.of(2, 6, 3)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("same buffer as x");
            assertThatThrownBy(() -> backend.applyRowsBackward(Activation.SOFTMAX, a, a, b, RowLayout.of(2, 6)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dx must be a buffer of its own");
        } finally {
            CL.clReleaseMemObject(x);
        }
    }

    @Test
    void aMemTooSmallOrFromAnotherContextIsRejected() {
        cl_mem small = engineBuffer(new float[4]);
        try (OpenClBackend backend = OpenClBackend.wrap(context, device.id(), queue);
             OpenClBackend other = OpenClBackend.open(device)) {
            assertThatThrownBy(() -> backend.wrap(small, 5)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("mem holds 16 bytes but 5 FLOAT32 elements need 20");
            assertThatThrownBy(() -> other.wrap(small, 4)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("another cl_context");
            assertThatThrownBy(() -> backend.wrap(small, -1)).hasMessage("length must be >= 0, got -1");
        } finally {
            CL.clReleaseMemObject(small);
        }
    }

    @Test
    void anEngineQueueWithoutProfilingIsTimedByTheWallClockAndStreamsStillWork() {
        try (OpenClBackend backend = OpenClBackend.wrap(context, device.id(), queue);
             DeviceBuffer x = backend.upload(new float[] {-1, 2});
             DeviceBuffer y = backend.allocate(2)) {
            Backend.Timing timing = backend.time(() -> backend.apply(Activation.RELU, x, y));
            assertThat(timing.clock()).isEqualTo(Backend.Clock.WALL);
            assertThat(timing.nanos()).isPositive();
            try (Stream stream = backend.newStream()) {
                stream.apply(Activation.SQUARE, x, y);
                stream.synchronize();
            }
            assertThat(y.toArray()).containsExactly(1, 4);
        }
    }

    @Test
    void rawHandlesOfTheEnginesMemAndQueueWorkAsTheirJoclObjectsDo() {
        cl_mem x = engineBuffer(new float[] {-2, -0.5f, 0, 1.5f, 3, 99});
        try {
            try (OpenClBackend backend = OpenClBackend.wrapQueue(queue.getNativePointer())) {
                assertThat(backend.queue().handle()).isEqualTo(queue);
                assertThat(backend.queue().owned()).isFalse();
                assertThat(backend.openClDevice().name()).isEqualTo(device.name());
                try (DeviceBuffer bx = backend.wrapMem(x.getNativePointer(), 6, DType.FLOAT32)) {
                    backend.apply(Activation.RELU6, bx, bx);
                }
            }
            assertThat(engineRead(x, 6)).containsExactly(0, 0, 0, 1.5f, 3, 6);
        } finally {
            CL.clReleaseMemObject(x);
        }
    }

    @Test
    void rawHandlesThatAreNullOrTooSmallAreRefused() {
        cl_mem x = engineBuffer(new float[4]);
        try (OpenClBackend backend = OpenClBackend.wrap(context, device.id(), queue)) {
            assertThatThrownBy(() -> backend.wrapMem(0, 4, DType.FLOAT32)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("the cl_mem handle is 0 (NULL)");
            assertThatThrownBy(() -> OpenClBackend.wrapQueue(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("the cl_command_queue handle is 0 (NULL)");
            assertThatThrownBy(() -> backend.wrapMem(x.getNativePointer(), 5, DType.FLOAT32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("mem holds 16 bytes but 5 FLOAT32 elements need 20");
        } finally {
            CL.clReleaseMemObject(x);
        }
    }
}
