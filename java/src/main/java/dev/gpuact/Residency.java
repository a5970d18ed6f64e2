package dev.gpuact;

/** Where the data of a piece of work lives before and after it: what {@link Backends#forWork} weighs. */
public enum Residency {
    /** In Java memory: a device backend must upload it and download the result. */
    HOST,
    /** Already in a device backend's memory: the CPU would have to download it and upload the result. */
    DEVICE
}
