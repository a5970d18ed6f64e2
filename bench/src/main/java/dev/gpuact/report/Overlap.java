package dev.gpuact.report;

import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.HostBuffer;
import dev.gpuact.measure.Meter;
import dev.gpuact.measure.Sample;
import dev.gpuact.Stream;
import dev.gpuact.measure.Workload;
import java.util.ArrayList;
import java.util.List;

/**
 * A chunked pipeline: the batch is cut into chunks, and chunk i is uploaded, computed and downloaded on stream
 * i mod streams, so one chunk's upload overlaps another's kernel and a third's download. Host memory is the
 * backend's pinned memory.
 *
 * @param throughput input bytes per second of the whole pipeline
 * @param pinnedUpload the pinned upload bandwidth of the same run, the pipeline's limit
 */
public record Overlap(String backend, String workload, long elements, int streams, int chunks, boolean asynchronous,
                      boolean pinned, Sample sample, double throughput, double pinnedUpload) {
    public double fractionOfLimit() {
        return throughput / pinnedUpload;
    }

    /** Times the pipeline on {@code n} elements (rounded down to whole chunks of whole rows). */
    public static Overlap measure(Backend backend, Workload workload, int n, int streams, int chunks,
                                  Sample.Plan plan, double pinnedUpload) {
        int chunk = (int) workload.elementsFor(n / chunks);
        if (chunk == 0) {
            throw new IllegalArgumentException("overlap: " + n + " elements in " + chunks + " chunks leave no whole row of "
                    + workload.key());
        }
        int total = chunk * chunks;
        int outChunk = (int) workload.outputLength(chunk);
        List<AutoCloseable> resources = new ArrayList<>();
        try (HostBuffer in = backend.allocateHost(total); HostBuffer out = backend.allocateHost(total)) {
            in.floats().put(Meter.randomInput(total));
            Stream[] lanes = new Stream[streams];
            DeviceBuffer[] xs = new DeviceBuffer[streams];
            DeviceBuffer[] ys = new DeviceBuffer[streams];
            try {
                for (int s = 0; s < streams; s++) {
                    lanes[s] = backend.newStream();
                    resources.add(lanes[s]);
                    xs[s] = backend.allocate(chunk);
                    resources.add(xs[s]);
                    ys[s] = backend.allocate(chunk);
                    resources.add(ys[s]);
                }
                Sample sample = Sample.measure(plan, () -> {
                    long start = System.nanoTime();
                    for (int c = 0; c < chunks; c++) {
                        int s = c % streams;
                        lanes[s].write(xs[s], 0, in.floats().slice(c * chunk, chunk));
                        workload.enqueue(lanes[s], xs[s], ys[s]);
                        lanes[s].read(ys[s], 0, out.floats().slice(c * outChunk, outChunk));
                    }
                    for (Stream lane : lanes) {
                        lane.synchronize();
                    }
                    return System.nanoTime() - start;
                });
                double throughput = (double) total * Float.BYTES / (sample.median() * 1e-9);
                return new Overlap(backend.name(), workload.key(), total, streams, chunks, lanes[0].isAsynchronous(),
                        in.pinned(), sample, throughput, pinnedUpload);
            } finally {
                closeAll(resources);
            }
        }
    }

    /** Closes in reverse order of opening; the first failure is thrown after all are closed. */
    private static void closeAll(List<AutoCloseable> resources) {
        RuntimeException failure = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing a pipeline resource failed", e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
