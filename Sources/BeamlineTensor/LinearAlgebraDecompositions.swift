import ComplexModule

// LAPACK-backed solvers and factorisations with NumPy's conventions
// (numpy.linalg). All are throwing entry points: bad shapes, NaN or
// infinite inputs and data-dependent failures (singular, not positive
// definite, no convergence) become typed TensorErrors.

/// The result of ``Tensor/leastSquares(_:_:rcond:)``, as
/// `numpy.linalg.lstsq` returns it.
public struct LeastSquaresResult<Element: LinearAlgebraScalar>: Sendable {
    /// The minimum-norm solution `x` of `min ‖a x - b‖₂`: shape `[n]` for a
    /// 1-d `b`, `[n, k]` for `b` of shape `[m, k]`.
    public var solution: Tensor<Element>
    /// Squared 2-norm of the residual of each column of `b` (shape `[k]`, or
    /// `[1]` for a 1-d `b`); empty (shape `[0]`) when `rank < n` or `m <= n`,
    /// as in NumPy.
    public var residuals: Tensor<Element.RealComponent>
    /// Effective rank of `a`.
    public var rank: Int
    /// Singular values of `a`, descending, shape `[min(m, n)]`.
    public var singularValues: Tensor<Element.RealComponent>
}

/// The result of ``Tensor/svd(_:fullMatrices:)``: `a = u · diag(s) · vh`
/// (NumPy's `u, s, vh`).
public struct SingularValueDecomposition<Element: LinearAlgebraScalar>: Sendable {
    /// Left singular vectors in the columns: `[m, m]` (full) or `[m, min(m, n)]`.
    public var u: Tensor<Element>
    /// Singular values, descending, shape `[min(m, n)]`.
    public var s: Tensor<Element.RealComponent>
    /// Right singular vectors in the rows (conjugate-transposed `v`):
    /// `[n, n]` (full) or `[min(m, n), n]`.
    public var vh: Tensor<Element>
}

/// The result of ``Tensor/eigh(_:lower:)``.
public struct SymmetricEigendecomposition<Element: LinearAlgebraScalar>: Sendable {
    /// Eigenvalues in ascending order, shape `[n]` (always real).
    public var eigenvalues: Tensor<Element.RealComponent>
    /// Normalised eigenvectors in the columns, shape `[n, n]`: column `i`
    /// belongs to `eigenvalues[i]`.
    public var eigenvectors: Tensor<Element>
}

/// The result of ``Tensor/qr(_:)`` (NumPy's `mode="reduced"`): `a = q · r`.
public struct QRDecomposition<Element: LinearAlgebraScalar>: Sendable {
    /// Orthonormal (unitary) columns, shape `[m, min(m, n)]`.
    public var q: Tensor<Element>
    /// Upper triangular (trapezoidal), shape `[min(m, n), n]`.
    public var r: Tensor<Element>
}

extension Tensor where Element: LinearAlgebraScalar {
    // MARK: - Checks and buffers

    /// A fresh row-major copy that LAPACK may overwrite, after checking that
    /// `t` is a 2-d matrix of finite values.
    static func lapackMatrix(_ t: Tensor, _ argument: String, _ operation: String, square: Bool) throws(TensorError) -> Tensor {
        guard t.rank == 2 else {
            throw TensorError.invalidArgument(name: argument, expected: "a 2-d matrix for \(operation)",
                                              received: "shape \(t.shape)")
        }
        if square && t.layout.length(0) != t.layout.length(1) {
            throw TensorError.shapeMismatch(argument: "\(operation): \(argument) must be square",
                                            expected: [t.layout.length(0), t.layout.length(0)], received: t.shape)
        }
        _ = try blasInt(t.layout.length(0), "rows of \(argument)")
        _ = try blasInt(t.layout.length(1), "columns of \(argument)")
        let copy = t.copied()
        try checkFinite(copy, argument)
        return copy
    }

    /// Throws ``TensorError/nonFiniteValues(argument:)`` when `t` holds NaN or infinity.
    static func checkFinite(_ t: Tensor, _ argument: String) throws(TensorError) {
        let finite = t.allFinite
        guard finite else { throw TensorError.nonFiniteValues(argument: argument) }
    }

