package dev.gpuact.fallback;

/**
 * How a kernel shares a call between its vector loop and its scalar loop while the JVM is still compiling the
 * vector one. Vector API code runs hundreds of times slower until C2 has compiled it, so a first large call would
 * take seconds: until then each block of {@value #BLOCK} floats gets one vector from the vector loop (which C2
 * counts towards compiling it) and the rest from the scalar loop, for about {@link #CALLS} blocks per kernel and
 * direction. Both loops give the same bits, so the split never shows in a result. Racy counts are fine: the switch
 * only has to happen at about this many. The test build sets -Dgpuact.cpu.vector.warmUpCalls=0, so that its checks
 * run the vector loops on whole inputs.
 */
final class WarmUp {
    static final int CALLS = Integer.getInteger("gpuact.cpu.vector.warmUpCalls", 8_000);
    private static final int BLOCK = 2048;
    /** One 512-bit vector of floats (two of 256 bits): what a warm-up block gives the vector loop. */
    private static final int VECTOR = 16;
    /** A loop over the n elements from an offset of the call's range; returns how many it did (a prefix). */
    @FunctionalInterface
    interface Loop {
        int run(int from, int n);
    }

    private int calls;

    /**
     * Runs the call's n elements: the vector loop's prefix, the scalar loop for the rest. Small calls count too (one
     * vector each), so that work done in small pieces (the tiles of 16-bit storage) reaches the compiled vector loop.
     */
    void run(int n, Loop vector, Loop scalar) {
        int from = 0;
        for (; from < n && calls < CALLS; from += BLOCK, calls++) {
            int length = Math.min(BLOCK, n - from);
            int done = vector.run(from, Math.min(length, VECTOR));
            scalar.run(from + done, length - done);
        }
        from = Math.min(from, n);
        int done = vector.run(from, n - from);
        scalar.run(from + done, n - from - done);
    }
}
