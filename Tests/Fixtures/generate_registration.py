"""Expected values for Tests/BeamlineRegistrationTests.

Run from the repository root:  python3 Tests/Fixtures/generate_registration.py
Needs scikit-image 0.26 (skimage.registration.phase_cross_correlation) and
SciPy (scipy.ndimage.shift, fourier_shift, center_of_mass). Writes
Tests/BeamlineRegistrationTests/Fixtures/registration.json. Inputs are
stored too, so the Swift tests use exactly the same numbers. Each case
records the reference call that produced it under "<case>_call"-free
naming: the Swift tests name the call next to each check.
"""
import os
import warnings
import numpy as np
from scipy import ndimage as ndi
from skimage.registration import phase_cross_correlation
from fixturelib import write

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "BeamlineRegistrationTests", "Fixtures")
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(20260422)
E = {}


def smooth(shape, sigma=2.0):
    """Texture at every frequency: white noise plus a smooth component."""
    return rng.standard_normal(shape) + 3 * ndi.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")


def record(name, ref, mov, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shift, error, phasediff = phase_cross_correlation(ref, mov, **kw)
    E[name + "_ref"] = ref
    E[name + "_mov"] = mov
    E[name + "_shift"] = np.asarray(shift, dtype=np.float64)
    if np.isfinite(error):  # the masked path returns NaN (JSON has none)
        E[name + "_error"] = np.array([error], dtype=np.float64)
        E[name + "_phasediff"] = np.array([phasediff], dtype=np.float64)


# --- phase cross-correlation, real images, Double -----------------------
# name, shape, integer roll, upsample, normalization, noise
cases = [
    ("p2_64_up1", (64, 64), (5, -7), 1, "phase", 0.0),
    ("p2_97x130_up10", (97, 130), (60, -70), 10, "phase", 0.05),  # beyond n/2
    ("p2_31x17_up100", (31, 17), (3, 8), 100, "phase", 0.02),
    ("p2_32_half", (32, 32), (16, 16), 1, "phase", 0.0),           # exactly n/2
    ("p2_33_none_up20", (33, 33), (-4, 12), 20, None, 0.05),
    ("p2_48x40_none_up1", (48, 40), (7, 3), 1, None, 0.1),
    ("p1_101_up10", (101,), (23,), 10, "phase", 0.05),
    ("p1_64_up3", (64,), (-9,), 3, "phase", 0.0),
    ("p3_12x15x16_up4", (12, 15, 16), (2, -5, 7), 4, "phase", 0.05),
    ("p3_9x10x11_up1", (9, 10, 11), (4, 6, -3), 1, "phase", 0.0),
    ("p2_1x50_up10", (1, 50), (0, 13), 10, "phase", 0.05),         # length-1 axis
]
for name, shape, roll, up, norm, noise in cases:
    ref = smooth(shape)
    mov = np.roll(ref, roll, axis=tuple(range(len(shape)))) + noise * rng.standard_normal(shape)
    record(name, ref, mov, upsample_factor=up, normalization=norm)

# Sub-pixel shifted (Fourier shift) images: the refinement matters.
for name, shape, s, up in [("sp2_64x80_up50", (64, 80), (3.37, -10.61), 50),
                           ("sp2_45_up7", (45, 45), (-2.2, 5.8), 7)]:
    ref = smooth(shape, 3.0)
    mov = np.real(np.fft.ifftn(ndi.fourier_shift(np.fft.fftn(ref), s)))
    record(name, ref, mov, upsample_factor=up)

# Float32
ref = smooth((40, 56)).astype(np.float32)
mov = np.roll(ref, (6, -9), axis=(0, 1)) + np.float32(0.05) * rng.standard_normal((40, 56)).astype(np.float32)
record("f32_40x56_up10", ref, mov.astype(np.float32), upsample_factor=10)

# Complex input
ref = smooth((36, 28)) + 1j * smooth((36, 28))
mov = np.roll(ref, (-5, 11), axis=(0, 1)) * np.exp(0.7j) + 0.02 * rng.standard_normal((36, 28))
record("c2_36x28_up10", ref, mov, upsample_factor=10)

# Fourier-space input
ref = smooth((50, 44))
mov = np.roll(ref, (9, -4), axis=(0, 1)) + 0.05 * rng.standard_normal((50, 44))
E["fs_50x44_ref_real"] = ref
E["fs_50x44_mov_real"] = mov
record("fs_50x44_up10", np.fft.fftn(ref), np.fft.fftn(mov), upsample_factor=10, space="fourier")

# Disambiguation: crops of a larger non-periodic image.
big = ndi.gaussian_filter(rng.standard_normal((160, 160)), 1.0)
ref = big[20:84, 30:94]
mov = big[20 + 40:84 + 40, 30 - 22:94 - 22]   # shift (40, -22): beyond n/2 on axis 0
record("dis_64_int", ref, mov, disambiguate=True)
record("dis_64_up10", ref, mov, upsample_factor=10, disambiguate=True)
mov_sub = ndi.shift(big, (0.3, -0.4), order=3)[20 + 40:84 + 40, 30 - 22:94 - 22]
record("dis_64_sub_up10", ref, mov_sub, upsample_factor=10, disambiguate=True)
record("nodis_64_int", ref, mov)

# --- masked ----------------------------------------------------------------
img = ndi.gaussian_filter(rng.standard_normal((80, 80)), 1.5)
ref = img[10:60, 10:60]
mov = img[16:66, 5:55]
mref = np.ones(ref.shape, bool); mref[:, :8] = False; mref[30:40, 20:35] = False
mmov = np.ones(mov.shape, bool); mmov[40:, :] = False
record("m2_50", ref, mov, reference_mask=mref, moving_mask=mmov)
E["m2_50_refmask"] = mref
E["m2_50_movmask"] = mmov
# different sizes
ref = img[5:65, 8:58]
mov = img[20:61, 12:47]
mref = rng.random(ref.shape) > 0.2
mmov = rng.random(mov.shape) > 0.2
record("m2_diff", ref, mov, reference_mask=mref, moving_mask=mmov, overlap_ratio=0.5)
E["m2_diff_refmask"] = mref
E["m2_diff_movmask"] = mmov
# reference mask only (used for both)
ref = img[0:40, 0:36]
mov = img[3:43, 5:41]
mref = np.ones(ref.shape, bool); mref[:5] = False
record("m2_single", ref, mov, reference_mask=mref)
E["m2_single_refmask"] = mref
# 3-d
vol = ndi.gaussian_filter(rng.standard_normal((30, 30, 30)), 1.0)
ref = vol[2:22, 3:21, 1:17]
mov = vol[5:25, 1:19, 4:20]
mref = rng.random(ref.shape) > 0.1
mmov = rng.random(mov.shape) > 0.1
record("m3", ref, mov, reference_mask=mref, moving_mask=mmov)
E["m3_refmask"] = mref
E["m3_movmask"] = mmov

# --- scipy.ndimage.shift ------------------------------------------------------
img = rng.standard_normal((17, 23))
E["shift_in"] = img
for mode in ["constant", "nearest", "reflect", "mirror", "wrap", "grid-wrap"]:
    key = mode.replace("-", "_")
    E["shift3_" + key] = ndi.shift(img, (2.3, -4.6), order=3, mode=mode, cval=0.5 if mode == "constant" else 0.0)
    E["shift3big_" + key] = ndi.shift(img, (-20.7, 31.2), order=3, mode=mode)
E["shift1_grid_wrap"] = ndi.shift(img, (1.25, -3.5), order=1, mode="grid-wrap")
E["shift0_grid_wrap"] = ndi.shift(img, (3.0, -5.0), order=0, mode="grid-wrap")
# >= 16 per axis: SciPy 1.17.1 has an aliasing bug in the reflect prefilter initialisation
# for short lines (fixed upstream, scipy PR 24615); Beamline implements the fixed form.
vol = rng.standard_normal((16, 17, 18))
E["shift_vol"] = vol
E["shift3_vol_reflect"] = ndi.shift(vol, (0.4, -1.3, 2.2), order=3, mode="reflect")
sig = rng.standard_normal(30)
E["shift_sig"] = sig
E["shift3_sig_mirror"] = ndi.shift(sig, 3.7, order=3, mode="mirror")

# --- Fourier shift -------------------------------------------------------------
img = rng.standard_normal((12, 10))
E["fshift_in"] = img
E["fshift_spectrum"] = ndi.fourier_shift(np.fft.fftn(img), (1.3, -2.4))
E["fshift_real"] = np.real(np.fft.ifftn(ndi.fourier_shift(np.fft.fftn(img), (1.3, -2.4))))
img = rng.standard_normal((9, 11))
E["fshift_odd_in"] = img
E["fshift_odd_real"] = np.real(np.fft.ifftn(ndi.fourier_shift(np.fft.fftn(img), (-0.6, 3.2))))

# --- centre of mass -------------------------------------------------------------
img = rng.random((13, 17))
E["com_in"] = img
E["com"] = np.array(ndi.center_of_mass(img))
mask = rng.random((13, 17)) > 0.5
E["com_mask"] = mask
E["com_masked"] = np.array(ndi.center_of_mass(img, labels=mask))
vol = rng.random((5, 6, 7))
E["com3_in"] = vol
E["com3"] = np.array(ndi.center_of_mass(vol))
labels = rng.integers(0, 4, size=(13, 17))
E["com_labels"] = labels
E["com_labelled"] = np.array(ndi.center_of_mass(img, labels, [1, 3]))

write(os.path.join(out_dir, "registration.json"), E)
print("wrote", len(E), "entries")
