package dev.gpuact.cli.stress;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterProperty;

/**
 * Valid .npy files (versions 1 to 3, scalar, empty, 3-d, specials) mutated at random: bytes flipped (mostly in the
 * header), cut short, grown, or header characters swapped for the ones a parser trips on; and headers whose shape
 * lies about the data that follows. Whatever comes in, {@code gpuact apply} either succeeds or says what is wrong
 * in one line with exit 2, within seconds, with no stack trace and no OutOfMemoryError.
 */
class NpyFuzzTest {
    private static final Duration LIMIT = Duration.ofSeconds(10);
    private static final List<String> VALID = List.of("f4_2x3x4.npy", "f4_v2_4x6.npy", "f4_v3_4x6.npy", "f4_scalar.npy",
            "f4_empty_0x3.npy", "f4_specials.npy");
    private static final byte[] TRICKY = "()[]{},:'\"-+0129L \n\t\0\u00ff".getBytes(StandardCharsets.ISO_8859_1);

    private final Path dir;
    private int accepted;
    private int rejected;

    NpyFuzzTest() throws IOException {
        dir = Files.createTempDirectory("npy-fuzz");
    }

    @Property(tries = 400)
    void aMutatedFileIsReadOrRejectedInOneLine(@ForAll("mutatedFiles") byte[] file) throws IOException {
        check(file);
    }

    @Property(tries = 200)
    void aHeaderThatLiesAboutItsDataIsRejected(@ForAll("dimensions") long[] dims,
                                                @ForAll @IntRange(max = 300) int dataBytes) throws IOException {
        String shape = dims.length == 1 ? "(" + dims[0] + ",)"
                : Arrays.toString(dims).replace('[', '(').replace(']', ')');
        Gpuact.Result r = check(file("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", dataBytes));
        // numpy's rule: zero dimensions aside, the dimensions times 4 bytes must fit in a long, else "too big"
        long nonZero = 1;
        boolean overflows = false;
        boolean empty = false;
        for (long d : dims) {
            if (d == 0) {
                empty = true;
                continue;
            }
            overflows |= nonZero > Long.MAX_VALUE / 4 / d;
            nonZero *= d;
        }
        long count = empty ? 0 : nonZero;
        boolean consistent = !overflows && count * 4 == dataBytes;
        assertThat(r.exitCode()).as("shape %s with %d data bytes: %s", shape, dataBytes, r.err()).isEqualTo(consistent ? 0 : 2);
    }

    @AfterProperty
    void report() throws IOException {
        System.out.printf("npy fuzz: %d accepted, %d rejected in one line%n", accepted, rejected);
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
    }

    private Gpuact.Result check(byte[] content) throws IOException {
        Path in = dir.resolve("in.npy");
        Path out = dir.resolve("out.npy");
        Files.deleteIfExists(out);
        Files.write(in, content);
        Gpuact.Result r = Gpuact.run(LIMIT, "apply", "--backend", "cpu", "--op", "tanh", "--in", in.toString(),
                "--out", out.toString());
        if (r.exitCode() == 0) {
            accepted++;
            assertThat(r.err()).isEmpty();
            assertThat(out).exists();
        } else {
            rejected++;
            r.rejected("--in " + in);
            assertThat(out).doesNotExist();
        }
        return r;
    }

    @Provide
    Arbitrary<byte[]> mutatedFiles() {
        return Combinators.combine(Arbitraries.of(VALID), Arbitraries.integers().between(1, 6), Arbitraries.longs())
                .as((name, mutations, seed) -> mutate(resource(name), mutations, new SplittableRandom(seed)));
    }

    @Provide
    Arbitrary<long[]> dimensions() {
        Arbitrary<Long> dim = Arbitraries.oneOf(Arbitraries.longs().between(0, 40), Arbitraries.longs().between(0, Long.MAX_VALUE),
                Arbitraries.of(1L << 31, 1L << 32, 1L << 62, Long.MAX_VALUE));
        return dim.list().ofMinSize(1).ofMaxSize(4).map(l -> l.stream().mapToLong(Long::longValue).toArray());
    }

    private static byte[] mutate(byte[] original, int mutations, SplittableRandom random) {
        byte[] b = original;
        for (int m = 0; m < mutations; m++) {
            // Most of a file's trouble is in its first 128 bytes: preamble, header length and the dict.
            int at = random.nextInt(Math.max(1, Math.min(b.length, random.nextBoolean() ? 128 : b.length)));
            switch (random.nextInt(5)) {
                case 0 -> b[at] = (byte) random.nextInt(256);
                case 1 -> b[at] = TRICKY[random.nextInt(TRICKY.length)];
                case 2 -> b = Arrays.copyOf(b, random.nextInt(b.length + 1));
                case 3 -> {
                    byte[] grown = new byte[b.length + 1 + random.nextInt(64)];
                    System.arraycopy(b, 0, grown, 0, at);
                    System.arraycopy(b, at, grown, grown.length - (b.length - at), b.length - at);
                    b = grown;
                }
                default -> b[at] ^= (byte) (1 << random.nextInt(8));
            }
            if (b.length == 0) {
                break;
            }
        }
        return b;
    }

    private static byte[] resource(String name) {
        try (InputStream in = NpyFuzzTest.class.getResourceAsStream("/dev/gpuact/cli/npy/" + name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A version 1.0 file with this header dict and {@code dataBytes} bytes after it. */
    private static byte[] file(String dict, int dataBytes) {
        String text = dict + " ".repeat(64 - (10 + dict.length() + 1) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + text.length() + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length());
        b.put(text.getBytes(StandardCharsets.ISO_8859_1));
        return b.array();
    }
}
