import BeamlineSparse
import BeamlineTensor

/// Why CGLS, SIRT or MLEM stopped.
public enum IterativeStopReason: String, Sendable, Equatable, CaseIterable {
    /// The right-hand side (or data) is zero, so the start is the answer.
    case zeroRightHandSide
    /// The tolerance test was met.
    case converged
    /// The iteration limit was reached.
    case iterationLimit
    /// A search direction gave a zero curvature (CGLS; the normal equations
    /// are solved to machine precision).
    case breakdown
}

/// The result of ``CGLS``, ``SIRT`` or ``MLEM``.
public struct IterativeResult<Scalar: SparseElement>: Sendable {
    /// The final iterate.
    public var solution: Tensor<Scalar>
    /// Why the iteration stopped.
    public var stopReason: IterativeStopReason
    /// Iterations run.
    public var iterations: Int
    /// ‖b − A x‖ at the solution (for MLEM, of the data minus the forward
    /// projection).
    public var residualNorm: Double
    /// CGLS: ‖Aᵀ(b − A x) − damp² x‖; SIRT: ‖C Aᵀ R (b − A x)‖; MLEM: the
    /// largest change of the last iteration relative to the largest
    /// element of x.
    public var secondaryNorm: Double

    /// Creates a result.
    @inlinable
    public init(solution: Tensor<Scalar>, stopReason: IterativeStopReason, iterations: Int, residualNorm: Double,
                secondaryNorm: Double) {
        self.solution = solution
        self.stopReason = stopReason
        self.iterations = iterations
        self.residualNorm = residualNorm
        self.secondaryNorm = secondaryNorm
    }
}

// MARK: - CGLS

/// Conjugate gradients on the normal equations (CGLS): minimises
/// `‖A x − b‖² + damp² ‖x‖²` for any ``LinearOperator``.
///
/// Stops when `‖Aᵀ r − damp² x‖ ≤ tolerance · ‖Aᵀ r₀ − damp² x₀‖` or after
/// the iteration limit.
public enum CGLS {
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
    /// - Throws: the ``SolverError`` cases for an empty operator, shapes,
    ///   non-finite input and bad parameters.
    @inlinable
    public static func solve<Op: LinearOperator>(_ op: Op, rhs b: Tensor<Op.Scalar>, x0: Tensor<Op.Scalar>? = nil,
                                                 configuration: Configuration = Configuration(),
                                                 progress: ProgressHandler? = nil) throws(SolverError) -> IterativeResult<Op.Scalar> {
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
            return s.withUnsafeBufferPointer { VectorKernels.squaredNorm($0.baseAddress!, n) }
        }
        var gamma = normalResidual()
        let gamma0 = gamma
        var p = s
        var iterations = 0
        var reason = IterativeStopReason.iterationLimit
        if gamma0 == 0 {
            reason = .zeroRightHandSide
        } else {
            while iterations < configuration.maximumIterations {
                p.withUnsafeBufferPointer { ps in q.withUnsafeMutableBufferPointer { op.apply(ps, into: $0) } }
                var delta = q.withUnsafeBufferPointer { VectorKernels.squaredNorm($0.baseAddress!, m) }
                if damp2 != 0 { delta += Double(damp2) * p.withUnsafeBufferPointer { VectorKernels.squaredNorm($0.baseAddress!, n) } }
                if delta == 0 { reason = .breakdown; break }
                iterations += 1
                let alpha = S(gamma / delta)
                for i in 0..<n { x[i] += alpha * p[i] }
                for i in 0..<m { r[i] -= alpha * q[i] }
                let gammaNew = normalResidual()
                let residual = r.withUnsafeBufferPointer { VectorKernels.norm($0.baseAddress!, m) }
                progress?(IterationProgress(iteration: iterations, maximumIterations: configuration.maximumIterations,
                                            value: residual))
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
        let residual = r.withUnsafeBufferPointer { VectorKernels.norm($0.baseAddress!, m) }
        return IterativeResult(solution: Tensor(x), stopReason: reason, iterations: iterations,
                               residualNorm: residual, secondaryNorm: gamma.squareRoot())
    }
}

// MARK: - SIRT

/// The simultaneous iterative reconstruction technique:
/// `x ← x + λ C Aᵀ R (b − A x)` with `R = diag(1 / row sums)` and
/// `C = diag(1 / column sums)` of `A` (zero sums give zero weights), as in
/// ASTRA's SIRT. Meant for non-negative operators (projectors).
public enum SIRT {
    /// SIRT's parameters.
    public struct Configuration: Sendable, Equatable {
        /// Iteration limit (default 100).
        public var maximumIterations: Int
        /// Relaxation factor λ (default 1; 0 < λ < 2).
        public var relaxation: Double
        /// Clamp x to ≥ 0 after each update (default false).
        public var nonNegative: Bool
        /// Stop when ‖b − A x‖ ≤ tolerance · ‖b‖ (default 0: run all
        /// iterations).
        public var tolerance: Double
        /// Creates a configuration.
        public init(maximumIterations: Int = 100, relaxation: Double = 1, nonNegative: Bool = false,
                    tolerance: Double = 0) {
            self.maximumIterations = maximumIterations
            self.relaxation = relaxation
            self.nonNegative = nonNegative
            self.tolerance = tolerance
        }
    }

