#!/usr/bin/env bash
# Coverage-guided fuzzing of Beamline's file readers with libFuzzer.
#
#   scripts/fuzz.sh <target|all> [seconds]    build, then run each target for `seconds` (default 60)
#   scripts/fuzz.sh build                     build the harnesses only
#   scripts/fuzz.sh list                      list the targets
#
# Targets (one harness each in Fuzz/Harnesses/<target>.swift, seeds in
# Fuzz/Seeds/<target>/, dictionaries in Fuzz/Dictionaries/):
#   npy       .npy headers and payloads (NumpyFile.decode, typed/mask/string reads)
#   npz       .npz archives: ZIP structure and members (NumpyArchive)
#   sparse    SciPy sparse .npz (CSRMatrix.load: csr, csc, coo)
#   geometry  tomography geometry JSON (Geometry(json:))
#   poni      pyFAI .poni text and calibration JSON (PONIFile)
#   hdf5      HDF5 files: structure, datasets, attributes, links, NXtomo (HDF5File, NXtomoScan)
#   address   CLI dataset addresses (DatasetAddress: file.npz:member, file.h5:/path[selection])
#
# How it is built: the library modules are compiled by SwiftPM in their own
# build folder (.build-fuzz, release) with `-sanitize=fuzzer,address` passed
# on the command line (coverage instrumentation + AddressSanitizer); nothing
# is added to Package.swift, whose library targets carry no unsafe flags.
# Each harness (a `-parse-as-library` file with a
# `@_cdecl("LLVMFuzzerTestOneInput")` entry point) is then compiled and
# linked by swiftc itself against the modules' object files, so libFuzzer
# provides `main` (SwiftPM's own executable linking renames `main`, which
# libFuzzer cannot use).
#
# Working corpora grow in .build-fuzz/corpus/<target>/ (ignored by git);
# crashes are written to .build-fuzz/artifacts/<target>/ and the script
# exits non-zero. A crash found becomes a regression test with the input
# committed under Tests/*/Fixtures/fuzz/.
#
# Environment: FUZZ_RSS_MB (default 2048) is libFuzzer's memory limit per
# input, FUZZ_ARGS extra libFuzzer arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(npy npz sparse geometry poni hdf5 address)
top_targets=(BeamlineSparse BeamlineTomography)
scratch=.build-fuzz
flags=(-Xswiftc -sanitize=fuzzer,address)

what=${1:-}
seconds=${2:-60}
case "$what" in
    ""|-h|--help) sed -n '2,35p' "$0"; exit 2 ;;
    list) printf '%s\n' "${targets[@]}"; exit 0 ;;
    all|build) selected=("${targets[@]}") ;;
    *)
        if [[ " ${targets[*]} " != *" $what "* ]]; then
            echo "fuzz.sh: unknown target '$what' (targets: ${targets[*]}, all, build, list)" >&2
            exit 2
        fi
        selected=("$what") ;;
esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "fuzz.sh: seconds must be a positive integer, got '$seconds'" >&2
    exit 2
fi

mkdir -p "$scratch"
# 1. The library modules, instrumented (only the targets the harnesses
#    import, and their dependencies: no executable is linked by SwiftPM).
for target in "${top_targets[@]}"; do
    if ! swift build -c release --scratch-path "$scratch" --target "$target" "${flags[@]}" >"$scratch/build.log" 2>&1; then
        grep -E 'error' "$scratch/build.log" | head -30 >&2
        echo "fuzz.sh: building $target failed (log: $scratch/build.log)" >&2
        exit 1
    fi
done
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path "${flags[@]}")

# 2. The import flags SwiftPM used for the top modules (module maps of the
#    C shims and of swift-numerics' shims, include folders), and the object
#    files of every module they depend on.
mapfile -t import_flags < <(python3 - "$bin" <<'PY'
import json, sys
bin_path = sys.argv[1]
description = json.load(open(f"{bin_path}/description.json"))
seen, out = set(), []
for key, command in description["swiftCommands"].items():
    if command.get("moduleName") not in ("BeamlineSparse", "BeamlineTomography"):
        continue
    args = command["otherArguments"]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-Xcc" and i + 1 < len(args):
            nxt = args[i + 1]
            if nxt.startswith("-fmodule-map-file="):
                pair = ("-Xcc", nxt); i += 2
            elif nxt == "-I" and i + 3 < len(args):
                pair = ("-Xcc", "-I", "-Xcc", args[i + 3]); i += 4
            else:
                i += 2; continue
        elif a.startswith("-I"):
            pair = (a,); i += 1
        else:
            i += 1; continue
        if pair not in seen:
            seen.add(pair); out.extend(pair)
print("\n".join(out))
PY
)
modules=(BeamlineTensor BeamlineOperators BeamlineIO BeamlineSparse BeamlineSolvers BeamlineTomography
         CBeamlineKernels RealModule ComplexModule Numerics _NumericsShims ZIPFoundation)
