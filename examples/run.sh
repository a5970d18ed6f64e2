#!/usr/bin/env bash
# Builds the example project against the installed gpuact artifacts (`mvn install -DskipTests` at the top first)
# and runs the README's library example once on each backend named: examples/run.sh cpu opencl
# Each run must use the backend asked for and exit 0. The JVM gets the JDK's libjsig preloaded, as bench/gpuact
# does, for OpenCL platforms built on LLVM (PoCL).
set -euo pipefail
cd "$(dirname "$0")"
[ $# -gt 0 ] || { echo "usage: examples/run.sh BACKEND..." >&2; exit 2; }

mvn -B -ntp -q package
java_bin=${JAVA_HOME:+$JAVA_HOME/bin/}java
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v "$java_bin")")")")
classpath="target/classes:$(cat target/classpath.txt)"

for backend in "$@"; do
    out=$(LD_PRELOAD="$java_home/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}" "$java_bin" --add-modules jdk.incubator.vector \
        -Dgpuact.backend="$backend" -cp "$classpath" dev.gpuact.examples.LibraryExample)
    echo "$out"
    if ! grep -q "^backend: $backend " <<<"$out"; then
        echo "examples/run.sh: the example did not run on $backend" >&2
        exit 1
    fi
done
