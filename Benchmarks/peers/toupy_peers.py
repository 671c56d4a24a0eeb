"""toupy 0.2.2 side of the alignment benchmarks, and the same stacks through
`beamline align` in the same run.

A stack of Gaussian blobs projected analytically over 180° (the recipe of
BeamlineAlignment's SimulatedStack: the same four blobs, the same
geometry), misaligned by shifts uniform in ±3 px (numpy, seeded), is
aligned by
- toupy's `alignprojections_vertical` (linear shifts, polyorder 2,
  pixtol 0.01 after its pixel stage, maxit 10) and `beamline align
  vertical` (default schedule, spline shifts);
- toupy's `alignprojections_horizontal` on the central slice (ram-lak,
  freqcutoff 1, circle, pixtol 0.01, maxit 10) and `beamline align
  horizontal` (one slice, full gradient).
toupy's plotting (RegisterPlot) is replaced by a no-op, so only its
computation is timed. Errors: vertical RMS after removing the mean,
horizontal RMS after removing the fit on (1, cos θ, sin θ).

Install: pip install --no-deps toupy==0.2.2 && pip install pyfftw joblib
Run:     python3 Benchmarks/peers/toupy_peers.py --beamline .build/release/beamline [--projections 90 --size 64]
Prints one line per method: name, seconds (median of --repeats), RMS error in px.
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import matplotlib
matplotlib.use("Agg")
import numpy as np  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import toupy_imports  # noqa: E402

toupy_imports.install()  # names toupy 0.2.2 needs, stand-ins for fabio, numexpr and silx
import toupy.registration.registration as reg  # noqa: E402


class NoPlot:
    """Stands in for toupy's RegisterPlot (figures are not timed)."""
    def __init__(self, **params):
        pass

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


reg.RegisterPlot = NoPlot
BLOBS = [(-5, 3, -4, 2.5, 1.0), (6, -2, 3, 2.0, 0.8), (1, 7, 6, 1.8, 1.2), (-2, -6, -1, 3.0, 0.6)]


def simulate(projections, rows, columns, max_shift, seed, shift_vertical=True):
    rng = np.random.default_rng(seed)
    angles = np.arange(projections) * 180.0 / projections
    vertical = rng.uniform(-max_shift, max_shift, projections) * (1.0 if shift_vertical else 0.0)
    horizontal = rng.uniform(-max_shift, max_shift, projections)
    r = np.arange(rows)[:, None]
    c = np.arange(columns)[None, :]
    stack = np.zeros((projections, rows, columns))
    scale = columns / 40.0   # the blobs of SimulatedStack, scaled with the detector
    for p in range(projections):
        t = np.deg2rad(angles[p])
        for x, y, z, s, a in BLOBS:
            x, y, z, s = x * scale, y * scale, z * scale, s * scale
            u = x * np.cos(t) - y * np.sin(t)
            fz = np.exp(-((r - vertical[p] - (rows / 2 + z)) ** 2) / (2 * s * s))
            fu = np.exp(-((c - horizontal[p] - (columns // 2 + u)) ** 2) / (2 * s * s))
            stack[p] += a * np.sqrt(2 * np.pi) * s * fz * fu
    return stack, angles, vertical, horizontal


def rms_after_mean(found, truth):
    d = np.asarray(found) - truth
    return float(np.sqrt(np.mean((d - d.mean()) ** 2)))


def rms_after_sinusoid(found, truth, angles):
    d = np.asarray(found) - truth
    t = np.deg2rad(angles)
    basis = np.stack([np.ones_like(t), np.cos(t), np.sin(t)], 1)
    coefficients, *_ = np.linalg.lstsq(basis, d, rcond=None)
    return float(np.sqrt(np.mean((d - basis @ coefficients) ** 2)))


def toupy_vertical(stack, rows):
    params = dict(pixtol=0.01, polyorder=2, shiftmeth="linear", alignx=False, deltax=4,
                  limsy=(rows[0], rows[1]), maxit=10, subpixel=False)
    shiftstack = np.zeros((2, stack.shape[0]))
    shiftstack, _ = reg.alignprojections_vertical(stack, shiftstack, **params)
    return shiftstack[0]


def toupy_horizontal(stack, angles):
    row = stack.shape[1] // 2
    sinogram = stack[:, row, :].T.copy()
    params = dict(pixtol=0.01, shiftmeth="linear", circle=True, filtertype="ram-lak", freqcutoff=1.0,
                  cliplow=None, cliphigh=None, derivatives=False, calc_derivatives=False, opencl=False,
                  maxit=10, sinohigh=None, sinolow=None, colormap="bone", correct_bad=False, bad_projs=[],
                  autosave=False, interpmeth="linear", subpixel=False, algorithm="FBP")
    shiftstack = np.zeros((2, stack.shape[0]))
    shiftstack = reg.alignprojections_horizontal(sinogram, angles, shiftstack, **params)
    return shiftstack[1]


def timed(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--beamline", required=True)
    parser.add_argument("--projections", type=int, default=90)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = args.size
    stack, angles, vertical, horizontal = simulate(args.projections, n, n, 3.0, 2026)
    rows = (4, n - 4)
    folder = pathlib.Path(tempfile.mkdtemp())
    np.save(folder / "stack.npy", stack)
    np.save(folder / "angles.npy", angles)
    devnull = open(os.devnull, "w")

    def quiet(fn):
        def run():
            saved = sys.stdout
            sys.stdout = devnull
            try:
                return fn()
            finally:
                sys.stdout = saved
        return run

    def beamline(*extra):
        out = folder / "shifts.npy"
        subprocess.run([args.beamline, "align", *extra, "--stack", str(folder / "stack.npy"), "--out", str(out)],
                       check=True, capture_output=True)
        return np.load(out)

    t, v = timed(quiet(lambda: toupy_vertical(stack, rows)), args.repeats)
    print(f"toupy_vertical {t:.3f} s rms {rms_after_mean(v, vertical):.4f} px")
    t, s = timed(lambda: beamline("vertical", "--rows", f"{rows[0]}:{rows[1]}", "--method", "spline"), args.repeats)
    print(f"beamline_vertical {t:.3f} s rms {rms_after_mean(s[0], vertical):.4f} px")
    # Horizontal alignment of the stack misaligned horizontally only.
    stack_h, _, _, horizontal_h = simulate(args.projections, n, n, 3.0, 2027, shift_vertical=False)
    np.save(folder / "stack.npy", stack_h)
    t, h = timed(quiet(lambda: toupy_horizontal(stack_h, angles)), args.repeats)
    print(f"toupy_horizontal {t:.3f} s rms {rms_after_sinusoid(h, horizontal_h, angles):.4f} px")
    t, s = timed(lambda: beamline("horizontal", "--angles", str(folder / "angles.npy"), "--method", "spline"),
                 args.repeats)
    print(f"beamline_horizontal {t:.3f} s rms {rms_after_sinusoid(s[1], horizontal_h, angles):.4f} px")


if __name__ == "__main__":
    main()
