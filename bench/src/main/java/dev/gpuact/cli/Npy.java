package dev.gpuact.cli;

import dev.gpuact.fallback.HalfFloats;
import java.io.Closeable;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files of float32 or float16 in C order, either byte order, format versions 1.0, 2.0 and 3.0.
 * float16 data is widened to float32 exactly as it is read and rounded once (to nearest, ties to even) as it is
 * written, so the math between runs in float32.
 *
 * <p>The header is checked against the file size before anything is allocated for the data, and the data moves
 * through a {@link FileChannel} in fixed-size chunks, so a file of any size (or a lying header) costs at most
 * one chunk of memory here. See numpy's {@code numpy/lib/format.py} for the format.
 */
public final class Npy {
    /** The element types read (in either byte order) and written (little-endian): floats as data, integers as lengths. */
    public enum ElementType {
        FLOAT32("f4", Float.BYTES), FLOAT16("f2", Short.BYTES), INT32("i4", Integer.BYTES), INT64("i8", Long.BYTES);

        static final Set<ElementType> FLOATS = Set.of(FLOAT32, FLOAT16);
        static final Set<ElementType> INTEGERS = Set.of(INT32, INT64);

        private final String code;
        private final int bytes;

        ElementType(String code, int bytes) {
            this.code = code;
            this.bytes = bytes;
        }

        /** The little-endian numpy type string, as written. */
        public String descr() {
            return "<" + code;
        }

        public int bytes() {
            return bytes;
        }

        static ElementType ofCode(String code) {
            for (ElementType t : values()) {
                if (t.code.equals(code)) {
                    return t;
                }
            }
            return null;
        }

        /** "float32 or float16 ('<f4', '>f4', '<f2', '>f2')" for a set of types. */
        static String describe(Set<ElementType> types) {
            List<ElementType> sorted = types.stream().sorted().toList();
            return String.join(" or ", sorted.stream().map(ElementType::toString).toList()) + " (" + String.join(", ",
                    sorted.stream().map(t -> "'<" + t.code + "', '>" + t.code + "'").toList()) + ")";
        }

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Far above any real header (numpy itself refuses more than 10000 bytes by default). */
    private static final long MAX_HEADER_BYTES = 1 << 20;
    /** A structured dtype nests a few levels; far more only serves to overflow the parser's stack. */
    private static final int MAX_HEADER_NESTING = 64;
    /** numpy aligns the data to 64 bytes. */
    private static final int ALIGNMENT = 64;
    private static final int CHUNK_BYTES = 1 << 20;
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;
    private static final Pattern NUMERIC_DTYPE = Pattern.compile("([<>|=]?)([fiuc])(\\d+)");

    /** Receives the data as it is read: {@code DeviceBuffer::write} fits. */
    @FunctionalInterface
    public interface FloatSink {
        void write(long offset, FloatBuffer chunk);
    }

    /** Fills the data as it is written: {@code DeviceBuffer::read} fits. */
    @FunctionalInterface
    public interface FloatSource {
        void read(long offset, FloatBuffer chunk);
    }

    private Npy() {
    }

    /** Reads a whole file that fits in a Java array. */
    public static float[] readAll(Path path) throws IOException {
        try (Reader r = Reader.open(path)) {
            return r.readAll();
        }
    }

    /** Writes {@code data} (C order) with {@code shape} as float32; its length must be the shape's element count. */
    public static void write(Path path, Shape shape, float[] data) throws IOException {
        if (data.length != shape.count()) {
            throw new IllegalArgumentException("data holds " + data.length + " floats but shape " + shape + " needs "
                    + shape.count());
        }
        write(path, shape, (offset, chunk) -> chunk.put(data, (int) offset, chunk.remaining()));
    }

    /** Writes a float32 file of {@code shape}, pulling the data from {@code source} chunk by chunk. */
    public static void write(Path path, Shape shape, FloatSource source) throws IOException {
        write(path, shape, ElementType.FLOAT32, source);
    }

