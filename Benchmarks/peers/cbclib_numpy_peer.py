"""NumPy side of the CBC scaling benchmarks (Benchmarks/Benchmarks/CrystallographyBenchmarks).

cbclib v0.7.2's criteria written with NumPy (bincount scatter/gather, the
formulas of Tests/Fixtures/generate_crystallography.py: exact gradients, rows
sharing a pixel summed), timed on a simulated table built like Beamline's
CBCSimulation: 384 frames of 250 streaks (length 24 px, |d| <= 2 px across) at
random positions and angles on a 256 x 256 detector, about 10^7 rows, Poisson
counts, profile exp(-d^2 / (2 * 0.7^2)). The table's layout (row, pixel,
streak and reflection counts) matches the Swift benchmark; the random draws
differ. The pixel grouping (np.unique of (frame, y, x)) is done once, outside
the timing, as cbclib precomputes its pixel index `ij`.

Prints one line per benchmark: name, median wall time in microseconds,
number of samples. Run: python3 Benchmarks/peers/cbclib_numpy_peer.py [--json out.json] [--frames 384]
NumPy's ufuncs and bincount are single-threaded.
"""
import argparse
import json

import numpy as np
from peertiming import median_us


def simulate(frames, streaks=250, size=256, length=24.0, seed=1):
    rng = np.random.default_rng(seed)
    half = length / 2
    margin = half + 3
    offs = np.arange(-int(margin) - 1, int(margin) + 2)
    ox, oy = [a.ravel() for a in np.meshgrid(offs, offs)]
    cols = {k: [] for k in ("frames", "index", "x", "y", "rp", "hkl", "kx", "ky")}
    sid = 0
    for n in range(frames):
        cx = margin + (size - 2 * margin) * rng.random(streaks)
        cy = margin + (size - 2 * margin) * rng.random(streaks)
        ang = np.pi * rng.random(streaks)
        v = rng.random(streaks) - 0.5
        px = np.floor(cx)[:, None] + ox[None, :]
        py = np.floor(cy)[:, None] + oy[None, :]
        rx, ry = px - cx[:, None], py - cy[:, None]
        dx, dy = np.cos(ang)[:, None], np.sin(ang)[:, None]
        t = rx * dx + ry * dy
        d = -rx * dy + ry * dx
        keep = (np.abs(t) <= half) & (np.abs(d) <= 2)
        s_idx = np.nonzero(keep)[0]
        cols["frames"].append(np.full(s_idx.size, n, np.int32))
        cols["index"].append((sid + s_idx).astype(np.int32))
        cols["x"].append(px[keep].astype(np.int32))
        cols["y"].append(py[keep].astype(np.int32))
        cols["rp"].append(np.exp(-d[keep] ** 2 / (2 * 0.49)).astype(np.float32))
        h = rng.integers(-3, 4, (streaks, 3))
        cols["hkl"].append(h[s_idx].astype(np.int32))
        cols["kx"].append((t[keep] / half).astype(np.float32))
        cols["ky"].append((v[s_idx] + 0.05 * d[keep]).astype(np.float32))
        sid += streaks
    c = {k: np.concatenate(v) for k, v in cols.items()}
    key = (c["frames"].astype(np.int64) << 42) | (c["y"].astype(np.int64) << 21) | c["x"].astype(np.int64)
    _, pix = np.unique(key, return_inverse=True)
    npix = pix.max() + 1
    streak_ids, streak = np.unique(c["index"], return_inverse=True)
    shkl = np.zeros((streak_ids.size, 3), np.int32)
    shkl[streak] = c["hkl"]
    _, refl = np.unique(np.abs(shkl), axis=0, return_inverse=True)      # mmm merging
    refl = refl.reshape(-1)
    chi = (1 + 0.4 * np.sin(1.5 * c["kx"]) * np.cos(2 * c["ky"])).astype(np.float32)
    w = (chi * c["rp"]).astype(np.float32)
    A_true = np.exp(rng.uniform(np.log(20), np.log(200), refl.max() + 1))
    lam = np.bincount(pix, A_true[refl[streak]] * w, minlength=npix) + 1.0
    counts = rng.poisson(lam)[pix].astype(np.float32)
    bgd = np.ones(c["x"].size, np.float32)
    return dict(pix=pix, npix=npix, streak=streak, S=streak_ids.size, refl=refl, R=refl.max() + 1, w=w,
                counts=counts, bgd=bgd)


def make_criterion(tb, kind):
    pix, npix, streak, S, refl, R = tb["pix"], tb["npix"], tb["streak"], tb["S"], tb["refl"], tb["R"]
    w = tb["w"].astype(np.float64)
    I = tb["counts"].astype(np.float64)
    bgd = tb["bgd"].astype(np.float64)
    row_refl = refl[streak]

    def value_grad(x):
        b = x[:S]
        A = np.exp(x[S:])[row_refl]
        m = A * w + b[streak]
        lam = np.bincount(pix, m, minlength=npix)[pix] + bgd
        ok = lam > 0
        lam_ok = np.where(ok, lam, 1.0)
        if kind == "poisson":
            f = lam_ok - I * np.log(lam_ok)
            d = 1 - I / lam_ok
        else:  # least squares, continuous Huber (delta = 1.345), exact sigma derivative
            sig = np.sqrt(lam_ok)
            r = (I - lam_ok) / sig
            a = np.abs(r)
            f = np.where(a <= 1.345, r * r, 2 * 1.345 * a - 1.345 ** 2)
            dl = np.where(a <= 1.345, 2 * r, 2 * 1.345 * np.sign(r))
            d = dl * (-(lam_ok + I) / (2 * lam_ok * sig))
        f = np.where(ok, f, 0.0)
        d = np.where(ok, d, 0.0)
        G = np.bincount(pix, d, minlength=npix)[pix]
        grad = np.empty(S + R)
        grad[:S] = np.bincount(streak, G, minlength=S)
        grad[S:] = np.bincount(row_refl, G * A * w, minlength=R)
        return f.sum(), grad

    return value_grad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--frames", type=int, default=384)
    args = ap.parse_args()
    tb = simulate(args.frames)
    print(f"# rows {tb['w'].size}, pixels {tb['npix']}, streaks {tb['S']}, reflections {tb['R']}")
    x = np.zeros(tb["S"] + tb["R"])
    x[tb["S"]:] = 4 + 0.1 * (np.arange(tb["R"]) % 7)
    results = {}
    for name, kind in (("cbc_poisson_value_grad_10M", "poisson"), ("cbc_ls_huber_value_grad_10M", "huber")):
        fn = make_criterion(tb, kind)
        med, samples = median_us(lambda: fn(x), min_time=20.0, max_samples=15, warmup=1)
        results[name] = med
        print(f"{name} {med:.0f} {samples}")
    src = np.full(1 << 26, 1.5, np.float32)
    dst = np.empty_like(src)
    med, samples = median_us(lambda: np.copyto(dst, src), min_time=5.0, max_samples=50)
    results["copy_256MiB_f32"] = med
    print(f"copy_256MiB_f32 {med:.0f} {samples}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