    /// Raw mutable pointer to element 0 of a tensor that this code owns
    /// uniquely (fresh copies only).
    var ownedBase: UnsafeMutablePointer<Element> { storage.base + offset }

    /// Maps a negative LAPACK `info` (an argument error, which the checks
    /// above should make impossible) to ``TensorError/backendFailure(routine:code:)``.
    static func checkArgumentInfo(_ info: Int32, _ routine: String) throws(TensorError) {
        if info < 0 { throw TensorError.backendFailure(routine: routine, code: Int(info)) }
    }

    // MARK: - Solve, inverse, determinant

    /// Solves `a x = b` for a square `a` (`numpy.linalg.solve`), by LU with
    /// partial pivoting (`?gesv`).
    ///
    /// - Parameters:
    ///   - a: an `[n, n]` matrix.
    ///   - b: a vector `[n]` or a matrix `[n, k]` of right-hand sides.
    /// - Returns: `x`, with the shape of `b`.
    /// - Throws: ``TensorError/singularMatrix(operation:pivot:)`` when `a` is
    ///   exactly singular; ``TensorError/shapeMismatch(argument:expected:received:)``
    ///   when `a` is not square or `b` has the wrong number of rows;
    ///   ``TensorError/nonFiniteValues(argument:)`` for NaN or infinity in `a` or `b`;
    ///   ``TensorError/invalidArgument(name:expected:received:)`` for wrong ranks.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func solve(_ a: Tensor, _ b: Tensor) throws(TensorError) -> Tensor {
        let matrix = try lapackMatrix(a, "a", "solve", square: true)
        let n = a.layout.length(0)
        guard b.rank == 1 || b.rank == 2 else {
            throw TensorError.invalidArgument(name: "b", expected: "a 1-d or 2-d tensor", received: "shape \(b.shape)")
        }
        guard b.layout.length(0) == n else {
            var expected = b.shape
            expected[0] = n
            throw TensorError.shapeMismatch(argument: "solve: rows of b", expected: expected, received: b.shape)
        }
        let nrhs = b.rank == 1 ? 1 : b.layout.length(1)
        let rhs = b.copied()
        try checkFinite(rhs, "b")
        if n == 0 || nrhs == 0 { return rhs }
        let n32 = try blasInt(n, "n"), nrhs32 = try blasInt(nrhs, "columns of b")
        var pivots = [Int32](repeating: 0, count: n)
        let info = Element._lapackGesv(n: n32, nrhs: nrhs32, a: matrix.ownedBase, lda: n32, ipiv: &pivots,
                                      b: rhs.ownedBase, ldb: nrhs32)
        try checkArgumentInfo(info, "gesv")
        if info > 0 { throw TensorError.singularMatrix(operation: "solve", pivot: Int(info)) }
        return withExtendedLifetime(matrix) { rhs }
    }

    /// The inverse of a square matrix (`numpy.linalg.inv`), by `?getrf` and `?getri`.
    ///
    /// - Throws: ``TensorError/singularMatrix(operation:pivot:)`` when `a` is
    ///   exactly singular, ``TensorError/shapeMismatch(argument:expected:received:)``
    ///   when it is not square, ``TensorError/nonFiniteValues(argument:)`` for NaN or infinity.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func inverse(_ a: Tensor) throws(TensorError) -> Tensor {
        let matrix = try lapackMatrix(a, "a", "inverse", square: true)
        let n = a.layout.length(0)
        if n == 0 { return matrix }
        let n32 = try blasInt(n, "n")
        var pivots = [Int32](repeating: 0, count: n)
        var info = Element._lapackGetrf(m: n32, n: n32, a: matrix.ownedBase, lda: n32, ipiv: &pivots)
        try checkArgumentInfo(info, "getrf")
        if info > 0 { throw TensorError.singularMatrix(operation: "inverse", pivot: Int(info)) }
        info = Element._lapackGetri(n: n32, a: matrix.ownedBase, lda: n32, ipiv: pivots)
        try checkArgumentInfo(info, "getri")
        if info > 0 { throw TensorError.singularMatrix(operation: "inverse", pivot: Int(info)) }
        return matrix
    }

    /// The determinant of a square matrix (`numpy.linalg.det`), from the LU
    /// factorisation (`?getrf`): the product of `U`'s diagonal, negated once
    /// per row interchange. A singular matrix gives 0 (not an error), as in NumPy.
    ///
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:received:)``
    ///   when `a` is not square, ``TensorError/nonFiniteValues(argument:)`` for NaN or infinity.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func determinant(_ a: Tensor) throws(TensorError) -> Element {
        let matrix = try lapackMatrix(a, "a", "determinant", square: true)
        let n = a.layout.length(0)
        if n == 0 { return ._oneValue }
        let n32 = try blasInt(n, "n")
        var pivots = [Int32](repeating: 0, count: n)
        let info = Element._lapackGetrf(m: n32, n: n32, a: matrix.ownedBase, lda: n32, ipiv: &pivots)
        try checkArgumentInfo(info, "getrf")
        if info > 0 { return ._zeroValue }
        var result = Element._oneValue
        let base = matrix.ownedBase
        for i in 0..<n {
            result *= base[i * n + i]
            if pivots[i] != Int32(i + 1) { result = ._zeroValue - result }
        }
        return withExtendedLifetime(matrix) { result }
    }

    // MARK: - Factorisations

    /// The lower-triangular Cholesky factor `l` with `a = l · lᴴ`
    /// (`numpy.linalg.cholesky`), by `?potrf`. Only the lower triangle of `a`
    /// is read (the upper one is assumed to mirror it), and the upper
    /// triangle of the result is zero.
    ///
    /// - Throws: ``TensorError/notPositiveDefinite(operation:minorOrder:)``
    ///   when `a` is not positive definite,
    ///   ``TensorError/shapeMismatch(argument:expected:received:)`` when it
    ///   is not square, ``TensorError/nonFiniteValues(argument:)`` for NaN or infinity.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func cholesky(_ a: Tensor) throws(TensorError) -> Tensor {
        let matrix = try lapackMatrix(a, "a", "cholesky", square: true)
        let n = a.layout.length(0)
        if n == 0 { return matrix }
        let n32 = try blasInt(n, "n")
        let info = Element._lapackPotrf(lower: true, n: n32, a: matrix.ownedBase, lda: n32)
        try checkArgumentInfo(info, "potrf")
        if info > 0 { throw TensorError.notPositiveDefinite(operation: "cholesky", minorOrder: Int(info)) }
        let base = matrix.ownedBase
        for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { base[i * n + j] = ._zeroValue } }
        return matrix
    }

    /// The reduced QR factorisation `a = q · r` of an `[m, n]` matrix
    /// (`numpy.linalg.qr(a)`, `mode="reduced"`), by `?geqrf` then
    /// `?orgqr` / `?ungqr`. `q` is `[m, k]` with orthonormal columns and `r`
    /// is `[k, n]` upper triangular, `k = min(m, n)`. Signs follow LAPACK
    /// (as NumPy's do).
    ///
    /// - Throws: ``TensorError/nonFiniteValues(argument:)`` for NaN or
    ///   infinity, ``TensorError/invalidArgument(name:expected:received:)`` when `a` is not 2-d.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func qr(_ a: Tensor) throws(TensorError) -> QRDecomposition<Element> {
        let matrix = try lapackMatrix(a, "a", "qr", square: false)
        let m = a.layout.length(0), n = a.layout.length(1), k = Swift.min(m, n)
        if k == 0 {
            return QRDecomposition(q: Tensor(shape: [m, k], repeating: ._zeroValue),
                                   r: Tensor(shape: [k, n], repeating: ._zeroValue))
        }
        let m32 = try blasInt(m, "m"), n32 = try blasInt(n, "n"), k32 = try blasInt(k, "k")
        var tau = [Element](repeating: ._zeroValue, count: k)
        var info = Element._lapackGeqrf(m: m32, n: n32, a: matrix.ownedBase, lda: n32, tau: &tau)
        try checkArgumentInfo(info, "geqrf")
        let base = matrix.ownedBase
        let r = Tensor(unsafeUninitializedShape: [k, n]) { buffer in
            for i in 0..<k {
                for j in 0..<n { buffer[i * n + j] = j >= i ? base[i * n + j] : ._zeroValue }
            }
        }
        // Q from the first k columns (leading dimension n stays valid).
        info = Element._lapackOrgqr(m: m32, n: k32, k: k32, a: base, lda: n32, tau: tau)
        try checkArgumentInfo(info, "orgqr")
        let q = Tensor(unsafeUninitializedShape: [m, k]) { buffer in
            for i in 0..<m { for j in 0..<k { buffer[i * k + j] = base[i * n + j] } }
        }
        return withExtendedLifetime(matrix) { QRDecomposition(q: q, r: r) }
    }

    /// The singular value decomposition `a = u · diag(s) · vh` of an
    /// `[m, n]` matrix (`numpy.linalg.svd(a, full_matrices=...)`), by the
    /// divide-and-conquer driver `?gesdd`.
    ///
    /// - Parameters:
    ///   - a: the matrix, `[m, n]`.
    ///   - fullMatrices: when true (NumPy's default), `u` is `[m, m]`
    ///     and `vh` is `[n, n]`; when false, `[m, k]` and `[k, n]`, `k = min(m, n)`.
    /// - Throws: ``TensorError/noConvergence(operation:info:)`` when the
    ///   iteration fails, ``TensorError/nonFiniteValues(argument:)`` for NaN
    ///   or infinity, ``TensorError/invalidArgument(name:expected:received:)`` when `a` is not 2-d.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func svd(_ a: Tensor, fullMatrices: Bool = true) throws(TensorError) -> SingularValueDecomposition<Element> {
        let matrix = try lapackMatrix(a, "a", "svd", square: false)
        let m = a.layout.length(0), n = a.layout.length(1), k = Swift.min(m, n)
        let uColumns = fullMatrices ? m : k, vRows = fullMatrices ? n : k
        if k == 0 {
            return SingularValueDecomposition(u: .identityMatrix(m, uColumns), s: Tensor<Element.RealComponent>(shape: [0], repeating: 0),
                                              vh: .identityMatrix(vRows, n))
        }
        let m32 = try blasInt(m, "m"), n32 = try blasInt(n, "n")
        var s = Tensor<Element.RealComponent>(shape: [k], repeating: 0)
        var u = Tensor(shape: [m, uColumns], repeating: ._zeroValue)
        var vh = Tensor(shape: [vRows, n], repeating: ._zeroValue)
        let info = s.withUnsafeMutableBufferPointer { ps in
            u.withUnsafeMutableBufferPointer { pu in
                vh.withUnsafeMutableBufferPointer { pv in
                    Element._lapackGesdd(jobz: lapackChar(fullMatrices ? "A" : "S"), m: m32, n: n32,
                                        a: matrix.ownedBase, lda: n32, s: ps.baseAddress!,
                                        u: pu.baseAddress, ldu: Int32(uColumns), vt: pv.baseAddress, ldvt: n32)
                }
            }
        }
        try checkArgumentInfo(info, "gesdd")
        if info > 0 { throw TensorError.noConvergence(operation: "svd", info: Int(info)) }
        return withExtendedLifetime(matrix) { SingularValueDecomposition(u: u, s: s, vh: vh) }
    }

    /// The singular values of an `[m, n]` matrix, descending
    /// (`numpy.linalg.svd(a, compute_uv=False)`), by `?gesdd` without vectors.
    ///
    /// - Throws: as ``svd(_:fullMatrices:)``.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func singularValues(_ a: Tensor) throws(TensorError) -> Tensor<Element.RealComponent> {
        let matrix = try lapackMatrix(a, "a", "singularValues", square: false)
        let m = a.layout.length(0), n = a.layout.length(1), k = Swift.min(m, n)
        var s = Tensor<Element.RealComponent>(shape: [k], repeating: 0)
        if k == 0 { return s }
        // LAPACKE's row-major wrapper checks ldu >= m and ldvt >= n even
        // when no vectors are computed.
        let m32 = try blasInt(m, "m"), n32 = try blasInt(n, "n")
        let info = s.withUnsafeMutableBufferPointer { ps in
            Element._lapackGesdd(jobz: lapackChar("N"), m: m32, n: n32, a: matrix.ownedBase, lda: n32,
                                s: ps.baseAddress!, u: nil, ldu: m32, vt: nil, ldvt: n32)
        }
        try checkArgumentInfo(info, "gesdd")
        if info > 0 { throw TensorError.noConvergence(operation: "singularValues", info: Int(info)) }
        return withExtendedLifetime(matrix) { s }
    }

    /// Eigenvalues (ascending) and eigenvectors of a real symmetric or
    /// complex Hermitian matrix (`numpy.linalg.eigh(a, UPLO="L")`), by the
    /// divide-and-conquer drivers `?syevd` / `?heevd`.
    ///
    /// - Parameters:
    ///   - a: the square matrix, `[n, n]`.
    ///   - lower: read the lower triangle (NumPy's default `"L"`)
    ///     or, when false, the upper one; the other triangle is ignored.
    /// - Throws: ``TensorError/noConvergence(operation:info:)``,
    ///   ``TensorError/shapeMismatch(argument:expected:received:)`` when
    ///   `a` is not square, ``TensorError/nonFiniteValues(argument:)`` for NaN or infinity.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func eigh(_ a: Tensor, lower: Bool = true) throws(TensorError) -> SymmetricEigendecomposition<Element> {
        let (values, vectors) = try symmetricEigen(a, vectors: true, lower: lower, operation: "eigh")
        return SymmetricEigendecomposition(eigenvalues: values, eigenvectors: vectors)
    }

    /// Eigenvalues only (ascending) of a symmetric or Hermitian matrix
    /// (`numpy.linalg.eigvalsh`).
    ///
    /// - Throws: as ``eigh(_:lower:)``.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func eigvalsh(_ a: Tensor, lower: Bool = true) throws(TensorError) -> Tensor<Element.RealComponent> {
        try symmetricEigen(a, vectors: false, lower: lower, operation: "eigvalsh").values
    }

    /// `?syevd` / `?heevd` on a copy of `a`: eigenvalues, and the copy,
    /// which holds the eigenvectors when `vectors` is true.
    static func symmetricEigen(_ a: Tensor, vectors: Bool, lower: Bool,
                               operation: String) throws(TensorError) -> (values: Tensor<Element.RealComponent>, vectors: Tensor) {
        let matrix = try lapackMatrix(a, "a", operation, square: true)
        let n = a.layout.length(0)
        var w = Tensor<Element.RealComponent>(shape: [n], repeating: 0)
        if n == 0 { return (w, matrix) }
        let n32 = try blasInt(n, "n")
        let info = w.withUnsafeMutableBufferPointer { pw in
            Element._lapackEigh(vectors: vectors, lower: lower, n: n32, a: matrix.ownedBase, lda: n32,
                               w: pw.baseAddress!)
        }
        try checkArgumentInfo(info, "syevd/heevd")
        if info > 0 { throw TensorError.noConvergence(operation: operation, info: Int(info)) }
        return (w, matrix)
    }

    // MARK: - Least squares

    /// The minimum-norm least-squares solution of `a x ≈ b`
    /// (`numpy.linalg.lstsq(a, b, rcond)`), by the SVD driver `?gelsd`.
    ///
    /// - Parameters:
    ///   - a: an `[m, n]` matrix (any `m`, `n`; rank-deficient allowed).
    ///   - b: `[m]` or `[m, k]` right-hand sides.
    ///   - rcond: singular values below `rcond · s_max` count as zero;
    ///     nil (NumPy 2's default) means `eps · max(m, n)`.
    /// - Returns: solution, residuals, rank and singular values, as NumPy does.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:received:)``
    ///   when `b` does not have `m` rows, ``TensorError/nonFiniteValues(argument:)``
    ///   for NaN or infinity in `a` or `b`, ``TensorError/noConvergence(operation:info:)``.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    @specialized(where Element == Complex<Double>)
    @specialized(where Element == Complex<Float>)
    public static func leastSquares(_ a: Tensor, _ b: Tensor,
                                    rcond: Element.RealComponent? = nil) throws(TensorError) -> LeastSquaresResult<Element> {
        typealias Real = Element.RealComponent
        let matrix = try lapackMatrix(a, "a", "leastSquares", square: false)
        let m = a.layout.length(0), n = a.layout.length(1), k = Swift.min(m, n)
        guard b.rank == 1 || b.rank == 2 else {
            throw TensorError.invalidArgument(name: "b", expected: "a 1-d or 2-d tensor", received: "shape \(b.shape)")
        }
        guard b.layout.length(0) == m else {
            var expected = b.shape
            expected[0] = m
            throw TensorError.shapeMismatch(argument: "leastSquares: rows of b", expected: expected, received: b.shape)
        }
        try checkFinite(b, "b")
        let nrhs = b.rank == 1 ? 1 : b.layout.length(1)
        let rows = Swift.max(m, n, 1)
        // b padded to max(m, n) rows, as gelsd wants.
        var work = Tensor(shape: [rows, nrhs], repeating: ._zeroValue)
        let bMatrix = b.rank == 1 ? b.reshaped([m, 1]) : b
        if m > 0 && nrhs > 0 {
            try work.assign(bMatrix, to: [.range(0..<m), .all])
        }
        var s = Tensor<Real>(shape: [k], repeating: 0)
        var rank: Int32 = 0
        let condition = rcond ?? Real.ulpOfOne * Real(Swift.max(m, n))
        if k > 0 && nrhs > 0 {
            let m32 = try blasInt(m, "m"), n32 = try blasInt(n, "n"), nrhs32 = try blasInt(nrhs, "columns of b")
            let info = s.withUnsafeMutableBufferPointer { ps in
                work.withUnsafeMutableBufferPointer { pb in
                    Element._lapackGelsd(m: m32, n: n32, nrhs: nrhs32, a: matrix.ownedBase, lda: n32,
                                        b: pb.baseAddress!, ldb: nrhs32, s: ps.baseAddress!, rcond: condition,
                                        rank: &rank)
                }
            }
            try checkArgumentInfo(info, "gelsd")
            if info > 0 { throw TensorError.noConvergence(operation: "leastSquares", info: Int(info)) }
        } else if k > 0 {
            // No right-hand sides: still report singular values and rank.
            s = try singularValues(a)
            let cutoff = condition * (s.elements.first ?? 0)
            rank = Int32(s.elements.filter { $0 > cutoff }.count)
        }
        var solution = work[0..<n, TensorIndex.all].copied()
        if b.rank == 1 { solution = solution.reshaped([n]) }
        var residuals = Tensor<Real>(shape: [0], repeating: 0)
        if Int(rank) == n && m > n {
            let tail = work[n..<m, TensorIndex.all]
            residuals = Tensor<Real>(unsafeUninitializedShape: [nrhs]) { buffer in
                for j in 0..<nrhs {
                    var sum: Real = 0
                    for i in 0..<(m - n) {
                        let r = tail[at: i, j].modulus
                        sum += r * r
                    }
                    buffer[j] = sum
                }
            }
        }
        return withExtendedLifetime(matrix) {
            LeastSquaresResult(solution: solution, residuals: residuals, rank: Int(rank), singularValues: s)
        }
    }

    /// An `[rows, columns]` matrix with ones on the main diagonal.
    static func identityMatrix(_ rows: Int, _ columns: Int) -> Tensor {
        Tensor(unsafeUninitializedShape: [rows, columns]) { buffer in
            for i in 0..<rows { for j in 0..<columns { buffer[i * columns + j] = i == j ? ._oneValue : ._zeroValue } }
        }
    }
}
