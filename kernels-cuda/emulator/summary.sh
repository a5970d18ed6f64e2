#!/usr/bin/env bash
# Prints the emulator's line from the Surefire reports in $1:
#   emulated: N checks, F failures, S schedules, K/M mutations caught
# checks are the tests that ran CUDA kernels under the emulator (the conformance suite's cuda-emu tests and the
# emulator test classes), failures those of them that failed, mutations the EmulatorMutationsTest cases.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
reports="$1"
shopt -s nullglob
files=()
for c in conformance.ConformanceTest cuda.CudaEmulatorTest cuda.CudaEmulatorCoverageTest cuda.CudaHostFaultsTest \
         cuda.EmulatorMutationsTest; do
    files+=("$reports/TEST-dev.gpuact.$c.xml")
done
existing=()
for f in "${files[@]}"; do [[ -f "$f" ]] && existing+=("$f"); done
schedules="$(grep -o 'SCHEDULE_NAMES\[\] = {[^}]*}' "$here/runtime.cpp" | grep -o '"[^"]*"' | wc -l)"
if [[ ${#existing[@]} -eq 0 ]]; then
    echo "emulated: 0 checks, 0 failures, $schedules schedules, 0/0 mutations caught (no reports in $reports)"
    exit 0
fi
cat "${existing[@]}" | awk -v schedules="$schedules" '
    BEGIN { RS = "<testcase " }
    NR > 1 {
        name = $0; sub(/^name="/, "", name); sub(/".*/, "", name)
        failed = ($0 ~ /^[^>]*>[[:space:]]*<(failure|error)/) ? 1 : 0
        skipped = ($0 ~ /^[^>]*>[[:space:]]*<skipped/) ? 1 : 0
        if (name ~ /mutation caught: /) { mutations++; caught += 1 - failed; next }
        if (name ~ /everyOpOnEveryBackend/ && name !~ /cuda-emu/) next
        if (skipped) next
        checks++; failures += failed
    }
    END { printf "emulated: %d checks, %d failures, %d schedules, %d/%d mutations caught\n", checks, failures, schedules, caught, mutations }'
