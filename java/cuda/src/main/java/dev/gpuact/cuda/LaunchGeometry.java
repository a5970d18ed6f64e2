package dev.gpuact.cuda;

/**
 * Launch shapes of the grid-stride kernels: enough blocks to fill the device a few times over, never more, so a
 * huge array costs no more blocks than a large one and each thread loops over its share (64-bit indices).
 */
final class LaunchGeometry {
    /** Threads per block of the elementwise, PReLU and maxout kernels ({@code __launch_bounds__(256)}). */
    static final int BLOCK = 256;
    /** Resident threads per multiprocessor on every architecture the fatbin targets (sm_75 has 1024). */
    static final int THREADS_PER_SM = 1024;
    /** How many times the grid may fill the device before threads start to loop. */
    static final int WAVES = 4;
    /** Fewest elements per thread worth a PReLU dweight slice of its own. */
    static final int MIN_SLICE_PER_THREAD = 8;
    /** Bytes a float4 access needs its address aligned to. */
    static final int VECTOR_ALIGNMENT = 16;

    private LaunchGeometry() {
    }

    /** The most blocks of {@code block} threads worth launching on {@code multiprocessors} SMs. */
    static int gridCap(int multiprocessors, int block) {
        return Math.max(1, multiprocessors) * Math.max(1, THREADS_PER_SM / block) * WAVES;
    }

    /** Blocks for {@code items} units of work, one per thread, capped at {@link #gridCap}. */
    static int grid(long items, int block, int multiprocessors) {
        long blocks = Math.max(1, ceilDiv(items, block));
        return (int) Math.min(blocks, gridCap(multiprocessors, block));
    }

    /** Whether every address allows float4 loads and stores. */
    static boolean vectorizable(long... addresses) {
        for (long a : addresses) {
            if (a % VECTOR_ALIGNMENT != 0) {
                return false;
            }
        }
        return true;
    }

    /** Elementwise over n elements: a thread takes a float4 at a time when vectorized (the tail is scalar). */
    static Launch elementwise(long n, boolean vectorized, int multiprocessors) {
        long items = vectorized ? ceilDiv(n, 4) : n;
        return new Launch(grid(items, BLOCK, multiprocessors), BLOCK, 0);
    }

    /**
     * Slices per channel of the PReLU dweight reduction: enough (channel, slice) blocks to fill the device, but
     * no slice shorter than {@value #MIN_SLICE_PER_THREAD} elements per thread. Fixed by the sizes alone, so the
     * summation order, and the bits of dweight, are the same on every call.
     */
    static int preluSlices(long n, long channels, long inner, int multiprocessors) {
        long perChannel = ceilDiv(n, channels * inner) * inner;
        long wanted = ceilDiv(gridCap(multiprocessors, BLOCK), channels);
        long worthwhile = Math.max(1, perChannel / ((long) BLOCK * MIN_SLICE_PER_THREAD));
        return (int) Math.max(1, Math.min(Math.min(wanted, worthwhile), Integer.MAX_VALUE));
    }

    /** The (channel, slice) blocks of a per-channel sum's first stage, at most {@link #gridCap} (they loop). */
    static Launch channelSlices(long channels, int slices, int multiprocessors) {
        return new Launch((int) Math.min(channels * slices, gridCap(multiprocessors, BLOCK)), BLOCK, 0);
    }

    /**
     * PReLU's {@code inner} as the kernels receive it: i / inner is 0 for every index below n once inner >= n, so
     * any larger value means the same and clamping it keeps channels * inner from overflowing.
     */
    static long preluInner(long n, long inner) {
        return Math.max(1, Math.min(inner, n));
    }

    static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
