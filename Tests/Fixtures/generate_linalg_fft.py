"""Expected values for LinearAlgebraTests.swift and FFTTests.swift.

Run from the repository root:  python3 Tests/Fixtures/generate_linalg_fft.py
Writes Tests/BeamlineTensorTests/Fixtures/linalg.json and fft.json with
NumPy (numpy.linalg, numpy.fft). Inputs are stored too, so the Swift tests
use exactly the same numbers. No NaN is written (JSON has none).
"""
import os
import numpy as np
from fixturelib import write

here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "BeamlineTensorTests", "Fixtures")
rng = np.random.default_rng(20261122)


def real(*shape):
    return rng.standard_normal(shape)


def cplx(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


L = {}
# --- matmul ---
a = real(3, 4); b = real(4, 5)
L["mm_a"], L["mm_b"], L["mm_ab"] = a, b, a @ b
# transposed operands: a.T @ b.T with stored c (4x3), d (5x4)
c = real(4, 3); d = real(5, 4)
L["mm_c"], L["mm_d"], L["mm_cT_dT"] = c, d, c.T @ d.T
# strided / negative stride: x (6x8); use x[::2, ::-1] (3x8) @ y[::-1, 1::2] (8x2) ... y is 8x4
x = real(6, 8); y = real(8, 4)
L["mm_x"], L["mm_y"] = x, y
L["mm_strided"] = x[::2, ::-1] @ y[::-1, 1::2]
# batched with broadcasting: (2,1,3,4) @ (5,4,2) -> (2,5,3,2)
p = real(2, 1, 3, 4); q = real(5, 4, 2)
L["mm_p"], L["mm_q"], L["mm_pq"] = p, q, p @ q
# 1-d promotion
v = real(4); w = real(4)
L["mm_v"], L["mm_w"] = v, w
L["mm_v_b"] = v @ b          # (4) @ (4,5) -> (5)
L["mm_a_v"] = a @ v          # (3,4) @ (4) -> (3)
L["mm_v_w"] = np.array(v @ w)  # scalar
L["mm_q_v"] = q.transpose(0, 2, 1) @ v  # (5,2,4) @ (4) -> (5,2)
# complex
ca = cplx(3, 2); cb = cplx(2, 4)
L["mm_ca"], L["mm_cb"], L["mm_cacb"] = ca, cb, ca @ cb
L["outer"] = np.outer(v, w[:3])

# --- solve / inverse / det ---
A = real(4, 4) + 4 * np.eye(4); B = real(4, 2); bv = real(4)
L["sol_a"], L["sol_b"], L["sol_bv"] = A, B, bv
L["sol_x"], L["sol_xv"] = np.linalg.solve(A, B), np.linalg.solve(A, bv)
L["inv"] = np.linalg.inv(A)
L["det"] = np.array(np.linalg.det(A))
P = np.array([[0., 1, 0], [1, 0, 0], [0, 0, 1]]) @ np.diag([2., 3, 5])
L["det_perm_a"], L["det_perm"] = P, np.array(np.linalg.det(P))
CA = cplx(3, 3) + 3 * np.eye(3); CB = cplx(3)
L["csol_a"], L["csol_b"], L["csol_x"] = CA, CB, np.linalg.solve(CA, CB)
L["cdet"] = np.array(np.linalg.det(CA))
L["cinv"] = np.linalg.inv(CA)

# --- cholesky, qr, svd, eigh ---
M = real(4, 4); S = M @ M.T + 4 * np.eye(4)
L["spd"], L["chol"] = S, np.linalg.cholesky(S)
H = cplx(3, 3); HH = H @ H.conj().T + 3 * np.eye(3)
L["hpd"], L["cchol"] = HH, np.linalg.cholesky(HH)
T = real(5, 3)
L["qr_a"] = T
q_, r_ = np.linalg.qr(T)
L["qr_q"], L["qr_r"] = q_, r_
Tw = real(3, 5)
L["qrw_a"] = Tw
q_, r_ = np.linalg.qr(Tw)
L["qrw_q"], L["qrw_r"] = q_, r_
G = real(4, 3)
L["svd_a"] = G
u, s, vh = np.linalg.svd(G)
L["svd_s"] = s
ev, evec = np.linalg.eigh(S)
L["eigh_w"], L["eigh_v"] = ev, evec
cev, cevec = np.linalg.eigh(HH)
L["ceigh_w"] = cev
# --- lstsq ---
LA = real(6, 3); LB = real(6, 2); lb = real(6)
L["ls_a"], L["ls_b"], L["ls_bv"] = LA, LB, lb
xs, res, rk, sv = np.linalg.lstsq(LA, LB)
L["ls_x"], L["ls_res"], L["ls_rank"], L["ls_s"] = xs, res, np.array(rk), sv
xs, res, rk, sv = np.linalg.lstsq(LA, lb)
L["ls_xv"], L["ls_resv"] = xs, res
# rank-deficient: third column = first + second
RD = LA.copy(); RD[:, 2] = RD[:, 0] + RD[:, 1]
xs, res, rk, sv = np.linalg.lstsq(RD, lb)
L["lsd_a"], L["lsd_x"], L["lsd_rank"], L["lsd_res"] = RD, xs, np.array(rk), res
write(os.path.join(out_dir, "linalg.json"), L)

F = {}
for n in (7, 8, 13, 97):
    z = cplx(n)
    F[f"c{n}"], F[f"c{n}_fft"], F[f"c{n}_ifft"] = z, np.fft.fft(z), np.fft.ifft(z)
    r = real(n)
    F[f"r{n}"], F[f"r{n}_rfft"] = r, np.fft.rfft(r)
# norm modes on c13
for norm in ("backward", "ortho", "forward"):
    F[f"c13_fft_{norm}"] = np.fft.fft(F["c13"], norm=norm)
    F[f"c13_ifft_{norm}"] = np.fft.ifft(F["c13"], norm=norm)
    F[f"r8_rfft_{norm}"] = np.fft.rfft(F["r8"], norm=norm)
    F[f"r8_irfft_{norm}"] = np.fft.irfft(F["r8_rfft"], n=8, norm=norm)
# n: padding and cropping
F["c7_fft_n10"] = np.fft.fft(F["c7"], n=10)
F["c13_fft_n5"] = np.fft.fft(F["c13"], n=5)
# irfft even and odd n
F["r7_irfft_n7"] = np.fft.irfft(F["r7_rfft"], n=7)
F["r8_irfft_default"] = np.fft.irfft(F["r8_rfft"])
F["r13_irfft_n13"] = np.fft.irfft(F["r13_rfft"], n=13)
# 2-d / 3-d
z2 = cplx(6, 5)
F["z2"], F["z2_fft2"], F["z2_ifft2"] = z2, np.fft.fft2(z2), np.fft.ifft2(z2)
F["z2_fft_axis0"] = np.fft.fft(z2, axis=0)
z3 = cplx(4, 3, 5)
F["z3"] = z3
F["z3_fftn"] = np.fft.fftn(z3)
F["z3_fftn_02"] = np.fft.fftn(z3, axes=(0, 2))
F["z3_fftn_20_s"] = np.fft.fftn(z3, s=(3, 6), axes=(2, 0))
F["z3_ifftn_12_ortho"] = np.fft.ifftn(z3, axes=(1, 2), norm="ortho")
# batched: (3, 16) along last axis
zb = cplx(3, 16)
F["zb"], F["zb_fft"] = zb, np.fft.fft(zb, axis=-1)
# real N-d
r3 = real(4, 6, 7)
F["r3"] = r3
F["r3_rfftn"] = np.fft.rfftn(r3)
F["r3_rfftn_10"] = np.fft.rfftn(r3, axes=(1, 0))
F["r3_irfftn"] = np.fft.irfftn(np.fft.rfftn(r3), s=r3.shape, axes=(0, 1, 2))
F["r3_rfft_axis1"] = np.fft.rfft(r3, axis=1)
F["r2_irfft2_odd"] = np.fft.irfft2(np.fft.rfft2(r3[0]), s=(6, 7))
# strided (non-contiguous) input: z2.T and z2[::-1, ::2]
F["z2T_fft"] = np.fft.fft(z2.T, axis=-1)
F["z2_neg_fft2"] = np.fft.fft2(z2[::-1, ::2])
# frequencies and shifts
F["fftfreq_8"] = np.fft.fftfreq(8, d=0.5)
F["fftfreq_7"] = np.fft.fftfreq(7)
F["rfftfreq_9"] = np.fft.rfftfreq(9, d=2.0)
sh = np.arange(15.0).reshape(3, 5)
F["sh"] = sh
F["sh_fftshift"] = np.fft.fftshift(sh)
F["sh_ifftshift"] = np.fft.ifftshift(sh)
F["sh_fftshift_1"] = np.fft.fftshift(sh, axes=1)
write(os.path.join(out_dir, "fft.json"), F)
print("wrote", len(L), "linalg and", len(F), "fft entries")
