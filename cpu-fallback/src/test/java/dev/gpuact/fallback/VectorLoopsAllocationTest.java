package dev.gpuact.fallback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import javax.management.JMException;
import javax.management.ObjectName;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Once C2 has compiled them, the Vector API loops keep their vectors in registers: a call allocates nothing per
 * element. A loop whose vectors are boxed (a helper C2 would not inline, so each vector it takes or returns is an
 * object) allocates at least 4 bytes per float and runs several times slower; silu and mish did (a helper with a
 * VectorMask in its signature), and so did the softmax rows (C2's node budget ran out before exp's last helper).
 * Each kernel runs on one thread until a call allocates less than half a byte per float, or fails after many calls.
 */
class VectorLoopsAllocationTest {
    private static final int N = 32 * 1024;
    private static final int MAX_CALLS = 3000;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final float[] x = new float[N];
    private final float[] dy = new float[N];
    private final float[] out = new float[N];
    private final short[] halves = new short[N];

    @BeforeAll
    static void vectorised() {
        assumeTrue(Vectorization.vectorised(), "the Vector API path runs");
    }

    VectorLoopsAllocationTest() {
        SplittableRandom random = new SplittableRandom(15);
        for (int i = 0; i < N; i++) {
            x[i] = (float) random.nextDouble(-8, 8);
            dy[i] = (float) random.nextDouble(-1, 1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"silu", "mish", "sigmoid", "elu", "gelu", "gelu backward", "silu backward", "tanh backward",
        "elu backward", "mish backward", "softmax rows", "log_softmax rows", "sigmoid from output", "float16 narrow",
        "float16 widen", "bfloat16 narrow", "bfloat16 widen"})
    void aCompiledCallAllocatesNothingPerElement(String kernel) {
        Runnable call = call(kernel);
        long best = Long.MAX_VALUE;
        for (int calls = 0; calls < MAX_CALLS && best >= N / 2; calls++) {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            call.run();
            best = Math.min(best, THREADS.getCurrentThreadAllocatedBytes() - before);
        }
        assertThat(best).as("%s: fewest bytes allocated by one call on %d floats in %d calls", kernel, N, MAX_CALLS)
                .isLessThan(N / 2);
    }

    /**
     * The JIT never inlines a vector loop into a caller, where it boxed its vectors now and then for the rest of the
     * run (elu forward did, 50 ms to 3 s a call where it took 10 ms), and always inlines the vector math into the
     * loops (gelu's helpers, compiled on their own first, were left as calls in some JVMs): the compiler directive
     * that says so is in place, its never-inline rules first, as the first matching rule wins.
     */
    @Test
    void everyVectorLoopIsCompiledOnItsOwnWithItsMathInlined() throws JMException {
        String directives = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesPrint", null, null);
        // Only the first directive that matches a method applies: the first one printed must name every loop class.
        int second = directives.indexOf("match:", directives.indexOf("match:") + 1);
        String first = second < 0 ? directives : directives.substring(0, second);
        assertThat(first).contains("-dev/gpuact/fallback/VectorKernels.*Loop")
                .contains("-dev/gpuact/fallback/VectorHalfFloats.*Loop")
                .contains("+dev/gpuact/fallback/VectorKernels.*").contains("+dev/gpuact/fallback/VectorMath.*");
        assertThat(first.indexOf("-dev/gpuact/fallback/VectorHalfFloats.*Loop"))
                .isLessThan(first.indexOf("+dev/gpuact/fallback/VectorKernels.*"));
    }

    private Runnable call(String kernel) {
        Rowwise.Layout rows = new Rowwise.Layout(N / 1024, 1024, 0, 1024, 0, 1024);
        return switch (kernel) {
            case "silu" -> () -> ElementwiseKernel.SILU.forwardChunk(x, 0, out, 0, N, 0, 0);
            case "mish" -> () -> ElementwiseKernel.MISH.forwardChunk(x, 0, out, 0, N, 0, 0);
            case "sigmoid" -> () -> ElementwiseKernel.SIGMOID.forwardChunk(x, 0, out, 0, N, 0, 0);
            case "elu" -> () -> ElementwiseKernel.ELU.forwardChunk(x, 0, out, 0, N, 1, 0);
            case "elu backward" -> () -> ElementwiseKernel.ELU.backwardChunk(x, 0, dy, 0, out, 0, N, 1, 0);
            case "mish backward" -> () -> ElementwiseKernel.MISH.backwardChunk(x, 0, dy, 0, out, 0, N, 0, 0);
            case "gelu" -> () -> ElementwiseKernel.GELU.forwardChunk(x, 0, out, 0, N, 0, 0);
            case "gelu backward" -> () -> ElementwiseKernel.GELU.backwardChunk(x, 0, dy, 0, out, 0, N, 0, 0);
            case "silu backward" -> () -> ElementwiseKernel.SILU.backwardChunk(x, 0, dy, 0, out, 0, N, 0, 0);
            case "tanh backward" -> () -> ElementwiseKernel.TANH.backwardChunk(x, 0, dy, 0, out, 0, N, 0, 0);
            case "softmax rows" -> () -> Rowwise.softmax(x, out, rows, 1, false);
            case "log_softmax rows" -> () -> Rowwise.logSoftmax(x, out, rows, 1, false);
            case "sigmoid from output" -> () -> OutputBackward.SIGMOID.backward(x, dy, out, N, 0, 0);
            case "float16 narrow" -> () -> Vectorization.HALF_LOOPS.narrowFloat16(x, halves, 0, N);
            case "float16 widen" -> () -> Vectorization.HALF_LOOPS.widenFloat16(halves, 0, out, N);
            case "bfloat16 narrow" -> () -> Vectorization.HALF_LOOPS.narrowBfloat16(x, halves, 0, N);
            case "bfloat16 widen" -> () -> Vectorization.HALF_LOOPS.widenBfloat16(halves, 0, out, N);
            default -> throw new IllegalArgumentException(kernel);
        };
    }
}
