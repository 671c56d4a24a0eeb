"""Expected values for BeamlineSparseTests and BeamlineSolversTests.

Run from the repository root:  python3 Tests/Fixtures/generate_sparse.py
(SciPy 1.17 / NumPy 2.4 were used for the committed files.)

Writes
- Tests/BeamlineSparseTests/Fixtures/sparse.json: COO input with duplicates and
  the canonical CSR that scipy.sparse builds from it, SpMV / transposed SpMV /
  alpha-beta / sparse x dense products, row and column sums, diagonal,
  transpose, float32 products;
- Tests/BeamlineSparseTests/Fixtures/*.npz: files written by
  scipy.sparse.save_npz (csr_matrix, csr_array, compressed, csc, coo), a
  legacy file whose 'format' is a '<U3' array, and bad files built with
  numpy.savez (unsorted, out-of-range indices, decreasing indptr, NaN data,
  unsupported format);
- Tests/BeamlineSolversTests/Fixtures/solvers.json: scipy.sparse.linalg.lsmr
  results (x, istop, itn, normr, normar, norma, conda, normx) for several
  problems, and scipy.optimize.minimize(method="L-BFGS-B") results.
"""
import os
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import lsmr
from scipy.optimize import minimize, rosen, rosen_der
from fixturelib import write

here = os.path.dirname(os.path.abspath(__file__))
sparse_dir = os.path.join(here, "..", "BeamlineSparseTests", "Fixtures")
solver_dir = os.path.join(here, "..", "BeamlineSolversTests", "Fixtures")
rng = np.random.default_rng(20260303)

# ---------------------------------------------------------------- sparse.json
S = {}
m, n = 7, 5
rows = rng.integers(0, m, 16)
cols = rng.integers(0, n, 16)
vals = np.round(rng.standard_normal(16), 3)
# two duplicates (summed by tocsr) and an explicit zero kept as stored entry
rows = np.concatenate([rows, [rows[0], 3, 6]])
cols = np.concatenate([cols, [cols[0], 4, 0]])
vals = np.concatenate([vals, [0.5, 0.0, 1.25]])
A = sp.coo_array((vals, (rows, cols)), shape=(m, n)).tocsr()
S["coo_rows"], S["coo_cols"], S["coo_vals"] = rows, cols, vals
S["csr_data"], S["csr_indices"], S["csr_indptr"] = A.data, A.indices, A.indptr
S["dense"] = A.toarray()
x = rng.standard_normal(n); y = rng.standard_normal(m)
S["x"], S["y"] = x, y
S["Ax"] = A @ x
S["ATy"] = A.T @ y
S["axpby"] = 2.5 * (A @ x) - 0.5 * y
B = rng.standard_normal((n, 3))
S["B"], S["AB"] = B, A @ B
S["row_sums"] = np.asarray(A.sum(axis=1)).ravel()
S["col_sums"] = np.asarray(A.sum(axis=0)).ravel()
S["diagonal"] = A.diagonal()
T = A.T.tocsr(); T.sort_indices()
S["T_data"], S["T_indices"], S["T_indptr"] = T.data, T.indices, T.indptr
A.eliminate_zeros()
S["nz_data"], S["nz_indices"], S["nz_indptr"] = A.data, A.indices, A.indptr
A32 = A.astype(np.float32)
x32 = x.astype(np.float32); y32 = y.astype(np.float32)
S["Ax32"] = (A32 @ x32).astype(np.float64)
S["ATy32"] = (A32.T @ y32).astype(np.float64)
S["x32"], S["y32"] = x32.astype(np.float64), y32.astype(np.float64)
write(os.path.join(sparse_dir, "sparse.json"), S)

# the matrix saved by SciPy (dense values are in sparse.json as "dense")
sp.save_npz(os.path.join(sparse_dir, "scipy_csr_matrix.npz"), sp.csr_matrix(A), compressed=False)
sp.save_npz(os.path.join(sparse_dir, "scipy_csr_array_compressed.npz"), sp.csr_array(A), compressed=True)
sp.save_npz(os.path.join(sparse_dir, "scipy_csc.npz"), sp.csc_matrix(A), compressed=False)
sp.save_npz(os.path.join(sparse_dir, "scipy_coo.npz"), sp.coo_matrix(A), compressed=False)
sp.save_npz(os.path.join(sparse_dir, "scipy_csr_float32.npz"), sp.csr_matrix(A32), compressed=False)
np.savez(os.path.join(sparse_dir, "legacy_unicode_format.npz"), data=A.data, indices=A.indices,
         indptr=A.indptr, shape=np.array(A.shape), format=np.array("csr"))


def bad(name, data, indices, indptr, shape=(3, 4), fmt=b"csr"):
    np.savez(os.path.join(sparse_dir, name), data=np.asarray(data, dtype=np.float64),
             indices=np.asarray(indices, dtype=np.int32), indptr=np.asarray(indptr, dtype=np.int32),
             shape=np.array(shape), format=np.array(fmt))


