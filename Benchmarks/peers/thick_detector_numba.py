"""Thick-sensor point-spread matrices in Python/numba: the reference for
BeamlineDetector (Sources/BeamlineDetector/ThickSensorModel.swift) and the
peer of Benchmarks/Benchmarks/RaytraceBenchmarks and ReconstructionBenchmarks (lsmr_*, mlem_*).

Written for Beamline, following the algorithm of pyFAI's tutorial notebook
"Modeling of the thickness of the sensor" (sample x sample rays per pixel,
voxel walk through the sensor slab, CSR matrix with rows = entry pixels and
columns = absorbing pixels), with its corrections:
- rays enter at the centres of the sub-grid, (i + (a + 1/2)/sample) * pixel;
- every ray has the true direction from the sample, (x1 - poni1, x2 - poni2,
  dist) in the detector frame (pyFAI rotations do not change it);
- the walk uses floor-consistent cell indices and exact boundary depths;
- deposits exp(-mu z_in/uz) - exp(-mu z_out/uz) in float64; energy leaving
  the back (transmitted), the sides or a module gap (side-lost) and absorbed
  in masked pixels is reported.
Gaps are whole bands of rows/columns (no sensor: a ray entering one is lost);
masked pixels absorb but are not read out (their columns are dropped) and are
not traced (their rows are empty).

Also the closed-form ("exact") matrix with one direction per S x S sub-face.

Usage as a benchmark:  python3 Benchmarks/peers/thick_detector_numba.py [--json out.json]
(single-threaded numba, Pilatus 1M, 450 um Si, mu = 1537.02 1/m, dist 0.2845,
PONI 0.08865 / 0.08931: raytrace sample=8, exact S=1 and S=4, scipy lsmr and
a NumPy MLEM on the sample=8 matrix).
"""
import argparse
import json
import math
import statistics
import time

import numpy as np
import scipy.sparse as sp
from numba import njit


def pilatus1m_gaps():
    return module_gaps(1043, 981, (195, 487), (17, 7))


def module_gaps(rows, cols, size, gap):
    g1 = (np.arange(rows) % (size[0] + gap[0])) >= size[0]
    g2 = (np.arange(cols) % (size[1] + gap[1])) >= size[1]
    return g1, g2


def segments(gaps):
    out = np.full(len(gaps), -1, dtype=np.int32)
    module = 0
    for k in range(len(gaps)):
        if gaps[k]:
            if k > 0 and not gaps[k - 1]:
                module += 1
        else:
            out[k] = module
    return out


@njit(cache=True)
def _walk(e1, e2, k1, k2, i, j, p1, p2, dist, thickness, mu, seg1, seg2, dead, cols, rows, weight,
          out_cols, out_vals, n_out, home1, home2):
    d1 = k1 / dist
    d2 = k2 / dist
    m = mu * math.sqrt(k1 * k1 + k2 * k2 + dist * dist) / dist
    c1 = i
    c2 = j
    s1 = 1 if d1 > 0 else -1
    s2 = 1 if d2 > 0 else -1
    n1 = math.inf
    n2 = math.inf
    dl1 = math.inf
    dl2 = math.inf
    if d1 != 0:
        n1 = (((i + 1) * p1 if d1 > 0 else i * p1) - e1) / d1
        dl1 = p1 / abs(d1)
    if d2 != 0:
        n2 = (((j + 1) * p2 if d2 > 0 else j * p2) - e2) / d2
        dl2 = p2 / abs(d2)
    energy = 1.0
    masked = 0.0
    while True:
        z = min(n1, n2, thickness)
        rem = math.exp(-m * z)
        dep = (energy - rem) * weight
        if dep > 0:
            if dead[c1 * cols + c2]:
                masked += dep
            else:
                out_cols[n_out] = c1 * cols + c2
                out_vals[n_out] = dep
                n_out += 1
        energy = rem
        if thickness <= n1 and thickness <= n2:
            return n_out, energy * weight, 0.0, masked
        if n1 <= n2:
            c1 += s1
            n1 += dl1
            if c1 < 0 or c1 >= rows or seg1[c1] != home1:
                return n_out, 0.0, energy * weight, masked
        else:
            c2 += s2
            n2 += dl2
            if c2 < 0 or c2 >= cols or seg2[c2] != home2:
                return n_out, 0.0, energy * weight, masked


