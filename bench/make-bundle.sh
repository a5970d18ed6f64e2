#!/usr/bin/env bash
# Builds dist/gpuact-<version>-linux-x64.tar.gz: a jlink Java runtime, the shaded gpuact jar and a bin/gpuact
# launcher, so `gpuact bench` runs on a machine without a JDK. Needs a JDK 17+ (jdeps, jlink) and Maven here.
# Then checks that the bundle runs `gpuact info` with an empty environment.
set -euo pipefail
cd "$(dirname "$0")/.."

mvn -B -ntp -q -o package -DskipTests -pl bench -am
jar=bench/target/gpuact.jar
version=$(unzip -p "$jar" META-INF/MANIFEST.MF | sed -n 's/^Implementation-Version: *//p' | tr -d '\r')
name=gpuact-$version-linux-x64
stage=dist/$name
rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/lib"

# java.logging: JOCL and JCuda log through it, and jdeps cannot see that through their native loaders.
modules=$(jdeps --ignore-missing-deps --multi-release 17 --print-module-deps "$jar")
case ",$modules," in *,java.logging,*) ;; *) modules=$modules,java.logging ;; esac
# jdk.incubator.vector: the cpu backend's vectorised kernels, loaded by name (jdeps cannot see it either);
# jdk.management: the DiagnosticCommand MBean through which they keep their loops compiled on their own.
modules=$modules,jdk.incubator.vector,jdk.management
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 --output "$stage/runtime"
cp "$jar" "$stage/lib/gpuact.jar"
cp bench/signal-chaining.sh "$stage/lib/signal-chaining.sh"
cat > "$stage/bin/gpuact" <<'LAUNCHER'
#!/bin/sh
# Runs gpuact on the Java runtime shipped next to it; follows symlinks so a link on the PATH works.
self=$(readlink -f "$0")
home=$(dirname "$(dirname "$self")")
. "$home/lib/signal-chaining.sh"
gpuact_signal_chaining "$home/runtime"
exec "$home/runtime/bin/java" -Djava.awt.headless=true --add-modules jdk.incubator.vector $GPUACT_JAVA_OPTS -jar "$home/lib/gpuact.jar" "$@"
LAUNCHER
chmod +x "$stage/bin/gpuact"
tar -C dist -czf "dist/$name.tar.gz" "$name"

# The check: unpack elsewhere and run with nothing from this environment (no JAVA_HOME, no PATH).
check=$(mktemp -d)
trap 'rm -rf "$check"' EXIT
tar -C "$check" -xzf "dist/$name.tar.gz"
env -i "$check/$name/bin/gpuact" info >"$check/info.txt"
grep -q '^Backends' "$check/info.txt"
echo "dist/$name.tar.gz: $(du -h "dist/$name.tar.gz" | cut -f1) (runtime modules: $modules); 'gpuact info' runs from an empty environment"
