#!/usr/bin/env bash
# Distributed reconstructions on 1, 2 and 4 MPI ranks (loopback, Open MPI's
# mpirun) against the single-process results, through the `beamline` tool.
# Called by .ci/run after `swift test` (which builds .build/debug/beamline);
# builds it when missing. Takes about 70 seconds.
#
# On a tiny phantom (16 × 16 × 8 voxels, 24 projections of a scan about z,
# HDF5 input so that each rank reads a hyperslab), for sirt, mitra, cgls and
# lsmr (5 iterations each):
#   * --distributed slabs on 1, 2 and 4 ranks: the three volumes are the same
#     file, byte for byte (the slab decomposition's bits do not depend on the
#     number of ranks), and within 1e-5 (relative to the largest voxel) of the
#     single-process volume (only the order of the sums in the norms differs);
#   * --distributed projections on 1 rank: the single-process file, byte for
#     byte; on 2 and 4 ranks: within 1e-5 relative (the back-projection sums
#     the ranks' partial volumes: float32 rounding of a sum in another order;
#     observed differences are reported below);
#   * a bad part on one rank (a NaN in the last projection, read by the last
#     rank only) stops every rank, within the time limit, with one line on
#     standard error naming the rank, exit status 1, and no output file;
#   * a volume beyond the machine's memory (a simulated out-of-memory) and a
#     geometry the slabs cannot split (tilted) are one message each, exit 1.
#   * slabs on 4 ranks with the collectives in chunks of 100 elements
#     (BEAMLINE_MPI_CHUNK_ELEMENTS; the volume is gathered in 21 rounds): the
#     unchunked file, byte for byte;
#   * tensor-reconstruct --distributed projections (every pipeline) on 1, 2
#     and 4 ranks against the single-process coefficients, in chunks too, and
#     a bad part of a tensor data set (details at the tensor section below).
# Expected values come from the single-process run of the same binary.
set -euo pipefail
cd "$(dirname "$0")/.."

beamline=${BEAMLINE:-.build/debug/beamline}
if [ ! -x "$beamline" ]; then swift build --product beamline; fi
beamline=$(realpath "$beamline")
fixtures=$(realpath scripts/fixtures)
mpirun=(mpirun -q --allow-run-as-root --oversubscribe --bind-to none)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A NumPy .npy writer, geometry JSON and phantom without NumPy (plain Python).
cat > make.py <<'EOF'
import json, math, struct, sys

def write_npy(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % ", ".join(str(s) for s in shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % len(values), *values))

