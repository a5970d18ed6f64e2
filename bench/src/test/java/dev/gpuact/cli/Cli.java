package dev.gpuact.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine;

/** Runs the gpuact command in-process, as {@code main} would, with stdout and stderr captured. */
final class Cli {
    record Result(int exitCode, String out, String err) {
        /** Exit 0 and nothing on stderr. */
        Result succeeded() {
            assertThat(err).as("stderr").isEmpty();
            assertThat(exitCode).as("exit code").isZero();
            return this;
        }

        /** Exit 2, nothing on stdout, and exactly one line on stderr holding every fragment. */
        Result rejected(String... fragments) {
            assertThat(exitCode).as("exit code; stderr: %s", err).isEqualTo(2);
            assertThat(out).as("stdout").isEmpty();
            assertThat(err.lines().toList()).as("stderr lines").hasSize(1);
            assertThat(err).as("stderr").contains(fragments).doesNotContain("Exception", "\tat ");
            return this;
        }
    }

    private Cli() {
    }

    static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    /** The files in {@code dir}, hidden ones too, to show a failed command left nothing behind. */
    static List<String> files(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
