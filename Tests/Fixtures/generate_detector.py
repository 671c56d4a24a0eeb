"""Expected values for BeamlineDetectorTests.

Run from the repository root:  python3 Tests/Fixtures/generate_detector.py
(NumPy 2.4, SciPy 1.17, numba 0.68, pyFAI 2026.9 were used for the committed files.)

Writes Tests/BeamlineDetectorTests/Fixtures/
- detector.json:
  * window64_*: the raytraced (sample=4, per-ray directions) and exact (2x2
    sub-faces) point-spread matrices of a 64x64 window of 172 um pixels with a
    band of gap rows, a band of gap columns and dead pixels, from the
    independent numba implementation Benchmarks/peers/thick_detector_numba.py
    (CSR data/indices/indptr and the transmitted / side-lost / masked maps);
  * lsmr_x, mlem_x: scipy.sparse.linalg.lsmr (20 iterations) and the NumPy MLEM
    of the peer (20 iterations) on the blur (transpose) of the raytraced matrix,
    data = blur @ (ones with every 5th pixel = 10);
  * catalogue_*: shapes, pixel sizes and gap-mask pixel counts of pyFAI's
    detector definitions;
  * pyfai_lab_*: pyFAI Geometry.calc_pos_zyx for a tilted geometry.
- window64_scipy.npz: the raytraced matrix written by scipy.sparse.save_npz.
"""
import os
import sys

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import lsmr

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "Benchmarks", "peers"))
from fixturelib import write  # noqa: E402
import thick_detector_numba as peer  # noqa: E402

out_dir = os.path.join(here, "..", "BeamlineDetectorTests", "Fixtures")
os.makedirs(out_dir, exist_ok=True)
F = {}

# ---------------------------------------------------------------- 64x64 window
shape = (64, 64)
gap_rows = np.zeros(64, bool); gap_rows[30:35] = True
gap_cols = np.zeros(64, bool); gap_cols[40:43] = True
dead = np.zeros(shape, bool); dead[10, 12] = True; dead[50, 20] = True; dead[20, 55] = True
geo = dict(shape=shape, pixel=(172e-6, 172e-6), poni1=-0.01, poni2=0.004, dist=0.05, thickness=1000e-6, mu=1537.02,
           gap_rows=gap_rows, gap_cols=gap_cols, dead=dead)
F["window64_geometry"] = np.array([172e-6, 172e-6, -0.01, 0.004, 0.05, 1000e-6, 1537.02])
F["window64_gap_rows"] = gap_rows
F["window64_gap_cols"] = gap_cols
F["window64_dead"] = dead
for tag, (a, t, s, m) in {"ray4": peer.raytrace(sample=4, **geo), "exact2": peer.exact(subpixels=2, **geo)}.items():
    a.sort_indices()
    F[f"window64_{tag}_data"] = a.data
    F[f"window64_{tag}_indices"] = a.indices.astype(np.int64)
    F[f"window64_{tag}_indptr"] = a.indptr.astype(np.int64)
    F[f"window64_{tag}_transmitted"] = t
    F[f"window64_{tag}_side"] = s
    F[f"window64_{tag}_masked"] = m
    if tag == "ray4":
        sp.save_npz(os.path.join(out_dir, "window64_scipy.npz"), a, compressed=False)
        blur = a.T.tocsr()
        truth = np.ones(a.shape[0]); truth[::5] = 10
        y = blur @ truth
        F["deconv_y"] = y
        F["lsmr_x"] = lsmr(blur, y, atol=0, btol=0, conlim=0, maxiter=20)[0]
        F["mlem_x"] = peer.mlem(blur, y, 20)

# ---------------------------------------------------------------- pyFAI catalogue and geometry
import pyFAI.detectors as D  # noqa: E402
from pyFAI.geometry import Geometry  # noqa: E402
names = ["Pilatus100k", "Pilatus300k", "Pilatus1M", "Pilatus2M", "Pilatus6M", "Eiger1M", "Eiger4M", "Eiger9M",
         "Eiger16M", "Eiger2_1M", "Eiger2_4M", "Eiger2_9M", "Eiger2_16M"]
cat = []
for n in names:
    d = D.detector_factory(n)
    m = d.calc_mask()
    cat.append([d.max_shape[0], d.max_shape[1], d.pixel1, d.pixel2, 0 if m is None else int(m.sum())])
F["catalogue"] = np.array(cat, dtype=float)
g = Geometry(dist=0.2845, poni1=0.08865, poni2=0.08931, rot1=0.1, rot2=-0.2, rot3=0.3, detector="Pilatus1M")
i = np.array([0.0, 500.0, 1042.0]); j = np.array([0.0, 300.0, 980.0])
z, y, x = g.calc_pos_zyx(d1=i, d2=j)  # pyFAI: index d -> pixel centre (d + 0.5) * pixel
F["pyfai_lab_pixels"] = np.stack([i, j], -1)
F["pyfai_lab_zyx"] = np.stack([z, y, x], -1)

write(os.path.join(out_dir, "detector.json"), F)
print("wrote", out_dir)
