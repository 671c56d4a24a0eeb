import BeamlineOperators
import BeamlineSolvers
import BeamlineSparse
import BeamlineTensor

/// The blur of a point-spread matrix restricted to read-out pixels:
/// `y = M ⊙ (Aᵀ x)` with `M` zero on masked pixels (so masked data never
/// enter a fit), and its adjoint `x = A (M ⊙ y)`.
public struct MaskedBlurOperator<Element: OperatorScalar>: LinearOperator, Sendable {
    /// `A·diag(M)`: the point-spread matrix `A` (rows = entry pixels,
    /// columns = absorbing pixels) with the columns of excluded pixels
    /// removed. Then `M ⊙ (Aᵀ x) = (A·diag(M))ᵀ x` and `A (M ⊙ y) = (A·diag(M)) y`,
    /// so neither direction masks or copies a vector per call.
    public let matrix: CSRMatrix<Element>
    /// `true` where a pixel is excluded (length ``rows``).
    public let excluded: [Bool]

    /// Wraps `matrix` (square) with `excluded` (one flag per pixel).
    ///
    /// When no excluded pixel has a stored entry in its column (the usual
    /// case: gaps, with no explicit mask), `matrix` is used as it is, so its
    /// cached transpose is reused; otherwise the columns of excluded pixels
    /// are dropped in one pass.
    ///
    /// - Throws: ``DetectorError/invalidArgument(name:expected:received:)``
    ///   for a non-square matrix, ``DetectorError/shapeMismatch(argument:expected:received:)``
    ///   when `excluded` does not have one flag per pixel, and
    ///   ``DetectorError/sparse(_:)`` if the filtered matrix is invalid
    ///   (which filtering a valid matrix cannot produce).
    @inlinable
    public init(matrix: CSRMatrix<Element>, excluded: [Bool]) throws(DetectorError) {
        guard matrix.rows == matrix.columns else {
            throw .invalidArgument(name: "matrix", expected: "a square point-spread matrix", received: "shape \(matrix.shape)")
        }
        guard excluded.count == matrix.columns else {
            throw .shapeMismatch(argument: "excluded", expected: [matrix.columns], received: [excluded.count])
        }
        do { self.matrix = try Self.droppingColumns(of: matrix, where: excluded) } catch { throw .sparse(error) }
        self.excluded = excluded
    }

    /// `matrix` without the stored entries in columns flagged in `drop`
    /// (the same matrix, not a copy, when there are none).
    @inlinable
    static func droppingColumns(of matrix: CSRMatrix<Element>, where drop: [Bool]) throws(SparseError) -> CSRMatrix<Element> {
        let pointers = matrix.rowPointers, indices = matrix.columnIndices, values = matrix.values
        let hit = indices.withUnsafeBufferPointer { ci in
            drop.withUnsafeBufferPointer { d in ci.contains { d[Int($0)] } }
        }
        guard hit else { return matrix }
        let rows = matrix.rows
        var newPointers = [Int64](repeating: 0, count: rows + 1)
        var newIndices: [Int32] = [], newValues: [Element] = []
        newIndices.reserveCapacity(indices.count)
        newValues.reserveCapacity(values.count)
        indices.withUnsafeBufferPointer { ci in
            values.withUnsafeBufferPointer { va in
                drop.withUnsafeBufferPointer { d in
                    pointers.withUnsafeBufferPointer { rp in
                        for row in 0..<rows {
                            for k in Int(rp[row])..<Int(rp[row + 1]) where !d[Int(ci[k])] && va[k] != 0 {
                                newIndices.append(ci[k])
                                newValues.append(va[k])
                            }
                            newPointers[row + 1] = Int64(newIndices.count)
                        }
                    }
                }
            }
        }
        // Entries of a valid matrix, filtered: still valid and sorted.
        return try CSRMatrix(rows: rows, columns: matrix.columns, rowPointers: newPointers,
                             columnIndices: newIndices, values: newValues)
    }

    /// Number of pixels.
    @inlinable public var rows: Int { matrix.columns }
    /// Number of pixels.
    @inlinable public var columns: Int { matrix.rows }

    /// `y = M ⊙ (Aᵀ x)`.
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Element>, into y: UnsafeMutableBufferPointer<Element>) {
        matrix.applyAdjoint(x, into: y)
    }

    /// `x = A (M ⊙ y)`.
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<Element>, into x: UnsafeMutableBufferPointer<Element>) {
        matrix.apply(y, into: x)
    }
}

/// A corrected image and how well it explains the data (the result type
/// of ``Deconvolution/deconvolve(matrix:image:method:mask:lsmr:mlem:progress:)``).
public typealias DeconvolutionResult = Deconvolution.Result

/// Removes the sensor blur from an image with LSMR (least squares) or MLEM
/// (Poisson maximum likelihood, non-negative), on the blur operator
/// `matrixᵀ` of a point-spread matrix.
public enum Deconvolution {
    /// The solver.
    public enum Method: String, Sendable, CaseIterable {
        /// `LSMR` on `min ‖M ⊙ (Aᵀ x − y)‖`.
        case lsmr
        /// `MLEM` for counts `y ≈ M ⊙ (Aᵀ x)`, `x ≥ 0`.
        case mlem
    }

    /// What a deconvolution reports besides the common fields.
    public struct Diagnostics: Sendable {
        /// The method that ran.
        public var method: Method
        /// `image − blur(corrected)` on read-out pixels, 0 on excluded ones.
        public var residual: Tensor<Double>
        /// Pixels excluded from the fit: the given mask, plus pixels that no
        /// entry pixel reaches (empty column of the matrix, e.g. gaps).
        public var excluded: Tensor<Bool>
        /// Creates diagnostics.
        public init(method: Method, residual: Tensor<Double>, excluded: Tensor<Bool>) {
            self.method = method
            self.residual = residual
            self.excluded = excluded
        }
    }

