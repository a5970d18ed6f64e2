package dev.gpuact.conformance;

import java.util.List;

/**
 * The outcome of {@link Conformance#check} for one op on one backend.
 *
 * @param name           the op id, e.g. {@code gelu}
 * @param maxUlpForward  the largest forward error seen, in ULPs (row-wise ops: the softmax/log_softmax element
 *                       error; maxout 0 when exact)
 * @param maxUlpBackward the largest backward error seen, in ULPs (of the term scale where one applies)
 * @param points         how many outputs were compared
 * @param failures       readable lines, at most about ten, the last one counting the rest; empty when passed
 */
public record OpReport(String name, double maxUlpForward, double maxUlpBackward, long points, List<String> failures) {
    public OpReport {
        failures = List.copyOf(failures);
    }

    public boolean passed() {
        return failures.isEmpty();
    }
}
