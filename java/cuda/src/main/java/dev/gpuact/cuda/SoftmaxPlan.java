package dev.gpuact.cuda;

import dev.gpuact.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * How softmax and log_softmax run for a row length (see {@code kernels-cuda/src/main/cuda/softmax.cuh}).
 *
 * <ul>
 *   <li>{@link Path#WARP}: up to {@value #WARP_MAX_COLS} columns, a row in the registers of {@code lanesPerRow}
 *       lanes holding {@code perLane} elements each; short rows share a warp (32 / lanesPerRow rows per warp).
 *   <li>{@link Path#BLOCK}: rows that fit in a block's shared memory ({@link #blockMaxCols}: 12,160 columns in the
 *       48 KiB every device gives, about 58,000 in the 227 KiB an H100 or H200 gives a kernel that opts in), a
 *       block per row, the row read from global memory once.
 *   <li>{@link Path#LONG}: longer rows, in {@code chunks} chunks of {@code chunkCols} columns, a block each. With
 *       enough rows to fill the device a row is one chunk and one kernel does it; otherwise per-chunk statistics
 *       go through a partials buffer of {@link #partialDoubles()} doubles (and {@link #dotDoubles()} backward).
 * </ul>
 */
record SoftmaxPlan(Path path, long rows, int perLane, int lanesPerRow, long chunkCols, int chunks, Launch launch) {
    enum Path { WARP, BLOCK, LONG }

    static final int WARP_MAX_COLS = 512;
    /** Shared memory a block may use without opting in (cuFuncSetAttribute), on every architecture. */
    static final int DEFAULT_SHARED_BYTES = 48 * 1024;
    /** An upper bound of the block kernels' static shared memory (their reduction scratch: 384 bytes). */
    static final int BLOCK_STATIC_SHARED_BYTES = 512;
    /** Elements per lane the warp kernels are compiled for (gpuact_softmax_fwd_warp1 ... warp16). */
    static final int[] PER_LANE = {1, 2, 4, 8, 16};
    static final int WARP_BLOCK = 128;
    static final int LONG_BLOCK = 512;
    /** Shortest chunk worth a block of its own on the long path. */
    static final long MIN_CHUNK_COLS = 8192;

    /** The plan for a device that gives a block only the default shared memory. */
    static SoftmaxPlan of(long rows, long cols, int multiprocessors) {
        return of(rows, cols, multiprocessors, DEFAULT_SHARED_BYTES);
    }

    /** The most columns the block path stages, given the shared memory one block may have. */
    static long blockMaxCols(int blockSharedBytes) {
        return Math.max(0, blockSharedBytes - BLOCK_STATIC_SHARED_BYTES) / Float.BYTES;
    }

    /**
     * @param blockSharedBytes shared memory a block may use once the kernel opts in (the device's
     *                         {@code MAX_SHARED_MEMORY_PER_BLOCK_OPTIN}), at least {@link #DEFAULT_SHARED_BYTES}
     */
    static SoftmaxPlan of(long rows, long cols, int multiprocessors, int blockSharedBytes) {
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("a softmax plan needs rows >= 1 and cols >= 1, got " + rows + " x " + cols);
        }
        if (cols <= WARP_MAX_COLS) {
            int lanes = (int) Math.min(32, Long.highestOneBit(cols * 2 - 1));
            int perLane = 1;
            while ((long) perLane * lanes < cols) {
                perLane *= 2;
            }
            long rowsPerBlock = WARP_BLOCK / 32 * (32 / lanes);
            return new SoftmaxPlan(Path.WARP, rows, perLane, lanes, cols, 1,
                    new Launch(LaunchGeometry.grid(LaunchGeometry.ceilDiv(rows, rowsPerBlock) * WARP_BLOCK, WARP_BLOCK,
                            multiprocessors), WARP_BLOCK, 0));
        }
        if (cols <= blockMaxCols(Math.max(DEFAULT_SHARED_BYTES, blockSharedBytes))) {
            int block = (int) Math.min(1024, Math.max(128, Long.highestOneBit(cols / 8)));
            return new SoftmaxPlan(Path.BLOCK, rows, 0, 0, cols, 1,
                    new Launch(LaunchGeometry.grid(rows * block, block, multiprocessors), block, (int) cols * Float.BYTES));
        }
        long target = LaunchGeometry.gridCap(multiprocessors, LONG_BLOCK) / LaunchGeometry.WAVES;
        long chunks = rows >= target ? 1 : Math.min(LaunchGeometry.ceilDiv(cols, MIN_CHUNK_COLS), LaunchGeometry.ceilDiv(target, rows));
        long chunkCols = LaunchGeometry.ceilDiv(LaunchGeometry.ceilDiv(cols, chunks), 32) * 32;
        int realChunks = (int) LaunchGeometry.ceilDiv(cols, chunkCols);
        return new SoftmaxPlan(Path.LONG, rows, 0, 0, chunkCols, realChunks,
                new Launch(LaunchGeometry.grid(rows * realChunks * LONG_BLOCK, LONG_BLOCK, multiprocessors), LONG_BLOCK, 0));
    }

    /** Whether the long path passes statistics between blocks (more than one chunk per row). */
    boolean usesPartials() {
        return path == Path.LONG && chunks > 1;
    }

    /** Doubles of the per-chunk (max, count, rest) statistics. */
    long partialDoubles() {
        return usesPartials() ? rows * chunks * 3 : 0;
    }

    /** Doubles of the per-chunk dot products of a backward pass. */
    long dotDoubles() {
        return usesPartials() ? rows * chunks : 0;
    }

    /** The kernel that writes the output (y, or dx when {@code backward}). */
    String kernel(Op op, boolean backward) {
        return KernelNames.softmax(op, backward, switch (path) {
            case WARP -> "warp" + perLane;
            case BLOCK -> "block";
            case LONG -> "long";
        });
    }

    /** Every variant name {@link #kernel} can produce, for checking the fatbin. */
    static List<String> variants() {
        List<String> v = new ArrayList<>();
        for (int k : PER_LANE) {
            v.add("warp" + k);
        }
        v.add("block");
        v.add("long");
        return v;
    }
}
