package dev.gpuact.cli;

import dev.gpuact.Backends;
import dev.gpuact.Op;
import dev.gpuact.Probe;
import dev.gpuact.fallback.Vectorization;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code gpuact info}: what runs here, what does not and why, and which backend {@code auto} picks. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Lists every backend with whether it is usable and why, the versions, and the activations.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (String line : new Main.Version().getVersion()) {
            out.println(line);
        }
        out.println();
        out.println("Backends (in order of preference):");
        List<Backends.Status> statuses = Backends.statuses();
        boolean verbose = Main.verbose(spec.root().commandLine().getParseResult());
        for (Backends.Status s : statuses) {
            Probe p = s.probe();
            out.printf("  %-7s %s: %s%n", s.name(), p.usable() ? "usable" : "NOT usable", oneLine(p.reason()));
            p.devices().forEach(d -> out.println("          device: " + oneLine(d)));
            if (verbose) {
                p.details().forEach(d -> out.println("          " + d));
            }
        }
        if (statuses.isEmpty()) {
            out.println("  (none found: no BackendProvider is registered on the class path)");
        }
        if (!verbose) {
            out.println("  (--verbose adds each backend's details: platforms, caches, and the full errors)");
        }
        out.println();
        out.println("cpu kernels: " + Vectorization.description());
        out.println("auto picks: " + autoChoice(statuses));
        out.println();
        out.println("Activations: " + List.of(Op.values()).stream().map(Op::id).collect(Collectors.joining(", ")));
        out.flush();
        return 0;
    }

    private static String oneLine(String text) {
        return text.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** The backend a command without --backend opens, and what made the choice (or why it cannot). */
    private static String autoChoice(List<Backends.Status> statuses) {
        String property = System.getProperty(Backends.PROPERTY);
        String env = System.getenv(Backends.ENVIRONMENT);
        String source = property != null && !property.isBlank() ? "-D" + Backends.PROPERTY
                : env != null && !env.isBlank() ? Backends.ENVIRONMENT : null;
        String named = source == null ? "auto" : (source.startsWith("-D") ? property : env).trim().toLowerCase(Locale.ROOT);
        String wanted = named.equals("java") ? "cpu" : named;
        if (wanted.equals("auto")) {
            List<String> usable = Backends.usableNames();
            return (usable.isEmpty() ? "nothing: no backend is usable" : usable.get(0))
                    + (source == null ? "" : " (auto, set by " + source + ")");
        }
        return statuses.stream().filter(s -> s.name().equals(wanted)).findFirst()
                .map(s -> s.usable() ? wanted + " (set by " + source + ")"
                        : "nothing: " + source + " names " + wanted + ", which is not usable: " + s.probe().reason())
                .orElse("nothing: " + source + "=" + named + " names no backend; known: auto, "
                        + statuses.stream().map(Backends.Status::name).collect(Collectors.joining(", ")));
    }
}
