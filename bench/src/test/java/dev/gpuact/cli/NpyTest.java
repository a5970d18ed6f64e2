package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gpuact.fallback.HalfFloats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The .npy reader and writer against files numpy wrote (see the fixtures' make_fixtures.py) and broken ones. */
class NpyTest {
    @TempDir
    Path dir;

    static Path fixture(String name) {
        try {
            return Path.of(NpyTest.class.getResource("npy/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The values make_fixtures.py writes: (i - 11.5) / 4 for i in 0..23. */
    static float[] grid(int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (i - 11.5f) / 4;
        }
        return g;
    }

    @Test
    void readsNumpyFilesOfEveryVersionAndRank() throws IOException {
        assertRead("f4_2x3x4.npy", Shape.of(2, 3, 4), grid(24));
        assertRead("f4_v2_4x6.npy", Shape.of(4, 6), grid(24));
        assertRead("f4_v3_4x6.npy", Shape.of(4, 6), grid(24));
        assertRead("f4_scalar.npy", Shape.of(), new float[] {3.5f});
        assertRead("f4_empty_0x3.npy", Shape.of(0, 3), new float[0]);
    }

    @Test
    void readsBigEndianFloat32() throws IOException {
        assertRead("f4_big_endian.npy", Shape.of(24), grid(24));
    }

    @Test
    void readsFloat16OfEitherByteOrderWidenedExactly() throws IOException {
        assertRead("f2_2x3x4.npy", Shape.of(2, 3, 4), grid(24));
        float[] want = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, 0x1p-24f, 65504f,
                0.333251953125f, -2.5f};
        for (String name : new String[] {"f2_specials.npy", "f2_big_endian.npy"}) {
            try (Npy.Reader r = Npy.Reader.open(fixture(name))) {
                assertThat(r.type()).isEqualTo(Npy.ElementType.FLOAT16);
                assertThat(bits(r.readAll())).as(name).containsExactly(bits(want));
            }
        }
    }

    @Test
    void writesFloat16AsNumpyDoesRoundingOnce() throws IOException {
        Path numpyMade = fixture("f2_2x3x4.npy");
        Path ours = dir.resolve("f2.npy");
        Npy.write(ours, Shape.of(2, 3, 4), Npy.ElementType.FLOAT16,
                (offset, chunk) -> chunk.put(grid(24), (int) offset, chunk.remaining()));
        assertThat(Files.readAllBytes(ours)).isEqualTo(Files.readAllBytes(numpyMade));

        // 1 + 2^-11 is the tie between 1 and 1 + 2^-10: to even, 1; just above it rounds up; 70000 overflows
        float[] data = {1 + 0x1p-11f, Math.nextUp(1 + 0x1p-11f), 70000f, -1e-9f, Float.NaN};
        Npy.write(ours, Shape.of(data.length), Npy.ElementType.FLOAT16,
                (offset, chunk) -> chunk.put(data, (int) offset, chunk.remaining()));
        assertThat(Files.size(ours)).isEqualTo(128 + 2L * data.length);
        float[] back = Npy.readAll(ours);
        assertThat(bits(back)).containsExactly(bits(new float[] {1f, 1 + 0x1p-10f, Float.POSITIVE_INFINITY, -0.0f,
                Float.NaN}));
    }

    @Test
    void streamsFloat16LargerThanOneChunk() throws IOException {
        float[] data = new float[3 * 262_144 + 12_345];
        Random random = new Random(7);
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextGaussian() * 100;
        }
        Path file = dir.resolve("big16.npy");
        Npy.write(file, Shape.of(data.length), Npy.ElementType.FLOAT16,
                (offset, chunk) -> chunk.put(data, (int) offset, chunk.remaining()));
        float[] back = Npy.readAll(file);
        for (int i = 0; i < data.length; i++) {
            assertThat(back[i]).isEqualTo(HalfFloats.float16ToFloat(HalfFloats.floatToFloat16(data[i])));
        }
    }

    @Test
    void keepsSpecialValuesBitForBit() throws IOException {
        float[] got = Npy.readAll(fixture("f4_specials.npy"));
        float[] want = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, Float.MIN_VALUE, Float.MAX_VALUE};
        assertThat(bits(got)).containsExactly(bits(want));
    }

    @ParameterizedTest
    @CsvSource({"f4_2x3x4.npy, 2 3 4", "f4_scalar.npy, ''", "f4_empty_0x3.npy, 0 3"})
    void writesTheBytesNumpyWrites(String name, String dims) throws IOException {
        Path numpyMade = fixture(name);
        Path ours = dir.resolve(name);
        try (Npy.Reader r = Npy.Reader.open(numpyMade)) {
            assertThat(r.shape()).isEqualTo(Shape.of(parseDims(dims)));
            Npy.write(ours, r.shape(), r.readAll());
        }
        assertThat(Files.readAllBytes(ours)).isEqualTo(Files.readAllBytes(numpyMade));
    }

    @Test
    void streamsDataLargerThanOneChunk() throws IOException {
        // 3 MiB and a bit: several 1 MiB chunks and a partial one.
        float[] data = new float[3 * 262_144 + 12_345];
        Random random = new Random(42);
        for (int i = 0; i < data.length; i++) {
            data[i] = Float.intBitsToFloat(random.nextInt());
        }
        Path file = dir.resolve("big.npy");
        Npy.write(file, Shape.of(3, data.length / 3), data);
        assertThat(bits(Npy.readAll(file))).isEqualTo(bits(data));
        assertThat(Files.size(file)).isEqualTo(128 + 4L * data.length);
    }

    @Property(tries = 60)
    void roundTripsAnyShape(@ForAll @Size(max = 4) int[] dims, @ForAll @IntRange(min = 0) int seed) throws IOException {
        long[] d = Arrays.stream(dims).mapToLong(v -> Math.floorMod(v, 5)).toArray();
        Shape shape = Shape.of(d);
        float[] data = new float[(int) shape.count()];
        Random random = new Random(seed);
        for (int i = 0; i < data.length; i++) {
            data[i] = Float.intBitsToFloat(random.nextInt());
        }
        Path file = Files.createTempFile("roundtrip", ".npy");
        try {
            Npy.write(file, shape, data);
            try (Npy.Reader r = Npy.Reader.open(file)) {
                assertThat(r.shape()).isEqualTo(shape);
                assertThat(bits(r.readAll())).isEqualTo(bits(data));
            }
        } finally {
            Files.delete(file);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "f8.npy             | dtype '<f8' (float64) is not supported",
        "i4.npy             | dtype '<i4' (int32) is not supported",
        "structured.npy     | not structured dtypes",
        "f4_fortran_2x3.npy | Fortran-order arrays are not supported"})
    void rejectsNumpyFilesOfOtherTypesAndLayouts(String name, String message) {
        assertRejected(fixture(name), message);
    }

    @Test
    void acceptsFortranOrderWhereItIsTheSameLayout() throws IOException {
        Path file = write("fortran_1d.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3, 1), }", 12);
        try (Npy.Reader r = Npy.Reader.open(file)) {
            assertThat(r.shape()).isEqualTo(Shape.of(1, 3, 1));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }    | 23 | truncated: shape (2, 3) needs 24 bytes of float32 data but the file holds 23",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }    | 25 | trailing bytes: shape (2, 3) needs 24",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }   | 0  | bad shape: dimension 1 is negative (-3)",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), } | 0 | bad shape: shape (4611686018427387904, 4) is too big: its float32 bytes overflow a long",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), } | 0 | bad shape: shape (4611686018427387904,) is too big",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2305843009213693952, 0), } | 0 | bad shape: shape (2305843009213693952, 0) is too big",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), } | 0 | shape dimension 0 (99999999999999999999) does not fit in a long",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), } | 8 | truncated: shape (1000000000000,) needs 4000000000000 bytes",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'x'), }  | 0  | 'shape' must be a tuple of integers, got x at position 1",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -), }    | 0  | malformed header: malformed integer '-'",
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }          | 8  | 'fortran_order' must be True or False, got 0",
        "{'descr': '<f4', 'shape': (2,), }                              | 8  | header lacks the key 'fortran_order'",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1} | 8 | header has an unexpected key 'x'",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)         | 8  | malformed header: expected '}'",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk | 8  | malformed header: unexpected text after the dict",
        "['descr', '<f4']                                               | 8  | malformed header: expected a dict"})
    void rejectsMalformedHeadersAndSizes(String dict, int dataBytes, String message) throws IOException {
        assertRejected(write("bad.npy", 1, dict, dataBytes), message);
    }

    @Test
    void rejectsAHeaderLengthThatRunsPastTheFile() throws IOException {
        byte[] good = Files.readAllBytes(fixture("f4_2x3x4.npy"));
        ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).putShort(8, (short) 60000);
        assertRejected(Files.write(dir.resolve("lie.npy"), good), "header length 60000 runs past the end of the file (224 bytes)");
    }

    @Test
    void rejectsAHeaderLengthThatCutsTheDictShort() throws IOException {
        byte[] good = Files.readAllBytes(fixture("f4_2x3x4.npy"));
        ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).putShort(8, (short) 30);
        assertRejected(Files.write(dir.resolve("short.npy"), good), "malformed header");
    }

    @Test
    void rejectsFilesThatAreNotNpy() throws IOException {
        assertRejected(Files.writeString(dir.resolve("text.npy"), "x,y\n1,2\n"), "not a .npy file: it does not start with \\x93NUMPY");
        assertRejected(Files.write(dir.resolve("empty.npy"), new byte[0]), "not a .npy file");
        assertRejected(Files.write(dir.resolve("preamble.npy"), Arrays.copyOf(Files.readAllBytes(fixture("f4_scalar.npy")), 8)),
                "truncated: 8 bytes end inside the .npy preamble");
        assertRejected(write("v4.npy", 4, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4),
                "unsupported .npy format version 4.0");
        assertRejected(dir, "is a directory, not a .npy file");
        assertThatThrownBy(() -> Npy.Reader.open(dir.resolve("missing.npy"))).isInstanceOf(NoSuchFileException.class);
    }

    private void assertRead(String name, Shape shape, float[] data) throws IOException {
        try (Npy.Reader r = Npy.Reader.open(fixture(name))) {
            assertThat(r.shape()).isEqualTo(shape);
            assertThat(r.readAll()).containsExactly(data);
        }
    }

    private static void assertRejected(Path file, String message) {
        assertThatThrownBy(() -> Npy.readAll(file)).isInstanceOf(NpyFormatException.class)
                .hasMessageStartingWith(file.toString()).hasMessageContaining(message);
    }

    /** A file with this version, header text (padded with a newline) and this many zero bytes of data. */
    private Path write(String name, int major, String dict, int dataBytes) throws IOException {
        byte[] text = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
        int prefix = major == 1 ? 10 : 12;
        ByteBuffer b = ByteBuffer.allocate(prefix + text.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) text.length);
        } else {
            b.putInt(text.length);
        }
        b.put(text);
        try {
            return Files.write(dir.resolve(name), b.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long[] parseDims(String dims) {
        return dims.isBlank() ? new long[0] : Arrays.stream(dims.trim().split(" ")).mapToLong(Long::parseLong).toArray();
    }

    private static int[] bits(float[] values) {
        int[] b = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = Float.floatToRawIntBits(values[i]);
        }
        return b;
    }
}
