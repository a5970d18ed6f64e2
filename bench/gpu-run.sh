#!/usr/bin/env bash
# Runs gpuact's checks and benchmarks for one backend on a machine that has the device but no Java or Maven,
# from a copy of the repository plus the kit of bench/make-gpu-kit.sh. Every step writes under $OUT; a step that
# fails does not stop the next, and the exit status says whether any failed.
#
#   bench/gpu-run.sh [--backend cuda] [--kit dist/gpu-kit] [STEP...]
#
# Steps (default: all, in this order):
#   info   gpuact info, and nvidia-smi where there is one                 -> info.txt
#   check  gpuact check --backend B (every op against the reference)      -> check.txt
#   junit  the conformance suite and B's own tests with B required, so
#          "skipped: no device" is a failure                              -> junit.txt, junit/*.xml
#   bench  gpuact bench --backend B, the report folder                    -> bench/, bench.txt
#   torch  bench/torch_compare.py, PyTorch's timings of the same ops
#          (cuda only; skipped with the reason where torch has no GPU)    -> torch.csv, torch.txt
# Environment: OUT (default gpu-run-out), GPUACT_BENCH_ARGS (more gpuact bench options, e.g. "--sizes 1M,64M"),
# GPUACT_STEP_TIMEOUT (seconds a step may run, default 540), PYTHON (default python3).
# Where a remote GPU machine limits each command to 10 minutes, run the steps over several calls.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
backend=cuda
kit=$root/dist/gpu-kit
steps=()
while (( $# )); do
    case $1 in
        --backend) backend=${2:?--backend needs a name}; shift 2 ;;
        --kit) kit=${2:?--kit needs a folder}; shift 2 ;;
        info|check|junit|bench|torch) steps+=("$1"); shift ;;
        *) echo "gpu-run: unknown argument '$1' (steps: info check junit bench torch)" >&2; exit 2 ;;
    esac
done
(( ${#steps[@]} )) || steps=(info check junit bench torch)
out=${OUT:-gpu-run-out}
step_timeout=${GPUACT_STEP_TIMEOUT:-540}
python=${PYTHON:-python3}
mkdir -p "$out"
out=$(cd "$out" && pwd)

bundle=$(ls "$kit"/gpuact-*-linux-x64.tar.gz 2>/dev/null | head -n 1)
if [[ -z "$bundle" || ! -d "$kit/test-classes" || ! -f "$kit/junit-platform-console-standalone.jar" ]]; then
    echo "gpu-run: $kit is not a kit from bench/make-gpu-kit.sh (bundle, test-classes, console launcher)" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$bundle"
home=$(ls -d "$work"/gpuact-*-linux-x64)
gpuact=$home/bin/gpuact
java=$home/runtime/bin/java
# The JUnit step runs this java directly: give it the same signal chaining as bin/gpuact (LLVM-based OpenCL).
. "$root/bench/signal-chaining.sh"
gpuact_signal_chaining "$home/runtime"
cp "$kit/KIT.txt" "$out/kit.txt" 2>/dev/null

summary=$out/summary.txt
failed=0
# run_step NAME LOG: runs the function step_NAME under the step timeout (which ends its whole process group),
# logs its stdout and stderr, records the outcome.
run_step() {
    local name=$1 log=$2
    local start=$SECONDS
    timeout "$step_timeout" bash -c "step_$name" >"$log" 2>&1
    local rc=$?
    local outcome=ok
    if (( rc == 124 )); then outcome="timed out after ${step_timeout}s"; elif (( rc != 0 )); then outcome="failed (exit $rc)"; fi
    (( rc == 0 )) || failed=1
    printf '%-6s %-28s %4ds  %s\n' "$name" "$outcome" $((SECONDS - start)) "${log#"$out"/}" | tee -a "$summary"
}

skip_step() {
    printf '%-6s %-28s %4ds  %s\n' "$1" "skipped" 0 "$2" | tee -a "$summary"
}

step_info() {
    "$gpuact" info
    if command -v nvidia-smi >/dev/null; then
        echo
        nvidia-smi
    fi
}

step_check() {
    "$gpuact" check --backend "$backend"
}

step_junit() {
    local classpath=$kit/test-classes:$home/lib/gpuact.jar
    for jar in "$kit"/lib/*.jar; do classpath=$classpath:$jar; done
    "$java" -Djava.awt.headless=true --add-modules jdk.incubator.vector -Dgpuact.requireBackends="$backend" \
        -jar "$kit/junit-platform-console-standalone.jar" execute --disable-banner --disable-ansi-colors --details=tree \
        --fail-if-no-tests --class-path "$classpath" --reports-dir "$out/junit" \
        --select-class dev.gpuact.conformance.ConformanceTest --select-package "dev.gpuact.$backend"
}

step_bench() {
    # shellcheck disable=SC2086 # GPUACT_BENCH_ARGS is a list of options
    "$gpuact" bench --backend "$backend" --out "$out/bench" ${GPUACT_BENCH_ARGS:-}
}

step_torch() {
    "$python" "$root/bench/torch_compare.py" >"$out/torch.csv"
}

export backend kit out python root home gpuact java
export -f step_info step_check step_junit step_bench step_torch

echo "gpu-run: backend $backend, steps ${steps[*]}, kit $(sed -n 's/^commit: //p' "$kit/KIT.txt" 2>/dev/null), out $out" | tee -a "$summary"
for step in "${steps[@]}"; do
    case $step in
        info) run_step info "$out/info.txt" ;;
        check) run_step check "$out/check.txt" ;;
        junit) run_step junit "$out/junit.txt" ;;
        bench) run_step bench "$out/bench.txt" ;;
        torch)
            if [[ $backend != cuda ]]; then
                skip_step torch "PyTorch is compared on cuda only"
            elif ! why=$("$python" -c 'import torch; assert torch.cuda.is_available(), "torch.cuda.is_available() is False"' 2>&1); then
                skip_step torch "no PyTorch with CUDA: $(tail -n 1 <<<"$why")"
            else
                run_step torch "$out/torch.txt"
            fi
            ;;
    esac
done
exit $failed
