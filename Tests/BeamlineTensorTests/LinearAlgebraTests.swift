import BeamlineTestSupport
import BeamlineTensor
import ComplexModule
import Testing

// Expected values: Tests/Fixtures/generate_linalg_fft.py (NumPy 2.4,
// numpy.linalg on its bundled OpenBLAS/LAPACK) → Fixtures/linalg.json.
//
// Tolerances. The inputs are small (≤ 6×8), well conditioned (condition
// numbers below ~50: diagonally shifted random matrices) and in Double; our
// BLAS/LAPACK and NumPy's run the same algorithms but may sum in a different
// order, so results differ by a few ulps times the condition number:
// 1e-12 (relative to max(|expected|, 1)) leaves a margin of ~100× over that.
// Float runs use 1e-4 for the same reason (ulp 1.2e-7, inputs of size ~3,
// sums of ≤ 8 terms, a margin of ~100×).

let linalgTolerance = 1e-12

@Suite("Linear algebra")
struct LinearAlgebraTests {
    let fx: Fixtures
    init() throws { fx = try Fixtures.load("linalg.json") }

    func close<T: FloatingElement>(_ a: Tensor<T>, _ b: Tensor<T>, _ tol: Double = linalgTolerance,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        expectClose(a, b, tol, sourceLocation: sourceLocation)
    }

    // MARK: matmul

    @Test func matmul2d() throws {
        // a @ b (numpy.matmul), (3,4) @ (4,5).
        close(Tensor.matmul(try fx.real("mm_a"), try fx.real("mm_b")), try fx.real("mm_ab"))
    }

    @Test func matmulFloat() throws {
        // Same numbers as matmul2d in float32: a @ b (numpy.matmul), 1e-4 (see top).
        let c = Tensor.matmul(try fx.real("mm_a", as: Float.self), try fx.real("mm_b", as: Float.self))
        close(c, try fx.real("mm_ab", as: Float.self), 1e-4)
    }

    @Test func matmulTransposedViews() throws {
        // c.T @ d.T (numpy): both operands column-major views, passed to gemm with transpose flags.
        let c = try fx.real("mm_c"), d = try fx.real("mm_d")
        close(Tensor.matmul(c.transposed, d.transposed), try fx.real("mm_cT_dT"))
    }

    @Test func matmulStridedAndNegativeStrides() throws {
        // x[::2, ::-1] @ y[::-1, 1::2] (numpy): row stride 2 (direct gemm with lda = 16),
        // negative column stride and negative row stride (copied first).
        let x = try fx.real("mm_x"), y = try fx.real("mm_y")
        let left = x[TensorIndex.stride(by: 2), TensorIndex.stride(by: -1)]
        let right = y[TensorIndex.stride(by: -1), TensorIndex.stride(1, nil, by: 2)]
        #expect(left.strides == [16, -1] && right.strides == [-4, 2])
        close(Tensor.matmul(left, right), try fx.real("mm_strided"))
        // Row stride 2 alone goes to gemm directly.
        let rows = x[TensorIndex.stride(by: 2)]
        let expected = Tensor.matmul(rows.copied(), y)
        close(Tensor.matmul(rows, y), expected)
    }

    @Test func matmulBatchedBroadcast() throws {
        // p @ q with p (2,1,3,4), q (5,4,2) → (2,5,3,2) (numpy.matmul batch broadcasting).
        close(Tensor.matmul(try fx.real("mm_p"), try fx.real("mm_q")), try fx.real("mm_pq"))
    }

    @Test func matmulVectorPromotion() throws {
        // numpy: v @ b (5,), a @ v (3,), v @ w (scalar), q.transpose(0,2,1) @ v (5,2).
        let v = try fx.real("mm_v"), w = try fx.real("mm_w")
        close(Tensor.matmul(v, try fx.real("mm_b")), try fx.real("mm_v_b"))
        close(Tensor.matmul(try fx.real("mm_a"), v), try fx.real("mm_a_v"))
        close(Tensor.matmul(v, w), try fx.real("mm_v_w"))
        close(Tensor.matmul(try fx.real("mm_q").permuted([0, 2, 1]), v), try fx.real("mm_q_v"))
        close(Tensor.matvec(try fx.real("mm_a"), v), try fx.real("mm_a_v"))
    }