    /// Runs SIRT from `x0` (default zero).
    ///
    /// - Throws: the ``SolverError`` cases for an empty operator, shapes,
    ///   non-finite input and bad parameters.
    @inlinable
    public static func solve<Op: LinearOperator>(_ op: Op, rhs b: Tensor<Op.Scalar>, x0: Tensor<Op.Scalar>? = nil,
                                                 configuration: Configuration = Configuration(),
                                                 progress: ProgressHandler? = nil) throws(SolverError) -> IterativeResult<Op.Scalar> {
        typealias S = Op.Scalar
        try checkNonEmpty(op)
        let bValues = try checkedVector(b, count: op.rows, name: "b (right-hand side)")
        var x: [S] = try x0.map { v throws(SolverError) in try checkedVector(v, count: op.columns, name: "x0") } ?? zeroArray(op.columns)
        guard configuration.relaxation > 0 && configuration.relaxation < 2 else {
            throw .invalidArgument(name: "relaxation", expected: "a number in (0, 2)", received: "\(configuration.relaxation)")
        }
        try checkParameter(configuration.tolerance, "tolerance")
        guard configuration.maximumIterations >= 0 else {
            throw .invalidArgument(name: "maximumIterations", expected: "≥ 0", received: "\(configuration.maximumIterations)")
        }
        let m = op.rows, n = op.columns
        let onesN = [S](repeating: 1, count: n), onesM = [S](repeating: 1, count: m)
        var rowWeights: [S] = zeroArray(m), columnWeights: [S] = zeroArray(n)
        onesN.withUnsafeBufferPointer { o in rowWeights.withUnsafeMutableBufferPointer { op.apply(o, into: $0) } }
        onesM.withUnsafeBufferPointer { o in columnWeights.withUnsafeMutableBufferPointer { op.applyAdjoint(o, into: $0) } }
        let lambda = S(configuration.relaxation)
        for i in 0..<m { rowWeights[i] = rowWeights[i] != 0 ? 1 / rowWeights[i] : 0 }
        for j in 0..<n { columnWeights[j] = columnWeights[j] != 0 ? lambda / columnWeights[j] : 0 }
        let normb = bValues.withUnsafeBufferPointer { VectorKernels.norm($0.baseAddress!, m) }
        var r: [S] = zeroArray(m), update: [S] = zeroArray(n)
        func residual() -> Double {
            x.withUnsafeBufferPointer { xs in r.withUnsafeMutableBufferPointer { op.apply(xs, into: $0) } }
            for i in 0..<m { r[i] = bValues[i] - r[i] }
            return r.withUnsafeBufferPointer { VectorKernels.norm($0.baseAddress!, m) }
        }
        var residualNorm = residual()
        var updateNorm = 0.0
        var iterations = 0
        var reason = IterativeStopReason.iterationLimit
        if normb == 0 && residualNorm == 0 {
            reason = .zeroRightHandSide
        } else {
            while iterations < configuration.maximumIterations {
                if residualNorm <= configuration.tolerance * normb { reason = .converged; break }
                iterations += 1
                for i in 0..<m { r[i] *= rowWeights[i] }
                r.withUnsafeBufferPointer { rs in update.withUnsafeMutableBufferPointer { op.applyAdjoint(rs, into: $0) } }
                var sum = 0.0
                for j in 0..<n {
                    let step = columnWeights[j] * update[j]
                    sum += Double(step) * Double(step)
                    x[j] += step
                    if configuration.nonNegative && x[j] < 0 { x[j] = 0 }
                }
                updateNorm = sum.squareRoot()
                residualNorm = residual()
                progress?(IterationProgress(iteration: iterations, maximumIterations: configuration.maximumIterations,
                                            value: residualNorm))
            }
            if reason == .iterationLimit && residualNorm <= configuration.tolerance * normb { reason = .converged }
        }
        return IterativeResult(solution: Tensor(x), stopReason: reason, iterations: iterations,
                               residualNorm: residualNorm, secondaryNorm: updateNorm)
    }
}

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
    /// - Throws: the ``SolverError`` cases for an empty operator, shapes and
    ///   non-finite input, and ``SolverError/invalidArgument(name:expected:received:)``
    ///   for negative data or start values, or a bad parameter.
    @inlinable
    public static func solve<Op: LinearOperator>(_ op: Op, data y: Tensor<Op.Scalar>, x0: Tensor<Op.Scalar>? = nil,
                                                 configuration: Configuration = Configuration(),
                                                 progress: ProgressHandler? = nil) throws(SolverError) -> IterativeResult<Op.Scalar> {
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
        [S](repeating: 1, count: m).withUnsafeBufferPointer { o in
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
        var projection: [S] = zeroArray(m), back: [S] = zeroArray(n)
        var iterations = 0
        var change = 0.0
        var reason = IterativeStopReason.iterationLimit
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
                progress?(IterationProgress(iteration: iterations, maximumIterations: configuration.maximumIterations,
                                            value: change))
                if change <= configuration.tolerance { reason = .converged; break }
            }
        }
        x.withUnsafeBufferPointer { xs in projection.withUnsafeMutableBufferPointer { op.apply(xs, into: $0) } }
        for i in 0..<m { projection[i] = data[i] - projection[i] }
        let residual = projection.withUnsafeBufferPointer { VectorKernels.norm($0.baseAddress!, m) }
        return IterativeResult(solution: Tensor(x), stopReason: reason, iterations: iterations,
                               residualNorm: residual, secondaryNorm: change)
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
    static func ratio<S: SparseElement>(data: [S], projection: inout [S]) {
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
    static func update<S: SparseElement>(_ x: inout [S], back: [S], sensitivity: [S]) -> (S, S) {
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
