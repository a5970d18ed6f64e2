package dev.gpuact.cli;

import java.io.Closeable;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
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
 * NumPy {@code .npy} files of little-endian float32 in C order, format versions 1.0, 2.0 and 3.0.
 *
 * <p>The header is checked against the file size before anything is allocated for the data, and the data moves
 * through a {@link FileChannel} in fixed-size chunks, so a file of any size (or a lying header) costs at most
 * one chunk of memory here. See numpy's {@code numpy/lib/format.py} for the format.
 */
public final class Npy {
    /** The only dtype read or written: little-endian float32. */
    public static final String FLOAT32 = "<f4";
    /** The integer dtypes read as lengths: little-endian int32 and int64. */
    public static final String INT32 = "<i4";
    public static final String INT64 = "<i8";

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

    /** Writes {@code data} (C order) with {@code shape}; its length must be the shape's element count. */
    public static void write(Path path, Shape shape, float[] data) throws IOException {
        if (data.length != shape.count()) {
            throw new IllegalArgumentException("data holds " + data.length + " floats but shape " + shape + " needs "
                    + shape.count());
        }
        write(path, shape, (offset, chunk) -> chunk.put(data, (int) offset, chunk.remaining()));
    }

    /** Writes a file of {@code shape}, pulling the data from {@code source} chunk by chunk. */
    public static void write(Path path, Shape shape, FloatSource source) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(header(shape)));
            ByteBuffer bytes = chunkBuffer(shape.count());
            FloatBuffer floats = bytes.asFloatBuffer();
            for (long done = 0; done < shape.count(); ) {
                int n = (int) Math.min(floats.capacity(), shape.count() - done);
                floats.clear().limit(n);
                source.read(done, floats);
                bytes.clear().limit(n * Float.BYTES);
                writeFully(ch, bytes);
                done += n;
            }
        }
    }

    /** The magic, version, header length and the header dict, padded so that the data starts aligned. */
    static byte[] header(Shape shape) {
        String dict = "{'descr': '" + FLOAT32 + "', 'fortran_order': False, 'shape': " + shape + ", }";
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

    /** An open float32 .npy file whose header has been validated against its size; the data is read on request. */
    public static final class Reader implements Closeable {
        private final Path path;
        private final FileChannel channel;
        private final Shape shape;
        private final long dataOffset;
        private final List<String> dtypes;
        private String dtype;

        private Reader(Path path, FileChannel channel, List<String> dtypes) throws IOException {
            this.path = path;
            this.channel = channel;
            this.dtypes = dtypes;
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
            int elementBytes = dtype.equals(INT64) ? Long.BYTES : Float.BYTES;
            if (shape.count() > Long.MAX_VALUE / elementBytes) {
                throw fail("shape " + shape + " holds more bytes than a file can");
            }
            long needed = shape.count() * elementBytes;
            long held = size - dataOffset;
            if (held != needed) {
                throw fail((held < needed ? "truncated: " : "trailing bytes: ") + "shape " + shape + " needs " + needed
                        + " bytes of " + describe(dtype) + " data but the file holds " + held + " after the header");
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

        /** Opens and validates {@code path}; the data is not read yet. */
        public static Reader open(Path path) throws IOException {
            return open(path, List.of(FLOAT32));
        }

        /** Opens and validates an int32 or int64 .npy file, for {@link #readIntegers()}. */
        public static Reader openIntegers(Path path) throws IOException {
            return open(path, List.of(INT32, INT64));
        }

        private static Reader open(Path path, List<String> dtypes) throws IOException {
            if (Files.isDirectory(path)) {
                throw new NpyFormatException(path, "is a directory, not a .npy file");
            }
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            try {
                return new Reader(path, channel, dtypes);
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

        /** Passes the data to {@code sink} in chunks, in order, with each chunk's element offset. */
        public void readTo(FloatSink sink) throws IOException {
            ByteBuffer bytes = chunkBuffer(shape.count());
            FloatBuffer floats = bytes.asFloatBuffer();
            for (long done = 0; done < shape.count(); ) {
                int n = (int) Math.min(floats.capacity(), shape.count() - done);
                bytes.clear().limit(n * Float.BYTES);
                readFully(dataOffset + done * Float.BYTES, bytes);
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
            int elementBytes = dtype.equals(INT64) ? Long.BYTES : Integer.BYTES;
            ByteBuffer bytes = ByteBuffer.allocate((int) shape.count() * elementBytes).order(ByteOrder.LITTLE_ENDIAN);
            readFully(dataOffset, bytes);
            bytes.flip();
            long[] values = new long[(int) shape.count()];
            for (int i = 0; i < values.length; i++) {
                values[i] = elementBytes == Long.BYTES ? bytes.getLong() : bytes.getInt();
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
                throw fail("dtype " + dict.get("descr") + " is not supported: only " + accepted()
                        + " is read, not structured dtypes");
            }
            if (!dtypes.contains(descr)) {
                throw fail("dtype '" + descr + "'" + describeDtype(descr) + " is not supported: only " + accepted()
                        + " is read");
            }
            dtype = descr;
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

        /** "little-endian float32 ('<f4')", or the integer pair. */
        private String accepted() {
            return "little-endian " + String.join(" or ", dtypes.stream().map(d -> describe(d) + " ('" + d + "')").toList());
        }

        private static String describe(String dtype) {
            return switch (dtype) {
                case INT32 -> "int32";
                case INT64 -> "int64";
                default -> "float32";
            };
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
