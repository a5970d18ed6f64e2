package dev.gpuact.cli.stress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gpuact.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;

/**
 * Runs the gpuact command in-process, on a thread of its own with the default stack, under a time limit: a hang
 * fails the test instead of stalling it, and an Error (OutOfMemoryError, StackOverflowError) that escapes the
 * command's handlers, which {@code main} would print as a stack trace, fails it too.
 */
final class Gpuact {
    record Result(int exitCode, String out, String err) {
        /** Exit 2, nothing on stdout, exactly one line on stderr holding every fragment, and no stack trace. */
        Result rejected(String... fragments) {
            assertThat(exitCode).as("exit code; stderr: %s", err).isEqualTo(2);
            assertThat(out).as("stdout").isEmpty();
            assertThat(err.lines().toList()).as("stderr lines").hasSize(1);
            assertThat(err).as("stderr").contains(fragments).doesNotContain("Exception", "Error:", "\tat ");
            return this;
        }
    }

    private Gpuact() {
    }

    static Result run(Duration limit, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        FutureTask<Integer> task = new FutureTask<>(() -> {
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            return cl.execute(args);
        });
        Thread thread = new Thread(task, "gpuact " + String.join(" ", args));
        thread.setDaemon(true);
        thread.start();
        try {
            return new Result(task.get(limit.toMillis(), TimeUnit.MILLISECONDS), out.toString(), err.toString());
        } catch (TimeoutException e) {
            thread.interrupt();
            throw new AssertionError("gpuact " + String.join(" ", args) + " still running after " + limit);
        } catch (ExecutionException e) {
            throw new AssertionError("gpuact " + String.join(" ", args) + " let " + e.getCause()
                    + " escape: main would print a stack trace", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
