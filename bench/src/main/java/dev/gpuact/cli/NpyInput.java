package dev.gpuact.cli;

import dev.gpuact.Backend;
import dev.gpuact.DeviceBuffer;
import dev.gpuact.OutOfDeviceMemoryException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** A .npy file named by a command-line option: opened and validated up front, uploaded on request. */
final class NpyInput implements AutoCloseable {
    private final String option;
    private final Npy.Reader reader;

    private NpyInput(String option, Npy.Reader reader) {
        this.option = option;
        this.reader = reader;
    }

    /** @throws BadInputException naming the option and the file when it is missing, unreadable or not float32 .npy */
    static NpyInput open(String option, Path path) {
        try {
            return new NpyInput(option, Npy.Reader.open(path));
        } catch (IOException e) {
            throw badFile(option, path, e);
        }
    }

    Shape shape() {
        return reader.shape();
    }

    /** The file's element type: outputs computed from it are written in the same one. */
    Npy.ElementType type() {
        return reader.type();
    }

    /** A new buffer on {@code backend} holding the file's data; the caller closes it. */
    DeviceBuffer upload(Backend backend) {
        DeviceBuffer buffer;
        try {
            buffer = backend.allocate(shape().count());
        } catch (IllegalArgumentException | OutOfDeviceMemoryException e) {
            // A valid file can still be more than this backend holds: that is the input's size, not a bug.
            throw new BadInputException(option + " " + reader.path() + ": shape " + shape() + " does not fit: "
                    + e.getMessage());
        }
        try {
            reader.readTo(buffer::write);
            return buffer;
        } catch (IOException e) {
            buffer.close();
            throw badFile(option, reader.path(), e);
        }
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }

    /** One line naming the option, the file and what is wrong with it. */
    static BadInputException badFile(String option, Path path, IOException e) {
        String problem;
        if (e instanceof NpyFormatException f) {
            problem = f.problem();
        } else if (e instanceof NoSuchFileException) {
            problem = "no such file";
        } else if (e instanceof AccessDeniedException) {
            problem = "permission denied";
        } else {
            problem = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        return new BadInputException(option + " " + path + ": " + problem);
    }
}