n, X, Y, Z, J = 24, 16, 16, 8, 20
rotations, tilted = [], []
for i in range(n):
    t = math.pi * i / n + 0.1
    c, s = math.cos(t), math.sin(t)
    rotations.append([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    a = 0.2  # the same scan tilted about x
    ca, sa = math.cos(a), math.sin(a)
    tilted.append([[c, -s * ca, s * sa], [s, c * ca, -c * sa], [0.0, sa, ca]])
json.dump({"rotations": rotations, "volume_shape": [X, Y, Z], "projection_shape": [J, Z]}, open("geometry.json", "w"))
json.dump({"rotations": tilted, "volume_shape": [X, Y, Z], "projection_shape": [J, Z]}, open("tilted.json", "w"))
# A volume far beyond the machine's memory (an out-of-memory, simulated), with the same detector.
json.dump({"rotations": rotations, "volume_shape": [40000, 40000, Z], "projection_shape": [J, Z]}, open("huge.json", "w"))
volume = []
for x in range(X):
    for y in range(Y):
        for z in range(Z):
            dx, dy, dz = (x + 0.5) / X - 0.5, (y + 0.5) / Y - 0.5, (z + 0.5) / Z - 0.5
            v = 1.0 if dx * dx + dy * dy + dz * dz < 0.16 else 0.0
            v += 0.5 if (dx - 0.1) ** 2 + (dy + 0.05) ** 2 < 0.01 else 0.0
            volume.append(v + 0.1 * math.sin(x + 2 * y + 3 * z))
write_npy("volume.npy", [X, Y, Z], volume)
bad = [1.0] * (n * J * Z)
bad[-5] = float("nan")  # in the last projection: only the last rank of a projection split reads it
write_npy("bad.npy", [n, J, Z], bad)
EOF
python3 make.py

# Largest |a − b| relative to max |b| of two float32 or float64 .npy files.
cat > compare.py <<'EOF'
import struct, sys
def read(path):
    data = open(path, "rb").read()
    length = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + length].decode()
    kind = "d" if "'<f8'" in header else "f"
    body = data[10 + length:]
    return struct.unpack("<%d%s" % (len(body) // struct.calcsize(kind), kind), body)
a, b = read(sys.argv[1]), read(sys.argv[2])
assert len(a) == len(b), (len(a), len(b))
scale = max(abs(v) for v in b)
print("%.3e" % (max(abs(x - y) for x, y in zip(a, b)) / scale))
EOF

"$beamline" project --geometry geometry.json --volume volume.npy --out proj.h5:/projections >/dev/null
tolerance=1e-5
for method in sirt mitra cgls lsmr; do
    common=(reconstruct --geometry geometry.json --projections proj.h5:/projections --method "$method" --max-iterations 5 --threads 1)
    "$beamline" "${common[@]}" --out "plain_$method.npy" >/dev/null
    for ranks in 1 2 4; do
        for decomposition in slabs projections; do
            "${mpirun[@]}" -np "$ranks" "$beamline" "${common[@]}" --distributed "$decomposition" \
                --out "${decomposition}_${ranks}_$method.npy" >/dev/null
        done
    done
    cmp -s "slabs_1_$method.npy" "slabs_2_$method.npy" || fail "$method: slabs on 2 ranks differ from 1 rank"
    cmp -s "slabs_1_$method.npy" "slabs_4_$method.npy" || fail "$method: slabs on 4 ranks differ from 1 rank"
    cmp -s "projections_1_$method.npy" "plain_$method.npy" || fail "$method: projections on 1 rank differ from the single-process run"
    line="$method: slabs 1 = 2 = 4 ranks (bytes); vs single process:"
    for run in slabs_1 projections_2 projections_4; do
        difference=$(python3 compare.py "${run}_$method.npy" "plain_$method.npy")
        line="$line $run $difference"
        python3 -c "import sys; sys.exit(0 if float('$difference') <= $tolerance else 1)" \
            || fail "$method: $run differs from the single-process volume by $difference (> $tolerance)"
    done
    echo "$line"
done
# The gather of the slabs on rank 0 in rounds of 100 elements (the volume is
# 2048): the bytes of the unchunked run.
"${mpirun[@]}" -np 4 -x BEAMLINE_MPI_CHUNK_ELEMENTS=100 "$beamline" reconstruct --geometry geometry.json \
    --projections proj.h5:/projections --method sirt --max-iterations 5 --threads 1 --distributed slabs --out slabs_chunked.npy >/dev/null
cmp -s slabs_chunked.npy slabs_4_sirt.npy || fail "sirt: slabs on 4 ranks in chunks of 100 elements differ from unchunked"
echo "sirt: slabs on 4 ranks in chunks of 100 elements: the unchunked bytes"

# Tensor tomography (scripts/fixtures/tensor_mpi.h5: 12 tilted projections of
# 10 × 10 pixels, 8 segments, a 10³ volume, ℓmax 4: 15 coefficients per voxel;
# float64), every pipeline, 8 iterations: --distributed projections on 1 rank
# gives the single-process files byte for byte; on 2 and 4 ranks the
# coefficients are within $tensor_tolerance relative (max |a − b| / max |b|)
# of the single-process ones: the back-projections and loss values add per-rank
# partial sums (float64 rounding in another order, amplified by the
# iterations; observed values are printed). A chunk limit of 1000 elements
# (15 chunks per back-projection sum) gives the unchunked bytes on 2 ranks.
tensor_tolerance=${TENSOR_TOLERANCE:-1e-9}
for pipeline in sirt mitra sigtt group-lasso; do
    common=(tensor-reconstruct "$fixtures/tensor_mpi.h5" --pipeline "$pipeline" --ell-max 4 --max-iterations 8 --threads 1)
    "$beamline" "${common[@]}" --out "tensor_plain_$pipeline.npy" >/dev/null
    for ranks in 1 2 4; do
        "${mpirun[@]}" -np "$ranks" "$beamline" "${common[@]}" --distributed projections \
            --out "tensor_${ranks}_$pipeline.npy" >"stdout_${ranks}_$pipeline.txt"
        [ "$(wc -l <"stdout_${ranks}_$pipeline.txt")" -eq 1 ] || fail "tensor $pipeline on $ranks ranks: expected one summary line on stdout"
    done
    grep -q '"ranks":4' "stdout_4_$pipeline.txt" || fail "tensor $pipeline: the summary does not give 4 ranks"
    for file in "" .mean_intensity .fractional_anisotropy .eigenvalues .main_orientation; do
        cmp -s "tensor_1_$pipeline$file.npy" "tensor_plain_$pipeline$file.npy" \
            || fail "tensor $pipeline: 1 rank differs from the single-process run ($file)"
    done
    line="tensor $pipeline: 1 rank = single process (bytes); vs single process:"
    for ranks in 2 4; do
        difference=$(python3 compare.py "tensor_${ranks}_$pipeline.npy" "tensor_plain_$pipeline.npy")
        line="$line $ranks ranks $difference"
        python3 -c "import sys; sys.exit(0 if float('$difference') <= $tensor_tolerance else 1)" \
            || fail "tensor $pipeline: $ranks ranks differ from the single-process coefficients by $difference (> $tensor_tolerance)"
    done
    echo "$line"
done
# In float32 (mitra, the largest difference by hand): within 1e-4 relative.
common=(tensor-reconstruct "$fixtures/tensor_mpi.h5" --pipeline mitra --ell-max 4 --max-iterations 8 --threads 1 --float32)
"$beamline" "${common[@]}" --out tensor_plain_f32.npy >/dev/null
line="tensor mitra --float32 vs single process:"
for ranks in 2 4; do
    "${mpirun[@]}" -np "$ranks" "$beamline" "${common[@]}" --distributed projections --out "tensor_${ranks}_f32.npy" >/dev/null
    difference=$(python3 compare.py "tensor_${ranks}_f32.npy" tensor_plain_f32.npy)
    line="$line $ranks ranks $difference"
    python3 -c "import sys; sys.exit(0 if float('$difference') <= 1e-4 else 1)" \
        || fail "tensor mitra --float32: $ranks ranks differ from the single-process coefficients by $difference (> 1e-4)"
done
echo "$line"
"${mpirun[@]}" -np 2 -x BEAMLINE_MPI_CHUNK_ELEMENTS=1000 "$beamline" tensor-reconstruct "$fixtures/tensor_mpi.h5" \
    --pipeline sigtt --ell-max 4 --max-iterations 8 --threads 1 --distributed projections --out tensor_chunked.npy >stdout_chunked.txt
cmp -s tensor_chunked.npy tensor_2_sigtt.npy || fail "tensor sigtt: 1000-element chunks differ from unchunked sums on 2 ranks"
# The limit took effect: more MPI calls (15 per back-projection sum), the same bytes.
calls=$(python3 -c "import json; a, b = (json.load(open(f)) for f in ('stdout_2_sigtt.txt', 'stdout_chunked.txt')); \
print(a['mpi_calls'], b['mpi_calls'], 'same' if a['mpi_bytes_sent'] == b['mpi_bytes_sent'] else 'different')")
read -r unchunked chunked bytes <<<"$calls"
[ "$chunked" -gt "$unchunked" ] && [ "$bytes" = "same" ] || fail "tensor sigtt: chunking did not take effect (MPI calls $unchunked → $chunked, $bytes bytes)"
echo "tensor sigtt on 2 ranks in chunks of 1000 elements: the unchunked bytes ($unchunked → $chunked MPI calls)"

# A bad part of a tensor data set (a NaN in the last projection, read by the
# last rank only): one message, status 1 on every rank, no output file.
set +e
timeout 60 "${mpirun[@]}" -np 2 "$beamline" tensor-reconstruct "$fixtures/tensor_mpi_bad.h5" --pipeline mitra \
    --distributed projections --out tensor_bad.h5 --threads 1 >stdout.txt 2>stderr.txt
status=$?
set -e
[ "$status" -eq 1 ] || fail "tensor bad part: exit status $status, expected 1"
[ "$(wc -l <stderr.txt)" -eq 1 ] || { fail "tensor bad part: expected one line on stderr:"; cat stderr.txt; }
grep -q "rank 1" stderr.txt && grep -q "NaN" stderr.txt || { fail "tensor bad part: message does not name rank 1 and the NaN:"; cat stderr.txt; }
[ ! -e tensor_bad.h5 ] || fail "tensor bad part: an output file was written"
[ ! -s stdout.txt ] || fail "tensor bad part: something was printed on stdout"
echo "tensor bad part on rank 1 of 2: exit $status, $(cat stderr.txt)"

# A bad part on one rank: every rank stops, one message, status 1, no file.
set +e
timeout 60 "${mpirun[@]}" -np 2 "$beamline" reconstruct --geometry geometry.json --projections bad.npy \
    --method cgls --distributed projections --out bad_out.npy --threads 1 >stdout.txt 2>stderr.txt
status=$?
set -e
[ "$status" -eq 1 ] || fail "bad part: exit status $status, expected 1"
[ "$(wc -l <stderr.txt)" -eq 1 ] || { fail "bad part: expected one line on stderr:"; cat stderr.txt; }
grep -q "rank 1" stderr.txt && grep -q "non-finite" stderr.txt || { fail "bad part: message does not name rank 1 and the NaN:"; cat stderr.txt; }
[ ! -e bad_out.npy ] || fail "bad part: an output file was written"
[ ! -s stdout.txt ] || fail "bad part: something was printed on stdout"
echo "bad part on rank 1 of 2: exit $status, $(cat stderr.txt)"

# A volume too large for the memory (simulated out-of-memory): every rank
# refuses before allocating; one message, status 1, no file, within seconds.
set +e
timeout 60 "${mpirun[@]}" -np 2 "$beamline" reconstruct --geometry huge.json --projections proj.h5:/projections \
    --method lsmr --distributed slabs --out huge_out.npy --threads 1 >/dev/null 2>stderr.txt
status=$?
set -e
[ "$status" -eq 1 ] && [ "$(wc -l <stderr.txt)" -eq 1 ] && grep -q "memory: this rank needs" stderr.txt \
    || { fail "huge volume: status $status, expected 1 and one message about memory:"; cat stderr.txt; }
[ ! -e huge_out.npy ] || fail "huge volume: an output file was written"
echo "volume beyond memory: exit $status, $(cat stderr.txt)"

# A geometry that slabs cannot split: one message, status 1.
set +e
timeout 60 "${mpirun[@]}" -np 2 "$beamline" reconstruct --geometry tilted.json --projections proj.h5:/projections \
    --method sirt --distributed slabs --out tilted_out.npy --threads 1 >/dev/null 2>stderr.txt
status=$?
set -e
[ "$status" -eq 1 ] && [ "$(wc -l <stderr.txt)" -eq 1 ] && grep -q "rotations\[0\]" stderr.txt \
    || { fail "tilted slabs: status $status, expected 1 and one message naming rotations[0]:"; cat stderr.txt; }
[ ! -e tilted_out.npy ] || fail "tilted slabs: an output file was written"
echo "tilted geometry with slabs: exit $status, $(cat stderr.txt)"

if [ "$failures" -gt 0 ]; then
    echo "mpi_tests: $failures failure(s)"
    exit 1
fi
echo "mpi_tests: all passed"
