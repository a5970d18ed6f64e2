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
 *
 * <p>Each module tests its own backends: {@value #TESTED_PROPERTY} (a comma list set by the module's pom; empty for
 * every backend found) limits both the backend-parameterised suites and which of the required backends count.
 */
public final class RequiredBackends {
    public static final String PROPERTY = "gpuact.requireBackends";
    public static final String TESTED_PROPERTY = "gpuact.testBackends";

    private RequiredBackends() {
    }

    /** The backend names {@value #PROPERTY} lists, among those this module tests. */
    public static Set<String> names() {
        return list(PROPERTY).stream().filter(RequiredBackends::tested).collect(Collectors.toSet());
    }

    /** Whether this module's backend-parameterised tests cover the named backend. */
    public static boolean tested(String name) {
        Set<String> tested = list(TESTED_PROPERTY);
        return tested.isEmpty() || tested.contains(name);
    }

    private static Set<String> list(String property) {
        return Arrays.stream(System.getProperty(property, "").split(",")).map(String::trim)
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
