package dev.gpuact.guarantees;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Stream;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A stream's gated calls give the bits of the backend's own, in both forms, forward and backward. */
class GatedStreamTest {
    private static final int ROWS = 3;
    private static final int HIDDEN = 1000;

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.gpuact.guarantees.TestBackends#names")
    void aStreamComputesWhatTheBackendComputes(String name) {
        SplittableRandom random = new SplittableRandom(14);
        float[] host = new float[2 * ROWS * HIDDEN];
        float[] upstream = new float[ROWS * HIDDEN];
        for (int i = 0; i < host.length; i++) {
            host[i] = (float) random.nextDouble(-6, 6);
        }
        for (int i = 0; i < upstream.length; i++) {
            upstream[i] = (float) random.nextDouble(-2, 2);
        }
        Activation geglu = Activation.GEGLU;
        try (Backend b = TestBackends.open(name);
             DeviceBuffer x = b.upload(host); DeviceBuffer dy = b.upload(upstream);
             DeviceBuffer y = b.allocate(ROWS * HIDDEN); DeviceBuffer dx = b.allocate(2 * ROWS * HIDDEN);
             DeviceBuffer streamY = b.allocate(ROWS * HIDDEN); DeviceBuffer streamDx = b.allocate(2 * ROWS * HIDDEN);
             DeviceBuffer a = b.upload(Arrays.copyOf(host, ROWS * HIDDEN));
             DeviceBuffer bHalf = b.upload(Arrays.copyOfRange(host, ROWS * HIDDEN, 2 * ROWS * HIDDEN));
             DeviceBuffer y2 = b.allocate(ROWS * HIDDEN); DeviceBuffer da = b.allocate(ROWS * HIDDEN);
             DeviceBuffer db = b.allocate(ROWS * HIDDEN); DeviceBuffer streamY2 = b.allocate(ROWS * HIDDEN);
             DeviceBuffer streamDa = b.allocate(ROWS * HIDDEN); DeviceBuffer streamDb = b.allocate(ROWS * HIDDEN)) {
            b.gated(geglu, x, y, ROWS, HIDDEN);
            b.gatedBackward(geglu, x, dy, dx, ROWS, HIDDEN);
            b.gated(geglu, a, bHalf, y2);
            b.gatedBackward(geglu, a, bHalf, dy, da, db);
            try (Stream s = b.newStream()) {
                s.gated(geglu, x, streamY, ROWS, HIDDEN);
                s.gatedBackward(geglu, x, dy, streamDx, ROWS, HIDDEN);
                s.gated(geglu, a, bHalf, streamY2);
                s.gatedBackward(geglu, a, bHalf, dy, streamDa, streamDb);
                s.synchronize();
            }
            assertThat(streamY.toArray()).isEqualTo(y.toArray());
            assertThat(streamDx.toArray()).isEqualTo(dx.toArray());
            assertThat(streamY2.toArray()).isEqualTo(y2.toArray());
            assertThat(streamDa.toArray()).isEqualTo(da.toArray());
            assertThat(streamDb.toArray()).isEqualTo(db.toArray());
        }
    }
}
