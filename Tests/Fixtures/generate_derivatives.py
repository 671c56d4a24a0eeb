"""Fixtures for the derivative projections of Tests/BeamlineAlignmentTests
(toupy 0.2.2's own functions).

toupy 0.2.2 is made importable by Benchmarks/peers/toupy_imports.py (names
its dependencies removed since, stand-ins for fabio, numexpr and silx).

Install: pip install --no-deps toupy==0.2.2 && pip install pyfftw
Run:     python3 Tests/Fixtures/generate_derivatives.py

Writes Tests/BeamlineAlignmentTests/Fixtures/derivatives.json:
- `stack`: a (3, 4, 37) stack of smooth random projections (37 columns:
  pyFFTW's next fast length is 39, so toupy's Fourier shifts pad each row
  by 2 reflected samples);
- `fourier`, `linear`, `spline`: toupy's `calculate_derivatives` of the
  whole stack with that `shift_method` (`fourier` computed by toupy in
  complex64);
- `wide`: a (2, 3, 64) stack (no padding) and `wide_fourier` its Fourier
  derivatives;
- `hilbert_ramlak`, `hilbert_ramlak_half`: the imaginary part of toupy's
  `compute_filter(40, "ram-lak", derivatives=True, freqcutoff=1 / 0.5)`
  (size 128, FFT order; the real part is zero).
"""
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import scipy.ndimage as ndi  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "Benchmarks" / "peers"))
import toupy_imports  # noqa: E402

toupy_imports.install()
from toupy.restoration import calculate_derivatives  # noqa: E402
from toupy.tomo.iradon import compute_filter  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from fixturelib import write  # noqa: E402


def whole(stack, method):
    """toupy's calculate_derivatives over every row and column (its ROI
    slices stop one short of the range's last value)."""
    _, rows, columns = stack.shape
    return calculate_derivatives(stack, range(0, rows + 1), range(0, columns + 1), shift_method=method)


rng = np.random.default_rng(20261204)
stack = ndi.gaussian_filter(rng.random((3, 4, 37)), sigma=(0, 1, 2), mode="reflect")
wide = ndi.gaussian_filter(rng.random((2, 3, 64)), sigma=(0, 1, 2), mode="reflect")
entries = {"stack": stack, "wide": wide}
for method in ("fourier", "linear", "spline"):
    entries[method] = np.asarray(whole(stack, method), dtype=np.float64)
entries["wide_fourier"] = np.asarray(whole(wide, "fourier"), dtype=np.float64)
entries["hilbert_ramlak"] = np.imag(compute_filter(40, "ram-lak", derivatives=True, freqcutoff=1)).reshape(-1)
entries["hilbert_ramlak_half"] = np.imag(compute_filter(40, "ram-lak", derivatives=True, freqcutoff=0.5)).reshape(-1)

out = pathlib.Path(__file__).parents[1] / "BeamlineAlignmentTests" / "Fixtures" / "derivatives.json"
write(out, entries)
print("wrote", out)
