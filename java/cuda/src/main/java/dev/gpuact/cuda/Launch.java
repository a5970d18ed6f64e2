package dev.gpuact.cuda;

/** One kernel launch's shape: a 1-D grid of {@code grid} blocks of {@code block} threads and dynamic shared memory. */
record Launch(int grid, int block, int sharedBytes) {
    Launch {
        if (grid < 1 || block < 1 || block > 1024 || sharedBytes < 0) {
            throw new IllegalArgumentException("bad launch: grid " + grid + ", block " + block + ", shared " + sharedBytes);
        }
    }
}
