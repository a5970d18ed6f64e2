package dev.gpuact;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Java 17's HostMemory (the class the core's tests see): it says what it needs instead of failing obscurely. */
class HostMemoryTest {
    @Test
    void theJava17ClassSaysItNeedsJdk22() {
        try (Backend cpu = Backends.get("cpu")) {
            assertThatThrownBy(() -> HostMemory.wrapAddress(cpu, 4096, 16, DType.FLOAT32))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("HostMemory needs JDK 22 or newer")
                    .hasMessageContaining("wrap a direct ByteBuffer with Backend.wrap instead");
        }
    }
}
