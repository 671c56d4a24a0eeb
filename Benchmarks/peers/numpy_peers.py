"""NumPy side of the Tensor benchmarks (Benchmarks/Benchmarks/TensorBenchmarks).

Times the same operations on the same sizes with NumPy and prints one line
per benchmark: name, median wall time in microseconds, number of samples.
Run: python3 Benchmarks/peers/numpy_peers.py [--json out.json]
NumPy's elementwise ufuncs and reductions are single-threaded; matmul uses
the BLAS NumPy was built with (OpenBLAS in the wheels), FFT uses pocketfft.
"""
import argparse
import json

import numpy as np
from peertiming import median_us


def cases():
    n = 1 << 22
    rng = np.random.default_rng(1)
    a = rng.random(n)
    b = rng.random(n)
    square = a.reshape(2048, 2048)
    square_t = b.reshape(2048, 2048).T
    c = a.copy()
    out = {
        "add_contiguous_4M_f64": lambda: a + b,
        "add_inplace_4M_f64": lambda: np.add(c, b, out=c),
        "add_transposed_2048sq_f64": lambda: square + square_t,
        "mul_scalar_4M_f64": lambda: a * 1.5,
        "exp_4M_f64": lambda: np.exp(a),
        "sum_4M_f64": lambda: a.sum(),
        "sum_axis0_2048sq_f64": lambda: square.sum(axis=0),
        "sum_axis1_2048sq_f64": lambda: square.sum(axis=1),
        "max_4M_f64": lambda: a.max(),
    }
    for size in (256, 1024):
        x = rng.random((size, size))
        y = rng.random((size, size))
        out[f"matmul_{size}_f64"] = (lambda x=x, y=y: x @ y)
    img = rng.random((1024, 1024))
    cimg = img + 0j
    vol = rng.random((128, 128, 128)) + 0j
    out["fft2_1024sq_c128"] = lambda: np.fft.fft2(cimg)
    out["rfft2_1024sq_f64"] = lambda: np.fft.rfft2(img)
    out["fftn_128cube_c128"] = lambda: np.fft.fftn(vol)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--filter", default="")
    args = parser.parse_args()
    results = {}
    for name, fn in cases().items():
        if args.filter not in name:
            continue
        med, count = median_us(fn)
        results[name] = med
        print(f"{name:32s} {med:12.1f} us  ({count} samples)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"numpy": np.__version__, "median_us": results}, f, indent=1)


if __name__ == "__main__":
    main()
