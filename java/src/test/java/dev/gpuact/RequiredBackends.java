package dev.gpuact;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * "Run on this backend, or skip saying why": a test that needs a backend is skipped where it cannot run, unless
 * the system property {@value #PROPERTY} (a comma list, passed on by Surefire from the parent pom) names it: then
 * it fails, so a broken setup is not mistaken for a missing one.
 */
public final class RequiredBackends {
    public static final String PROPERTY = "gpuact.requireBackends";

    private RequiredBackends() {
    }

    /** The backend names {@value #PROPERTY} lists. */
    public static Set<String> names() {
        return Arrays.stream(System.getProperty(PROPERTY, "").split(",")).map(String::trim)
                .filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    }

    /**
     * Returns when {@code usable}; otherwise fails the test if {@code name} is required, else aborts it, either
     * way with {@code reason}.
     */
    public static void requireOrSkip(String name, boolean usable, String reason) {
        if (usable) {
            return;
        }
        if (names().contains(name)) {
            Assertions.fail(reason + " (and -D" + PROPERTY + " requires " + name + ")");
        }
        Assumptions.abort(reason);
    }
}
