package dev.gpuact.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The OpenCL program text, assembled from the kernels-opencl resources. Files in a jar cannot be reached by the
 * OpenCL compiler's include path, so {@code #include "file"} lines are replaced by the file here, each time they
 * appear (activations.def is meant to be included more than once), with {@code #line} markers so build logs
 * name the real file and line.
 */
final class KernelSource {
    static final String RESOURCE_DIR = "/dev/gpuact/kernels/";
    /** The files that make up the program, in order. */
    static final String[] PROGRAM_FILES = {"elementwise.cl", "rowwise.cl", "rowwise_from_output.cl", "gated.cl",
        "convert.cl"};

    private static final Pattern INCLUDE = Pattern.compile("^#include \"([\\w.]+)\"\\s*$", Pattern.MULTILINE);

    private KernelSource() {
    }

    /** The whole program: every file of {@link #PROGRAM_FILES} with its includes inlined. */
    static String program() {
        StringBuilder sb = new StringBuilder();
        for (String file : PROGRAM_FILES) {
            sb.append(inline(file, 0)).append('\n');
        }
        return sb.toString();
    }

    /** The elementwise kernels alone, which the backend builds once more for each 16-bit storage type it meets. */
    static String elementwise() {
        return inline("elementwise.cl", 0);
    }

    static String inline(String file, int depth) {
        if (depth > 8) {
            throw new IllegalStateException("#include nesting deeper than 8 at " + file);
        }
        String text = resource(file);
        StringBuilder out = new StringBuilder("#line 1 \"" + file + "\"\n");
        Matcher m = INCLUDE.matcher(text);
        int last = 0;
        while (m.find()) {
            out.append(text, last, m.start());
            out.append(inline(m.group(1), depth + 1));
            int line = 1 + (int) text.substring(0, m.end()).chars().filter(c -> c == '\n').count();
            out.append("\n#line ").append(line + 1).append(" \"").append(file).append("\"\n");
            last = m.end() + (m.end() < text.length() && text.charAt(m.end()) == '\n' ? 1 : 0);
        }
        return out.append(text, last, text.length()).toString();
    }

    private static String resource(String file) {
        try (InputStream in = KernelSource.class.getResourceAsStream(RESOURCE_DIR + file)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + RESOURCE_DIR + file
                        + " is not on the class path (is gpuact-kernels-opencl missing?)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + file, e);
        }
    }
}
