#!/usr/bin/env bash
# Runs EmulatedKernelsProbe (every kind of kernel against the cpu backend) over the emulator built with
# AddressSanitizer and UndefinedBehaviorSanitizer; fails on any report. Needs the test class path of a finished
# Surefire run, read from its report in $1 (java/cuda/target/surefire-reports).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
report="$(ls "$1"/TEST-dev.gpuact.cuda.*.xml 2>/dev/null | head -1)"
if [[ -z "$report" ]]; then
    echo "sanitize.sh: no Surefire report of the cuda tests in $1" >&2
    exit 1
fi
classpath="$(grep -o 'name="surefire.test.class.path" value="[^"]*"' "$report" | sed 's/.*value="//; s/"$//')"
lib="$("$here/build.sh" asan | tail -1)"
java_home="$(grep -o 'name="java.home" value="[^"]*"' "$report" | sed 's/.*value="//; s/"$//')"
# The sanitizer runtimes must come first in LD_PRELOAD, before libjsig.
sanitizers="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)"
. "$here/../../bench/signal-chaining.sh"
gpuact_signal_chaining "$java_home"
output="$(LD_PRELOAD="$sanitizers${LD_PRELOAD:+:$LD_PRELOAD}" \
    ASAN_OPTIONS=detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:detect_stack_use_after_return=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$java_home/bin/java" -cp "$classpath" -Dgpuact.cuda.emulator="$lib" dev.gpuact.cuda.EmulatedKernelsProbe 2>&1)" || true
if [[ "$(tail -1 <<< "$output")" != agrees ]]; then
    echo "$output" | tail -40
    echo "sanitized: the probe failed under AddressSanitizer and UndefinedBehaviorSanitizer"
    exit 1
fi
echo "sanitized: every kind of kernel agrees under AddressSanitizer and UndefinedBehaviorSanitizer"