@njit(cache=True)
def _raytrace(rows, cols, p1, p2, poni1, poni2, dist, thickness, mu, seg1, seg2, dead, sample, subfaces):
    n = rows * cols
    cap = 8 * n + 1024
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices = np.empty(cap, dtype=np.int32)
    data = np.empty(cap, dtype=np.float64)
    trans = np.zeros(n)
    side = np.zeros(n)
    maskd = np.zeros(n)
    tmp_cols = np.empty(sample * sample * 64, dtype=np.int64)
    tmp_vals = np.empty(sample * sample * 64, dtype=np.float64)
    nnz = 0
    weight = 1.0 / (sample * sample)
    for row in range(n):
        if not dead[row]:
            i = row // cols
            j = row % cols
            home1 = seg1[i]
            home2 = seg2[j]
            n_out = 0
            t_sum = 0.0
            s_sum = 0.0
            m_sum = 0.0
            for a in range(sample):
                e1 = (i + (a + 0.5) / sample) * p1
                k1 = e1 - poni1
                if subfaces > 0:
                    f = min(subfaces - 1, int(math.floor((a + 0.5) * subfaces / sample)))
                    k1 = (i + (f + 0.5) / subfaces) * p1 - poni1
                for b in range(sample):
                    e2 = (j + (b + 0.5) / sample) * p2
                    k2 = e2 - poni2
                    if subfaces > 0:
                        f = min(subfaces - 1, int(math.floor((b + 0.5) * subfaces / sample)))
                        k2 = (j + (f + 0.5) / subfaces) * p2 - poni2
                    n_out, t, s, mk = _walk(e1, e2, k1, k2, i, j, p1, p2, dist, thickness, mu, seg1, seg2, dead,
                                            cols, rows, weight, tmp_cols, tmp_vals, n_out, home1, home2)
                    t_sum += t
                    s_sum += s
                    m_sum += mk
            trans[row] = t_sum
            side[row] = s_sum
            maskd[row] = m_sum
            # sum duplicates per column, in order of first appearance sorted by column
            order = np.argsort(tmp_cols[:n_out], kind="mergesort")
            last = -1
            for q in range(n_out):
                c = tmp_cols[order[q]]
                v = tmp_vals[order[q]]
                if c != last:
                    if nnz >= cap:
                        cap2 = cap * 2
                        ni = np.empty(cap2, dtype=np.int32)
                        nd = np.empty(cap2, dtype=np.float64)
                        ni[:nnz] = indices[:nnz]
                        nd[:nnz] = data[:nnz]
                        indices = ni
                        data = nd
                        cap = cap2
                    indices[nnz] = c
                    data[nnz] = v
                    nnz += 1
                    last = c
                else:
                    data[nnz - 1] += v
        indptr[row + 1] = nnz
    return indptr, indices[:nnz].copy(), data[:nnz].copy(), trans, side, maskd


@njit(cache=True)
def _g(k, x):
    if x > 1:
        partial = 1.0
        term = 1.0
        for n in range(1, k + 1):
            term *= x / n
            partial += term
        return 1 - math.exp(-x) * partial
    if k == 0:
        return -math.expm1(-x)
    term = 1.0
    for n in range(1, k + 1):
        term *= x / n
    s = 0.0
    n = k + 1
    while True:
        term *= x / n
        s += term
        if term <= s * 1e-17 or n > 60:
            break
        n += 1
    return math.exp(-x) * s


@njit(cache=True)
def _crossings(e, v, thickness, out, n):
    if v > 0:
        k = math.floor(e) + 1
        end = e + v * thickness
        while k < end:
            out[n] = (k - e) / v
            n += 1
            k += 1
    elif v < 0:
        k = math.ceil(e) - 1
        end = e + v * thickness
        while k > end:
            out[n] = (k - e) / v
            n += 1
            k -= 1
    return n


@njit(cache=True)
def _overlap(a, b, v, z0, zm, c):
    low0 = float(c)
    lows = 0.0
    up0 = c + 1.0
    ups = 0.0
    if a + v * zm > c:
        low0 = a + v * z0
        lows = v
    if b + v * zm < c + 1:
        up0 = b + v * z0
        ups = v
    return up0 - low0, ups - lows