    /** Writes a file of {@code shape} and element {@code type}, pulling float32 data from {@code source}. */
    public static void write(Path path, Shape shape, ElementType type, FloatSource source) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(header(shape, type)));
            ByteBuffer bytes = chunkBuffer(shape.count());
            FloatBuffer floats = type == ElementType.FLOAT32 ? bytes.asFloatBuffer()
                    : FloatBuffer.allocate(bytes.capacity() / type.bytes());
            ShortBuffer halves = bytes.asShortBuffer();
            for (long done = 0; done < shape.count(); ) {
                int n = (int) Math.min(floats.capacity(), shape.count() - done);
                floats.clear().limit(n);
                source.read(done, floats);
                if (type == ElementType.FLOAT16) {
                    for (int i = 0; i < n; i++) {
                        halves.put(i, HalfFloats.floatToFloat16(floats.get(i)));
                    }
                }
                bytes.clear().limit(n * type.bytes());
                writeFully(ch, bytes);
                done += n;
            }
        }
    }

    /** The magic, version, header length and the header dict, padded so that the data starts aligned. */
    static byte[] header(Shape shape, ElementType type) {
        String dict = "{'descr': '" + type.descr() + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int version = dict.length() + 1 + 10 <= 0xffff ? 1 : 2;
        int prefix = version == 1 ? 10 : 12;
        int total = (prefix + dict.length() + 1 + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        String text = dict + " ".repeat(total - prefix - dict.length() - 1) + "\n";
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) {
            b.putShort((short) text.length());
        } else {
            b.putInt(text.length());
        }
        b.put(text.getBytes(StandardCharsets.ISO_8859_1));
        return b.array();
    }

    private static ByteBuffer chunkBuffer(long floats) {
        int bytes = (int) Math.min(CHUNK_BYTES, Math.max(1, floats) * Float.BYTES);
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** {@code " (big-endian float32)"} for {@code '>f4'}: the words behind a numpy type string, or nothing. */
    static String describeDtype(String descr) {
        Matcher m = NUMERIC_DTYPE.matcher(descr);
        if (!m.matches()) {
            return "";
        }
        String kind = switch (m.group(2)) {
            case "f" -> "float";
            case "i" -> "int";
            case "u" -> "uint";
            default -> "complex";
        };
        String order = m.group(1).equals(">") ? "big-endian " : "";
        return " (" + order + kind + Integer.parseInt(m.group(3)) * 8 + ")";
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** An open .npy file whose header has been validated against its size; the data is read on request. */
    public static final class Reader implements Closeable {
        private final Path path;
        private final FileChannel channel;
        private final Set<ElementType> accepted;
        private ElementType type;
        private ByteOrder order;
        private final Shape shape;
        private final long dataOffset;

        private Reader(Path path, FileChannel channel, Set<ElementType> accepted) throws IOException {
            this.path = path;
            this.channel = channel;
            this.accepted = accepted;
            long size = channel.size();
            ByteBuffer prefix = readAt(0, (int) Math.min(size, 12));
            byte[] magic = new byte[Math.min(prefix.remaining(), MAGIC.length)];
            prefix.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw fail("not a .npy file: it does not start with \\x93NUMPY");
            }
            if (size < 10) {
                throw fail("truncated: " + size + " bytes end inside the .npy preamble");
            }
            int major = prefix.get() & 0xff;
            int minor = prefix.get() & 0xff;
            if (major < 1 || major > 3 || minor != 0) {
                throw fail("unsupported .npy format version " + major + "." + minor + " (1.0, 2.0 and 3.0 are read)");
            }
            int headerStart = major == 1 ? 10 : 12;
            if (size < headerStart) {
                throw fail("truncated: " + size + " bytes end inside the .npy preamble");
            }
            long headerLength = major == 1 ? prefix.getShort() & 0xffff : prefix.getInt() & 0xffffffffL;
            if (headerLength > size - headerStart) {
                throw fail("header length " + headerLength + " runs past the end of the file (" + size + " bytes)");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw fail("header length " + headerLength + " is over the limit of " + MAX_HEADER_BYTES + " bytes");
            }
            Charset charset = major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1;
            String text = charset.decode(readAt(headerStart, (int) headerLength)).toString();
            Map<String, Object> dict;
            int depth = bracketDepth(text);
            if (depth > MAX_HEADER_NESTING) {
                // The parser recurses per bracket: refuse before a crafted header can overflow the stack.
                throw fail("malformed header: brackets nested " + depth + " deep (a .npy header needs at most "
                        + MAX_HEADER_NESTING + ")");
            }
            try {
                dict = PythonLiteral.parseDict(text);
            } catch (IllegalArgumentException e) {
                throw fail("malformed header: " + e.getMessage());
            }
            this.shape = checkHeader(dict);
            this.dataOffset = headerStart + headerLength;
            if (shape.count() > Long.MAX_VALUE / type.bytes()) {
                throw fail("shape " + shape + " holds more bytes than a file can");
            }
            long needed = shape.count() * type.bytes();
            long held = size - dataOffset;
            if (held != needed) {
                throw fail((held < needed ? "truncated: " : "trailing bytes: ") + "shape " + shape + " needs " + needed
                        + " bytes of " + type + " data but the file holds " + held + " after the header");
            }
        }

        /** The deepest nesting of (), [] and {} outside quotes. */
        private static int bracketDepth(String text) {
            int depth = 0;
            int deepest = 0;
            char quote = 0;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (quote != 0) {
                    quote = c == quote ? 0 : quote;
                } else if (c == '\'' || c == '"') {
                    quote = c;
                } else if (c == '(' || c == '[' || c == '{') {
                    deepest = Math.max(deepest, ++depth);
                } else if (c == ')' || c == ']' || c == '}') {
                    depth--;
                }
            }
            return deepest;
        }

        /** Opens and validates a float32 or float16 file {@code path}; the data is not read yet. */
        public static Reader open(Path path) throws IOException {
            return open(path, ElementType.FLOATS);
        }

        /** Opens and validates an int32 or int64 .npy file, for {@link #readIntegers()}. */
        public static Reader openIntegers(Path path) throws IOException {
            return open(path, ElementType.INTEGERS);
        }

        private static Reader open(Path path, Set<ElementType> accepted) throws IOException {
            if (Files.isDirectory(path)) {
                throw new NpyFormatException(path, "is a directory, not a .npy file");
            }
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            try {
                return new Reader(path, channel, accepted);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        public Path path() {
            return path;
        }

        public Shape shape() {
            return shape;
        }

        /** The file's element type (float16 data reaches sinks widened to float32). */
        public ElementType type() {
            return type;
        }

        /** Passes the data, as float32, to {@code sink} in chunks, in order, with each chunk's element offset. */
        public void readTo(FloatSink sink) throws IOException {
            ByteBuffer bytes = chunkBuffer(shape.count()).order(order);
            FloatBuffer floats = type == ElementType.FLOAT32 ? bytes.asFloatBuffer()
                    : FloatBuffer.allocate(bytes.capacity() / type.bytes());
            ShortBuffer halves = bytes.asShortBuffer();
            for (long done = 0; done < shape.count(); ) {
                int n = (int) Math.min(floats.capacity(), shape.count() - done);
                bytes.clear().limit(n * type.bytes());
                readFully(dataOffset + done * type.bytes(), bytes);
                if (type == ElementType.FLOAT16) {
                    for (int i = 0; i < n; i++) {
                        floats.put(i, HalfFloats.float16ToFloat(halves.get(i)));
                    }
                }
                floats.clear().limit(n);
                sink.write(done, floats);
                done += n;
            }
        }

        /** The data of an int32 or int64 file ({@link #openIntegers}); the element count must fit in an array. */
        public long[] readIntegers() throws IOException {
            if (shape.count() > MAX_ARRAY) {
                throw fail("shape " + shape + " holds " + shape.count() + " elements, more than a Java array can");
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) shape.count() * type.bytes()).order(order);
            readFully(dataOffset, bytes);
            bytes.flip();
            long[] values = new long[(int) shape.count()];
            for (int i = 0; i < values.length; i++) {
                values[i] = type == ElementType.INT64 ? bytes.getLong() : bytes.getInt();
            }
            return values;
        }

        /** All the data in one array; the element count must fit in one. */
        public float[] readAll() throws IOException {
            if (shape.count() > MAX_ARRAY) {
                throw fail("shape " + shape + " holds " + shape.count() + " elements, more than a Java array can");
            }
            float[] data = new float[(int) shape.count()];
            readTo((offset, chunk) -> chunk.get(data, (int) offset, chunk.remaining()));
            return data;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }

        private Shape checkHeader(Map<String, Object> dict) throws NpyFormatException {
            for (String key : List.of("descr", "fortran_order", "shape")) {
                if (!dict.containsKey(key)) {
                    throw fail("header lacks the key '" + key + "'");
                }
            }
            for (String key : dict.keySet()) {
                if (!Set.of("descr", "fortran_order", "shape").contains(key)) {
                    throw fail("header has an unexpected key '" + key + "'");
                }
            }
            if (!(dict.get("descr") instanceof String descr)) {
                throw fail("dtype " + dict.get("descr") + " is not supported: only " + ElementType.describe(accepted)
                        + " is read, not structured dtypes");
            }
            Matcher m = NUMERIC_DTYPE.matcher(descr);
            type = m.matches() && !m.group(1).equals("|") ? ElementType.ofCode(m.group(2) + m.group(3)) : null;
            if (type == null || !accepted.contains(type)) {
                throw fail("dtype '" + descr + "'" + describeDtype(descr) + " is not supported: only "
                        + ElementType.describe(accepted) + " is read");
            }
            order = m.group(1).equals(">") ? ByteOrder.BIG_ENDIAN
                    : m.group(1).equals("<") ? ByteOrder.LITTLE_ENDIAN : ByteOrder.nativeOrder();
            if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
                throw fail("'fortran_order' must be True or False, got " + dict.get("fortran_order"));
            }
            if (!(dict.get("shape") instanceof List<?> dims)) {
                throw fail("'shape' must be a tuple of integers, got " + dict.get("shape"));
            }
            long[] d = new long[dims.size()];
            int longerThanOne = 0;
            for (int i = 0; i < d.length; i++) {
                if (!(dims.get(i) instanceof BigInteger dim)) {
                    throw fail("'shape' must be a tuple of integers, got " + dims.get(i) + " at position " + i);
                }
                if (dim.bitLength() > 63) {
                    throw fail("shape dimension " + i + " (" + dim + ") does not fit in a long");
                }
                d[i] = dim.longValue();
                longerThanOne += d[i] > 1 ? 1 : 0;
            }
            // With at most one dimension over 1, Fortran and C order lay the data out identically.
            if (fortran && longerThanOne > 1) {
                throw fail("Fortran-order arrays are not supported; save a C-order array (np.ascontiguousarray)");
            }
            try {
                return Shape.of(d);
            } catch (IllegalArgumentException e) {
                throw fail("bad shape: " + e.getMessage());
            }
        }

        private ByteBuffer readAt(long position, int length) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
            readFully(position, b);
            return b.flip();
        }

        private void readFully(long position, ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                int n = channel.read(b, position);
                if (n < 0) {
                    throw fail("truncated: the file ended while reading (did it change while being read?)");
                }
                position += n;
            }
        }

        private NpyFormatException fail(String problem) {
            return new NpyFormatException(path, problem);
        }
    }
}
