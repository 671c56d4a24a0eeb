"""toupy 0.2.2's horizontal alignment on derivative projections
(`derivatives=True`) against `beamline align horizontal --derivatives`, on
the stack of toupy_peers.py (90 projections of 64 x 64, shifts in +-3 px,
seed 2027, horizontal shifts only), the derivatives made by toupy's own
`calculate_derivatives` (Fourier), the central slice.

toupy is made importable by toupy_imports.py (through toupy_peers).

Install: pip install --no-deps toupy==0.2.2 && pip install pyfftw joblib
Run:     python3 Benchmarks/peers/toupy_derivatives_peer.py --beamline .build/release/beamline
Prints one line per run: name, seconds (one run, whole process for
Beamline), RMS error after removing the (1, cos, sin) fit, in px.
"""
import argparse
import contextlib
import io
import pathlib
import subprocess
import sys
import tempfile
import time


sys.path.insert(0, str(pathlib.Path(__file__).parent))
import numpy as np  # noqa: E402
import toupy_peers as peers  # noqa: E402  (toupy_imports installed, simulate, rms, the no-op RegisterPlot)

np.complex = complex   # toupy's derivative filter uses the removed alias
from toupy.restoration import calculate_derivatives  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--beamline", required=True)
    args = parser.parse_args()
    stack, angles, _, truth = peers.simulate(90, 64, 64, 3.0, 2027, shift_vertical=False)
    with contextlib.redirect_stdout(io.StringIO()):   # toupy's progress bar
        derivatives = np.asarray(calculate_derivatives(stack, range(0, 65), range(0, 65), shift_method="fourier"),
                                 dtype=np.float64)
    folder = pathlib.Path(tempfile.mkdtemp())
    np.save(folder / "derivatives.npy", derivatives)
    np.save(folder / "angles.npy", angles)
    params = dict(pixtol=0.01, shiftmeth="linear", circle=True, filtertype="ram-lak", freqcutoff=1.0, cliplow=None,
                  cliphigh=None, derivatives=True, calc_derivatives=False, opencl=False, maxit=10, sinohigh=None,
                  sinolow=None, colormap="bone", correct_bad=False, bad_projs=[], autosave=False, interpmeth="linear",
                  subpixel=False, algorithm="FBP")
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        shifts = peers.reg.alignprojections_horizontal(derivatives[:, 32, :].T.copy(), angles, np.zeros((2, 90)), **params)
    print(f"toupy_horizontal_derivatives {time.perf_counter() - t0:.3f} s "
          f"rms {peers.rms_after_sinusoid(shifts[1], truth, angles):.4f} px")
    for name, extra in [("beamline_horizontal_derivatives", []),
                        ("beamline_horizontal_derivatives_schedule", ["--schedule", "0.25,0.5,1"])]:
        t0 = time.perf_counter()
        subprocess.run([args.beamline, "align", "horizontal", "--stack", str(folder / "derivatives.npy"),
                        "--angles", str(folder / "angles.npy"), "--method", "spline", "--derivatives", *extra,
                        "--out", str(folder / "shifts.npy")], check=True, capture_output=True)
        found = np.load(folder / "shifts.npy")[1]
        print(f"{name} {time.perf_counter() - t0:.3f} s rms {peers.rms_after_sinusoid(found, truth, angles):.4f} px")


if __name__ == "__main__":
    main()
