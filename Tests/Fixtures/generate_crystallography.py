"""Expected values for BeamlineCrystallographyTests.

Run from the repository root:  python3 Tests/Fixtures/generate_crystallography.py
(NumPy 2.4 and h5py 3.16 were used for the committed files.)

An independent NumPy implementation of cbclib v0.7.2's intensity-scaling
formulas (cbclib/cbc_scaling.py IntensityScaler and cbclib/include/sgn_proc.c,
read for the conventions, not copied), with the corrections Beamline makes
(docs/crystallography.md):
  * the model m_j = exp(theta_r) chi(u_j) f2_j + b_s and lambda_j = bgd_j + sum
    of m over the rows sharing the pixel (frame, x, y);
  * criteria summed over rows with lambda > 0: Poisson lambda - I log lambda,
    least squares l((I - lambda) / sqrt(lambda)) with l2 / l1 / Huber
    (delta = 1.345, continuous), and cbclib's variants (constant-sigma
    gradient, discontinuous Huber 2.69 (|r| - 0.7625));
  * the exact gradient (the pixel coupling included);
  * bilinear interpolation with weights (1 - t, t) (cbclib swaps them);
  * the kernel-regression map update with cbclib's +-4h box and ROI, the maps
    divided by their mean and log(mean) added to theta;
  * symmetry merging (mmm: |h|,|k|,|l|; 4mm: also sort |h|,|k|) with counts
    and sigma = sqrt(mean / pixels) (cbclib returns NaN there);
  * the .hkl text of np.savetxt(fmt=' %4d %4d %4d %10.2f %10.2f %4d').

Writes Tests/BeamlineCrystallographyTests/Fixtures/
- crystallography.json: the table's columns, maps, parameters and every
  expected value (criterion values and gradients per configuration, chi at
  the rows, unmerged signal, updated maps and x, merges, gains);
- table.npz (numpy.savez, int64 / float64 columns) and table.h5 (h5py,
  int32 / float32 datasets) of the same table;
- merged_mmm.hkl: numpy.savetxt of the mmm merge, normalised by the mean sigma.
"""
import os
import sys

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from fixturelib import write  # noqa: E402

out_dir = os.path.join(here, "..", "BeamlineCrystallographyTests", "Fixtures")
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(16)
F = {}

# ------------------------------------------------------------------ the table
# Two frames, six streaks; streaks cross, so some pixels hold two or three rows.
streak_defs = [  # (frame, index, hkl, pixels)
    (0, 10, (1, 2, 3), [(x, 3) for x in range(0, 7)]),
    (0, 11, (-1, -2, 3), [(3, y) for y in range(0, 7)]),        # crosses streak 10 at (3, 3)
    (0, 12, (2, 1, 0), [(x, x) for x in range(1, 6)]),           # crosses both at (3, 3)
    (1, 20, (1, 2, -3), [(x, 5) for x in range(2, 9)]),
    (1, 21, (2, 1, 0), [(x, 10 - x) for x in range(3, 8)]),     # crosses streak 20 at (5, 5)
    (1, 22, (-2, -1, 0), [(6, y) for y in range(0, 4)]),
]
rows = []
for frame, index, hkl, pixels in streak_defs:
    for (x, y) in pixels:
        rows.append((frame, index, x, y, hkl))
order = rng.permutation(len(rows))          # any row order
rows = [rows[i] for i in order]
n = len(rows)
frames = np.array([r[0] for r in rows], np.int32)
index = np.array([r[1] for r in rows], np.int32)
xs = np.array([r[2] for r in rows], np.int32)
ys = np.array([r[3] for r in rows], np.int32)
hkl = np.array([r[4] for r in rows], np.int32)
# Pixel properties (counts, background) are equal for the rows of a pixel.
pix_key = frames.astype(np.int64) * 10000 + ys * 100 + xs
_, pix = np.unique(pix_key, return_inverse=True)
npix = pix.max() + 1
I_pix = rng.poisson(6.0, npix).astype(np.float32)
bgd_pix = rng.uniform(0.5, 2.0, npix).astype(np.float32)
I_raw = I_pix[pix]
bgd = bgd_pix[pix]
rp = rng.uniform(0.2, 1.0, n).astype(np.float32)
kins = rng.uniform(-1.0, 1.0, (n, 2)).astype(np.float32)

# Maps: 5 x 4 grid (non-uniform x), one map per frame.
grid_x = np.array([-1.0, -0.6, 0.1, 0.5, 1.0])
grid_y = np.array([-1.0, -0.2, 0.4, 1.0])
maps = rng.uniform(0.5, 1.5, (2, 4, 5)).astype(np.float32)

F.update(frames=frames, index=index, x=xs, y=ys, hkl=hkl, I_raw=I_raw, bgd=bgd, rp=rp, kins=kins,
         grid_x=grid_x, grid_y=grid_y, maps=maps)

# ------------------------------------------------------------ bilinear chi
def bracket(u, g):
    if u <= g[0]:
        return 0, 0, 0.0
    if u >= g[-1]:
        return len(g) - 1, len(g) - 1, 0.0
    i = np.searchsorted(g, u, side="right") - 1
    return i, i + 1, (u - g[i]) / (g[i + 1] - g[i])


