package dev.gpuact.fallback;

/**
 * The float16/bfloat16 conversion loops of {@link Tiled} that a vectorised implementation takes over: each call
 * converts a prefix of the count elements and returns its length, with the bits of {@link HalfFloats}; the scalar
 * loop does the rest. {@link Vectorization} picks the implementation once.
 */
interface HalfLoops {
    /** No prefix: the scalar loops do all. */
    HalfLoops SCALAR = new HalfLoops() {
        @Override
        public int widenFloat16(short[] bits, int from, float[] tile, int count) {
            return 0;
        }

        @Override
        public int narrowFloat16(float[] tile, short[] bits, int from, int count) {
            return 0;
        }

        @Override
        public int widenBfloat16(short[] bits, int from, float[] tile, int count) {
            return 0;
        }

        @Override
        public int narrowBfloat16(float[] tile, short[] bits, int from, int count) {
            return 0;
        }
    };

    /** tile[0..done) = float16 bits[from, from + done) widened. */
    int widenFloat16(short[] bits, int from, float[] tile, int count);

    /** bits[from, from + done) = tile[0..done) rounded to float16. */
    int narrowFloat16(float[] tile, short[] bits, int from, int count);

    /** tile[0..done) = bfloat16 bits[from, from + done) widened. */
    int widenBfloat16(short[] bits, int from, float[] tile, int count);

    /** bits[from, from + done) = tile[0..done) rounded to bfloat16. */
    int narrowBfloat16(float[] tile, short[] bits, int from, int count);
}
