package dev.gpuact.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.Activation;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every kernel of gpuact.fatbin runs under the emulator, driven through the backend's public calls: the softmax
 * columns below reach every warp variant, the block path, and the long path with one and with several chunks.
 * Correctness is judged elsewhere (the conformance suite on cuda-emu, {@link CudaEmulatorTest}); this test fails
 * when a kernel is never launched, so a new kernel must come with a way to reach it.
 */
class CudaEmulatorCoverageTest {
    /** 20000: the block path in opt-in shared memory; 60000: longer than the emulated H200's block path holds. */
    private static final long[] SOFTMAX_COLUMNS = {1, 2, 3, 5, 9, 17, 40, 100, 200, 300, 513, 9000, 20_000, 60_000};

    @Test
    void everyKernelOfTheFatbinIsLaunched() {
        EmulatorLibrary.requireOrSkip();
        assertThat(EmulatorLibrary.kernels()).as("kernels the emulator holds").containsExactlyInAnyOrderElementsOf(
                Fatbin.load().kernels());
        Map<String, Long> before = EmulatorLibrary.launchCounts();
        try (CudaBackend cuda = EmulatedCudaProvider.open(1, new EmulatedDriver())) {
            float[] x = new float[3 * 60_000];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i * 0.37) * 4;
            }
            try (DeviceBuffer bx = cuda.upload(x); DeviceBuffer dy = cuda.upload(x); DeviceBuffer out = cuda.allocate(x.length);
                 DeviceBuffer w = cuda.upload(new float[] {0.25f, -0.5f, 2f});
                 DeviceBuffer few = cuda.upload(Arrays.copyOf(x, 1000)); DeviceBuffer fewOut = cuda.allocate(1000)) {
                for (Op op : Op.ELEMENTWISE) {
                    cuda.apply(Activation.of(op), few, fewOut);
                    cuda.applyBackward(Activation.of(op), few, few, fewOut);
                    if (op.hasBackwardFromOutput()) {
                        cuda.applyBackwardFromOutput(Activation.of(op), few, few, fewOut);
                    }
                }
                for (Activation act : List.of(Activation.SOFTMAX, Activation.LOG_SOFTMAX)) {
                    cuda.applyRowsBackwardFromOutput(act, bx, dy, out, RowLayout.of(3, 40));
                    RowMask causal = RowMask.none().lengths(new int[] {40, 7, 0}).causal(2);
                    cuda.applyRows(act, bx, out, RowLayout.of(3, 40), causal);
                    cuda.applyRowsBackward(act, bx, dy, out, RowLayout.of(3, 40), causal);
                }
                try (DeviceBuffer half = cuda.allocate(500)) {
                    for (Op op : Op.values()) {
                        if (op.kind() == Op.Kind.GATED) {
                            cuda.gated(Activation.of(op), few, half, 10, 50);
                            cuda.gatedBackward(Activation.of(op), few, half, fewOut, 10, 50);
                        }
                    }
                }
                try (DeviceBuffer dw = cuda.allocate(3)) {
                    cuda.prelu(few, w, fewOut, 3, 7);
                    cuda.preluBackward(few, w, few, fewOut, dw, 3, 7);
                }
                try (DeviceBuffer db = cuda.allocate(3)) {
                    for (Op op : Op.ELEMENTWISE) {
                        cuda.applyBias(Activation.of(op), few, w, fewOut, 3, 7);
                        cuda.applyBiasBackward(Activation.of(op), few, w, few, fewOut, db, 3, 7);
                    }
                }
                for (long cols : SOFTMAX_COLUMNS) {
                    // One row: a long row splits into chunks; three rows fill one SM: a chunk per row.
                    for (long rows : new long[] {1, 3}) {
                        RowLayout layout = RowLayout.of(rows, cols);
                        for (Activation act : List.of(Activation.SOFTMAX, Activation.LOG_SOFTMAX)) {
                            cuda.applyRows(act, bx, out, layout);
                            cuda.applyRowsBackward(act, bx, dy, out, layout);
                        }
                    }
                }
                // Every conversion of storage.cuh: copies between the three types both ways, and one of the bits.
                try (DeviceBuffer f16 = cuda.allocate(DType.FLOAT16, 1000); DeviceBuffer bf16 = cuda.allocate(DType.BFLOAT16, 1000);
                     DeviceBuffer f16Copy = cuda.allocate(DType.FLOAT16, 1000)) {
                    cuda.copy(few, f16);
                    cuda.copy(f16, bf16);
                    cuda.copy(bf16, f16);
                    cuda.copy(few, bf16);
                    cuda.copy(f16, fewOut);
                    cuda.copy(bf16, fewOut);
                    cuda.copy(f16, f16Copy);
                }
                Activation maxout = Activation.maxout(3);
                cuda.applyRows(maxout, bx, out, RowLayout.of(4, 9, 3));
                cuda.applyRowsBackward(maxout, bx, dy, out, RowLayout.of(4, 9, 3));
            }
        }
        Map<String, Long> after = EmulatorLibrary.launchCounts();
        List<String> never = new ArrayList<>();
        after.forEach((kernel, count) -> {
            if (count <= before.getOrDefault(kernel, 0L)) {
                never.add(kernel);
            }
        });
        assertThat(never).as("fatbin kernels this test never launched").isEmpty();
    }
}
