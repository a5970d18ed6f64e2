package dev.gpuact.bench.jmh;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.RowLayout;
import dev.gpuact.RowMask;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Masked and causal softmax on resident buffers, as attention runs it: rows of {@code cols} scores in square
 * [cols, cols] blocks (size / cols rows), each next to what it is judged against in the same run.
 * <ul>
 * <li>{@code copy}: the same floats copied, the memory limit;</li>
 * <li>{@code softmax}: the plain row op;</li>
 * <li>{@code masked}: with an additive float mask of one row per row (reads 2n, writes n), fused; the unfused
 *     sequence costs at least {@code copy + softmax} (gpuact has no elementwise add; a pass adding the mask reads
 *     2n floats and writes n, more than the copy);</li>
 * <li>{@code causal}: a square causal mask, {@code RowMask.causal(0, cols)}; the target is 0.6 x {@code softmax};</li>
 * <li>{@code softmax_bwd}, {@code causal_bwd}: the backward passes from x.</li>
 * </ul>
 * On a GPU machine add {@code -p backend=cuda}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "-Dgpuact.leakDetection=false", "--add-modules", "jdk.incubator.vector"})
public class MaskedSoftmaxBenchmark {
    /** Total floats: 1M and 16M (64 MiB per operand). */
    @Param({"1048576", "16777216"})
    public int size;

    @Param({"1024"})
    public int cols;

    @Param({"cpu", "opencl"})
    public String backend;

    @Param({"copy", "softmax", "masked", "causal", "softmax_bwd", "causal_bwd"})
    public String work;

    private Backend device;
    private DeviceBuffer x;
    private DeviceBuffer mask;
    private DeviceBuffer dy;
    private DeviceBuffer y;
    private Runnable call;

    @Setup(Level.Trial)
    public void setUp() {
        device = Backends.get(backend);
        float[] hostX = new float[size];
        float[] hostMask = new float[size];
        SplittableRandom random = new SplittableRandom(size);
        for (int i = 0; i < size; i++) {
            hostX[i] = (float) random.nextGaussian();
            hostMask[i] = random.nextInt(8) == 0 ? Float.NEGATIVE_INFINITY : 0f;
        }
        x = device.upload(hostX);
        mask = device.upload(hostMask);
        dy = device.upload(hostX);
        y = device.allocate(size);
        RowLayout layout = RowLayout.of(size / cols, cols);
        Activation softmax = Activation.SOFTMAX;
        RowMask causal = RowMask.none().causal(0, cols);
        RowMask additive = RowMask.none().add(mask);
        call = switch (work) {
            case "copy" -> () -> device.copy(x, y);
            case "softmax" -> () -> device.applyRows(softmax, x, y, layout);
            case "masked" -> () -> device.applyRows(softmax, x, y, layout, additive);
            case "causal" -> () -> device.applyRows(softmax, x, y, layout, causal);
            case "softmax_bwd" -> () -> device.applyRowsBackward(softmax, x, dy, y, layout);
            case "causal_bwd" -> () -> device.applyRowsBackward(softmax, x, dy, y, layout, causal);
            default -> throw new IllegalArgumentException("unknown work " + work);
        };
        System.out.println("# " + backend + " on " + device.device());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        mask.close();
        dy.close();
        y.close();
        device.close();
    }

    @Benchmark
    public void run() {
        call.run();
    }
}
