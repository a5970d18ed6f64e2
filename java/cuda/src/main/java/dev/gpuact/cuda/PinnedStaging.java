package dev.gpuact.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUstream;

/**
 * The pinned host buffer Java arrays are copied through, in two halves: while the device copies one half, the
 * host fills or empties the other, so a large transfer runs at the slower of the two copies, not their sum.
 * The caller makes the context current; one transfer at a time.
 */
final class PinnedStaging {
    static final int BYTES = 8 << 20;

    private final CudaDriver driver;
    private final Pointer memory;
    private final Pointer[] halves = new Pointer[2];
    private final FloatBuffer[] floats = new FloatBuffer[2];
    private final ShortBuffer[] shorts = new ShortBuffer[2];
    /** Recorded after each copy from or into a half: the half may be reused once it has passed. */
    private final CUevent[] copied = new CUevent[2];

    /** Allocates the buffer and its events; frees what it got when a step fails. */
    PinnedStaging(CudaDriver driver) {
        this.driver = driver;
        memory = driver.allocHost(BYTES);
        try {
            int half = BYTES / 2;
            for (int i = 0; i < 2; i++) {
                halves[i] = memory.withByteOffset((long) i * half);
                ByteBuffer bytes = driver.hostBytes(memory, (long) i * half, half).order(ByteOrder.nativeOrder());
                floats[i] = bytes.asFloatBuffer();
                shorts[i] = bytes.asShortBuffer();
                copied[i] = driver.createEvent(false);
            }
        } catch (RuntimeException e) {
            try {
                free();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    synchronized void upload(CUdeviceptr dst, float[] src, int srcOffset, int count, CUstream stream) {
        upload(dst, count, Float.BYTES, (h, done, n) -> floats[h].clear().put(src, srcOffset + done, n), stream);
    }

    /** The raw elements of a 16-bit buffer, as {@link #upload(CUdeviceptr, float[], int, int, CUstream)}. */
    synchronized void upload(CUdeviceptr dst, short[] src, int srcOffset, int count, CUstream stream) {
        upload(dst, count, Short.BYTES, (h, done, n) -> shorts[h].clear().put(src, srcOffset + done, n), stream);
    }

    synchronized void download(CUdeviceptr src, float[] dst, int dstOffset, int count, CUstream stream) {
        download(src, count, Float.BYTES, (h, first, n) -> floats[h].clear().get(dst, dstOffset + first, n), stream);
    }

    synchronized void download(CUdeviceptr src, short[] dst, int dstOffset, int count, CUstream stream) {
        download(src, count, Short.BYTES, (h, first, n) -> shorts[h].clear().get(dst, dstOffset + first, n), stream);
    }

    /** Moves elements [first, first + n) of the transfer between the Java array and half {@code h}. */
    @FunctionalInterface
    private interface HalfCopy {
        void run(int h, int first, int n);
    }

    private void upload(CUdeviceptr dst, int count, int elementBytes, HalfCopy fill, CUstream stream) {
        int chunk = BYTES / 2 / elementBytes;
        for (int done = 0, h = 0; done < count; done += chunk, h ^= 1) {
            int n = Math.min(chunk, count - done);
            driver.synchronize(copied[h]);
            fill.run(h, done, n);
            driver.copyHostToDevice(dst.withByteOffset((long) done * elementBytes), halves[h], (long) n * elementBytes,
                    stream);
            driver.record(copied[h], stream);
        }
        driver.synchronize(stream);
    }

    private void download(CUdeviceptr src, int count, int elementBytes, HalfCopy drain, CUstream stream) {
        int chunk = BYTES / 2 / elementBytes;
        int chunks = (int) LaunchGeometry.ceilDiv(count, chunk);
        startDownload(src, 0, chunk, count, elementBytes, stream);
        for (int k = 0; k < chunks; k++) {
            if (k + 1 < chunks) {
                startDownload(src, k + 1, chunk, count, elementBytes, stream);  // its half was emptied in the step before
            }
            int h = k & 1;
            driver.synchronize(copied[h]);
            drain.run(h, k * chunk, Math.min(chunk, count - k * chunk));
        }
    }

    private void startDownload(CUdeviceptr src, int k, int chunk, int count, int elementBytes, CUstream stream) {
        int h = k & 1;
        long first = (long) k * chunk;
        driver.copyDeviceToHost(halves[h], src.withByteOffset(first * elementBytes),
                Math.min(chunk, count - first) * elementBytes, stream);
        driver.record(copied[h], stream);
    }

    /** Frees the events and the buffer, each step even when one before it fails; the first failure is thrown. */
    void free() {
        RuntimeException failure = null;
        for (int i = 0; i < 2; i++) {
            if (copied[i] != null) {
                try {
                    driver.destroyEvent(copied[i]);
                } catch (RuntimeException e) {
                    failure = failure == null ? e : failure;
                }
                copied[i] = null;
            }
        }
        driver.freeHost(memory);
        if (failure != null) {
            throw failure;
        }
    }
}