def bilinear(m, u):
    x0, x1, tx = bracket(float(u[0]), grid_x)
    y0, y1, ty = bracket(float(u[1]), grid_y)
    m = m.astype(np.float64)
    top = (1 - tx) * m[y0, x0] + tx * m[y0, x1]
    bottom = (1 - tx) * m[y1, x0] + tx * m[y1, x1]
    return (1 - ty) * top + ty * bottom


chi = np.array([bilinear(maps[frames[j]], kins[j]) for j in range(n)]).astype(np.float32)
w = (chi * rp).astype(np.float32)          # float32 product, as the scaler stores it
F["chi"] = chi

# ------------------------------------------------------------ parameters
streak_ids = np.unique(index)
streak = np.searchsorted(streak_ids, index)
S = streak_ids.size


def merge(hkls, symmetry):
    if symmetry == "mmm":
        rep = np.abs(hkls)
    elif symmetry == "4mm":
        rep = np.abs(hkls)
        rep = np.concatenate((np.sort(rep[:, :2], axis=1), rep[:, 2:]), axis=1)
    else:
        rep = hkls
    uniq, inv = np.unique(rep, axis=0, return_inverse=True)
    return uniq, inv.reshape(-1)


streak_hkl = np.zeros((S, 3), np.int32)
streak_hkl[streak] = hkl
streak_rows = np.bincount(streak, minlength=S)


def criterion(x, refl, kind, loss="l2", compat=(), fit_intercept=True, per_refl=False):
    R = refl.max() + 1
    b = x[:S] if fit_intercept else np.zeros(S)
    A = np.exp(x[S:][refl])                      # per streak
    m = A[streak] * w + b[streak]
    lam = np.bincount(pix, m, minlength=npix)[pix] + bgd
    ok = lam > 0
    I = I_raw.astype(np.float64)
    lam_ok = np.where(ok, lam, 1.0)
    if kind == "poisson":
        f = lam_ok - I * np.log(lam_ok)
        d = 1 - I / lam_ok
    else:
        sig = np.sqrt(lam_ok)
        r = (I - lam_ok) / sig
        if loss == "l2":
            f, dl = r * r, 2 * r
        elif loss == "l1":
            f, dl = np.abs(r), np.sign(r)
        elif "huber" in compat:
            a = np.abs(r)
            f = np.where(a < 1.345, r * r, 2.69 * (a - 0.7625))
            dl = np.where(a < 1.345, 2 * r, 2.69 * np.sign(r))
        else:
            a = np.abs(r)
            f = np.where(a <= 1.345, r * r, 2 * 1.345 * a - 1.345 ** 2)
            dl = np.where(a <= 1.345, 2 * r, 2 * 1.345 * np.sign(r))
        drdl = -1 / sig if "sigma" in compat else -(lam_ok + I) / (2 * lam_ok * sig)
        d = dl * drdl
    f = np.where(ok, f, 0.0)
    d = np.where(ok, d, 0.0)
    G = np.bincount(pix, d, minlength=npix)[pix]          # d criterion / d m_j
    grad = np.zeros(S + R)
    if fit_intercept:
        grad[:S] = np.bincount(streak, G, minlength=S)
    grad[S:] = np.bincount(refl[streak], G * A[streak] * w, minlength=R)
    if per_refl:
        return np.bincount(refl[streak], f, minlength=R)
    return f.sum(), grad


configs = [  # name, kind, loss, compat
    ("poisson", "poisson", "l2", ()),
    ("ls_l2", "ls", "l2", ()),
    ("ls_l1", "ls", "l1", ()),
    ("ls_huber", "ls", "huber", ()),
    ("ls_l2_cbclib", "ls", "l2", ("sigma",)),
    ("ls_huber_cbclib", "ls", "huber", ("sigma", "huber")),
]
for symmetry in ["none", "mmm", "4mm"]:
    uniq, refl = merge(streak_hkl, symmetry)
    F[f"reflections_{symmetry}"] = uniq
    F[f"streak_reflection_{symmetry}"] = refl
    R = uniq.shape[0]
    x = np.concatenate((rng.normal(0, 0.3, S), rng.normal(0.8, 0.4, R)))
    F[f"x_{symmetry}"] = x
    for name, kind, loss, compat in configs:
        for fi in (True, False):
            v, g = criterion(x, refl, kind, loss, compat, fi)
            tag = f"{name}_{symmetry}_{'b' if fi else 'nob'}"
            F[f"value_{tag}"] = np.array(v)
            F[f"grad_{tag}"] = g
    x0 = np.zeros(S + R)
    F[f"gain_poisson_{symmetry}"] = criterion(x0, refl, "poisson", per_refl=True) - criterion(x, refl, "poisson", per_refl=True)
    F[f"gain_ls_huber_{symmetry}"] = (criterion(x0, refl, "ls", "huber", per_refl=True)
                                      - criterion(x, refl, "ls", "huber", per_refl=True))

