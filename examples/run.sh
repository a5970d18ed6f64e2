#!/usr/bin/env bash
# Builds the example project against the installed gpuact artifacts (`mvn install -DskipTests` at the top first)
# and runs the README's library example once on each backend named: examples/run.sh cpu opencl
# On each, the zero-copy examples run too: ZeroCopyExample (a direct ByteBuffer), and where the JDK 25 the build
# uses is present, SegmentExample on it (a MemorySegment and a raw address); each checks its results itself.
#   cpu     with the core artifact alone: the class path must stay under 1 MiB and no native library may load;
#   opencl  with gpuact-opencl added (-Popencl), on OpenCL, and on cpu again, where JOCL and the OpenCL runtime
#           must not load (backends are probed only when used).
# Each run must use the backend asked for and exit 0. Native libraries are those the dynamic linker loads with
# dlopen during the run (LD_DEBUG=files), less the JDK's own. The JVM gets the JDK's libjsig preloaded, as
# bench/gpuact does, for OpenCL platforms built on LLVM (PoCL).
set -euo pipefail
cd "$(dirname "$0")"
[ $# -gt 0 ] || { echo "usage: examples/run.sh BACKEND..." >&2; exit 2; }

java_bin=${JAVA_HOME:+$JAVA_HOME/bin/}java
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v "$java_bin")")")")
max_core_classpath=$((1 << 20))
debug=$(mktemp -d)
trap 'rm -rf "$debug"' EXIT

# classpath ARTIFACTS: builds the example on core alone (core) or with a profile's backend, prints the class path.
classpath() {
    if [ "$1" = core ]; then mvn -B -ntp -q package >&2; else mvn -B -ntp -q package -P"$1" >&2; fi
    echo "target/classes:$(cat "target/classpath-$1.txt")"
}

# run BACKEND CLASSPATH: runs the example, checks it ran on BACKEND, prints the native libraries it loaded.
run() {
    rm -f "$debug"/ld.*
    out=$(LD_DEBUG=files LD_DEBUG_OUTPUT="$debug/ld" \
        LD_PRELOAD="$java_home/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}" "$java_bin" --add-modules jdk.incubator.vector \
        -Dgpuact.backend="$1" -cp "$2" dev.gpuact.examples.LibraryExample)
    echo "$out" >&2
    if ! grep -q "^backend: $1 " <<<"$out"; then
        echo "examples/run.sh: the example did not run on $1" >&2
        exit 1
    fi
    cat "$debug"/ld.* | sed -n 's/^[[:space:]]*[0-9]*:[[:space:]]*file=\([^ ]*\) .*dynamically loaded by.*/\1/p' \
        | { grep -v "^$java_home/" || true; } | sort -u
}

# no_native_library BACKEND ARTIFACTS CLASSPATH: runs on BACKEND and fails if any native library loaded.
no_native_library() {
    loaded=$(run "$1" "$3")
    if [ -n "$loaded" ]; then
        echo "examples/run.sh: $1 with the $2 artifacts loaded native libraries:" $loaded >&2
        exit 1
    fi
    echo "examples/run.sh: $1 with the $2 artifacts: no native library loaded"
}

jdk25=/usr/lib/jvm/temurin-25-jdk-amd64

# example JAVA_HOME CLASS BACKEND CLASSPATH: runs another example on BACKEND and checks it ran there.
example() {
    out=$(LD_PRELOAD="$1/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}" "$1/bin/java" -Dgpuact.backend="$3" -cp "$4" \
        "dev.gpuact.examples.$2")
    echo "$out" >&2
    if ! grep -q "^backend: $3 " <<<"$out"; then
        echo "examples/run.sh: $2 did not run on $3" >&2
        exit 1
    fi
}

# zero_copy BACKEND CLASSPATH: the examples of an engine's own memory used in place.
zero_copy() {
    example "$java_home" ZeroCopyExample "$1" "$2"
    if [ -x "$jdk25/bin/java" ] && [ -d target/classes/META-INF/versions/22 ]; then
        example "$jdk25" SegmentExample "$1" "target/classes/META-INF/versions/22:$2"
    fi
    echo "examples/run.sh: $1: the zero-copy examples ran"
}

for backend in "$@"; do
    case "$backend" in
        cpu)
            cp=$(classpath core)
            bytes=$(tr ':' '\n' <<<"$cp" | grep '\.jar$' | xargs du -cb | tail -1 | cut -f1)
            if (( bytes >= max_core_classpath )); then
                echo "examples/run.sh: the core artifacts' class path is $bytes bytes, not under $max_core_classpath:" >&2
                tr ':' '\n' <<<"$cp" | grep '\.jar$' | xargs du -b >&2
                exit 1
            fi
            echo "examples/run.sh: the core artifacts' class path: $bytes bytes ($(tr ':' '\n' <<<"$cp" | grep -c '\.jar$') jars)"
            no_native_library cpu core "$cp"
            zero_copy cpu "$cp"
            ;;
        *)
            cp=$(classpath "$backend")
            no_native_library cpu "$backend" "$cp"
            loaded=$(run "$backend" "$cp")
            # A device backend loads its binding's native library: none seen means the check above sees nothing.
            if [ -z "$loaded" ]; then
                echo "examples/run.sh: $backend loaded no native library, so the loaded-library list is not read" >&2
                exit 1
            fi
            echo "examples/run.sh: $backend loaded" $(xargs -n1 basename <<<"$loaded" | grep -v '^gpuact_')
            zero_copy "$backend" "$cp"
            ;;
    esac
done
