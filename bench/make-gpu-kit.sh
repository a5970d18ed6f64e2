#!/usr/bin/env bash
# Gathers into one folder (default dist/gpu-kit, at most 64 MiB, what a remote GPU machine takes along) what
# bench/gpu-run.sh needs on a GPU machine that has no Java or Maven: the self-contained bundle of
# bench/make-bundle.sh (its own Java runtime), the compiled tests, the test-only jars and the JUnit console
# launcher. Needs a JDK 17+ and Maven with a filled ~/.m2 here.
#
#   bench/make-gpu-kit.sh [kit-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
kit=${1:-dist/gpu-kit}
repo=${MAVEN_REPO:-$HOME/.m2/repository}
limit=$((64 << 20))

bench/make-bundle.sh
# The tests of core and of both backend modules, each module's test class path beside them.
test_modules=(java java/opencl java/cuda)
mvn -B -ntp -q -o test-compile dependency:build-classpath -pl "$(IFS=,; echo "${test_modules[*]}")" -am \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
version=$(unzip -p bench/target/gpuact.jar META-INF/MANIFEST.MF | sed -n 's/^Implementation-Version: *//p' | tr -d '\r')
classpath=$(for m in "${test_modules[@]}"; do tr ':' '\n' < "$m/target/test-classpath.txt"; echo; done | sort -u)
platform=$(sed -n 's#.*/junit-platform-engine-\([0-9.]*\)\.jar$#\1#p' <<<"$classpath")
console=$repo/org/junit/platform/junit-platform-console-standalone/$platform/junit-platform-console-standalone-$platform.jar
if [[ ! -f "$console" ]]; then
    echo "make-gpu-kit: $console is missing; fetch it once with" >&2
    echo "  mvn dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:$platform" >&2
    exit 1
fi

rm -rf "$kit"
mkdir -p "$kit/lib"
cp "dist/gpuact-$version-linux-x64.tar.gz" "$kit/"
mkdir -p "$kit/test-classes"
for m in "${test_modules[@]}"; do cp -r "$m/target/test-classes/." "$kit/test-classes/"; done
cp "$console" "$kit/junit-platform-console-standalone.jar"
# Test-only jars. Left out: module folders, JOCL and JCuda (all inside the bundle's shaded jar, which is what the
# tests then run against) and JUnit itself (inside the console launcher).
grep '\.jar$' <<<"$classpath" | grep -Ev '/(jocl|jcuda|jcuda-natives|junit-[a-z-]*|opentest4j|apiguardian-api)-[0-9]' |
    while read -r jar; do cp "$jar" "$kit/lib/"; done
{
    echo "version: $version"
    echo "commit: $(git rev-parse HEAD)$(git diff --quiet HEAD -- . ':!dist' || echo ' (with uncommitted changes)')"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > "$kit/KIT.txt"

size=$(du -sb "$kit" | cut -f1)
if (( size > limit )); then
    echo "make-gpu-kit: $kit is $size bytes, over the $limit a remote GPU machine takes along" >&2
    exit 1
fi
echo "$kit: $((size >> 20)) MiB ($(ls "$kit/lib" | tr '\n' ' ')); run bench/gpu-run.sh on the GPU machine"
