#!/usr/bin/env bash
# The deterministic regression gate (the SwiftNIO recipe): every benchmark's
# malloc count (p90) against thresholds committed under
# Benchmarks/Thresholds/<swift major.minor>/.
#
#   Benchmarks/scripts/thresholds.sh check  [benchmark options...]   # CI: non-zero exit on a deviation
#   Benchmarks/scripts/thresholds.sh update [benchmark options...]   # after a deliberate change; review the JSON diff
#
# Runs with BEAMLINE_NUM_THREADS=1: with one thread no Dispatch worker or
# BLAS/FFTW pool allocates, so the counts are exact and repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:?usage: thresholds.sh check|update [options]}
shift
version=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9]*\.[0-9]*\).*/\1/p' | head -1)
path="Thresholds/${version}/"
export BEAMLINE_NUM_THREADS=1
case "$action" in
check)
    swift package benchmark thresholds check --metric mallocCountTotal --path "$path" --no-progress "$@" ;;
update)
    mkdir -p "$path"
    swift package --allow-writing-to-package-directory benchmark thresholds update \
        --metric mallocCountTotal --path "$path" --no-progress "$@" ;;
*)
    echo "usage: thresholds.sh check|update [options]" >&2; exit 2 ;;
esac
