package dev.gpuact.fallback;

import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * Keeps methods out of their callers' JIT compilations, through HotSpot's compiler control (JEP 165): a directive,
 * added at run time by the {@code Compiler.directives_add} diagnostic command (the platform MBean that {@code jcmd}
 * calls), that names them in its inline list with a minus. It matches every method, so no caller inlines them; it
 * changes nothing else (every other option of a directive defaults to the JVM's flags). No JVM flag is needed; on
 * a JVM without the command (not HotSpot, or no {@code jdk.management} module) one line is logged and the methods
 * inline as the JIT decides.
 */
final class SeparateCompilation {
    private static final String DIAGNOSTIC_COMMANDS = "com.sun.management:type=DiagnosticCommand";
    /**
     * Every pattern asked for so far. The JIT applies only the first directive on its stack that matches a method,
     * and each directive here matches every method: so each new one lists all the patterns, not just its own.
     */
    private static final Set<String> PATTERNS = new LinkedHashSet<>();

    private SeparateCompilation() {
    }

    /**
     * Methods of {@code holder} whose names match {@code methodPattern} (a name with {@code *} at its start or end)
     * are never inlined into another method's compilation; returns whether the directive was added.
     */
    static synchronized boolean neverInline(Class<?> holder, String methodPattern) {
        String methods = holder.getName().replace('.', '/') + "." + methodPattern;
        PATTERNS.add(methods);
        try {
            Path file = Files.createTempFile("gpuact-compiler-directive", ".json");
            try {
                String inline = PATTERNS.stream().map(p -> "\"-" + p + "\"").collect(Collectors.joining(", "));
                Files.writeString(file, "[{match: \"*.*\", inline: [" + inline + "]}]");
                Object reply = ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName(DIAGNOSTIC_COMMANDS),
                        "compilerDirectivesAdd", new Object[] {new String[] {file.toString()}},
                        new String[] {String[].class.getName()});
                if (reply instanceof String text && !text.contains("1 compiler directives added")) {
                    throw new IllegalStateException(text.strip());
                }
            } finally {
                Files.deleteIfExists(file);
            }
            return true;
        } catch (JMException | java.io.IOException | RuntimeException | LinkageError e) {
            System.getLogger("dev.gpuact.cpu").log(Level.WARNING, "gpuact: could not keep the JIT from inlining "
                    + methods + " (" + e + "); the cpu backend's vector kernels may slow down when a caller inlines "
                    + "them");
            return false;
        }
    }
}