# A table point where the Huber residual crosses the threshold: the two
# Huber forms at |r| = 1.345 + 0 (value jump of cbclib's).
F["huber_jump"] = np.array(2.69 * (1.345 - 0.7625) - 1.345 ** 2)

# ------------------------------------------------------------ map update
uniq, refl = merge(streak_hkl, "mmm")
x = F["x_mmm"]
b = x[:S]
A = np.exp(x[S:][refl])
mstruct = A[streak] * w
Ssum = np.bincount(pix, mstruct, minlength=npix)[pix]
Bsum = np.bincount(pix, b[streak], minlength=npix)[pix]
ratio = np.where(Ssum > 0, np.clip(mstruct / np.where(Ssum > 0, Ssum, 1), 0, 1), 0)
I_hat = (I_raw.astype(np.float64) - bgd - Bsum) * ratio
F["unmerged_mmm"] = I_hat
h = 0.35
F["bandwidth"] = np.array(h)


def lbound(u, g):
    if u <= g[0]:
        return 0
    if u >= g[-1]:
        return len(g) - 1
    return np.searchsorted(g, u, side="right") - 1


def rbound(u, g):
    if u <= g[0]:
        return 0
    if u >= g[-1]:
        return len(g) - 1
    return np.searchsorted(g, u, side="right")


new = np.zeros(maps.shape)
for f in range(2):
    sel = np.nonzero(frames == f)[0]
    kx, ky = kins[sel, 0].astype(float), kins[sel, 1].astype(float)
    x0, x1 = lbound(kx.min(), grid_x), rbound(kx.max(), grid_x) + 1
    y0, y1 = lbound(ky.min(), grid_y), rbound(ky.max(), grid_y) + 1
    num = np.zeros((4, 5)); den = np.zeros((4, 5))
    for j in sel:
        ux, uy = float(kins[j, 0]), float(kins[j, 1])
        fp = float(rp[j])
        ix0 = min(max(lbound(ux - 4 * h, grid_x), x0), x1); ix1 = min(max(rbound(ux + 4 * h, grid_x) + 1, x0), x1)
        iy0 = min(max(lbound(uy - 4 * h, grid_y), y0), y1); iy1 = min(max(rbound(uy + 4 * h, grid_y) + 1, y0), y1)
        for iy in range(iy0, iy1):
            for ix in range(ix0, ix1):
                k = np.exp(-0.5 * ((grid_x[ix] - ux) ** 2 + (grid_y[iy] - uy) ** 2) / h ** 2)
                num[iy, ix] += I_hat[j] * fp * k
                den[iy, ix] += A[streak[j]] * fp * fp * k
    roi = np.zeros((4, 5), bool); roi[y0:y1, x0:x1] = True
    new[f] = np.where(roi & (den > 0), num / np.where(den > 0, den, 1), 0)
norm = new.mean()
F["updated_maps_mmm"] = new / norm
xn = x.copy(); xn[S:] += np.log(norm)
F["updated_x_mmm"] = xn

# ------------------------------------------------------------ merging
for symmetry in ["none", "mmm", "4mm"]:
    # The mmm fit's per-streak intensities merged under each symmetry.
    intens = np.exp(x[S:][refl])
    u2, inv2 = merge(streak_hkl, symmetry)
    cnt = np.bincount(inv2, minlength=len(u2))
    pixels = np.bincount(inv2, streak_rows, minlength=len(u2))
    mean = np.bincount(inv2, intens, minlength=len(u2)) / cnt
    F[f"merged_hkl_{symmetry}"] = u2
    F[f"merged_intensity_{symmetry}"] = mean
    F[f"merged_sigma_{symmetry}"] = np.sqrt(mean / pixels)
    F[f"merged_counts_{symmetry}"] = cnt
    F[f"merged_pixels_{symmetry}"] = pixels
    if symmetry == "mmm":
        serr = np.sqrt(mean / pixels)
        arr = np.concatenate((u2, (mean / serr.mean())[:, None], (serr / serr.mean())[:, None], cnt[:, None]), axis=1)
        np.savetxt(os.path.join(out_dir, "merged_mmm.hkl"), arr, " %4d %4d %4d %10.2f %10.2f %4d")

write(os.path.join(out_dir, "crystallography.json"), F)

# ------------------------------------------------------------ table files
cols = dict(frames=frames.astype(np.int64), index=index.astype(np.int64), x=xs.astype(np.int64), y=ys.astype(np.int64),
            I_raw=I_raw.astype(np.float64), bgd=bgd.astype(np.float64), rp=rp.astype(np.float64),
            kins=kins.astype(np.float64), hkl=hkl.astype(np.int64))
np.savez(os.path.join(out_dir, "table.npz"), **cols)
with h5py.File(os.path.join(out_dir, "table.h5"), "w") as f:
    for k, v in dict(frames=frames, index=index, x=xs, y=ys, I_raw=I_raw, bgd=bgd, rp=rp, kins=kins, hkl=hkl).items():
        f.create_dataset(k, data=v)
print("wrote", out_dir, n, "rows,", npix, "pixels")