    @Test func matmulComplex() throws {
        // ca @ cb (numpy, complex128), then the complex64 run with 1e-4.
        close(Tensor.matmul(try fx.complex("mm_ca"), try fx.complex("mm_cb")), try fx.complex("mm_cacb"))
        let c32 = Tensor.matmul(try fx.complex("mm_ca", as: Float.self), try fx.complex("mm_cb", as: Float.self))
        close(c32, try fx.complex("mm_cacb", as: Float.self), 1e-4)
    }

    @Test func largeMatmulMatchesNaiveProduct() throws {
        // 160×120 @ 120×140 through a transposed view: big enough for OpenBLAS's
        // threaded kernels. Reference: the naive triple loop (same as numpy.matmul up to
        // rounding); sums of 120 products of values in [0, 1) differ by < 120·ε·30 ≈ 1e-12.
        let a = Tensor<Double>.uniform([120, 160], seed: 1).transposed, b = Tensor<Double>.uniform([120, 140], seed: 2)
        let c = Tensor.matmul(a, b)
        let ea = a.copied().elements, eb = b.elements
        var worst = 0.0
        for i in 0..<160 {
            for j in 0..<140 {
                var sum = 0.0
                for k in 0..<120 { sum += ea[i * 120 + k] * eb[k * 140 + j] }
                worst = max(worst, abs(c[at: i, j] - sum))
            }
        }
        #expect(worst < 1e-11)
    }

    @Test func singlePrecisionSolveAndCholesky() throws {
        // numpy.linalg.solve(A, B) and cholesky(S) on the float64 inputs, run here in
        // float32: 1e-4 relative (ε = 1.2e-7 times condition numbers below ~50, margin ~10×).
        close(try Tensor.solve(try fx.real("sol_a", as: Float.self), try fx.real("sol_b", as: Float.self)),
              try fx.real("sol_x", as: Float.self), 1e-4)
        close(try Tensor.cholesky(try fx.real("spd", as: Float.self)), try fx.real("chol", as: Float.self), 1e-4)
        close(try Tensor.cholesky(try fx.complex("hpd", as: Float.self)), try fx.complex("cchol", as: Float.self), 1e-4)
    }

    @Test func outerProduct() throws {
        // numpy.outer(v, w[:3]).
        let w = try fx.real("mm_w")
        close(Tensor.outer(try fx.real("mm_v"), w[0..<3]), try fx.real("outer"))
    }

