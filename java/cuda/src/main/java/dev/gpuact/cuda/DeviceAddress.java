package dev.gpuact.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * The numeric address of a JCuda device pointer, which JCuda keeps in protected fields (a native pointer and a
 * byte offset). Reading them through a subclass needs no native call; kernels receive the address as a 64-bit
 * argument and the host checks its alignment.
 */
final class DeviceAddress extends CUdeviceptr {
    private DeviceAddress(CUdeviceptr pointer) {
        super(pointer);
    }

    static long of(CUdeviceptr pointer) {
        DeviceAddress copy = new DeviceAddress(pointer);
        return copy.getNativePointer() + copy.getByteOffset();
    }
}
