"""pyFFTW side of the FFT benchmarks (TensorBenchmarks' fft* rows).

Plans each transform once with pyFFTW's builders (FFTW_ESTIMATE, as
Beamline's default, and FFTW_MEASURE, FFTW's best plan) outside the timing,
then times the planned execution on the same sizes as Beamline's
benchmarks, with Beamline's thread count (BEAMLINE_NUM_THREADS, default all
cores). Prints one line per benchmark and writes --json.
Run: python3 Benchmarks/peers/pyfftw_peers.py [--json out.json] [--effort FFTW_MEASURE]
"""
import argparse
import json
import os

import numpy as np
import pyfftw
import pyfftw.builders as builders
from peertiming import median_us


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--effort", default="FFTW_MEASURE", choices=["FFTW_ESTIMATE", "FFTW_MEASURE"])
    args = parser.parse_args()
    threads = int(os.environ.get("BEAMLINE_NUM_THREADS") or os.cpu_count() or 1)
    rng = np.random.default_rng(5)
    img = pyfftw.byte_align(rng.random((1024, 1024)))
    cimg = pyfftw.byte_align(img + 0j)
    vol = pyfftw.byte_align(rng.random((128, 128, 128)) + 0j)
    plans = {
        "fft2_1024sq_c128": builders.fftn(cimg, threads=threads, planner_effort=args.effort),
        "rfft2_1024sq_f64": builders.rfftn(img, threads=threads, planner_effort=args.effort),
        "fftn_128cube_c128": builders.fftn(vol, threads=threads, planner_effort=args.effort),
    }
    results = {}
    for name, plan in plans.items():
        med, count = median_us(plan, warmup=1)
        results[name] = med
        print(f"{name:32s} {med:12.1f} us  ({count} samples, {threads} threads, {args.effort})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pyfftw": pyfftw.__version__, "planner": args.effort, "median_us": results}, f, indent=1)


if __name__ == "__main__":
    main()
