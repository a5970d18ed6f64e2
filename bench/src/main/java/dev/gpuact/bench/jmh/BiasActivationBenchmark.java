package dev.gpuact.bench.jmh;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
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
 * Bias and activation fused ({@code applyBias}, {@code applyBiasBackward}) against the same work unfused through
 * gpuact, the plain activation over the same size, and the copy of the same floats, on resident buffers of any
 * backend ({@code -p backend=cuda} on a GPU machine).
 *
 * <p>The API has no separate add, so the unfused sequence uses its cheapest form: the bias added by
 * {@code applyBias} with identity (one pass, n in and n out), then {@code apply(f)} on the sum. Backward unfused:
 * {@code applyBackward(f)} at the saved sum x + b, then the bias gradient as identity's bias backward over dx in
 * place (one pass that reads dx and writes it back while summing it per channel).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "-Dgpuact.leakDetection=false", "--add-modules", "jdk.incubator.vector"})
public class BiasActivationBenchmark {
    @Param({"1048576", "16777216"})
    public int size;

    @Param({"cpu", "opencl"})
    public String backend;

    /** The activation, by catalog id. */
    @Param({"gelu"})
    public String op;

    /** {@code cols1024}: a bias per column of [N, 1024] (inner 1, a matmul's epilogue); {@code nchw64}: 64 channels of NCHW. */
    @Param({"cols1024", "nchw64"})
    public String layout;

    /**
     * {@code copy}: the floats copied (the limit); {@code plain}, {@code fused}, {@code unfused}: f(x), f(x + b) in one
     * call, and in two; {@code plain_bwd}, {@code fused_bwd}, {@code unfused_bwd}: the backward passes.
     */
    @Param({"copy", "plain", "fused", "unfused", "plain_bwd", "fused_bwd", "unfused_bwd"})
    public String variant;

    private Backend device;
    private DeviceBuffer x;
    private DeviceBuffer dy;
    private DeviceBuffer y;
    private DeviceBuffer sum;
    private DeviceBuffer bias;
    private DeviceBuffer zeros;
    private DeviceBuffer dbias;
    private Runnable work;

    @Setup(Level.Trial)
    public void setUp() {
        device = Backends.get(backend);
        int channels = layout.equals("cols1024") ? 1024 : 64;
        long inner = layout.equals("cols1024") ? 1 : size / (channels * 16L);
        float[] hostX = new float[size];
        float[] hostDy = new float[size];
        float[] hostBias = new float[channels];
        SplittableRandom random = new SplittableRandom(size);
        for (int i = 0; i < size; i++) {
            hostX[i] = (float) random.nextDouble(-6, 6);
            hostDy[i] = (float) random.nextDouble(-1, 1);
        }
        for (int c = 0; c < channels; c++) {
            hostBias[c] = (float) random.nextDouble(-1, 1);
        }
        x = device.upload(hostX);
        dy = device.upload(hostDy);
        y = device.allocate(size);
        sum = device.allocate(size);
        bias = device.upload(hostBias);
        zeros = device.allocate(channels);
        dbias = device.allocate(channels);
        Activation f = Op.byName(op).defaults();
        Activation identity = Op.IDENTITY.defaults();
        device.applyBias(identity, x, bias, sum, channels, inner);
        work = switch (variant) {
            case "copy" -> device.deviceCopyIsNative() ? () -> device.copy(x, y) : () -> device.apply(identity, x, y);
            case "plain" -> () -> device.apply(f, x, y);
            case "fused" -> () -> device.applyBias(f, x, bias, y, channels, inner);
            case "unfused" -> () -> {
                device.applyBias(identity, x, bias, y, channels, inner);
                device.apply(f, y, y);
            };
            case "plain_bwd" -> () -> device.applyBackward(f, x, dy, y);
            case "fused_bwd" -> () -> device.applyBiasBackward(f, x, bias, dy, y, dbias, channels, inner);
            case "unfused_bwd" -> () -> {
                device.applyBackward(f, sum, dy, y);
                device.applyBiasBackward(identity, y, zeros, y, y, dbias, channels, inner);
            };
            default -> throw new IllegalArgumentException("unknown variant " + variant);
        };
        System.out.println("# " + backend + " on " + device.device() + ", " + layout + " (" + channels
                + " channels, inner " + inner + ")");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (DeviceBuffer b : new DeviceBuffer[] {x, dy, y, sum, bias, zeros, dbias}) {
            b.close();
        }
        device.close();
    }

    /** One forked JVM per parameter set, so this call site only ever sees one kind of work. */
    @Benchmark
    public void run() {
        work.run();
    }
}
