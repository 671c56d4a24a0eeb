#!/usr/bin/env bash
# The test suite under a sanitizer, in a build folder of its own.
#
#   scripts/sanitize.sh address [swift test arguments...]   AddressSanitizer (+ LeakSanitizer off, see below)
#   scripts/sanitize.sh thread  [swift test arguments...]   ThreadSanitizer
#
# Build folders: .build-asan and .build-tsan (ignored by git through
# `.build-*/`), so the sanitized objects never mix with the normal build.
# Extra arguments go to `swift test` (for example `--filter BeamlineIOTests`).
#
# What is excluded, and why:
# - OpenBLAS runs its own pthreads, compiled without TSan instrumentation:
#   TSan cannot see their synchronisation and reports races inside
#   OpenBLAS's thread pool. OPENBLAS_NUM_THREADS=1 keeps OpenBLAS on the
#   calling thread (the BLAS calls themselves are still checked; Beamline's
#   own thread setting does the same whenever it sets a thread count).
#   FFTW's threads are Beamline's worker pool (Sources/CBeamlineKernels/
#   parallel.c, instrumented), so they stay in.
# - System libraries (OpenBLAS, LAPACK, FFTW, zlib, libc) are not
#   instrumented, so neither sanitizer sees memory errors inside them, only
#   at their boundaries.
# - LeakSanitizer (part of ASan on Linux) is off: the Swift runtime's
#   metadata caches, swift-testing's and Foundation's process-lifetime
#   singletons and the FFT plan cache (kept for the process by design) are
#   reported as leaks at exit. Leaks are not what this run checks.
# - scripts/sanitizers/tsan.supp holds the TSan suppressions, each with its
#   reason.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-}
case "$kind" in
    address) scratch=.build-asan ;;
    thread) scratch=.build-tsan ;;
    *) echo "usage: scripts/sanitize.sh address|thread [swift test arguments...]" >&2; exit 2 ;;
esac
shift

export OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1:suppressions=$PWD/scripts/sanitizers/tsan.supp}

start=$(date +%s)
swift build --build-tests --scratch-path "$scratch" --sanitize="$kind"
built=$(date +%s)
set +e
swift test --skip-build --scratch-path "$scratch" --sanitize="$kind" "$@" 2>&1 | tee "$scratch/sanitize-$kind.log"
status=${PIPESTATUS[0]}
set -e
end=$(date +%s)
reports=$(grep -c -E '(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer|ThreadSanitizer: .*suppression)' "$scratch/sanitize-$kind.log" || true)
if ! grep -q -E 'Test run with [0-9]+ tests' "$scratch/sanitize-$kind.log"; then
    echo "sanitize.sh: the test run printed no summary (the sanitizer stopped it?)" >&2
    status=1
fi
echo "sanitize.sh $kind: build $((built - start)) s, tests $((end - built)) s, sanitizer reports: $reports, swift test exit status $status"
if [ "$reports" -gt 0 ]; then status=1; fi
exit "$status"
