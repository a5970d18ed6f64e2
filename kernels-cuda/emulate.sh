#!/usr/bin/env bash
# Runs every CUDA kernel under the CPU emulator (emulator/, see README.md), alone:
#   - the conformance suite on the cuda-emu backend (132 SMs), CudaBackendGpuTest's checks on one SM
#     (CudaEmulatorTest), a launch of every kernel of the fatbin, the host's fault handling;
#   - the mutation checks (emulator/mutations.txt), and the kernels under ASan and UBSan (emulator/sanitize.sh).
# Every launch runs under each of the emulator's schedules and must leave the same bytes.
# Extra arguments go to Maven (for example -o). The last line reads
#   emulated: N checks, F failures, S schedules, K/M mutations caught
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."

"$here/emulator/build.sh" release >/dev/null
tests="ConformanceTest,CudaEmulatorTest,CudaEmulatorCoverageTest,CudaHostFaultsTest,EmulatorMutationsTest"
status=0
(cd "$root" && mvn -B -ntp -pl java/cuda -am verify -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false \
    -Dgpuact.requireBackends=cpu,cuda-emu "$@") || status=$?
"$here/emulator/sanitize.sh" "$root/java/cuda/target/surefire-reports" || status=1
"$here/emulator/summary.sh" "$root/java/cuda/target/surefire-reports"
exit "$status"
