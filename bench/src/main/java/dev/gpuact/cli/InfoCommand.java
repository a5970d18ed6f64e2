package dev.gpuact.cli;

import dev.gpuact.Backends;
import dev.gpuact.Op;
import dev.gpuact.fallback.Vectorization;
import dev.gpuact.spi.Probe;
import java.io.PrintWriter;
import java.util.List;
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
        for (Backends.Status s : statuses) {
            Probe p = s.probe();
            out.printf("  %-7s %s: %s%n", s.name(), p.usable() ? "usable" : "NOT usable", p.reason());
            p.devices().forEach(d -> out.println("          device: " + d));
            p.details().forEach(d -> out.println("          " + d));
        }
        if (statuses.isEmpty()) {
            out.println("  (none found: no BackendProvider is registered on the class path)");
        }
        out.println();
        out.println("cpu kernels: " + Vectorization.description());
        out.println("auto picks: " + autoChoice());
        out.println();
        out.println("Activations: " + List.of(Op.values()).stream().map(Op::id).collect(Collectors.joining(", ")));
        out.flush();
        return 0;
    }

    /** The backend a command without --backend opens, and what made the choice. */
    private static String autoChoice() {
        String property = System.getProperty(Backends.PROPERTY);
        if (property != null && !property.isBlank()) {
            return property + " (set by -D" + Backends.PROPERTY + ")";
        }
        String env = System.getenv(Backends.ENVIRONMENT);
        if (env != null && !env.isBlank()) {
            return env + " (set by " + Backends.ENVIRONMENT + ")";
        }
        List<String> usable = Backends.usableNames();
        return usable.isEmpty() ? "nothing: no backend is usable" : usable.get(0);
    }
}
