package dev.gpuact.cli;

import dev.gpuact.Op;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code gpuact} command. Exit codes: 0 success, 1 a failed check or an internal error, 2 bad input
 * (usage, files, values, backends), always with one line on stderr and no stack trace unless {@code --verbose}.
 */
@Command(name = "gpuact", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Neural-network activation functions on the GPU (CUDA, OpenCL) with a pure-Java fallback.",
        subcommands = {InfoCommand.class, ApplyCommand.class, GradCommand.class, CheckCommand.class, BenchCommand.class,
                PlotCommand.class, SoakCommand.class, CommandLine.HelpCommand.class})
public final class Main {
    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print the stack trace of an internal error.")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command with its converters and error handling: what {@link #main} runs, and what tests run in-process. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.registerConverter(Op.class, Main::op);
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setExecutionExceptionHandler(Main::executionError);
        return cl;
    }

    private static Op op(String name) {
        try {
            return Op.byName(name);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        cl.getErr().println(errorLine(cl, e.getMessage() + " (see '" + helpCommand(cl) + "')"));
        cl.getErr().flush();
        return ExitCode.USAGE;
    }

    private static int executionError(Exception e, CommandLine cl, ParseResult parsed) {
        PrintWriter err = cl.getErr();
        if (e instanceof BadInputException) {
            err.println(errorLine(cl, e.getMessage()));
            err.flush();
            return ExitCode.USAGE;
        }
        err.println(errorLine(cl, "internal error: " + e));
        if (verbose(parsed)) {
            e.printStackTrace(err);
        }
        err.flush();
        return ExitCode.SOFTWARE;
    }

    /** {@code gpuact apply: error: ...} on one line, whatever the message holds. */
    private static String errorLine(CommandLine cl, String message) {
        String text = message == null ? "(no message)" : message.strip().replaceAll("\\s*\\R\\s*", "; ");
        return cl.getCommandSpec().qualifiedName() + ": error: " + text;
    }

    private static String helpCommand(CommandLine cl) {
        return cl.getParent() == null ? "gpuact --help" : "gpuact help " + cl.getCommandName();
    }

    static boolean verbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** The version of the packaged jar, with the Java and OS it runs on. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return List.of("gpuact " + gpuactVersion(), "Java " + System.getProperty("java.version") + " ("
                    + System.getProperty("java.vm.name") + ")", "OS " + System.getProperty("os.name") + " "
                    + System.getProperty("os.version") + " " + System.getProperty("os.arch")).toArray(String[]::new);
        }
    }

    /** From the jar's manifest; a build run from class folders (tests, IDE) has none. */
    static String gpuactVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "development build (no jar manifest)" : v;
    }
}
