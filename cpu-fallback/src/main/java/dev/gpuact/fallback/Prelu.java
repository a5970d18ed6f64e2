package dev.gpuact.fallback;

import static dev.gpuact.fallback.ElementwiseKernel.checkRange;

/**
 * PReLU: {@code y = x > 0 ? x : weight[c] x} with channel {@code c = (i / inner) % channels} for flat index i,
 * and its backward pass with the weight gradient.
 *
 * <p>The weight gradient is a reduction, made deterministic: the input is cut into chunks whose boundaries depend
 * only on n and the channel count, each chunk sums per channel in double in index order, and the chunk partials
 * are added in chunk order. Thread count and scheduling cannot change a bit of the result.
 */
public final class Prelu {
    /** Cap on chunks x channels partial sums (8 MiB of doubles), so many channels mean fewer, larger chunks. */
    private static final int MAX_PARTIALS = 1 << 20;

    private Prelu() {
    }

    /** Forward over x[xo..xo+n) into y[yo..); the flat index i counts from xo. */
    public static void forward(float[] x, int xo, float[] weight, float[] y, int yo, int n, int channels, long inner) {
        checkArguments(x, xo, weight, n, channels, inner);
        checkRange("y", y, yo, n);
        Parallel.forEachChunk(n, (from, to) -> {
            for (int start = from; start < to; ) {
                long block = start / inner;
                int end = (int) Math.min(to, (block + 1) * inner);
                float w = weight[(int) (block % channels)];
                for (int i = start; i < end; i++) {
                    float v = x[xo + i];
                    y[yo + i] = v > 0 ? v : (float) Functions.vanishing(v, w);
                }
                start = end;
            }
        });
    }

    /**
     * dx = dy * (x > 0 ? 1 : weight[c]) (NaN for NaN x), and dweight[c] = sum of dy * x over x &lt;= 0 in channel c
     * (overwritten). dx may be the same region as dy.
     */
    public static void backward(float[] x, int xo, float[] weight, float[] dy, int dyo, float[] dx, int dxo,
                                float[] dweight, int n, int channels, long inner) {
        checkArguments(x, xo, weight, n, channels, inner);
        checkRange("dy", dy, dyo, n);
        checkRange("dx", dx, dxo, n);
        checkRange("dweight", dweight, 0, channels);
        int chunk = chunkSize(n, channels);
        int chunks = Parallel.chunkCount(n, chunk);
        double[] partials = new double[chunks * channels];
        Parallel.forEachChunk(n, chunk, n, (from, to) -> {
            int partialBase = from / chunk * channels;
            for (int start = from; start < to; ) {
                long block = start / inner;
                int end = (int) Math.min(to, (block + 1) * inner);
                int c = (int) (block % channels);
                float w = weight[c];
                double sum = 0;
                for (int i = start; i < end; i++) {
                    float v = x[xo + i];
                    float g = dy[dyo + i];
                    if (v <= 0) {
                        sum += (double) g * v;
                    }
                    dx[dxo + i] = v > 0 ? g : g * (v != v ? v : w);
                }
                partials[partialBase + c] += sum;
                start = end;
            }
        });
        for (int c = 0; c < channels; c++) {
            double total = 0;
            for (int k = 0; k < chunks; k++) {
                total += partials[k * channels + c];
            }
            dweight[c] = (float) total;
        }
    }

    /** Depends on n and channels only; never on the number of threads. */
    static int chunkSize(int n, int channels) {
        int maxChunks = Math.max(1, MAX_PARTIALS / channels);
        int chunks = Math.max(1, Math.min(Parallel.chunkCount(n, Parallel.CHUNK_ELEMENTS), maxChunks));
        return Math.max(1, Parallel.chunkCount(n, chunks));
    }

    static void checkArguments(float[] x, int xo, float[] weight, int n, int channels, long inner) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
        if (channels < 1) {
            throw new IllegalArgumentException("channels must be >= 1, got " + channels);
        }
        if (inner < 1) {
            throw new IllegalArgumentException("inner must be >= 1, got " + inner);
        }
        checkRange("x", x, xo, n);
        checkRange("weight", weight, 0, channels);
    }
}
