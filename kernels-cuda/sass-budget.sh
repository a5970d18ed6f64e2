#!/usr/bin/env bash
# Checks every kernel's instructions per element (sm_90 SASS of the committed fatbin) against sass-budget.txt.
#
#   kernels-cuda/sass-budget.sh              check; print the table (run by test.sh)
#   kernels-cuda/sass-budget.sh --table F    also write the markdown table to F (for bench/RESULTS.md)
#   kernels-cuda/sass-budget.sh --install    as root with apt-get: install nvdisasm first when it is missing
#
# Needs nvdisasm (Debian non-free's nvidia-cuda-toolkit has it; --install unpacks only that package, without the
# gigabytes of libraries it depends on). Without nvdisasm the check is skipped and says so. No GPU is needed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fatbin="$here/src/main/resources/dev/gpuact/kernels/cuda/gpuact.fatbin"
tools=/usr/local/lib/gpuact-sass-tools
table=()
install=0
while (($#)); do
    case "$1" in
        --table) table=(--table "$2"); shift 2 ;;
        --install) install=1; shift ;;
        *) echo "sass-budget: unknown option $1" >&2; exit 2 ;;
    esac
done

find_nvdisasm() {
    for n in "${GPUACT_NVDISASM:-}" "$(command -v nvdisasm || true)" /usr/local/cuda/bin/nvdisasm "$tools/usr/bin/nvdisasm"; do
        if [[ -n "$n" && -x "$n" ]]; then echo "$n"; return; fi
    done
}

nvdisasm="$(find_nvdisasm)"
if [[ -z "$nvdisasm" && $install == 1 && "$(id -u)" == 0 ]] && command -v apt-get > /dev/null; then
    echo "sass-budget: installing nvdisasm from Debian's nvidia-cuda-toolkit (non-free) into $tools"
    if ! grep -rqs "non-free" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        codename="$(. /etc/os-release && echo "$VERSION_CODENAME")"
        printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$codename" > /etc/apt/sources.list.d/gpuact-non-free.sources
    fi
    apt-get update -qq || echo "sass-budget: apt-get update failed" >&2
    scratch="$(mktemp -d)"
    (cd "$scratch" && apt-get download -qq nvidia-cuda-toolkit 2> /dev/null) \
        && dpkg-deb -x "$scratch"/nvidia-cuda-toolkit_*.deb "$scratch/x" \
        && mkdir -p "$tools/usr/bin" && cp "$scratch/x/usr/bin/nvdisasm" "$tools/usr/bin/" \
        || echo "sass-budget: could not install nvidia-cuda-toolkit's nvdisasm" >&2
    rm -rf "$scratch"
    nvdisasm="$(find_nvdisasm)"
fi
if [[ -z "$nvdisasm" ]]; then
    echo "sass-budget: SKIPPED: nvdisasm not found (Debian: the nvidia-cuda-toolkit package of non-free; or set GPUACT_NVDISASM)"
    exit 0
fi
command -v python3 > /dev/null || { echo "sass-budget: SKIPPED: python3 not found"; exit 0; }
exec python3 "$here/sass_budget.py" --fatbin "$fatbin" --nvdisasm "$nvdisasm" --budget "$here/sass-budget.txt" "${table[@]}"
