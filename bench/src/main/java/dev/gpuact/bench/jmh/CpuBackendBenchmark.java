package dev.gpuact.bench.jmh;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
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
 * The cpu backend on resident buffers, out of place ({@code y = f(x)}), next to the limit it is judged against:
 * a plain {@code System.arraycopy} of the same floats, measured in the same run. Each op reads n floats and
 * writes n floats, as the copy does, so {@code copy time / op time} is the fraction of copy bandwidth reached.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "-Dgpuact.leakDetection=false"})
public class CpuBackendBenchmark {
    /** Total floats: 1M (4 MiB per operand, near the caches) and 16M (64 MiB per operand, memory-bound). */
    @Param({"1048576", "16777216"})
    public int size;

    /** {@code copy} is the limit; softmax runs on rows of {@link #COLUMNS}; the rest are elementwise. */
    @Param({"copy", "relu", "sigmoid", "tanh", "gelu", "softmax"})
    public String op;

    static final int COLUMNS = 1024;

    private Backend cpu;
    private DeviceBuffer x;
    private DeviceBuffer y;
    private float[] hostX;
    private float[] hostY;
    private Runnable work;

    @Setup(Level.Trial)
    public void setUp() {
        cpu = Backends.get("cpu");
        hostX = new float[size];
        hostY = new float[size];
        SplittableRandom random = new SplittableRandom(size);
        for (int i = 0; i < size; i++) {
            hostX[i] = (float) random.nextDouble(-6, 6);
        }
        x = cpu.upload(hostX);
        y = cpu.allocate(size);
        work = switch (op) {
            case "copy" -> () -> System.arraycopy(hostX, 0, hostY, 0, size);
            case "softmax" -> {
                RowLayout rows = RowLayout.of(size / COLUMNS, COLUMNS);
                yield () -> cpu.applyRows(Activation.SOFTMAX, x, y, rows);
            }
            default -> {
                Activation activation = Op.byName(op).defaults();
                yield () -> cpu.apply(activation, x, y);
            }
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        y.close();
        cpu.close();
    }

    /** One forked JVM per (size, op), so this call site only ever sees one kind of work. */
    @Benchmark
    public void run() {
        work.run();
    }
}
