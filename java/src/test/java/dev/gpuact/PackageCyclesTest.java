package dev.gpuact;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The package graph of the compiled main classes, as the JDK's jdeps reads it: the spi and the backends lie on no
 * cycle. The API may be used by the spi, never the other way round, so a backend can be written against the API
 * and the spi alone.
 */
class PackageCyclesTest {
    private static final Pattern EDGE = Pattern.compile("^\\s*(dev\\.gpuact[\\w.]*)\\s+->\\s+(dev\\.gpuact[\\w.]*)\\s");

    @ParameterizedTest
    @ValueSource(strings = {"dev.gpuact.spi", "dev.gpuact.cpu", "dev.gpuact.opencl", "dev.gpuact.cuda"})
    void liesOnNoCycle(String pkg) throws Exception {
        Map<String, Set<String>> graph = packageGraph();
        assertThat(graph).as("packages jdeps found").containsKey(pkg);
        assertThat(cycleThrough(pkg, graph)).as("a cycle through " + pkg).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev.gpuact.spi", "dev.gpuact.cpu", "dev.gpuact.opencl", "dev.gpuact.cuda"})
    void theApiDoesNotDependOn(String pkg) throws Exception {
        assertThat(packageGraph().get("dev.gpuact")).doesNotContain(pkg);
    }

    /** Package to the packages of this project it uses, from {@code jdeps -verbose:package} on the main classes. */
    private static Map<String, Set<String>> packageGraph() throws Exception {
        Path classes = Path.of(Backend.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow();
        StringWriter out = new StringWriter();
        int status = jdeps.run(new PrintWriter(out), new PrintWriter(out), "-verbose:package", "-filter:none",
                classes.toString());
        assertThat(status).as("jdeps on %s: %s", classes, out).isZero();
        Map<String, Set<String>> graph = new TreeMap<>();
        for (String line : out.toString().split("\n")) {
            Matcher m = EDGE.matcher(line);
            if (m.find()) {
                graph.computeIfAbsent(m.group(1), p -> new TreeSet<>());
                if (!m.group(1).equals(m.group(2))) {
                    graph.get(m.group(1)).add(m.group(2));
                }
            }
        }
        return graph;
    }

    /** A path from {@code start} back to itself, if there is one. */
    private static Optional<List<String>> cycleThrough(String start, Map<String, Set<String>> graph) {
        Deque<List<String>> paths = new ArrayDeque<>();
        paths.add(List.of(start));
        Set<String> seen = new HashSet<>();
        while (!paths.isEmpty()) {
            List<String> path = paths.poll();
            for (String next : graph.getOrDefault(path.get(path.size() - 1), Set.of())) {
                List<String> longer = new ArrayList<>(path);
                longer.add(next);
                if (next.equals(start)) {
                    return Optional.of(longer);
                }
                if (seen.add(next)) {
                    paths.add(longer);
                }
            }
        }
        return Optional.empty();
    }
}
