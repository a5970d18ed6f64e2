package dev.gpuact.cli;

import dev.gpuact.DeviceBuffer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Output files that appear only if the whole command succeeds. What {@code --out} names decides how:
 * <ul>
 * <li>a new path, or a regular file: written to a hidden {@code .NAME.*.partial} file beside it and renamed into
 * place by {@link #commit()}; an existing file's mode, owner and group are carried over to the new one;</li>
 * <li>a symbolic link: the same rules apply to the file it points to, so the link itself stays;</li>
 * <li>a device ({@code /dev/null}, {@code /dev/stdout}), a named pipe, or a regular file with other hard links:
 * written in place, as the shell's {@code >} would, since replacing it would destroy what it is. Such a write is
 * not atomic: a failure can leave part of the output there.</li>
 * </ul>
 * {@link #close()} deletes whatever was not committed, and so does the JVM's shutdown (SIGTERM, SIGINT), so a
 * failure never leaves a partial or stale-looking output behind.
 */
final class StagedOutputs implements AutoCloseable {
    /** File names are at most 255 bytes on the usual file systems; the temporary name adds this much. */
    private static final int NAME_MAX = 255;
    private static final String SUFFIX = ".partial";
    /** Temporary files and folders of every instance not yet committed or deleted, for the shutdown hook. */
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> PENDING.forEach(StagedOutputs::deleteQuietly),
                "gpuact: delete partial outputs"));
    }

    /** Writes one output to a file: the staged temporary file, or the target itself when written in place. */
    @FunctionalInterface
    interface Writer {
        void write(Path file) throws IOException;
    }

    private record Staged(String option, Path temp, Path target, boolean folder) {
    }

    private final List<Staged> staged = new ArrayList<>();

    /** Fails early, before any work, when {@code target} cannot be written: a folder, or in a missing folder. */
    static void checkWritable(String option, Path target) {
        Path real = followLinks(option, target);
        if (Files.isDirectory(real)) {
            throw new BadInputException(option + " " + target + ": is a directory");
        }
        if (!Files.isDirectory(folder(real))) {
            throw new BadInputException(option + " " + target + ": the folder " + folder(real) + " does not exist");
        }
    }

    /** Fails early when {@code target}, which will be a report folder, exists and is not a folder. */
    static void checkFolderWritable(String option, Path target) {
        Path real = followLinks(option, target);
        if (Files.exists(real) && !Files.isDirectory(real)) {
            throw new BadInputException(option + " " + target + ": exists and is not a folder");
        }
    }

    /**
     * Rejects two outputs that are one file, whatever the spelling: the same path, a symbolic link to it, or a hard
     * link to it (the second would silently replace the first).
     */
    static void checkDistinct(String optionA, Path a, String optionB, Path b) {
        Path realA = followLinks(optionA, a);
        Path realB = followLinks(optionB, b);
        boolean same;
        try {
            same = Files.exists(realA) && Files.exists(realB) ? Files.isSameFile(realA, realB)
                    : canonical(realA).equals(canonical(realB));
        } catch (IOException e) {
            throw new BadInputException(optionA + " " + a + ": " + describe(e));
        }
        if (same) {
            throw new BadInputException(optionA + " " + a + " and " + optionB + " " + b
                    + " are the same file; each output needs a file of its own");
        }
    }

    /** Writes {@code data} as a float32 .npy file of {@code shape}. */
    void write(String option, Path target, Shape shape, DeviceBuffer data) {
        write(option, target, shape, Npy.ElementType.FLOAT32, data);
    }

    /** Writes {@code data} as a .npy file of {@code shape} and element {@code type}. */
    void write(String option, Path target, Shape shape, Npy.ElementType type, DeviceBuffer data) {
        write(option, target, file -> Npy.write(file, shape, type, data::read));
    }

    /** Writes one output with {@code writer}: to a temporary file, or in place for a device or pipe (see above). */
    void write(String option, Path target, Writer writer) {
        Path real = followLinks(option, target);
        try {
            BasicFileAttributes existing = attributes(real);
            if (existing != null && !existing.isRegularFile() || hasOtherLinks(real, existing)) {
                writer.write(real);
                return;
            }
            Path temp = tempBeside(real);
            Files.createFile(temp); // created with the user's umask, unlike createTempFile's owner-only mode
            pending(new Staged(option, temp, real, false));
            if (existing != null) {
                keepModeAndOwner(real, temp);
            }
            writer.write(temp);
        } catch (IOException e) {
            throw new BadInputException(option + " " + target + ": " + describe(e));
        }
    }

    /**
     * A new hidden folder beside {@code target} to write a report into; {@link #commit()} moves its files into
     * {@code target} (made if missing; files of an earlier report there are replaced one by one).
     */
    Path folder(String option, Path target) {
        Path real = followLinks(option, target);
        try {
            Files.createDirectories(folder(real));
            Path temp = tempBeside(real);
            Files.createDirectory(temp);
            pending(new Staged(option, temp, real, true));
            return temp;
        } catch (IOException e) {
            throw new BadInputException(option + " " + target + ": " + describe(e));
        }
    }

    /** Moves every staged file onto its target, replacing what was there. */
    void commit() {
        for (Staged s : List.copyOf(staged)) {
            try {
                if (s.folder()) {
                    Files.createDirectories(s.target());
                    try (Stream<Path> files = Files.list(s.temp())) {
                        for (Path file : files.toList()) {
                            move(file, s.target().resolve(file.getFileName()));
                        }
                    }
                    Files.delete(s.temp());
                } else {
                    move(s.temp(), s.target());
                }
            } catch (IOException e) {
                throw new BadInputException(s.option() + " " + s.target() + ": " + describe(e));
            }
            staged.remove(s);
            PENDING.remove(s.temp());
        }
    }

    @Override
    public void close() {
        for (Staged s : staged) {
            deleteQuietly(s.temp());
            PENDING.remove(s.temp());
        }
        staged.clear();
    }

    /** An I/O failure in words: the system's reason rather than the bare path most of them carry as a message. */
    static String describe(IOException e) {
        if (!(e instanceof FileSystemException) && e.getCause() instanceof IOException cause) {
            return describe(cause); // ImageIO's "I/O error writing PNG file!" wraps the real reason
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof NotDirectoryException) {
            return "a part of the path is not a folder";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "a folder that is not empty is in the way";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private void pending(Staged s) {
        staged.add(s);
        PENDING.add(s.temp());
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Where {@code target}'s bytes go: the path at the end of its chain of symbolic links (itself if none). */
    static Path followLinks(String option, Path target) {
        Path p = target.toAbsolutePath();
        try {
            for (int hops = 0; Files.isSymbolicLink(p); hops++) {
                if (hops == 40) {
                    throw new BadInputException(option + " " + target + ": too many levels of symbolic links");
                }
                Path next = p.getParent().resolve(Files.readSymbolicLink(p));
                if (Files.notExists(next, LinkOption.NOFOLLOW_LINKS) && Files.exists(p)) {
                    return p; // a kernel link such as /dev/stdout's /proc/self/fd/1 -> "pipe:[N]": written through
                }
                p = next;
            }
        } catch (IOException e) {
            throw new BadInputException(option + " " + target + ": " + describe(e));
        }
        return p;
    }

    private static BasicFileAttributes attributes(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** A file with other hard links is written in place: renaming over it would cut it off from the others. */
    private static boolean hasOtherLinks(Path path, BasicFileAttributes existing) throws IOException {
        if (existing == null || !path.getFileSystem().supportedFileAttributeViews().contains("unix")) {
            return false;
        }
        return ((Number) Files.getAttribute(path, "unix:nlink", LinkOption.NOFOLLOW_LINKS)).intValue() > 1;
    }

    /** The replacement gets the replaced file's permissions, and its owner and group where this user may set them. */
    private static void keepModeAndOwner(Path original, Path temp) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(temp, PosixFileAttributeView.class);
        if (view == null) {
            return;
        }
        PosixFileAttributes was = Files.readAttributes(original, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        PosixFileAttributes now = view.readAttributes();
        if (!was.owner().equals(now.owner()) || !was.group().equals(now.group())) {
            try {
                view.setOwner(was.owner());
                view.setGroup(was.group());
            } catch (IOException e) {
                // Only root may give a file away; the new file is then this user's, as any file they write is.
            }
        }
        view.setPermissions(was.permissions());
    }

    /** {@code .NAME.RANDOM.partial} beside {@code target}, with NAME cut so the whole stays a legal file name. */
    private static Path tempBeside(Path target) {
        String random = "." + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE) + SUFFIX;
        String name = fitBytes(target.getFileName().toString(), NAME_MAX - 1 - random.length());
        return folder(target).resolve("." + name + random);
    }

    /** The longest prefix of {@code s} whose UTF-8 encoding has at most {@code maxBytes} bytes. */
    static String fitBytes(String s, int maxBytes) {
        int bytes = 0;
        int end = 0;
        while (end < s.length()) {
            int cp = s.codePointAt(end);
            int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + size > maxBytes) {
                break;
            }
            bytes += size;
            end += Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    private static Path canonical(Path path) throws IOException {
        Path folder = folder(path).normalize();
        return (Files.exists(folder) ? folder.toRealPath() : folder).resolve(path.getFileName());
    }

    private static void deleteQuietly(Path path) {
        try (Stream<Path> all = Files.walk(path)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // gone already, or not ours to remove: nothing more to do on the way out
        }
    }

    private static Path folder(Path target) {
        Path parent = target.toAbsolutePath().getParent();
        return parent == null ? target.toAbsolutePath().getRoot() : parent;
    }
}
