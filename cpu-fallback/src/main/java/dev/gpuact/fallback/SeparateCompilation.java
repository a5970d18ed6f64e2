package dev.gpuact.fallback;

import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * Keeps methods out of their callers' JIT compilations, or always in them, through HotSpot's compiler control (JEP
 * 165): a directive, added at run time by the {@code Compiler.directives_add} diagnostic command (the platform MBean
 * that {@code jcmd} calls), that names them in its inline list with a minus or a plus. It matches every method, so
 * the rule holds in every caller; it changes nothing else (every other option of a directive defaults to the JVM's
 * flags). No JVM flag is needed; on a JVM without the command (not HotSpot, or no {@code jdk.management} module) one
 * line is logged and the methods inline as the JIT decides.
 */
final class SeparateCompilation {
    private static final String DIAGNOSTIC_COMMANDS = "com.sun.management:type=DiagnosticCommand";
    /**
     * Every rule asked for so far ("-" never inline, "+" always). The JIT applies only the first directive on its
     * stack that matches a method, and each directive here matches every method: so each new one lists all the rules,
     * not just its own. Within one, the first matching rule wins: the minus rules go first.
     */
    private static final Set<String> NEVER = new LinkedHashSet<>();
    private static final Set<String> ALWAYS = new LinkedHashSet<>();

    private SeparateCompilation() {
    }

    /**
     * Methods of {@code holder} whose names match {@code methodPattern} (a name with {@code *} at its start or end)
     * are never inlined into another method's compilation; returns whether the directive was added.
     */
    static synchronized boolean neverInline(Class<?> holder, String methodPattern) {
        String methods = pattern(holder, methodPattern);
        NEVER.add(methods);
        return install(methods);
    }

    /**
     * Vector loops apart, their math in them: methods of {@code loops} whose names end in "Loop" are never inlined
     * into a caller, and every other method of {@code loops} and of {@code helpers} is always inlined into its
     * caller. Without the second rule a helper the interpreter or C1 called often enough was compiled on its own
     * first, now and then, and C2 then declined to inline it into the loop ("already compiled into a big method"):
     * its vectors crossed a call boxed, for the rest of the run (gelu 4 -> 16-40 ms per 16M floats in some JVMs).
     */
    static synchronized boolean loopsApart(Class<?> loops, Class<?>... helpers) {
        NEVER.add(pattern(loops, "*Loop"));
        ALWAYS.add(pattern(loops, "*"));
        for (Class<?> helper : helpers) {
            ALWAYS.add(pattern(helper, "*"));
        }
        return install(pattern(loops, "*"));
    }

    private static String pattern(Class<?> holder, String methodPattern) {
        return holder.getName().replace('.', '/') + "." + methodPattern;
    }

    private static boolean install(String methods) {
        try {
            Path file = Files.createTempFile("gpuact-compiler-directive", ".json");
            try {
                String inline = Stream.concat(NEVER.stream().map(p -> "\"-" + p + "\""),
                        ALWAYS.stream().map(p -> "\"+" + p + "\"")).collect(Collectors.joining(", "));
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
            System.getLogger("dev.gpuact.cpu").log(Level.WARNING, "gpuact: could not set how the JIT inlines "
                    + methods + " (" + e + "); the cpu backend's vector kernels may slow down when it inlines "
                    + "otherwise");
            return false;
        }
    }
}
