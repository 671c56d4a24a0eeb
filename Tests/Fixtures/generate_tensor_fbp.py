"""mumott 2.3's run_fbp on a small DataContainer, and the window fix.

Run from the repository root:  python3 Tests/Fixtures/generate_tensor_fbp.py

Writes (h5py, mumott's layout) Tests/BeamlineTomographyTests/Fixtures/
tensor_fbp.h5: volume (8, 8, 6), projections 8 × 6 pixels, 2 detector
segments; 14 projections given by inner/outer angles about mumott's default
axes: 10 untilted at inner angles 0, π/10, …, 9π/10, one at π + 2.1·π/10
(distinct modulo π: kept), one at 2π + 3π/10 + 5e-5 (within 1e-4 of the
fourth modulo π: dropped), and 4 tilted ones (outer 0.2: dropped); the diode is exp(−path length) of an
absorbing block times 0.9, with two pixels above the 99.9th percentile and
one at zero (so the transmittivity cut-off masks them), and one weight set
to zero. And tensor_fbp.json:
- fbp_filtered_<filter>: mumott's get_filtered_projections (the absorbances
  run_fbp back-projects) for Ram-Lak as is; for the windows mumott's
  _get_filter evaluates cos/sinc at f/(4π), which leaves them within 1 % of
  1, so for hann, hamming, shepp-logan and cosine they are evaluated at f
  (cycles per pixel), the fix Beamline makes; fbp_windows_mumott_gap records
  how far mumott's own filtered projections are from them (relative);
- fbp_run_fbp_ram-lak: run_fbp's own volume (pixel-driven back-projection);
- fbp_indices: mumott's fbp_indices.
"""
import os
import h5py
import numpy as np
import mumott
from mumott import DataContainer
from mumott.pipelines import run_fbp
import mumott.pipelines.fbp_utilities as fbp_utilities
from fixturelib import write

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "BeamlineTomographyTests", "Fixtures")
path = os.path.join(out_dir, "tensor_fbp.h5")
rng = np.random.default_rng(11)
J, K, S = 8, 6, 2
step = np.pi / 10
inner = [i * step for i in range(10)] + [np.pi + 2.1 * step, 3 * step + 5e-5, 0.2, 1.0, 2.0, 3.0]
outer = [0.0] * 12 + [0.2] * 4
inner[11] = 2 * np.pi + 3 * step + 5e-5   # within 1e-4 of index 3 modulo π
jj, kk = np.meshgrid(np.arange(J) - 3.5, np.arange(K) - 2.5, indexing="ij")
with h5py.File(path, "w") as f:
    f["detector_angles"] = np.array([0.0, np.pi / 2])
    f["two_theta"] = np.array([0.0])
    f["volume_shape"] = np.array([J, J, K])
    g = f.create_group("projections")
    for i, (a, b) in enumerate(zip(inner, outer)):
        p = g.create_group(str(i))
        length = np.clip(3.0 - np.abs(jj * np.cos(a) + 0.5) * 0.8, 0, None) * (np.abs(kk) < 2.2)
        diode = 0.9 * np.exp(-0.4 * length) * (1 + 0.01 * rng.standard_normal((J, K)))
        if i == 2:
            diode[0, 0] = 5.0        # above the percentile: clipped, masked
            diode[7, 5] = 0.0        # zero transmittivity: clipped, masked
        weights = np.ones((J, K, S))
        if i == 4:
            weights[3, 2, 1] = 0.0   # one segment's weight 0: the pixel is dropped
        p["data"] = rng.uniform(0, 1, (J, K, S))
        p["diode"] = diode
        p["weights"] = weights
        p["inner_angle"] = np.array([a])
        p["outer_angle"] = np.array([b])
        p["j_offset"] = np.array([0.0])
        p["k_offset"] = np.array([0.0])

dc = DataContainer(path)
F = {"versions_mumott": np.array([float(x) for x in mumott.__version__.split(".")[:2]])}
ramlak = run_fbp(dc, fbp_axis="inner", filter_type="Ram-Lak")
F["fbp_indices"] = np.asarray(ramlak["fbp_indices"], dtype=float)

# run_fbp's own volume: mumott's CPU adjoint is a pixel-driven back-projection,
# not the transpose of its forward projector, while Beamline back-projects
# with the exact transpose of its own forward (docs/tomography.md), so the
# volumes are not compared entry by entry; kept for reference.
F["fbp_run_fbp_ram-lak"] = ramlak["result"]["x"]

mumott_filter = fbp_utilities._get_filter
def fixed_filter(length, filter_type):
    f = np.fft.fftfreq(length)
    ramp = mumott_filter(length, "ram-lak")
    window = {"ram-lak": np.ones_like(f), "hann": 0.5 + 0.5 * np.cos(2 * np.pi * f),
              "hamming": 0.54 + 0.46 * np.cos(2 * np.pi * f), "shepp-logan": np.sinc(f),
              "cosine": np.cos(np.pi * f)}[filter_type.lower()]
    return ramp * window
gaps = []
for name in ("ram-lak", "hann", "hamming", "shepp-logan", "cosine"):
    fbp_utilities._get_filter = mumott_filter
    theirs, _ = fbp_utilities.get_filtered_projections(dc.projections, "inner", name)
    fbp_utilities._get_filter = fixed_filter
    fixed, _ = fbp_utilities.get_filtered_projections(dc.projections, "inner", name)
    F["fbp_filtered_" + name] = fixed
    if name != "ram-lak":
        gaps.append(np.max(np.abs(theirs - fixed)) / np.max(np.abs(fixed)))
fbp_utilities._get_filter = mumott_filter
F["fbp_windows_mumott_gap"] = np.array(gaps)
write(os.path.join(out_dir, "tensor_fbp.json"), F)
print("wrote", path, "and tensor_fbp.json; indices", F["fbp_indices"], "gaps", gaps)
