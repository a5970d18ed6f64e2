package dev.gpuact.measure;

import dev.gpuact.Backend;
import dev.gpuact.Backends;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Times the phases of workloads on one backend at one size: what both {@code gpuact bench} and the calibration
 * behind {@link Backends#forWork} measure. Inputs are uniform in [-4, 4); every transfer moves all elements.
 */
public final class Meter {
    private final Sample.Plan plan;
    private final Set<Phase> phases;

    /** Measures only {@code phases} (the calibration needs four, the benchmark all of them). */
    public Meter(Sample.Plan plan, Set<Phase> phases) {
        this.plan = plan;
        this.phases = Set.copyOf(phases);
    }

    /**
     * Measures every chosen phase at {@code n} elements: the transfers and the device copy once, the per-workload
     * phases for each workload that fits at least one row. Each measurement goes to {@code sink} as it is made.
     */
    public List<Measurement> measure(Backend backend, List<Workload> workloads, int n, Consumer<Measurement> sink) {
        List<Measurement> out = new ArrayList<>();
        Consumer<Measurement> both = m -> {
            out.add(m);
            sink.accept(m);
        };
        float[] input = randomInput(n);
        float[] output = new float[n];
        try (DeviceBuffer x = backend.allocate(n); DeviceBuffer y = backend.allocate(n)) {
            x.upload(input);
            measureTransfers(backend, x, input, output, both);
            for (Workload w : workloads) {
                int m = (int) w.elementsFor(n);
                if (m == 0) {
                    continue;
                }
                if (m == n) {
                    measureWorkload(backend, w, x, y, input, output, both);
                } else {
                    try (DeviceBuffer xm = backend.allocate(m); DeviceBuffer ym = backend.allocate(m)) {
                        xm.write(0, input, 0, m);
                        measureWorkload(backend, w, xm, ym, input, output, both);
                    }
                }
            }
        }
        return out;
    }

    private void measureTransfers(Backend backend, DeviceBuffer x, float[] input, float[] output,
                                  Consumer<Measurement> sink) {
        int n = input.length;
        record(backend, "", Phase.UPLOAD_PAGEABLE, n, () -> wall(() -> x.upload(input)), sink);
        record(backend, "", Phase.DOWNLOAD_PAGEABLE, n, () -> wall(() -> x.download(output)), sink);
        if (phases.contains(Phase.UPLOAD_PINNED) || phases.contains(Phase.DOWNLOAD_PINNED)) {
            try (HostBuffer host = backend.allocateHost(n)) {
                host.floats().put(input);
                record(backend, "", Phase.UPLOAD_PINNED, n, () -> wall(() -> x.write(0, host.floats())), sink);
                record(backend, "", Phase.DOWNLOAD_PINNED, n, () -> wall(() -> x.read(0, host.floats())), sink);
            }
        }
        if (phases.contains(Phase.DEVICE_COPY)) {
            try (DeviceBuffer copy = backend.allocate(n)) {
                Backend.Clock clock = backend.time(() -> backend.copy(x, copy)).clock();
                record(backend, "", Phase.DEVICE_COPY, n, () -> backend.time(() -> backend.copy(x, copy)).nanos(),
                        sink, clock);
            }
        }
    }

    private void measureWorkload(Backend backend, Workload w, DeviceBuffer x, DeviceBuffer y, float[] input,
                                 float[] output, Consumer<Measurement> sink) {
        int m = (int) x.length();
        int outLength = (int) w.outputLength(m);
        Backend.Clock clock = backend.time(() -> w.run(backend, x, y)).clock();
        Sample resident = null;
        if (phases.contains(Phase.RESIDENT)) {
            resident = record(backend, w.key(), Phase.RESIDENT, m, () -> wall(() -> w.run(backend, x, y)), sink);
        }
        if (phases.contains(Phase.KERNEL)) {
            if (clock == Backend.Clock.WALL && resident != null) {
                // Without device timing the kernel time is the resident wall time: reuse it rather than time twice.
                sink.accept(new Measurement(backend.name(), w.key(), Phase.KERNEL, m, resident, clock));
            } else {
                record(backend, w.key(), Phase.KERNEL, m, () -> backend.time(() -> w.run(backend, x, y)).nanos(),
                        sink, clock);
            }
        }
        record(backend, w.key(), Phase.END_TO_END, m, () -> wall(() -> {
            x.write(0, input, 0, m);
            w.run(backend, x, y);
            y.read(0, output, 0, outLength);
        }), sink);
    }

    private Sample record(Backend backend, String workload, Phase phase, long n, LongSupplier run,
                          Consumer<Measurement> sink) {
        return record(backend, workload, phase, n, run, sink, Backend.Clock.WALL);
    }

    private Sample record(Backend backend, String workload, Phase phase, long n, LongSupplier run,
                          Consumer<Measurement> sink, Backend.Clock clock) {
        if (!phases.contains(phase)) {
            return null;
        }
        Sample s = Sample.measure(plan, run);
        sink.accept(new Measurement(backend.name(), workload, phase, n, s, clock));
        return s;
    }

    private static long wall(Runnable run) {
        long start = System.nanoTime();
        run.run();
        return System.nanoTime() - start;
    }

    /** Deterministic inputs across the range where the activations differ most. */
    public static float[] randomInput(int n) {
        float[] values = new float[n];
        SplittableRandom random = new SplittableRandom(n);
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextDouble(-4, 4);
        }
        return values;
    }
}
