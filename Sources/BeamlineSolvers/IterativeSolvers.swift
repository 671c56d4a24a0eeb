import BeamlineOperators
import BeamlineTensor

// MARK: - CGLS

/// Conjugate gradients on the normal equations (CGLS): minimises
/// `‖A x − b‖² + damp² ‖x‖²` for any `LinearOperator`.
///
/// Stops when `‖Aᵀ r − damp² x‖ ≤ tolerance · ‖Aᵀ r₀ − damp² x₀‖` or after
/// the iteration limit.
public enum CGLS {
    /// CGLS's own diagnostics.
    public struct Diagnostics: Sendable, Equatable {
        /// ‖Aᵀ(b − A x) − damp² x‖ at the solution.
        public var normalResidualNorm: Double
        /// Creates diagnostics.
        @inlinable public init(normalResidualNorm: Double) { self.normalResidualNorm = normalResidualNorm }
    }

    /// CGLS's result: the solution vector, the residual norm after each
    /// iteration, and ``Diagnostics``.
    public typealias Result<Scalar: OperatorScalar> = IterativeResult<Tensor<Scalar>, Diagnostics>

    /// CGLS's parameters.
    public struct Configuration: Sendable, Equatable {
        /// Tikhonov damping (default 0).
        public var damp: Double
        /// Relative tolerance on the normal-equation residual (default 1e-8).
        public var tolerance: Double
        /// Iteration limit (default 100).
        public var maximumIterations: Int
        /// Creates a configuration.
        public init(damp: Double = 0, tolerance: Double = 1e-8, maximumIterations: Int = 100) {
            self.damp = damp
            self.tolerance = tolerance
            self.maximumIterations = maximumIterations
        }
    }

    /// Runs CGLS from `x0` (default zero).
    ///
    /// `progress` is called after each iteration with the residual norm;
    /// returning ``ProgressAction/stop`` ends the solve at that iteration
    /// with ``StopReason/cancelled``.
    ///
    /// - Throws: the ``SolverError`` cases for an empty operator, shapes,
    ///   non-finite input and bad parameters.
    @inlinable
    public static func solve<Op: LinearOperator>(_ op: Op, rhs b: Tensor<Op.Scalar>, x0: Tensor<Op.Scalar>? = nil,
                                                 configuration: Configuration = Configuration(),
                                                 progress: ProgressHandler? = nil) throws(SolverError) -> Result<Op.Scalar> {
        typealias S = Op.Scalar
        try checkNonEmpty(op)
        let bValues = try checkedVector(b, count: op.rows, name: "b (right-hand side)")
        var x: [S] = try x0.map { v throws(SolverError) in try checkedVector(v, count: op.columns, name: "x0") } ?? zeroArray(op.columns)
        try checkParameter(configuration.damp, "damp")
        try checkParameter(configuration.tolerance, "tolerance")
        guard configuration.maximumIterations >= 0 else {
            throw .invalidArgument(name: "maximumIterations", expected: "≥ 0", received: "\(configuration.maximumIterations)")
        }
        let m = op.rows, n = op.columns
        let damp2 = S(configuration.damp * configuration.damp)
        var r = bValues
        var q: [S] = zeroArray(m)
        x.withUnsafeBufferPointer { xs in q.withUnsafeMutableBufferPointer { op.apply(xs, into: $0) } }
        for i in 0..<m { r[i] -= q[i] }
        var s: [S] = zeroArray(n)
        func normalResidual() -> Double {
            r.withUnsafeBufferPointer { rs in s.withUnsafeMutableBufferPointer { op.applyAdjoint(rs, into: $0) } }
            if damp2 != 0 { for i in 0..<n { s[i] -= damp2 * x[i] } }
            return s.withUnsafeBufferPointer { op.inputSquaredNorm($0) }
        }
        var gamma = normalResidual()
        let gamma0 = gamma
        var p = s
        var iterations = 0
        var history: [Double] = []
        history.reserveCapacity(Swift.min(configuration.maximumIterations, 1024))
        var reason = StopReason.iterationLimit
        if gamma0 == 0 {
            reason = .zeroRightHandSide
        } else {
            while iterations < configuration.maximumIterations {
                p.withUnsafeBufferPointer { ps in q.withUnsafeMutableBufferPointer { op.apply(ps, into: $0) } }
                var delta = q.withUnsafeBufferPointer { op.outputSquaredNorm($0) }
                if damp2 != 0 { delta += Double(damp2) * p.withUnsafeBufferPointer { op.inputSquaredNorm($0) } }
                if delta == 0 { reason = .breakdown; break }
                iterations += 1
                let alpha = S(gamma / delta)
                for i in 0..<n { x[i] += alpha * p[i] }
                for i in 0..<m { r[i] -= alpha * q[i] }
                let gammaNew = normalResidual()
                let residual = r.withUnsafeBufferPointer { op.outputSquaredNorm($0) }.squareRoot()
                history.append(residual)
                if progress?(IterationProgress(iteration: iterations, maximumIterations: configuration.maximumIterations,
                                               value: residual)) == .stop {
                    gamma = gammaNew
                    reason = .cancelled
                    break
                }
                if gammaNew.squareRoot() <= configuration.tolerance * gamma0.squareRoot() {
                    gamma = gammaNew
                    reason = .converged
                    break
                }
                let beta = S(gammaNew / gamma)
                gamma = gammaNew
                for i in 0..<n { p[i] = s[i] + beta * p[i] }
            }
        }
        let residual = r.withUnsafeBufferPointer { op.outputSquaredNorm($0) }.squareRoot()
        return Result(solution: Tensor(x), stopReason: reason, iterations: iterations, residualNorm: residual,
                      residualHistory: history, diagnostics: Diagnostics(normalResidualNorm: gamma.squareRoot()))
    }
}