objects=()
for module in "${modules[@]}"; do
    for object in "$bin/$module.build"/*.o; do
        [ -e "$object" ] && objects+=("$object")
    done
done

# 3. One executable per harness, linked by swiftc with libFuzzer.
mkdir -p "$scratch/fuzzers"
for target in "${selected[@]}"; do
    harness=Fuzz/Harnesses/$target.swift
    executable=$scratch/fuzzers/fuzz-$target
    if [ ! -x "$executable" ] || [ -n "$(find "$harness" "${objects[@]}" -newer "$executable" -print -quit)" ]; then
        echo "linking $executable"
        swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name "Fuzz_$target" \
            -I "$bin/Modules" "${import_flags[@]}" "$harness" "${objects[@]}" -o "$executable" 2>&1 \
            | { grep -v "Cannot export local symbol '__asan" || true; }   # gold's noise about ASan's local symbols
        [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz.sh: linking $executable failed" >&2; exit 1; }
    fi
done
[ "$what" = build ] && exit 0

# 4. Run each target for `seconds`. Leak checking stays on, with the one
#    suppression in Fuzz/lsan.supp (leaks inside libhdf5).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0}
status=0
for target in "${selected[@]}"; do
    corpus=$scratch/corpus/$target
    artifacts=$scratch/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    extra=()
    case "$target" in
        npy) extra=(-dict=Fuzz/Dictionaries/npy.dict) ;;
        geometry) extra=(-dict=Fuzz/Dictionaries/json.dict) ;;
        poni) extra=(-dict=Fuzz/Dictionaries/poni.dict) ;;
        address) extra=(-dict=Fuzz/Dictionaries/address.dict) ;;
        hdf5)
            # libhdf5 leaks on malformed files (Fuzz/lsan.supp), so every
            # input would make libFuzzer run a full leak scan (about 40 ms
            # each, 100× slower). Per-input leak detection is off for this
            # target unless FUZZ_DETECT_LEAKS=1; the leak check at exit
            # still runs, with the suppression.
            extra=(-detect_leaks="${FUZZ_DETECT_LEAKS:-0}") ;;
    esac
    echo "=== fuzz $target for ${seconds}s"
    log=$scratch/fuzz-$target.log
    # shellcheck disable=SC2086
    if "$scratch/fuzzers/fuzz-$target" "$corpus" "Fuzz/Seeds/$target" \
            -max_total_time="$seconds" -timeout=10 -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
            -artifact_prefix="$artifacts/" -print_final_stats=1 "${extra[@]}" ${FUZZ_ARGS:-} \
            >"$log" 2>&1; then
        grep -E '^#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss_mb' "$log" | tr '\n' ' '
        grep -E '^#[0-9]+' "$log" | tail -1
        echo
    elif [ "$target" = hdf5 ] && grep -q -E 'in (H5HG_read|H5HG__protect|H5C_protect|H5F__accum_read)' "$log"; then
        # libhdf5 1.10's global- and local-heap defects (Fuzz/Known/README.md):
        # a crash or hang inside libhdf5 (H5HG_read / H5HG__protect under
        # H5Aread; H5C_protect / H5F__accum_read loading a local heap under
        # H5Literate). Reported, not counted, so that the smoke run fails only
        # on Beamline's bugs.
        echo "fuzz.sh: hdf5 stopped on a known libhdf5 heap defect (Fuzz/Known/README.md); not counted"
        grep -E 'SUMMARY|ERROR: libFuzzer' "$log" | head -2
    else
        status=1
        echo "fuzz.sh: $target failed; log $log, artifacts in $artifacts:" >&2
        grep -E 'ERROR|SUMMARY|Fatal|Test unit written' "$log" | head -20 >&2 || tail -30 "$log" >&2
    fi
done
exit $status