    @Test func matmulShapeErrors() throws {
        let a = Tensor<Double>.zeros([3, 4]), b = Tensor<Double>.zeros([5, 2])
        let e1 = #expect(throws: TensorError.self) { try Tensor.checkedMatmul(a, b) }
        if case .argument(let bad)? = e1, bad.kind == .shape {
            #expect(bad.expected == "\([4, 2])" && bad.received == "\([5, 2])")
        } else { Issue.record("expected shapeMismatch, got \(String(describing: e1))") }
        let e2 = #expect(throws: TensorError.self) {
            try Tensor.checkedMatmul(Tensor<Double>.zeros([2, 3, 4]), Tensor<Double>.zeros([3, 4, 2]))
        }
        #expect(e2 == .notBroadcastable(operation: "matmul batch axes", lhs: [2, 3, 4], rhs: [3, 4, 2]))
        #expect(throws: TensorError.invalidArgument(name: "a", expected: "at least 1 axis", received: "shape []")) {
            try Tensor.checkedMatmul(Tensor<Double>(scalar: 1), a)
        }
    }

    // MARK: solve, inverse, determinant

    @Test func solveAndInverse() throws {
        // numpy.linalg.solve(A, B), solve(A, b), inv(A), det(A).
        let a = try fx.real("sol_a")
        close(try Tensor.solve(a, try fx.real("sol_b")), try fx.real("sol_x"))
        close(try Tensor.solve(a, try fx.real("sol_bv")), try fx.real("sol_xv"))
        close(try Tensor.inverse(a), try fx.real("inv"))
        close(try Tensor.inverse(a.transposed), try fx.real("inv").transposed.copied())
        let det = try Tensor.determinant(a)
        #expect(abs(det - (try fx.real("det")).scalar) <= linalgTolerance * abs(det))
        // Permutation times diag(2,3,5): numpy.linalg.det gives -29.99999999999999 (its LU
        // rounds); the sign comes from the row interchange. Same 1e-12 relative tolerance.
        let permDet = try Tensor.determinant(try fx.real("det_perm_a"))
        let numpyPermDet = try fx.real("det_perm").scalar
        #expect(permDet < 0 && abs(permDet - numpyPermDet) <= 30 * linalgTolerance)
    }

    @Test func complexSolveInverseDeterminant() throws {
        // numpy.linalg.solve / inv / det on complex128.
        let a = try fx.complex("csol_a")
        close(try Tensor.solve(a, try fx.complex("csol_b")), try fx.complex("csol_x"))
        close(try Tensor.inverse(a), try fx.complex("cinv"))
        let det = try Tensor.determinant(a), expected = (try fx.complex("cdet")).scalar
        #expect((det - expected).length <= linalgTolerance * expected.length)
    }

    @Test func singularMatrixErrors() throws {
        let singular = Tensor<Double>(shape: [3, 3], elements: [1, 2, 3, 2, 4, 6, 1, 0, 1])
        #expect(throws: TensorError.singularMatrix(operation: "solve", pivot: 3)) {
            try Tensor.solve(singular, Tensor<Double>.ones([3]))
        }
        #expect(throws: TensorError.singularMatrix(operation: "inverse", pivot: 3)) {
            try Tensor.inverse(singular)
        }
        // numpy.linalg.det of a singular matrix is 0, not an error.
        #expect(try Tensor.determinant(singular) == 0)
    }

    @Test func inputValidationErrors() throws {
        var a = Tensor<Double>.identity(3)
        a[at: 1, 1] = .nan
        #expect(throws: TensorError.nonFiniteValues(argument: "a")) { try Tensor.solve(a, Tensor<Double>.ones([3])) }
        #expect(throws: TensorError.nonFiniteValues(argument: "a")) { try Tensor.svd(a) }
        var b = Tensor<Double>.ones([3])
        b[at: 0] = .infinity
        #expect(throws: TensorError.nonFiniteValues(argument: "b")) { try Tensor.solve(Tensor<Double>.identity(3), b) }
        #expect(throws: TensorError.shapeMismatch(argument: "solve: rows of b", expected: [3], received: [4])) {
            try Tensor.solve(Tensor<Double>.identity(3), Tensor<Double>.ones([4]))
        }
        #expect(throws: TensorError.shapeMismatch(argument: "inverse: a must be square", expected: [2, 2],
                                                  received: [2, 3])) {
            try Tensor.inverse(Tensor<Double>.zeros([2, 3]))
        }
        #expect(throws: TensorError.self) { try Tensor.cholesky(Tensor<Double>.zeros([4])) }
        var c = Tensor<Complex<Float>>.identity(2)
        c[at: 0, 1] = Complex(0, .nan)
        #expect(throws: TensorError.nonFiniteValues(argument: "a")) { try Tensor.eigh(c, lower: false) }
    }

    // MARK: factorisations

    @Test func cholesky() throws {
        // numpy.linalg.cholesky (lower) of SPD and HPD matrices.
        close(try Tensor.cholesky(try fx.real("spd")), try fx.real("chol"))
        close(try Tensor.cholesky(try fx.complex("hpd")), try fx.complex("cchol"))
        let notPD = Tensor<Double>(shape: [2, 2], elements: [1, 2, 2, 1])
        #expect(throws: TensorError.notPositiveDefinite(operation: "cholesky", minorOrder: 2)) {
            try Tensor.cholesky(notPD)
        }
    }

    @Test func qrReduced() throws {
        // numpy.linalg.qr(a) (mode="reduced"), tall 5×3 and wide 3×5; same LAPACK
        // Householder convention, so q and r match including signs.
        let tall = try Tensor.qr(try fx.real("qr_a"))
        close(tall.q, try fx.real("qr_q"))
        close(tall.r, try fx.real("qr_r"))
        let wide = try Tensor.qr(try fx.real("qrw_a"))
        close(wide.q, try fx.real("qrw_q"))
        close(wide.r, try fx.real("qrw_r"))
    }

    @Test func singularValueDecomposition() throws {
        // numpy.linalg.svd(G): s compared directly; u, vh (signs are arbitrary) through
        // u[:, :3] · diag(s) · vh ≈ G and orthonormality.
        let g = try fx.real("svd_a")
        let full = try Tensor.svd(g)
        #expect(full.u.shape == [4, 4] && full.s.shape == [3] && full.vh.shape == [3, 3])
        close(full.s, try fx.real("svd_s"))
        let reduced = try Tensor.svd(g, fullMatrices: false)
        #expect(reduced.u.shape == [4, 3] && reduced.vh.shape == [3, 3])
        let scaled = reduced.u * reduced.s.reshaped([1, 3])
        close(Tensor.matmul(scaled, reduced.vh), g)
        close(Tensor.matmul(full.u.transposed, full.u), Tensor<Double>.identity(4))
        close(try Tensor.singularValues(g), try fx.real("svd_s"))
        close(try Tensor.singularValues(g.transposed), try fx.real("svd_s"))
    }

    @Test func symmetricEigendecomposition() throws {
        // numpy.linalg.eigh (UPLO="L"): ascending eigenvalues compared directly;
        // eigenvectors up to sign, via |⟨v_i, v_ref_i⟩| = 1 and A v = v diag(w).
        let s = try fx.real("spd")
        let result = try Tensor.eigh(s)
        close(result.eigenvalues, try fx.real("eigh_w"))
        let reference = try fx.real("eigh_v")
        let overlaps = Tensor.matmul(result.eigenvectors.transposed, reference)
        for i in 0..<4 { #expect(abs(abs(overlaps[at: i, i]) - 1) < 1e-10) }
        close(Tensor.matmul(s, result.eigenvectors), result.eigenvectors * result.eigenvalues.reshaped([1, 4]))
        close(try Tensor.eigh(try fx.complex("hpd")).eigenvalues, try fx.real("ceigh_w"))
        close(try Tensor.eigvalsh(s), try fx.real("eigh_w"))
    }

    // MARK: least squares

    @Test func leastSquares() throws {
        // numpy.linalg.lstsq(A, B) with the NumPy 2 default rcond (eps · max(m, n)).
        let a = try fx.real("ls_a")
        let r = try Tensor.leastSquares(a, try fx.real("ls_b"))
        close(r.solution, try fx.real("ls_x"))
        close(r.residuals, try fx.real("ls_res"))
        close(r.singularValues, try fx.real("ls_s"))
        #expect(r.rank == Int((try fx.real("ls_rank")).scalar))
        let v = try Tensor.leastSquares(a, try fx.real("ls_bv"))
        close(v.solution, try fx.real("ls_xv"))
        close(v.residuals, try fx.real("ls_resv"))
        // Rank-deficient (third column = first + second): rank 2, minimum-norm
        // solution, empty residuals, as NumPy. Tolerance 1e-10: the null-space
        // cut-off amplifies rounding by 1/s_min of the kept values (~10).
        let d = try Tensor.leastSquares(try fx.real("lsd_a"), try fx.real("ls_bv"))
        #expect(d.rank == 2 && d.residuals.shape == [0])
        close(d.solution, try fx.real("lsd_x"), 1e-10)
        #expect(throws: TensorError.shapeMismatch(argument: "leastSquares: rows of b", expected: [6], received: [5])) {
            try Tensor.leastSquares(a, Tensor<Double>.ones([5]))
        }
    }
}