// SIRT: see SIRT.swift.

// MARK: - MLEM

/// Maximum-likelihood expectation maximisation (Shepp & Vardi, 1982) for
/// Poisson data `y ≈ A x` with a non-negative operator:
/// `x ← x / s ⊙ Aᵀ (y / A x)`, with the sensitivity `s = Aᵀ 1`.
///
/// Positivity is kept (the update is multiplicative). Safe divisions:
/// where `(A x)ᵢ = 0` the ratio is 0, and where `sⱼ = 0` (a voxel no ray
/// sees) `xⱼ` is set to 0. After each iteration the total forward
/// projection equals the total counts, `Σ A x = Σ y` (over rows with a
/// non-zero projection). The default start is the uniform image with the
/// same total counts.
public enum MLEM {
    /// MLEM's own diagnostics.
    public struct Diagnostics: Sendable, Equatable {
        /// The largest change of the last iteration relative to the largest
        /// element of x.
        public var relativeChange: Double
        /// Creates diagnostics.
        @inlinable public init(relativeChange: Double) { self.relativeChange = relativeChange }
    }

    /// MLEM's result: the solution vector, the relative change after each
    /// iteration (in ``IterativeResult/residualHistory``), and ``Diagnostics``.
    public typealias Result<Scalar: OperatorScalar> = IterativeResult<Tensor<Scalar>, Diagnostics>

    /// MLEM's parameters.
    public struct Configuration: Sendable, Equatable {
        /// Iteration limit (default 50).
        public var maximumIterations: Int
        /// Stop when `max |Δx| ≤ tolerance · max x` (default 0: run all
        /// iterations).
        public var tolerance: Double
        /// Creates a configuration.
        public init(maximumIterations: Int = 50, tolerance: Double = 0) {
            self.maximumIterations = maximumIterations
            self.tolerance = tolerance
        }
    }

