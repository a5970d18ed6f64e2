package dev.gpuact.cli;

import dev.gpuact.DeviceBuffer;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Output files that appear only if the whole command succeeds: each is written to a hidden temporary file next to
 * its target and renamed into place by {@link #commit()}; {@link #close()} deletes whatever was not committed, so
 * a failure never leaves a partial or stale-looking output behind.
 */
final class StagedOutputs implements AutoCloseable {
    private record Staged(String option, Path temp, Path target) {
    }

    private final List<Staged> staged = new ArrayList<>();

    /** Fails early, before any work, when {@code target} cannot be written: a folder, or in a missing folder. */
    static void checkWritable(String option, Path target) {
        if (Files.isDirectory(target)) {
            throw new BadInputException(option + " " + target + ": is a directory");
        }
        if (!Files.isDirectory(folder(target))) {
            throw new BadInputException(option + " " + target + ": the folder " + folder(target) + " does not exist");
        }
    }

    /** Writes {@code data} as a .npy file of {@code shape} to a temporary file beside {@code target}. */
    void write(String option, Path target, Shape shape, DeviceBuffer data) {
        Path temp = folder(target).resolve("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".partial");
        try {
            Files.createFile(temp); // created with the user's umask, unlike createTempFile's owner-only mode
            staged.add(new Staged(option, temp, target));
            Npy.write(temp, shape, data::read);
        } catch (IOException e) {
            throw NpyInput.badFile(option, target, e);
        }
    }

    /** Moves every staged file onto its target, replacing what was there. */
    void commit() {
        for (Staged s : List.copyOf(staged)) {
            try {
                try {
                    Files.move(s.temp(), s.target(), StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(s.temp(), s.target(), StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                throw NpyInput.badFile(s.option(), s.target(), e);
            }
            staged.remove(s);
        }
    }

    @Override
    public void close() throws IOException {
        for (Staged s : staged) {
            Files.deleteIfExists(s.temp());
        }
        staged.clear();
    }

    private static Path folder(Path target) {
        Path parent = target.toAbsolutePath().getParent();
        return parent == null ? target.toAbsolutePath().getRoot() : parent;
    }
}
