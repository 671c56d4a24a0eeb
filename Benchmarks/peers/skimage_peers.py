"""scikit-image side of the registration benchmarks
(Benchmarks/Benchmarks/RegistrationBenchmarks).

Times skimage.registration.phase_cross_correlation on the same kind of
inputs (n×n float64 white noise plus a smooth-free second noise component,
Fourier-shifted by (3.3, -7.6) px) at the same sizes and upsample factors,
and the masked path at 256² and 512² with the same masks. Prints one line
per benchmark: name, median wall time in microseconds, number of samples.
Single-threaded: run it as
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        python3 Benchmarks/peers/skimage_peers.py [--json out.json] [--filter pcc_512]
(scipy.fft, which scikit-image uses, is single-threaded by default).
"""
import argparse
import json
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402
import skimage  # noqa: E402
from scipy import ndimage as ndi  # noqa: E402
from skimage.registration import phase_cross_correlation  # noqa: E402
from peertiming import median_us  # noqa: E402


def pair(n):
    rng = np.random.default_rng(11)
    reference = rng.standard_normal((n, n)) + 0.5 * rng.standard_normal((n, n))
    moving = np.real(np.fft.ifftn(ndi.fourier_shift(np.fft.fftn(reference), (3.3, -7.6))))
    return reference, moving


def cases():
    out = {}
    for n in (128, 256, 512, 1024):
        ref, mov = pair(n)
        for factor in (1, 10, 100):
            out[f"pcc_{n}_up{factor}"] = (lambda r=ref, m=mov, f=factor:
                                         phase_cross_correlation(r, m, upsample_factor=f))
            if n <= 512:
                # Beamline's *_measure cases use FFTW's measured plans (a stack or
                # alignment loop); scikit-image has no such option: the same call.
                out[f"pcc_{n}_up{factor}_measure"] = out[f"pcc_{n}_up{factor}"]
    for n in (256, 512):
        ref, mov = pair(n)
        rmask = np.ones((n, n), bool); rmask[: n // 8] = False
        mmask = np.ones((n, n), bool); mmask[:, n - n // 8:] = False
        out[f"masked_{n}"] = (lambda r=ref, m=mov, a=rmask, b=mmask:
                              phase_cross_correlation(r, m, reference_mask=a, moving_mask=b))
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
        print(f"{name:20s} {med:12.1f} us  ({count} samples)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"scikit-image": skimage.__version__, "median_us": results}, f, indent=1)


if __name__ == "__main__":
    main()
