package dev.gpuact.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * The pinned host buffer Java arrays are copied through, in two halves: while the device copies one half, the
 * host fills or empties the other, so a large transfer runs at the slower of the two copies, not their sum.
 * The caller makes the context current; one transfer at a time.
 */
final class PinnedStaging {
    static final int BYTES = 8 << 20;

    private final Pointer memory = new Pointer();
    private final Pointer[] halves = new Pointer[2];
    private final FloatBuffer[] floats = new FloatBuffer[2];
    /** Recorded after each copy from or into a half: the half may be reused once it has passed. */
    private final CUevent[] copied = {new CUevent(), new CUevent()};

    PinnedStaging() {
        cuMemAllocHost(memory, BYTES);
        int half = BYTES / 2;
        for (int i = 0; i < 2; i++) {
            halves[i] = memory.withByteOffset((long) i * half);
            floats[i] = memory.getByteBuffer((long) i * half, half).order(ByteOrder.nativeOrder()).asFloatBuffer();
            cuEventCreate(copied[i], CUevent_flags.CU_EVENT_DISABLE_TIMING);
        }
    }

    synchronized void upload(CUdeviceptr dst, float[] src, int srcOffset, int count, CUstream stream) {
        int chunk = floats[0].capacity();
        for (int done = 0, h = 0; done < count; done += chunk, h ^= 1) {
            int n = Math.min(chunk, count - done);
            cuEventSynchronize(copied[h]);
            floats[h].clear();
            floats[h].put(src, srcOffset + done, n);
            cuMemcpyHtoDAsync(dst.withByteOffset((long) done * Float.BYTES), halves[h], (long) n * Float.BYTES, stream);
            cuEventRecord(copied[h], stream);
        }
        cuStreamSynchronize(stream);
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
            cuEventSynchronize(copied[h]);
            floats[h].clear();
            floats[h].get(dst, dstOffset + k * chunk, Math.min(chunk, count - k * chunk));
        }
    }

    private void startDownload(CUdeviceptr src, int k, int chunk, int count, CUstream stream) {
        int h = k & 1;
        long first = (long) k * chunk;
        cuMemcpyDtoHAsync(halves[h], src.withByteOffset(first * Float.BYTES),
                Math.min(chunk, count - first) * Float.BYTES, stream);
        cuEventRecord(copied[h], stream);
    }

    void free() {
        cuEventDestroy(copied[0]);
        cuEventDestroy(copied[1]);
        cuMemFreeHost(memory);
    }
}