    /// A deconvolution: the corrected image (shape of the input; 0 on
    /// pixels that were not traced) in `IterativeResult.solution` (also
    /// `IterativeResult.corrected`), the solver's iterations, stop reason
    /// and history, the norm of the residual image, and ``Diagnostics``.
    public typealias Result = IterativeResult<Tensor<Double>, Diagnostics>

    /// `true` for the columns whose stored entries do not sum to a positive
    /// value (summed in storage order, as `columnSums()`).
    static func unreachedColumns(_ matrix: CSRMatrix<Double>) -> [Bool] {
        var sums = [Double](repeating: 0, count: matrix.columns)
        sums.withUnsafeMutableBufferPointer { out in
            matrix.columnIndices.withUnsafeBufferPointer { ci in
                matrix.values.withUnsafeBufferPointer { va in
                    for k in 0..<va.count { out[Int(ci[k])] += va[k] }
                }
            }
        }
        return sums.map { !($0 > 0) }
    }

    /// Deconvolves `image` (any shape with `matrix.rows` pixels).
    ///
    /// Masked pixels (the `mask`, `true` = masked as in pyFAI, plus pixels
    /// with an empty column in `matrix`) are excluded from the data; their
    /// values in `image` may be anything, even NaN. The divisions of MLEM
    /// are safe (a zero projection gives a zero ratio, an unseen pixel gives
    /// 0), so no NaN or infinity appears.
    ///
    /// - Throws: ``DetectorError/shapeMismatch(argument:expected:received:)``
    ///   for an image or mask that does not match the matrix,
    ///   ``DetectorError/invalidArgument(name:expected:received:)`` for a
    ///   non-square matrix, non-finite read-out values, or negative counts
    ///   with MLEM; ``DetectorError/solver(_:)`` wrapping the solver's
    ///   `SolverError` for a bad configuration. `progress` is the solver's
    ///   (returning `ProgressAction.stop` ends it with
    ///   `StopReason.cancelled`).
    public static func deconvolve(matrix: CSRMatrix<Double>, image: Tensor<Double>, method: Method,
                                  mask: Tensor<Bool>? = nil,
                                  lsmr: LSMR.Configuration = LSMR.Configuration(),
                                  mlem: MLEM.Configuration = MLEM.Configuration(),
                                  progress: ProgressHandler? = nil) throws(DetectorError) -> Result {
        guard matrix.rows == matrix.columns else {
            throw .invalidArgument(name: "matrix", expected: "a square point-spread matrix",
                                                received: "shape \(matrix.shape)")
        }
        let n = matrix.rows
        guard image.count == n, image.rank >= 1 else {
            throw .shapeMismatch(argument: "image", expected: [n], received: image.shape)
        }
        if let mask, mask.shape != image.shape {
            throw .shapeMismatch(argument: "mask", expected: image.shape, received: mask.shape)
        }
        var excluded = Self.unreachedColumns(matrix)
        if let mask { for (k, v) in mask.elements.enumerated() where v { excluded[k] = true } }
        var data = image.elements
        for k in 0..<n {
            if excluded[k] { data[k] = 0; continue }
            guard data[k].isFinite else {
                throw .invalidArgument(name: "image", expected: "finite values on read-out pixels",
                                                    received: "\(data[k]) at pixel \(k)")
            }
            if method == .mlem && data[k] < 0 {
                throw .invalidArgument(name: "image", expected: "counts ≥ 0 on read-out pixels for MLEM",
                                                    received: "\(data[k]) at pixel \(k)")
            }
        }
        let op = try MaskedBlurOperator(matrix: matrix, excluded: excluded)
        let y = Tensor(data)
        let solution: Tensor<Double>, iterations: Int, reason: StopReason, history: [Double]
        do {
            switch method {
            case .lsmr:
                let r = try LSMR.solve(op, rhs: y, configuration: lsmr, progress: progress)
                (solution, iterations, reason, history) = (r.solution, r.iterations, r.stopReason, r.residualHistory)
            case .mlem:
                let r = try MLEM.solve(op, data: y, configuration: mlem, progress: progress)
                (solution, iterations, reason, history) = (r.solution, r.iterations, r.stopReason, r.residualHistory)
            }
        } catch { throw .solver(error) }
        var residual = data
        let blurred = op.apply(solution).elements
        var norm2 = 0.0
        for k in 0..<n {
            residual[k] = excluded[k] ? 0 : data[k] - blurred[k]
            norm2 += residual[k] * residual[k]
        }
        let diagnostics = Diagnostics(method: method, residual: Tensor(shape: image.shape, elements: residual),
                                      excluded: Tensor(shape: image.shape, elements: excluded))
        return Result(solution: solution.reshaped(image.shape), stopReason: reason, iterations: iterations,
                      residualNorm: norm2.squareRoot(), residualHistory: history, diagnostics: diagnostics)
    }
}

extension IterativeResult where Diagnostics == Deconvolution.Diagnostics {
    /// The corrected image (the ``solution``).
    public var corrected: Solution { solution }
    /// `image − blur(corrected)` on read-out pixels, 0 on excluded ones.
    public var residual: Tensor<Double> { diagnostics.residual }
    /// Pixels excluded from the fit.
    public var excluded: Tensor<Bool> { diagnostics.excluded }
}
