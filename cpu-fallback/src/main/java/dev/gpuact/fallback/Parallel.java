package dev.gpuact.fallback;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Splits work into fixed-size chunks and runs them on the common {@link ForkJoinPool} (a parallel stream: the
 * calling thread works too, so a 2-core machine, whose common pool has one worker, still uses both cores).
 * Chunk boundaries depend only on the sizes, never on the thread count, so any per-chunk partial result is
 * the same on every run.
 */
final class Parallel {
    /** Below this many elements, a task hand-off costs more than it saves. */
    static final int MIN_PARALLEL_ELEMENTS = 1 << 16;
    /** 16K floats = 64 KiB per input: big enough to amortise scheduling, small enough to balance two cores. */
    static final int CHUNK_ELEMENTS = 1 << 14;

    /** The work on one chunk of [0, count). */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    private Parallel() {
    }

    /** Runs {@code range} over [0, count) in chunks of {@code chunk}, in parallel when {@code work} is large enough. */
    static void forEachChunk(int count, int chunk, long work, Range range) {
        int chunks = chunkCount(count, chunk);
        if (chunks <= 1 || work < MIN_PARALLEL_ELEMENTS || ForkJoinPool.getCommonPoolParallelism() < 1) {
            range.run(0, count);
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(c -> range.run(c * chunk, (int) Math.min(count, (long) (c + 1) * chunk)));
    }

    /** Enough chunks per thread to even out a busy machine, few enough that scheduling stays negligible. */
    private static final int CHUNKS_PER_THREAD = 16;

    /** Elementwise work on n elements: chunk boundaries do not matter to the result, so they follow the thread count. */
    static void forEachChunk(int n, Range range) {
        forEachChunk(n, balancedChunk(n, CHUNK_ELEMENTS), n, range);
    }

    /** A chunk of at least {@code minChunk} items that gives each thread about {@link #CHUNKS_PER_THREAD} chunks. */
    static int balancedChunk(int count, int minChunk) {
        int threads = ForkJoinPool.getCommonPoolParallelism() + 1;
        return Math.max(minChunk, chunkCount(count, CHUNKS_PER_THREAD * threads));
    }

    static int chunkCount(int count, int chunk) {
        return (int) (((long) count + chunk - 1) / chunk);
    }
}
