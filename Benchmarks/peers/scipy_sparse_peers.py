"""SciPy side of the sparse benchmarks (Benchmarks/Benchmarks/SparseBenchmarks).

Builds the same two 2^20 x 2^20 matrices (band4: columns i, i+1, i+1024,
i+1025 mod n; scatter20: columns (i*2654435761 + k*2654435769) mod n; values
1 + ((31 i + 17 k) mod 13) / 10) and times scipy.sparse SpMV (A @ x),
transposed SpMV (A.T @ x), a NumPy copy of 8 Mi doubles, and 10 iterations of
scipy.sparse.linalg.lsmr (atol = btol = conlim = 0, maxiter = 10). Prints
one line per benchmark: name, median wall time in microseconds, samples, and
for SpMV the effective GB/s (12 nnz + 32 n bytes).
Run: python3 Benchmarks/peers/scipy_sparse_peers.py [--json out.json]
SciPy's sparse products are single-threaded.
"""
import argparse
import json

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import lsmr
from peertiming import median_us

N = 1 << 20


def make(per_row, banded):
    i = np.repeat(np.arange(N, dtype=np.int64), per_row)
    k = np.tile(np.arange(per_row, dtype=np.int64), N)
    if banded:
        cols = (i + np.array([0, 1, 1024, 1025])[k]) % N
    else:
        cols = ((i.astype(np.uint64) * np.uint64(2654435761) + k.astype(np.uint64) * np.uint64(2654435769))
                % np.uint64(N)).astype(np.int64)
    vals = 1 + ((31 * i + 17 * k) % 13) / 10
    a = sp.coo_array((vals, (i, cols)), shape=(N, N)).tocsr()
    a.indices = a.indices.astype(np.int32)
    return a


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    args = parser.parse_args()
    x = 1 + (np.arange(N) % 7) * 0.25
    b = np.sin(np.arange(N) * 1e-3)
    results = {}
    src = np.full(1 << 23, 1.5)
    dst = np.zeros(1 << 23)
    t, s = median_us(lambda: np.copyto(dst, src), min_time=3.0)
    results["copy_64MiB_f64"] = (t, s, 16 * (1 << 23) / t / 1e3)
    for name, per_row, banded in [("band4", 4, True), ("scatter20", 20, False)]:
        a = make(per_row, banded)
        at = a.T  # what A.T @ x does in scipy (CSC view, a csr_matvec on the transpose structure)
        nbytes = 12 * a.nnz + 32 * N
        for label, fn in [(f"spmv_{name}_1M_f64", lambda: a @ x), (f"spmvT_{name}_1M_f64", lambda: at @ x)]:
            t, s = median_us(fn, min_time=3.0)
            results[label] = (t, s, nbytes / t / 1e3)
        t, s = median_us(lambda: lsmr(a, b, atol=0, btol=0, conlim=0, maxiter=10), min_time=5.0, max_samples=20)
        results[f"lsmr10_{name}_1M_f64"] = (t, s, None)
    for label, (t, s, gbps) in results.items():
        extra = f"  {gbps:6.2f} GB/s" if gbps else ""
        print(f"{label:28s} {t:12.1f} us  ({s} samples){extra}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: {"median_us": v[0], "samples": v[1], "gbps": v[2]} for k, v in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