@njit(cache=True)
def _exact(rows, cols, p1, p2, poni1, poni2, dist, thickness, mu, seg1, seg2, dead, S):
    n = rows * cols
    cap = 8 * n + 1024
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices = np.empty(cap, dtype=np.int32)
    data = np.empty(cap, dtype=np.float64)
    trans = np.zeros(n)
    side = np.zeros(n)
    maskd = np.zeros(n)
    bp = np.empty(4096, dtype=np.float64)
    tc = np.empty(4096, dtype=np.int64)
    tv = np.empty(4096, dtype=np.float64)
    nnz = 0
    for row in range(n):
        if not dead[row]:
            i = row // cols
            j = row % cols
            h1 = seg1[i]
            h2 = seg2[j]
            nt = 0
            absorbed = 0.0
            mk = 0.0
            tr = 0.0
            for f1 in range(S):
                a1 = i + f1 / S
                b1 = i + (f1 + 1) / S
                c1 = (i + (f1 + 0.5) / S) * p1 - poni1
                for f2 in range(S):
                    a2 = j + f2 / S
                    b2 = j + (f2 + 1) / S
                    c2 = (j + (f2 + 0.5) / S) * p2 - poni2
                    v1 = c1 / dist / p1
                    v2 = c2 / dist / p2
                    m = mu * math.sqrt(c1 * c1 + c2 * c2 + dist * dist) / dist
                    nb = 0
                    bp[nb] = 0.0
                    nb += 1
                    nb = _crossings(a1, v1, thickness, bp, nb)
                    nb = _crossings(b1, v1, thickness, bp, nb)
                    nb = _crossings(a2, v2, thickness, bp, nb)
                    nb = _crossings(b2, v2, thickness, bp, nb)
                    bp[nb] = thickness
                    nb += 1
                    zs = np.sort(bp[:nb])
                    for k in range(nb - 1):
                        z0 = zs[k]
                        z1 = zs[k + 1]
                        hh = z1 - z0
                        if not hh > 0:
                            continue
                        zm = 0.5 * (z0 + z1)
                        x = m * hh
                        att = math.exp(-m * z0)
                        g0 = _g(0, x)
                        g1 = _g(1, x) / m
                        g2 = 2 * _g(2, x) / (m * m)
                        lo1 = a1 + v1 * zm
                        hi1 = b1 + v1 * zm
                        cell1 = int(math.floor(lo1))
                        while cell1 < hi1:
                            if 0 <= cell1 < rows and seg1[cell1] == h1:
                                l0, ls = _overlap(a1, b1, v1, z0, zm, cell1)
                                if not (l0 == 0 and ls == 0):
                                    cell2 = int(math.floor(a2 + v2 * zm))
                                    hi2 = b2 + v2 * zm
                                    while cell2 < hi2:
                                        if 0 <= cell2 < cols and seg2[cell2] == h2:
                                            q0, qs = _overlap(a2, b2, v2, z0, zm, cell2)
                                            val = att * (l0 * q0 * g0 + (l0 * qs + ls * q0) * g1 + ls * qs * g2)
                                            if val > 0:
                                                if dead[cell1 * cols + cell2]:
                                                    mk += val
                                                else:
                                                    tc[nt] = cell1 * cols + cell2
                                                    tv[nt] = val
                                                    nt += 1
                                                    absorbed += val
                                        cell2 += 1
                            cell1 += 1
                    t = thickness
                    tot = 1.0
                    for axis in range(2):
                        if axis == 0:
                            lo = a1 + v1 * t
                            hi = b1 + v1 * t
                            seg = seg1
                            home = h1
                        else:
                            lo = a2 + v2 * t
                            hi = b2 + v2 * t
                            seg = seg2
                            home = h2
                        total = 0.0
                        cell = int(math.floor(lo))
                        while cell < hi:
                            if 0 <= cell < len(seg) and seg[cell] == home:
                                total += max(0.0, min(hi, cell + 1.0) - max(lo, float(cell)))
                            cell += 1
                        tot *= total
                    tr += math.exp(-m * t) * tot
            trans[row] = tr
            maskd[row] = mk
            side[row] = max(0.0, 1 - absorbed - mk - tr)
            order = np.argsort(tc[:nt], kind="mergesort")
            last = -1
            for q in range(nt):
                c = tc[order[q]]
                v = tv[order[q]]
                if c != last:
                    indices[nnz] = c
                    data[nnz] = v
                    nnz += 1
                    last = c
                else:
                    data[nnz - 1] += v
        indptr[row + 1] = nnz
    return indptr, indices[:nnz].copy(), data[:nnz].copy(), trans, side, maskd


