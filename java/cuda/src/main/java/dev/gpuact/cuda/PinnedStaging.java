package dev.gpuact.cuda;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
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
                floats[i] = driver.hostBytes(memory, (long) i * half, half).order(ByteOrder.nativeOrder()).asFloatBuffer();
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
        int chunk = floats[0].capacity();
        for (int done = 0, h = 0; done < count; done += chunk, h ^= 1) {
            int n = Math.min(chunk, count - done);
            driver.synchronize(copied[h]);
            floats[h].clear();
            floats[h].put(src, srcOffset + done, n);
            driver.copyHostToDevice(dst.withByteOffset((long) done * Float.BYTES), halves[h], (long) n * Float.BYTES, stream);
            driver.record(copied[h], stream);
        }
        driver.synchronize(stream);
    }

    synchronized void download(CUdeviceptr src, float[] dst, int dstOffset, int count, CUstream stream) {
        int chunk = floats[0].capacity();
        int chunks = (int) LaunchGeometry.ceilDiv(count, chunk);
        startDownload(src, 0, chunk, count, stream);
        for (int k = 0; k < chunks; k++) {
            if (k + 1 < chunks) {
                startDownload(src, k + 1, chunk, count, stream);  // its half was emptied in the step before
            }
            int h = k & 1;
            driver.synchronize(copied[h]);
            floats[h].clear();
            floats[h].get(dst, dstOffset + k * chunk, Math.min(chunk, count - k * chunk));
        }
    }

    private void startDownload(CUdeviceptr src, int k, int chunk, int count, CUstream stream) {
        int h = k & 1;
        long first = (long) k * chunk;
        driver.copyDeviceToHost(halves[h], src.withByteOffset(first * Float.BYTES),
                Math.min(chunk, count - first) * Float.BYTES, stream);
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
