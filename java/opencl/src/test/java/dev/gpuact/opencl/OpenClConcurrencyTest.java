package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Activation;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** One backend shared by threads that launch the same kernels with different arguments at the same time. */
class OpenClConcurrencyTest {
    @Test
    void threadsSharingTheBackendEachGetTheirOwnResults() throws Exception {
        try (OpenClBackend backend = OpenClTestDevice.open()) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    float scale = t + 1;
                    done.add(pool.submit(() -> {
                        float[] x = new float[4096];
                        for (int i = 0; i < x.length; i++) {
                            x[i] = scale * (i % 7 - 3);
                        }
                        try (DeviceBuffer bx = backend.upload(x); DeviceBuffer by = backend.allocate(x.length)) {
                            for (int round = 0; round < 40; round++) {
                                backend.apply(Activation.leakyRelu(scale / 10), bx, by);
                                float[] y = by.toArray();
                                for (int i = 0; i < x.length; i++) {
                                    assertThat(y[i]).isEqualTo(x[i] > 0 ? x[i] : (scale / 10f) * x[i]);
                                }
                                backend.applyRows(Activation.maxout(4), bx, by, RowLayout.of(64, 64, 16));
                                assertThat(by.toArray()[1]).as("max of x[4..7]").isEqualTo(scale * 3);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            assertThat(backend.memory().liveBuffers()).isZero();
        }
    }
}