# 3x4 [[1, 0, 2, 0], [0, 0, 0, 0], [0, 3, 0, 4]] with one defect each
bad("bad_unsorted.npz", [2, 1, 3, 4], [2, 0, 1, 3], [0, 2, 2, 4])
bad("bad_index_range.npz", [1, 2, 3, 4], [0, 2, 1, 7], [0, 2, 2, 4])
bad("bad_indptr.npz", [1, 2, 3, 4], [0, 2, 1, 3], [0, 2, 1, 4])
bad("bad_nan.npz", [1, np.nan, 3, 4], [0, 2, 1, 3], [0, 2, 2, 4])
bad("bad_format.npz", [1, 2, 3, 4], [0, 2, 1, 3], [0, 2, 2, 4], fmt=b"dia")
bad("bad_shape.npz", [1, 2, 3, 4], [0, 2, 1, 3], [0, 2, 2, 4], shape=(3, 4, 1))
np.savez(os.path.join(sparse_dir, "not_sparse.npz"), data=np.arange(3.0))

# --------------------------------------------------------------- solvers.json
L = {}


def sparse_random(rows, cols, density, scale_cols=None):
    a = rng.standard_normal((rows, cols)) * (rng.random((rows, cols)) < density)
    for j in range(cols):  # no empty column
        if not a[:, j].any():
            a[rng.integers(rows), j] = 1.0 + rng.random()
    if scale_cols is not None:
        a = a * scale_cols[None, :]
    return a


cases = {}
well = sparse_random(20, 10, 0.5)
cases["well"] = (well, rng.standard_normal(20), {})
compat = sparse_random(12, 12, 0.6) + 4 * np.eye(12)
cases["compatible"] = (compat, compat @ rng.standard_normal(12), {})
ill = sparse_random(15, 10, 0.6, 10.0 ** np.linspace(0, 6, 10))
cases["ill"] = (ill, rng.standard_normal(15), {"maxiter": 200})
cases["ill_conlim"] = (ill, rng.standard_normal(15), {"conlim": 1e3, "maxiter": 200})
cases["damped"] = (well, rng.standard_normal(20), {"damp": 1.0})
cases["tall"] = (sparse_random(40, 8, 0.4), rng.standard_normal(40), {"atol": 1e-10, "btol": 1e-10})
cases["wide"] = (sparse_random(8, 30, 0.4), rng.standard_normal(8), {"atol": 1e-10, "btol": 1e-10})
cases["zero_rhs"] = (well, np.zeros(20), {})
cases["maxiter"] = (well, rng.standard_normal(20), {"maxiter": 3})
cases["x0"] = (well, rng.standard_normal(20), {"x0": rng.standard_normal(10), "atol": 1e-8, "btol": 1e-8})
names = []
for name, (a, b, kw) in cases.items():
    names.append(name)
    x, istop, itn, normr, normar, norma, conda, normx = lsmr(sp.csr_array(a), b, **kw)
    L[f"{name}_A"], L[f"{name}_b"] = a, b
    L[f"{name}_x"] = x
    L[f"{name}_stats"] = np.array([istop, itn, normr, normar, norma, conda, normx], dtype=np.float64)
    L[f"{name}_params"] = np.array([kw.get("damp", 0.0), kw.get("atol", 1e-6), kw.get("btol", 1e-6),
                                    kw.get("conlim", 1e8), kw.get("maxiter", -1)], dtype=np.float64)
    if "x0" in kw:
        L[f"{name}_x0"] = kw["x0"]

# L-BFGS-B without bounds: 2-d Rosenbrock from (-1.2, 1), 6-d from a fixed point
for name, x0 in [("rosen2", np.array([-1.2, 1.0])), ("rosen6", np.array([-1.2, 1.0, -0.5, 0.3, 1.5, 0.8]))]:
    res = minimize(rosen, x0, jac=rosen_der, method="L-BFGS-B")
    L[f"{name}_x0"], L[f"{name}_x"], L[f"{name}_fun"] = x0, res.x, np.array(res.fun)
    L[f"{name}_nit"] = np.array(res.nit)
# least squares: 0.5 ||A x - b||^2 with A = well
ls_b = rng.standard_normal(20)
L["ls_b"] = ls_b
L["ls_x"] = np.linalg.lstsq(well, ls_b, rcond=None)[0]
res = minimize(lambda x: 0.5 * np.sum((well @ x - ls_b) ** 2), np.zeros(10),
               jac=lambda x: well.T @ (well @ x - ls_b), method="L-BFGS-B")
L["ls_lbfgsb_x"] = res.x
write(os.path.join(solver_dir, "solvers.json"), L)
print("LSMR cases:", ", ".join(f"{k}: istop {int(L[k + '_stats'][0])} itn {int(L[k + '_stats'][1])}" for k in names))
