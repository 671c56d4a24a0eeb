"""Fixtures for Tests/BeamlineAlignmentTests (toupy 0.2.2's own functions).

toupy 0.2.2 imports `skimage.feature.register_translation`, which
scikit-image removed in 0.19; the shim below points it at its successor
(`skimage.registration.phase_cross_correlation`) so toupy imports; the
functions used here do not call it.

Install: pip install --no-deps toupy==0.2.2 && pip install pyfftw
Run:     python3 Tests/Fixtures/generate_alignment.py

Writes Tests/BeamlineAlignmentTests/Fixtures/alignment.json:
- `stack`: a (6, 24, 20) stack of smooth random projections;
- `shifts`: toupy `shiftstack` (2, 6) with sub-pixel vertical shifts
  (horizontal zero);
- `fluct_linear`, `fluct_fourier`: toupy's `vertical_fluctuations` with
  `lims = ([6, 18], [2, 18])` (rows 6..<18, columns 2..<18, i.e. deltax 2)
  and `polyorder = 2`, for the linear and Fourier shift methods.
- `shift_linear_1d`, `shift_spline_1d`: toupy's ShiftFunc on one 1-d
  profile by 1.3 px (linear, wrap) and scipy.ndimage.shift(−1.3, order 3,
  mode "reflect") as toupy's spline method calls it.
"""
import pathlib
import sys

import numpy as np
import scipy.ndimage as ndi
import skimage.feature
import skimage.registration

skimage.feature.register_translation = skimage.registration.phase_cross_correlation
from toupy.registration.registration import vertical_fluctuations  # noqa: E402
from toupy.registration.shift import ShiftFunc  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from fixturelib import write  # noqa: E402

rng = np.random.default_rng(20261203)
P, R, C = 6, 24, 20
raw = rng.random((P, R, C))
stack = ndi.gaussian_filter(raw, sigma=(0, 2, 2), mode="reflect")
shifts = np.zeros((2, P))
shifts[0] = rng.uniform(-1.5, 1.5, P)
lims = (np.array([6, 18]), np.array([2, 18]))

entries = {"stack": stack, "shifts": shifts}
for method in ("linear", "fourier"):
    entries[f"fluct_{method}"] = vertical_fluctuations(stack, lims, shifts.copy(), shift_method=method, polyorder=2)

profile = ndi.gaussian_filter1d(rng.random(32), 2.0)
entries["profile"] = profile
entries["shift_linear_1d"] = ShiftFunc(shiftmeth="linear")(profile, 1.3)
entries["shift_spline_1d"] = ndi.shift(profile, -1.3, order=3, mode="reflect")

out = pathlib.Path(__file__).parents[1] / "BeamlineAlignmentTests" / "Fixtures" / "alignment.json"
write(out, entries)
print("wrote", out)
