package dev.gpuact.bench.jmh;

import dev.gpuact.Activation;
import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.Op;
import dev.gpuact.RowLayout;
import dev.gpuact.fallback.Vectorization;
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
 * The CPU paths on resident buffers, out of place: the {@code cpu} backend with its Vector API kernels
 * ({@code cpu}) and with its scalar ones forced ({@code cpu-scalar}), and the OpenCL backend ({@code opencl}, PoCL
 * on this machine), each next to the limit it is judged against in the same run: {@code copy}, the same floats
 * copied (the cpu backend's identity, a {@code System.arraycopy} split over the cores like every kernel; OpenCL's
 * device-to-device copy). Each op reads n floats and writes n (backward: reads 2n), so op time / copy time is the
 * ratio the project's targets are stated in.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "-Dgpuact.leakDetection=false", "--add-modules", "jdk.incubator.vector"})
public class CpuBackendBenchmark {
    /** Total floats: 16M (64 MiB per operand, memory-bound); 1M also fits the lower caches. */
    @Param({"16777216"})
    public int size;

    /** {@code cpu} (Vector API), {@code cpu-scalar} (-Dgpuact.cpu.vector=false) or {@code opencl}. */
    @Param({"cpu", "cpu-scalar", "opencl"})
    public String backend;

    /** Elementwise ops by catalog id, {@code _bwd} for the backward pass from x, {@code _bwdy} from the output; row-wise ops as {@code id:columns}. */
    @Param({"copy", "relu", "sigmoid", "tanh", "gelu", "silu", "mish", "softplus", "elu",
        "relu_bwd", "sigmoid_bwd", "tanh_bwd", "silu_bwd", "gelu_bwd", "relu_bwdy", "sigmoid_bwdy", "tanh_bwdy",
        "softmax:1024", "log_softmax:1024", "softmax:8192", "log_softmax:8192"})
    public String op;

    private Backend device;
    private DeviceBuffer x;
    private DeviceBuffer dy;
    private DeviceBuffer y;
    private Runnable work;

    @Setup(Level.Trial)
    public void setUp() {
        if (backend.equals("cpu-scalar")) {
            System.setProperty(Vectorization.PROPERTY, "false");
        }
        device = Backends.get(backend.equals("cpu-scalar") ? "cpu" : backend);
        float[] hostX = new float[size];
        float[] hostDy = new float[size];
        SplittableRandom random = new SplittableRandom(size);
        for (int i = 0; i < size; i++) {
            hostX[i] = (float) random.nextDouble(-6, 6);
            hostDy[i] = (float) random.nextDouble(-1, 1);
        }
        x = device.upload(hostX);
        dy = device.upload(hostDy);
        y = device.allocate(size);
        work = work(op);
        System.out.println("# " + backend + " on " + device.device() + "; cpu kernels: " + Vectorization.description());
    }

    private Runnable work(String name) {
        if (name.equals("copy")) {
            if (device.deviceCopyIsNative()) {
                return () -> device.copy(x, y);
            }
            Activation identity = Op.IDENTITY.defaults();
            return () -> device.apply(identity, x, y);
        }
        int colon = name.indexOf(':');
        if (colon >= 0) {
            int columns = Integer.parseInt(name.substring(colon + 1));
            Activation rows = Op.byName(name.substring(0, colon)).defaults();
            RowLayout layout = RowLayout.of(size / columns, columns);
            return () -> device.applyRows(rows, x, y, layout);
        }
        if (name.endsWith("_bwdy")) {
            Activation activation = Op.byName(name.substring(0, name.length() - "_bwdy".length())).defaults();
            return () -> device.applyBackwardFromOutput(activation, x, dy, y);
        }
        if (name.endsWith("_bwd")) {
            Activation activation = Op.byName(name.substring(0, name.length() - "_bwd".length())).defaults();
            return () -> device.applyBackward(activation, x, dy, y);
        }
        Activation activation = Op.byName(name).defaults();
        return () -> device.apply(activation, x, y);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        dy.close();
        y.close();
        device.close();
    }

    /** One forked JVM per (backend, op, size), so this call site only ever sees one kind of work. */
    @Benchmark
    public void run() {
        work.run();
    }
}
