package dev.gpuact.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_DEFAULT;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;

import dev.gpuact.Probe;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** Device choice and row-kernel choice, on made-up device listings, and the probe on this machine. */
class OpenClDevicesTest {
    private static final long[] TYPES = {CL_DEVICE_TYPE_GPU, CL_DEVICE_TYPE_ACCELERATOR, CL_DEVICE_TYPE_CPU,
        CL_DEVICE_TYPE_DEFAULT};

    private static List<OpenClDevice> listing(List<Integer> typeIndexes) {
        List<OpenClDevice> devices = new ArrayList<>();
        for (int i = 0; i < typeIndexes.size(); i++) {
            devices.add(fake(i, TYPES[typeIndexes.get(i)]));
        }
        return devices;
    }

    private static OpenClDevice fake(int index, long type) {
        return new OpenClDevice(index, null, null, "Platform", "OpenCL 3.0", "device-" + index + "-t" + type, "vendor",
                "OpenCL 3.0", "1.0", type, 4, 1L << 30, 256, true);
    }

    @Provide
    Arbitrary<List<Integer>> types() {
        return Arbitraries.integers().between(0, TYPES.length - 1).list().ofMinSize(1).ofMaxSize(8);
    }

    @Property
    void withoutOverrideTheFirstDeviceOfTheBestTypeIsChosen(@ForAll("types") List<Integer> types) {
        List<OpenClDevice> devices = listing(types);
        OpenClDevice chosen = OpenClDevices.choose(devices, null);
        int bestRank = devices.stream().mapToInt(OpenClDevice::rank).min().orElseThrow();
        assertThat(chosen.rank()).isEqualTo(bestRank);
        assertThat(devices.stream().filter(d -> d.rank() == bestRank).findFirst()).contains(chosen);
        assertThat(bestRank == Probe.RANK_OPENCL_GPU).isEqualTo(devices.stream().anyMatch(OpenClDevice::isGpu));
    }

    @Property
    void anIndexOrANameSubstringPicksThatDevice(@ForAll("types") List<Integer> types, @ForAll @IntRange(max = 7) int pick) {
        List<OpenClDevice> devices = listing(types);
        int index = pick % devices.size();
        assertThat(OpenClDevices.choose(devices, " " + index + " ")).isSameAs(devices.get(index));
        String name = devices.get(index).name();
        OpenClDevice byName = OpenClDevices.choose(devices, name.substring(0, name.indexOf("-t")).toUpperCase());
        assertThat(byName).isSameAs(devices.get(index));
    }

    @Property
    void anOverrideThatMatchesNothingNamesTheDevices(@ForAll @Size(min = 1, max = 4) List<@IntRange(max = 3) Integer> types) {
        List<OpenClDevice> devices = listing(types);
        assertThatThrownBy(() -> OpenClDevices.choose(devices, String.valueOf(devices.size())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-Dgpuact.opencl.device=" + devices.size())
                .hasMessageContaining("#0 " + devices.get(0).name());
        assertThatThrownBy(() -> OpenClDevices.choose(devices, "no-such-card"))
                .hasMessageContaining("no device name contains it");
        for (String huge : List.of("2147483648", "99999999999999999999")) {
            assertThatThrownBy(() -> OpenClDevices.choose(devices, huge)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-Dgpuact.opencl.device=" + huge + ": expected a device index below "
                            + devices.size());
        }
    }

    @Test
    void rowKernelShapeFollowsTheDeviceType() {
        OpenClDevice cpu = fake(0, CL_DEVICE_TYPE_CPU);
        OpenClDevice gpu = fake(1, CL_DEVICE_TYPE_GPU);
        for (long cols : new long[] {1, 32, 33, 1024, 1 << 20}) {
            assertThat(RowKernelShape.choose(cpu, cols)).isEqualTo(RowKernelShape.ITEM);
            assertThat(RowKernelShape.choose(gpu, cols))
                    .isEqualTo(cols <= RowKernelShape.GPU_ITEM_MAX_COLS ? RowKernelShape.ITEM : RowKernelShape.GROUP);
        }
        assertThat(RowKernelShape.choose(fake(2, CL_DEVICE_TYPE_ACCELERATOR), 4096)).isEqualTo(RowKernelShape.ITEM);
    }

    @Test
    void theProbeNamesTheChosenDeviceAndListsEveryDeviceInFull() {
        OpenClDevice device = OpenClTestDevice.device();
        Probe probe = new OpenClBackendProvider().probe();
        assertThat(probe.usable()).isTrue();
        assertThat(probe.rank()).isEqualTo(device.rank());
        assertThat(probe.reason()).contains(device.name()).contains(device.typeName()).contains("gpuact.opencl.device");
        assertThat(probe.devices()).contains(device.shortName());
        assertThat(probe.details()).anyMatch(line -> line.contains(device.name()) && line.contains("compute units")
                && line.contains("driver " + device.driver()) && line.contains(device.platformName()));
        assertThat(probe.details()).anyMatch(line -> line.startsWith("program binary cache: "));
    }

    @Test
    void aBadOverrideMakesTheProbeUnusableWithItsReason() {
        OpenClTestDevice.device();
        String before = System.getProperty(OpenClDevices.DEVICE_PROPERTY);
        System.setProperty(OpenClDevices.DEVICE_PROPERTY, "no-such-card");
        try {
            Probe probe = new OpenClBackendProvider().probe();
            assertThat(probe.usable()).isFalse();
            assertThat(probe.reason()).contains("no-such-card").contains("no device name contains it");
            assertThat(probe.details()).isNotEmpty();
        } finally {
            if (before == null) {
                System.clearProperty(OpenClDevices.DEVICE_PROPERTY);
            } else {
                System.setProperty(OpenClDevices.DEVICE_PROPERTY, before);
            }
        }
    }
}