    /// Runs MLEM on data `y` (non-negative counts) from `x0` (non-negative;
    /// default uniform).
    ///
    /// `progress` is called after each iteration with the relative change;
    /// returning ``ProgressAction/stop`` ends the solve at that iteration
    /// with ``StopReason/cancelled``.
    ///
    /// - Throws: the ``SolverError`` cases for an empty operator, shapes and
    ///   non-finite input, and ``SolverError/invalidArgument(name:expected:received:)``
    ///   for negative data or start values, or a bad parameter.
    @inlinable
    public static func solve<Op: LinearOperator>(_ op: Op, data y: Tensor<Op.Scalar>, x0: Tensor<Op.Scalar>? = nil,
                                                 configuration: Configuration = Configuration(),
                                                 progress: ProgressHandler? = nil) throws(SolverError) -> Result<Op.Scalar> {
        typealias S = Op.Scalar
        try checkNonEmpty(op)
        let data = try checkedVector(y, count: op.rows, name: "data")
        if let bad = data.firstIndex(where: { $0 < 0 }) {
            throw .invalidArgument(name: "data", expected: "counts ≥ 0", received: "\(data[bad]) at index \(bad)")
        }
        let start = try x0.map { v throws(SolverError) in try checkedVector(v, count: op.columns, name: "x0") }
        if let start, let bad = start.firstIndex(where: { $0 < 0 }) {
            throw .invalidArgument(name: "x0", expected: "values ≥ 0", received: "\(start[bad]) at index \(bad)")
        }
        try checkParameter(configuration.tolerance, "tolerance")
        guard configuration.maximumIterations >= 0 else {
            throw .invalidArgument(name: "maximumIterations", expected: "≥ 0", received: "\(configuration.maximumIterations)")
        }
        let m = op.rows, n = op.columns
        var sensitivity: [S] = zeroArray(n)
        // `projection` holds the ones vector first (it is overwritten by A x later).
        var projection = [S](repeating: 1, count: m), back: [S] = zeroArray(n)
        projection.withUnsafeBufferPointer { o in
            sensitivity.withUnsafeMutableBufferPointer { op.applyAdjoint(o, into: $0) }
        }
        let totalCounts = data.reduce(0.0) { $0 + Double($1) }
        var x: [S]
        if let start {
            x = start
        } else {
            let totalSensitivity = sensitivity.reduce(0.0) { $0 + Double($1) }
            let level = totalSensitivity > 0 ? S(totalCounts / totalSensitivity) : 0
            x = [S](repeating: level, count: n)
        }
        for j in 0..<n where sensitivity[j] <= 0 { x[j] = 0 }
        var iterations = 0
        var change = 0.0
        var history: [Double] = []
        history.reserveCapacity(Swift.min(configuration.maximumIterations, 1024))
        var reason = StopReason.iterationLimit
        if totalCounts == 0 {
            x = zeroArray(n)
            reason = .zeroRightHandSide
        } else {
            while iterations < configuration.maximumIterations {
                iterations += 1
                x.withUnsafeBufferPointer { xs in projection.withUnsafeMutableBufferPointer { op.apply(xs, into: $0) } }
                MLEMKernels.ratio(data: data, projection: &projection)
                projection.withUnsafeBufferPointer { ps in back.withUnsafeMutableBufferPointer { op.applyAdjoint(ps, into: $0) } }
                let (largestChange, largest) = MLEMKernels.update(&x, back: back, sensitivity: sensitivity)
                change = largest > 0 ? Double(largestChange / largest) : 0
                history.append(change)
                if progress?(IterationProgress(iteration: iterations, maximumIterations: configuration.maximumIterations,
                                               value: change)) == .stop {
                    reason = .cancelled
                    break
                }
                if change <= configuration.tolerance { reason = .converged; break }
            }
        }
        x.withUnsafeBufferPointer { xs in projection.withUnsafeMutableBufferPointer { op.apply(xs, into: $0) } }
        for i in 0..<m { projection[i] = data[i] - projection[i] }
        let residual = projection.withUnsafeBufferPointer { VectorKernels.norm($0.baseAddress!, m) }
        return Result(solution: Tensor(x), stopReason: reason, iterations: iterations, residualNorm: residual,
                      residualHistory: history, diagnostics: Diagnostics(relativeChange: change))
    }
}

/// The elementwise steps of MLEM, in parallel over fixed blocks (maxima are
/// exact, so the result does not depend on the thread count).
@usableFromInline
enum MLEMKernels {
    /// Elements per block.
    @usableFromInline static var block: Int { 1 << 15 }

    /// `projection[i] = data[i] / projection[i]` where the projection is
    /// positive, else 0.
    @inlinable
    static func ratio<S: OperatorScalar>(data: [S], projection: inout [S]) {
        data.withUnsafeBufferPointer { d in
            projection.withUnsafeMutableBufferPointer { p in
                let dp = SendableBuffer(d), pp = SendableMutableBuffer(p)
                Parallel.forEachBlock(count: p.count, blockSize: block) { _, range in
                    for i in range { pp[i] = pp[i] > 0 ? dp[i] / pp[i] : 0 }
                }
            }
        }
    }

    /// The multiplicative update `x ← max(0, x · back / sensitivity)` (0
    /// where the sensitivity is 0); returns the largest change and the
    /// largest updated value.
    @inlinable
    static func update<S: OperatorScalar>(_ x: inout [S], back: [S], sensitivity: [S]) -> (S, S) {
        let blocks = (x.count + block - 1) / block
        var maxima = [(S, S)](repeating: (0, 0), count: blocks)
        x.withUnsafeMutableBufferPointer { xb in
            back.withUnsafeBufferPointer { bb in
                sensitivity.withUnsafeBufferPointer { sb in
                    maxima.withUnsafeMutableBufferPointer { mb in
                        let xp = SendableMutableBuffer(xb), mp = SendableMutableBuffer(mb)
                        let bp = SendableBuffer(bb)
                        let sp = SendableBuffer(sb)
                        Parallel.forEachBlock(count: xb.count, blockSize: block) { index, range in
                            var largestChange: S = 0, largest: S = 0
                            for j in range {
                                let s = sp[j]
                                let updated = s > 0 ? Swift.max(0, xp[j] * bp[j] / s) : 0
                                largestChange = Swift.max(largestChange, Swift.abs(updated - xp[j]))
                                largest = Swift.max(largest, updated)
                                xp[j] = updated
                            }
                            mp[index] = (largestChange, largest)
                        }
                    }
                }
            }
        }
        var largestChange: S = 0, largest: S = 0
        for (change, value) in maxima {
            largestChange = Swift.max(largestChange, change)
            largest = Swift.max(largest, value)
        }
        return (largestChange, largest)
    }
}
