package dev.gpuact.bench.jmh;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DType;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
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
 * The forward pass on float32, float16 and bfloat16 buffers against the copy of the same buffers (the limit of a
 * bandwidth-bound op: its bytes in and out), on resident buffers of any backend ({@code -p backend=cuda} on a GPU).
 * A 16-bit buffer moves half the bytes of a float32 one, so a bandwidth-bound op should take about half the time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "-Dgpuact.leakDetection=false", "--add-modules", "jdk.incubator.vector"})
public class HalfStorageBenchmark {
    @Param({"16777216"})
    public int size;

    @Param({"cpu", "opencl"})
    public String backend;

    @Param({"FLOAT32", "FLOAT16", "BFLOAT16"})
    public String dtype;

    /** {@code copy}: the buffer copied (the limit); else the forward pass of the op of that catalog id. */
    @Param({"copy", "relu", "sigmoid", "gelu"})
    public String variant;

    private Backend device;
    private DeviceBuffer x;
    private DeviceBuffer y;
    private Runnable work;

    @Setup(Level.Trial)
    public void setUp() {
        device = Backends.get(backend);
        DType type = DType.valueOf(dtype);
        float[] host = new float[size];
        SplittableRandom random = new SplittableRandom(size);
        for (int i = 0; i < size; i++) {
            host[i] = (float) random.nextDouble(-6, 6);
        }
        x = device.allocate(type, size);
        x.upload(host);
        y = device.allocate(type, size);
        if (variant.equals("copy")) {
            // The Java backend's float32 copy goes through the host API; its identity is the array copy there.
            work = device.deviceCopyIsNative() || type.isHalf() ? () -> device.copy(x, y)
                    : () -> device.apply(Activation.IDENTITY, x, y);
        } else {
            Activation f = Op.byName(variant).defaults();
            work = () -> device.apply(f, x, y);
        }
        System.out.println("# " + backend + " on " + device.device() + ", " + type);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        y.close();
        device.close();
    }

    /** One forked JVM per parameter set, so this call site only ever sees one kind of work. */
    @Benchmark
    public void run() {
        work.run();
    }
}
