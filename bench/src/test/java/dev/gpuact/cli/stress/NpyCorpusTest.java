package dev.gpuact.cli.stress;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every malformed file of {@code npy-corpus/} (see its make_corpus.py), given as the input, the upstream gradient
 * and the PReLU weight: one clear line, exit 2, no output file, within a few seconds and without running out of
 * memory. Two cases too big to commit are made here: a header over the size limit and an 8 GiB sparse file whose
 * header is consistent but whose data cannot fit the Java backend.
 */
class NpyCorpusTest {
    private static final Duration LIMIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    static Stream<String> corpus() throws IOException, URISyntaxException {
        Path folder = Path.of(NpyCorpusTest.class.getResource("/npy-corpus").toURI());
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".npy")).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void aMalformedFileIsOneClearLine(String name) throws Exception {
        Path bad = Path.of(NpyCorpusTest.class.getResource("/npy-corpus/" + name).toURI());
        Path good = dir.resolve("good.npy");
        Files.write(good, GOOD_2X3);
        Path out = dir.resolve("out.npy");
        Gpuact.run(LIMIT, "apply", "--backend", "cpu", "--op", "relu", "--in", bad.toString(), "--out", out.toString())
                .rejected("--in", name);
        Gpuact.run(LIMIT, "grad", "--backend", "cpu", "--op", "gelu", "--in", good.toString(), "--grad", bad.toString(),
                "--out", out.toString()).rejected("--grad", name);
        Gpuact.run(LIMIT, "apply", "--backend", "cpu", "--op", "prelu", "--in", good.toString(), "--weight",
                bad.toString(), "--out", out.toString()).rejected("--weight", name);
        assertThat(out).doesNotExist();
    }

    @Test
    void aHeaderOverTheLimitIsRefusedBeforeItIsRead() throws IOException {
        Path bad = dir.resolve("huge_header.npy");
        int length = 2 << 20;
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(length);
        try (RandomAccessFile f = new RandomAccessFile(bad.toFile(), "rw")) {
            f.write(b.array());
            f.setLength(12 + length);
        }
        Gpuact.run(LIMIT, "apply", "--backend", "cpu", "--op", "relu", "--in", bad.toString(), "--out",
                dir.resolve("out.npy").toString()).rejected("header length 2097152 is over the limit");
    }

    @Test
    void aConsistentFileTooBigForTheBackendIsBadInputNotAnInternalError() throws IOException {
        long count = 1L << 31;
        Path big = dir.resolve("sparse_2_31.npy");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + count + ",), }";
        byte[] text = (dict + " ".repeat(64 - (10 + dict.length() + 1) % 64) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + text.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length).put(text);
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.write(b.array());
            f.setLength(b.capacity() + count * Float.BYTES); // sparse: no disk is used for the zeros
        }
        Gpuact.run(LIMIT, "apply", "--backend", "cpu", "--op", "relu", "--in", big.toString(), "--out",
                dir.resolve("out.npy").toString()).rejected("--in", "2147483648");
    }

    /** A valid float32 (2, 3) file, version 1.0. */
    static final byte[] GOOD_2X3 = goodFile();

    private static byte[] goodFile() {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        String text = dict + " ".repeat(64 - (10 + dict.length() + 1) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + text.length() + 24).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length());
        b.put(text.getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < 6; i++) {
            b.putFloat(i - 2.5f);
        }
        return b.array();
    }
}
