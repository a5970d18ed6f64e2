package dev.gpuact.cpu;

import dev.gpuact.DType;
import dev.gpuact.fallback.Tiled;
import dev.gpuact.spi.AbstractBuffer;
import dev.gpuact.spi.HostRegion;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * A cpu buffer over a caller's direct ByteBuffer, used in place ({@link CpuBackend#wrap}): elements of any type in
 * either byte order. The elementwise kernels run on it through float tiles; other calls stage it through float32
 * scratch.
 */
final class HostMemoryBuffer extends AbstractBuffer {
    /** {@code MemorySegment.ofBuffer(b).address()} where the JDK has it (22+), to see overlapping wraps as such. */
    private static final MethodHandle ADDRESS_OF = addressOf();

    /** 16-bit elements copied out of (or into) the caller's memory for the shared conversions of {@link Tiled}. */
    private static final ThreadLocal<short[]> STAGED_BITS = ThreadLocal.withInitial(() -> new short[0]);

    private final HostRegion region;
    private final Range range;

    HostMemoryBuffer(CpuBackend backend, HostRegion region) {
        super(backend, region.dtype(), region.length(), new CallerMemory(region.byteSize()));
        this.region = region;
        Long address = address(region.bytes());
        this.range = address == null ? new Range(region.memory(), 0, byteSize())
                : new Range(HostMemoryBuffer.class, address, byteSize());
    }

    /**
     * Where the bytes lie: the address on JDK 22+; before that a direct buffer's address is out of reach without
     * native code, and two wraps are taken to share bytes only when they wrap the same ByteBuffer.
     */
    @Override
    protected Range range() {
        return range;
    }

    /** The elements as float tiles, for {@link Tiled}. */
    Tiled.Storage storage() {
        ByteBuffer bytes = bytes();
        return switch (dtype()) {
            case FLOAT32 -> floats(bytes.asFloatBuffer());
            case FLOAT16 -> halves(bytes.asShortBuffer(), false);
            case BFLOAT16 -> halves(bytes.asShortBuffer(), true);
            default -> throw new IllegalStateException(dtype() + " is not stored");
        };
    }

    /** The elements' raw 16-bit patterns. */
    ShortBuffer shorts() {
        return bytes().asShortBuffer();
    }

    /** The float32 elements. */
    FloatBuffer floats() {
        return bytes().asFloatBuffer();
    }

    /** A view of its own, so concurrent calls do not share a position. */
    private ByteBuffer bytes() {
        return region.bytes().duplicate().order(region.bytes().order());
    }

    private static Tiled.Storage floats(FloatBuffer floats) {
        return new Tiled.Storage() {
            @Override
            public void load(int from, float[] tile, int count) {
                floats.get(from, tile, 0, count);
            }

            @Override
            public void store(int from, float[] tile, int count) {
                floats.put(from, tile, 0, count);
            }
        };
    }

    /** The bits go through a short array, so that the conversions are Tiled's (vectorised where it is). */
    private static Tiled.Storage halves(ShortBuffer bits, boolean bfloat16) {
        return new Tiled.Storage() {
            @Override
            public void load(int from, float[] tile, int count) {
                short[] staged = staged(count);
                bits.get(from, staged, 0, count);
                of(staged).load(0, tile, count);
            }

            @Override
            public void store(int from, float[] tile, int count) {
                short[] staged = staged(count);
                of(staged).store(0, tile, count);
                bits.put(from, staged, 0, count);
            }

            private Tiled.Storage of(short[] staged) {
                return bfloat16 ? Tiled.Storage.bfloat16(staged) : Tiled.Storage.float16(staged);
            }
        };
    }

    private static short[] staged(int count) {
        short[] staged = STAGED_BITS.get();
        if (staged.length < count) {
            staged = new short[count];
            STAGED_BITS.set(staged);
        }
        return staged;
    }

    private static Long address(ByteBuffer bytes) {
        if (ADDRESS_OF == null) {
            return null;
        }
        try {
            return (long) ADDRESS_OF.invoke(bytes);
        } catch (Throwable e) {
            return null;
        }
    }

    private static MethodHandle addressOf() {
        try {
            Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            MethodHandle ofBuffer = lookup.findStatic(segment, "ofBuffer", MethodType.methodType(segment,
                    java.nio.Buffer.class));
            MethodHandle address = lookup.findVirtual(segment, "address", MethodType.methodType(long.class));
            MethodHandle handle = MethodHandles.filterReturnValue(ofBuffer, address);
            long probe = (long) handle.invoke(ByteBuffer.allocateDirect(1));
            return probe == 0 ? null : handle;
        } catch (Throwable e) {
            return null;  // before JDK 22 (or with the preview API switched off): see range()
        }
    }

    /** The caller's memory: counted while the buffer is open, never freed by it. */
    private static final class CallerMemory extends AbstractBuffer.Memory {
        CallerMemory(long bytes) {
            super(bytes);
        }

        @Override
        protected void free() {
            // the caller owns the memory
        }
    }
}
