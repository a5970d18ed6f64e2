package dev.gpuact.bench.jmh;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import java.util.Arrays;
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
 * A gated activation fused against the same work done unfused through gpuact, on resident buffers, for
 * {@code size} output elements (input [rows, 2 * hidden] with hidden = 4096):
 * <ul>
 * <li>{@code copy}: a copy of {@code size} floats (the backend's device copy, or the Java backend's identity), the
 *     limit a plain activation over the output size is judged against;</li>
 * <li>{@code activation}: the activated op alone over {@code size} floats (the "plain activation over the
 *     same output size");</li>
 * <li>{@code fused}: {@code gated(op, x, y, rows, hidden)}, reading 2 x size floats and writing size;</li>
 * <li>{@code fused_two}: the two-buffer form on separate a and b;</li>
 * <li>{@code unfused}: f(a) into a temporary, then the product with b as a second pass. gpuact has no plain
 *     multiply, so the second pass is square's backward pass, dy * 2t: the same two reads and one write and one
 *     more multiply, the cost of a product kernel.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "-Dgpuact.leakDetection=false", "--add-modules", "jdk.incubator.vector"})
public class GatedBenchmark {
    private static final int HIDDEN = 4096;

    /** Output elements: 1M and 16M. */
    @Param({"1048576", "16777216"})
    public int size;

    /** {@code cpu}, {@code opencl} or {@code cuda}. */
    @Param({"cpu", "opencl"})
    public String backend;

    @Param({"swiglu", "geglu"})
    public String op;

    @Param({"copy", "activation", "fused", "fused_two", "unfused"})
    public String variant;

    private Backend device;
    private DeviceBuffer x;
    private DeviceBuffer a;
    private DeviceBuffer b;
    private DeviceBuffer y;
    private DeviceBuffer t;
    private Runnable work;

    @Setup(Level.Trial)
    public void setUp() {
        device = Backends.get(backend);
        SplittableRandom random = new SplittableRandom(size);
        float[] host = new float[2 * size];
        for (int i = 0; i < host.length; i++) {
            host[i] = (float) random.nextDouble(-6, 6);
        }
        x = device.upload(host);
        a = device.upload(Arrays.copyOf(host, size));
        b = device.upload(Arrays.copyOfRange(host, size, 2 * size));
        y = device.allocate(size);
        t = device.allocate(size);
        Activation gate = Op.byName(op).defaults();
        Activation activated = gate.op().activated().defaults();
        long rows = size / HIDDEN;
        work = switch (variant) {
            case "copy" -> device.deviceCopyIsNative() ? () -> device.copy(a, y)
                    : () -> device.apply(Activation.IDENTITY, a, y);
            case "activation" -> () -> device.apply(activated, a, y);
            case "fused" -> () -> device.gated(gate, x, y, rows, HIDDEN);
            case "fused_two" -> () -> device.gated(gate, a, b, y);
            case "unfused" -> () -> {
                device.apply(activated, a, t);
                device.applyBackward(Activation.SQUARE, t, b, y);
            };
            default -> throw new IllegalArgumentException("unknown variant " + variant);
        };
        System.out.println("# " + backend + " on " + device.device());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (DeviceBuffer buffer : new DeviceBuffer[] {x, a, b, y, t}) {
            buffer.close();
        }
        device.close();
    }

    @Benchmark
    public void run() {
        work.run();
    }
}