def _prepare(shape, gap_rows, gap_cols, dead):
    rows, cols = shape
    gap_rows = np.zeros(rows, bool) if gap_rows is None else np.asarray(gap_rows, bool)
    gap_cols = np.zeros(cols, bool) if gap_cols is None else np.asarray(gap_cols, bool)
    d = np.zeros((rows, cols), bool) if dead is None else np.asarray(dead, bool).copy()
    d |= gap_rows[:, None] | gap_cols[None, :]
    return segments(gap_rows), segments(gap_cols), d.ravel()


def raytrace(shape, pixel, poni1, poni2, dist, thickness, mu, sample, gap_rows=None, gap_cols=None, dead=None,
             subfaces=0):
    """Raytraced matrix (scipy CSR) and (transmitted, side_lost, masked) maps."""
    s1, s2, d = _prepare(shape, gap_rows, gap_cols, dead)
    indptr, indices, data, t, s, m = _raytrace(shape[0], shape[1], pixel[0], pixel[1], poni1, poni2, dist,
                                               thickness, mu, s1, s2, d, sample, subfaces)
    n = shape[0] * shape[1]
    return sp.csr_matrix((data, indices, indptr), shape=(n, n)), t.reshape(shape), s.reshape(shape), m.reshape(shape)


def exact(shape, pixel, poni1, poni2, dist, thickness, mu, subpixels=1, gap_rows=None, gap_cols=None, dead=None):
    """Closed-form matrix with one direction per subpixels x subpixels sub-face."""
    s1, s2, d = _prepare(shape, gap_rows, gap_cols, dead)
    indptr, indices, data, t, s, m = _exact(shape[0], shape[1], pixel[0], pixel[1], poni1, poni2, dist, thickness,
                                            mu, s1, s2, d, subpixels)
    n = shape[0] * shape[1]
    return sp.csr_matrix((data, indices, indptr), shape=(n, n)), t.reshape(shape), s.reshape(shape), m.reshape(shape)


def mlem(blur, y, iterations):
    """NumPy MLEM (Shepp-Vardi) for y ~ blur @ x, uniform start with the same total counts."""
    sens = blur.T @ np.ones(blur.shape[0])
    x = np.full(blur.shape[1], y.sum() / sens.sum())
    x[sens <= 0] = 0
    for _ in range(iterations):
        proj = blur @ x
        ratio = np.divide(y, proj, out=np.zeros_like(y), where=proj > 0)
        back = blur.T @ ratio
        x = np.divide(x * back, sens, out=np.zeros_like(x), where=sens > 0)
        x = np.maximum(x, 0)
    return x


def _median(fn, repeats):
    fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main():
    from scipy.sparse.linalg import lsmr
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    shape = (1043, 981)
    g1, g2 = pilatus1m_gaps()
    geo = dict(shape=shape, pixel=(172e-6, 172e-6), poni1=0.08865, poni2=0.08931, dist=0.2845, thickness=450e-6,
               mu=1537.02, gap_rows=g1, gap_cols=g2)
    results = {}
    raytrace(sample=1, **geo)  # compile
    exact(subpixels=1, **geo)
    results["raytrace_pilatus1M_sample8"] = _median(lambda: raytrace(sample=8, **geo), args.repeats)
    results["exact_pilatus1M_1dir"] = _median(lambda: exact(subpixels=1, **geo), args.repeats)
    results["exact_pilatus1M_4x4dir"] = _median(lambda: exact(subpixels=4, **geo), args.repeats)
    a = raytrace(sample=8, **geo)[0]
    blur = a.T.tocsr()
    truth = np.ones(a.shape[0])
    truth[::5] = 10
    y = blur @ truth
    results["lsmr_pilatus1M_sample8_30iter"] = _median(lambda: lsmr(blur, y, atol=0, btol=0, conlim=0, maxiter=30), args.repeats)
    results["mlem_pilatus1M_sample8_30iter"] = _median(lambda: mlem(blur, y, 30), args.repeats)
    for k, v in results.items():
        print(f"{k:32s} {v * 1e3:10.1f} ms")
    if args.json:
        import numba
        import scipy
        with open(args.json, "w") as f:
            json.dump({"numba": numba.__version__, "scipy": scipy.__version__,
                       "median_us": {k: v * 1e6 for k, v in results.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
