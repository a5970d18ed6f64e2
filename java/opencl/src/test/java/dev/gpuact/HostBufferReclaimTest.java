package dev.gpuact;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/**
 * Host memory is freed once a closed buffer's views are collected; allocating more asks for that collection, so a
 * loop of allocate, use and close holds a bounded amount, not everything it ever allocated.
 */
class HostBufferReclaimTest {
    @Test
    void aLoopOfAllocateAndCloseHoldsABoundedAmountOfClosedMemory() {
        String name = "opencl";
        RequiredBackends.requireOrSkip(name, Backends.usableNames().contains(name), "opencl is not usable here");
        int length = 4 << 20; // 16 MiB
        try (Backend backend = Backends.get(name)) {
            for (int i = 0; i < 40; i++) {
                HostBuffer host = backend.allocateHost(length);
                FloatBuffer view = host.floats();
                view.put(0, i);
                host.close();
            }
            // 640 MiB were allocated and closed; at most the threshold (256 MiB) and one buffer wait for a GC.
            assertThat(HostBuffer.closedNotFreedBytes()).isLessThanOrEqualTo((256L << 20) + 4L * length);
        }
    }
}
