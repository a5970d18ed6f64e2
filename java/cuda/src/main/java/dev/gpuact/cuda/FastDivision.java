package dev.gpuact.cuda;

/**
 * Division of a non-negative 64-bit index by a fixed divisor with one multiply-high and a shift, the way the PReLU
 * kernels find an element's channel (a 64-bit hardware division costs a subroutine call per element on a GPU).
 *
 * <p>For a divisor d > 1, with l = ceil(log2 d) and m = ceil(2^(63 + l) / d) (which fits in 64 unsigned bits),
 * floor(n / d) = mulhi(n, m) >> (l - 1) for every 0 <= n < 2^63 (Granlund and Montgomery, "Division by invariant
 * integers using multiplication", theorem 4.2 with N = 63). The divisor 1 has no such m: its {@code magic} is 0,
 * which the kernels read as "keep n". The kernels compute exactly what {@link #quotient} does, without a branch.
 */
record FastDivision(long divisor, long magic, int shift) {
    static FastDivision of(long divisor) {
        if (divisor < 1) {
            throw new IllegalArgumentException("a divisor must be >= 1, got " + divisor);
        }
        if (divisor == 1) {
            return new FastDivision(1, 0, 0);
        }
        int l = 64 - Long.numberOfLeadingZeros(divisor - 1);
        return new FastDivision(divisor, ceilPowerOfTwoOver(63 + l, divisor), l - 1);
    }

    /** ceil(2^e / d) by long division one bit at a time, for quotients below 2^64 (no allocation per launch). */
    private static long ceilPowerOfTwoOver(int e, long d) {
        long quotient = 0;
        long remainder = 0;
        for (int bit = e; bit >= 0; bit--) {
            remainder = (remainder << 1) | (bit == e ? 1 : 0);  // remainder < d < 2^63: no bit is lost
            quotient <<= 1;
            if (Long.compareUnsigned(remainder, d) >= 0) {
                remainder -= d;
                quotient |= 1;
            }
        }
        return remainder == 0 ? quotient : quotient + 1;
    }

    /** floor(n / divisor) for 0 <= n, computed as the kernels do. */
    long quotient(long n) {
        long keep = magic == 0 ? -1L : 0L;
        return (unsignedMultiplyHigh(n, magic) | (n & keep)) >>> shift;
    }

    /** The high 64 bits of the unsigned 128-bit product (CUDA's __umul64hi; Math has it only from Java 18). */
    private static long unsignedMultiplyHigh(long a, long b) {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }
}
