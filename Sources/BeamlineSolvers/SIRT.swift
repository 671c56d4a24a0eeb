import BeamlineOperators
import BeamlineTensor

/// The simultaneous iterative reconstruction technique, in its two
/// published forms, over any `LinearOperator`:
///
/// - ``Weighting/sums`` (ASTRA's SIRT, the default):
///   `x ← x + λ C Aᵀ R (b − A x)` with `R = diag(1 / row sums)` and
///   `C = diag(1 / column sums)` of `A` (zero sums give zero weights).
///   Stops when `‖b − A x‖ ≤ tolerance · ‖b‖`.
/// - ``Weighting/cutoffs(rows:columns:)`` (mumott's SIRT and its MITRA
///   variant): preconditioned gradient descent on the weighted loss
///   `½ Σ W (A x − b)²` with `W = mask / max(A·1, cut)` and
///   `C = mask / max(Aᵀ·1, cut)`, step ``Configuration/relaxation`` and
///   Nesterov momentum μ = ``Configuration/momentum``:
///   `g = C Aᵀ W (A(x − m) − b)`, `m ← m + s g`, `x ← x − m`, `m ← μ m`.
///   With μ = 0 this is mumott's `run_sirt`; with μ = 0.95 and
///   non-negativity it is mumott's MITRA default. Stops when the relative
///   decrease of the loss falls below ``Configuration/lossTolerance``
///   (mumott's `ftol`).
///
/// Both forms are meant for non-negative operators (projectors). The row
/// and column sums are computed in one place, ``Weights/init(of:weighting:)``.
public enum SIRT {
    /// How the row and column weights are formed from the sums `A·1` and
    /// `Aᵀ·1`, and which update runs.
    public enum Weighting: Sendable, Equatable {
        /// ASTRA: `1 / sum`, 0 where the sum is 0; the plain SIRT update.
        case sums
        /// mumott: `1 / max(sum, cut)` where `sum > cut`, else 0, with
        /// separate cut-offs for rows (`weights_cutoff`) and columns
        /// (`preconditioner_cutoff`); the gradient-descent update with
        /// momentum.
        case cutoffs(rows: Double, columns: Double)
    }

    /// Row weights (`R` or `W`, `LinearOperator.rows` elements) and column
    /// weights (`C`, `LinearOperator.columns` elements).
    public struct Weights<Scalar: OperatorScalar>: Sendable, Equatable {
        /// One weight per row.
        public var rows: [Scalar]
        /// One weight per column.
        public var columns: [Scalar]

        /// Weights given directly.
        public init(rows: [Scalar], columns: [Scalar]) {
            self.rows = rows
            self.columns = columns
        }

        /// The weights of `op`: its row sums `A·1` and column sums `Aᵀ·1`,
        /// turned into reciprocals as `weighting` says.
        @inlinable
        public init<Op: LinearOperator>(of op: Op, weighting: Weighting) where Op.Scalar == Scalar {
            let (rowSums, columnSums) = SIRT.sums(of: op)
            switch weighting {
            case .sums:
                rows = rowSums.map { SIRT.reciprocal($0, cutoff: nil) }
                columns = columnSums.map { SIRT.reciprocal($0, cutoff: nil) }
            case let .cutoffs(rowCutoff, columnCutoff):
                rows = rowSums.map { SIRT.reciprocal($0, cutoff: rowCutoff) }
                columns = columnSums.map { SIRT.reciprocal($0, cutoff: columnCutoff) }
            }
        }
    }

    /// SIRT's parameters.
    public struct Configuration: Sendable, Equatable {
        /// Iteration limit (default 100).
        public var maximumIterations: Int
        /// Relaxation factor λ (``Weighting/sums``: 0 < λ < 2) or gradient
        /// step s (``Weighting/cutoffs(rows:columns:)``: s ≥ 0). Default 1.
        public var relaxation: Double
        /// Clamp x to ≥ 0 after each update (default false).
        public var nonNegative: Bool
        /// ``Weighting/sums`` only: stop when ‖b − A x‖ ≤ tolerance · ‖b‖
        /// (default 0: run all iterations).
        public var tolerance: Double
        /// The weights and the update (default ``Weighting/sums``).
        public var weighting: Weighting
        /// ``Weighting/cutoffs(rows:columns:)`` only: Nesterov momentum
        /// weight μ in [0, 1] (default 0; mumott's MITRA uses 0.95).
        public var momentum: Double
        /// ``Weighting/cutoffs(rows:columns:)`` only: stop when the relative
        /// decrease of the loss falls below this (mumott's `ftol`; default 0:
        /// run all iterations).
        public var lossTolerance: Double

        /// Creates a configuration.
        public init(maximumIterations: Int = 100, relaxation: Double = 1, nonNegative: Bool = false,
                    tolerance: Double = 0, weighting: Weighting = .sums, momentum: Double = 0,
                    lossTolerance: Double = 0) {
            self.maximumIterations = maximumIterations
            self.relaxation = relaxation
            self.nonNegative = nonNegative
            self.tolerance = tolerance
            self.weighting = weighting
            self.momentum = momentum
            self.lossTolerance = lossTolerance
        }
    }

    /// SIRT's own diagnostics.
    public struct Diagnostics: Sendable, Equatable {
        /// ``Weighting/sums``: ‖C Aᵀ R (b − A x)‖ of the last update;
        /// ``Weighting/cutoffs(rows:columns:)``: the last loss `½ Σ W r²`.
        public var lastUpdate: Double
        /// Creates diagnostics.
        @inlinable public init(lastUpdate: Double) { self.lastUpdate = lastUpdate }
    }

    /// SIRT's result. ``IterativeResult/residualHistory`` holds ‖b − A x‖
    /// after each iteration (``Weighting/sums``), or before each iteration
    /// and once more at the end (``Weighting/cutoffs(rows:columns:)``, at
    /// the momentum point, as mumott records it).
    public typealias Result<Scalar: OperatorScalar> = IterativeResult<Tensor<Scalar>, Diagnostics>

    /// `A·1` and `Aᵀ·1`.
    @inlinable
    public static func sums<Op: LinearOperator>(of op: Op) -> (rows: [Op.Scalar], columns: [Op.Scalar]) {
        let m = op.rows, n = op.columns
        let onesN = [Op.Scalar](repeating: 1, count: n), onesM = [Op.Scalar](repeating: 1, count: m)
        var rowSums: [Op.Scalar] = zeroArray(m), columnSums: [Op.Scalar] = zeroArray(n)
        onesN.withUnsafeBufferPointer { o in rowSums.withUnsafeMutableBufferPointer { op.apply(o, into: $0) } }
        onesM.withUnsafeBufferPointer { o in columnSums.withUnsafeMutableBufferPointer { op.applyAdjoint(o, into: $0) } }
        return (rowSums, columnSums)
    }

    /// `numerator / sum` (0 for a zero sum) without a cut-off, else
    /// `numerator / max(sum, cutoff)` where `sum > cutoff` and 0 elsewhere.
    @inlinable
    public static func reciprocal<S: OperatorScalar>(_ sum: S, cutoff: Double?, numerator: S = 1) -> S {
        if let cutoff { return Double(sum) > cutoff ? numerator / Swift.max(sum, S(cutoff)) : 0 }
        return sum != 0 ? numerator / sum : 0
    }

    /// Runs SIRT from `x0` (default zero).
    ///
    /// - Parameters:
    ///   - op: the operator `A`.
    ///   - b: the right-hand side, `rows` elements of `op`.
    ///   - x0: optional starting point, `columns` elements of `op` (default
    ///     zero).
    ///   - configuration: iteration limit, relaxation, non-negativity,
    ///     tolerance and weighting (see ``Configuration``).
    ///   - weights: precomputed weights to use instead of computing them
    ///     from ``Configuration/weighting`` (for example the weights of a
    ///     single-channel projector repeated over channels). In the
    ///     ``Weighting/sums`` form λ multiplies the given column weights.
    ///   - progress: called after each iteration with ‖b − A x‖; returning
    ///     ``ProgressAction/stop`` ends the solve at that iteration with
    ///     ``StopReason/cancelled``.
    /// - Throws: the ``SolverError`` cases for an empty operator, shapes,
    ///   non-finite input and bad parameters.
    @inlinable
    public static func solve<Op: LinearOperator>(_ op: Op, rhs b: Tensor<Op.Scalar>, x0: Tensor<Op.Scalar>? = nil,
                                                 configuration: Configuration = Configuration(),
                                                 weights: Weights<Op.Scalar>? = nil,
                                                 progress: ProgressHandler? = nil) throws(SolverError) -> Result<Op.Scalar> {
        try checkNonEmpty(op)
        let bValues = try checkedVector(b, count: op.rows, name: "b (right-hand side)")
        let x: [Op.Scalar] = try x0.map { v throws(SolverError) in try checkedVector(v, count: op.columns, name: "x0") }
            ?? zeroArray(op.columns)
        guard configuration.maximumIterations >= 0 else {
            throw .invalidArgument(name: "maximumIterations", expected: "≥ 0", received: "\(configuration.maximumIterations)")
        }
        if let weights {
            guard weights.rows.count == op.rows else {
                throw .shapeMismatch(argument: "weights.rows", expected: [op.rows], received: [weights.rows.count])
            }
            guard weights.columns.count == op.columns else {
                throw .shapeMismatch(argument: "weights.columns", expected: [op.columns], received: [weights.columns.count])
            }
        }
        switch configuration.weighting {
        case .sums:
            guard configuration.relaxation > 0 && configuration.relaxation < 2 else {
                throw .invalidArgument(name: "relaxation", expected: "a number in (0, 2)", received: "\(configuration.relaxation)")
            }
            try checkParameter(configuration.tolerance, "tolerance")
            guard configuration.momentum == 0 && configuration.lossTolerance == 0 else {
                throw .invalidArgument(name: "weighting", expected: ".cutoffs for momentum or lossTolerance",
                                       received: ".sums")
            }
            return runSums(op, bValues, x, configuration, weights, progress)
        case let .cutoffs(rowCutoff, columnCutoff):
            try checkParameter(rowCutoff, "weighting row cut-off")
            try checkParameter(columnCutoff, "weighting column cut-off")
            try checkParameter(configuration.relaxation, "relaxation")
            try checkParameter(configuration.lossTolerance, "lossTolerance")
            guard configuration.momentum >= 0 && configuration.momentum <= 1 else {
                throw .invalidArgument(name: "momentum", expected: "a number in [0, 1]", received: "\(configuration.momentum)")
            }
            let w = weights ?? Weights(of: op, weighting: configuration.weighting)
            return runDescent(op, bValues, x, configuration, w, progress)
        }
    }

    /// ASTRA's form (inputs checked).
    @inlinable
    static func runSums<Op: LinearOperator>(_ op: Op, _ bValues: [Op.Scalar], _ start: [Op.Scalar],
                                            _ configuration: Configuration, _ weights: Weights<Op.Scalar>?,
                                            _ progress: ProgressHandler?) -> Result<Op.Scalar> {
        typealias S = Op.Scalar
        let m = op.rows, n = op.columns
        var x = start
        let lambda = S(configuration.relaxation)
        let rowWeights: [S], columnWeights: [S]
        if let weights {
            rowWeights = weights.rows
            columnWeights = lambda == 1 ? weights.columns : weights.columns.map { lambda * $0 }
        } else {
            let (rowSums, columnSums) = sums(of: op)
            rowWeights = rowSums.map { reciprocal($0, cutoff: nil) }
            columnWeights = columnSums.map { reciprocal($0, cutoff: nil, numerator: lambda) }
        }
        let normb = bValues.withUnsafeBufferPointer { op.outputSquaredNorm($0) }.squareRoot()
        var r: [S] = zeroArray(m), update: [S] = zeroArray(n)
        func residual() -> Double {
            x.withUnsafeBufferPointer { xs in r.withUnsafeMutableBufferPointer { op.apply(xs, into: $0) } }
            for i in 0..<m { r[i] = bValues[i] - r[i] }
            return r.withUnsafeBufferPointer { op.outputSquaredNorm($0) }.squareRoot()
        }
        var residualNorm = residual()
        var updateNorm = 0.0
        var iterations = 0
        var history: [Double] = []
        history.reserveCapacity(Swift.min(configuration.maximumIterations, 1024) + 1)
        var reason = StopReason.iterationLimit
        if normb == 0 && residualNorm == 0 {
            reason = .zeroRightHandSide
        } else {
            while iterations < configuration.maximumIterations {
                if residualNorm <= configuration.tolerance * normb { reason = .converged; break }
                iterations += 1
                for i in 0..<m { r[i] *= rowWeights[i] }
                r.withUnsafeBufferPointer { rs in update.withUnsafeMutableBufferPointer { op.applyAdjoint(rs, into: $0) } }
                // One block (sequential, as on one process); the operator
                // combines the parts of every process.
                let nonNegative = configuration.nonNegative
                let sum = x.withUnsafeMutableBufferPointer { xs in
                    columnWeights.withUnsafeBufferPointer { cs in
                        update.withUnsafeBufferPointer { us in
                            let (px, pc, pu) = (SendableMutableBuffer(xs), SendableBuffer(cs), SendableBuffer(us))
                            return op.inputSpaceSum(blockSize: Int.max, scalar: { range in
                                var sum = 0.0
                                for j in range {
                                    let step = pc[j] * pu[j]
                                    sum += Double(step) * Double(step)
                                    px[j] += step
                                    if nonNegative && px[j] < 0 { px[j] = 0 }
                                }
                                return sum
                            })
                        }
                    }
                }
                updateNorm = sum.squareRoot()
                residualNorm = residual()
                history.append(residualNorm)
                if progress?(IterationProgress(iteration: iterations, maximumIterations: configuration.maximumIterations,
                                               value: residualNorm)) == .stop {
                    reason = .cancelled
                    break
                }
            }
            if reason == .iterationLimit && residualNorm <= configuration.tolerance * normb { reason = .converged }
        }
        return Result(solution: Tensor(x), stopReason: reason, iterations: iterations, residualNorm: residualNorm,
                      residualHistory: history, diagnostics: Diagnostics(lastUpdate: updateNorm))
    }

    /// mumott's form: weighted, preconditioned gradient descent with
    /// Nesterov momentum (inputs checked).
    @inlinable
    static func runDescent<Op: LinearOperator>(_ op: Op, _ data: [Op.Scalar], _ start: [Op.Scalar],
                                               _ configuration: Configuration, _ weights: Weights<Op.Scalar>,
                                               _ progress: ProgressHandler?) -> Result<Op.Scalar> {
        typealias S = Op.Scalar
        var x = start
        let (m, n) = (op.rows, op.columns)
        var residual = [S](repeating: 0, count: m), gradient = [S](repeating: 0, count: n)
        var momentum = [S](repeating: 0, count: n), point = [S](repeating: 0, count: n)
        let step = S(configuration.relaxation), mu = S(configuration.momentum)
        let nonNegative = configuration.nonNegative, ftol = configuration.lossTolerance
        var history: [Double] = []
        history.reserveCapacity(Swift.min(configuration.maximumIterations, 1024) + 1)
        var previousLoss = -1.0, lastLoss = 0.0
        var iterations = 0
        var reason = StopReason.iterationLimit
        // Blocks of the residual reduction: fixed size, so the per-block
        // partial sums (combined in block order) do not depend on the thread
        // count; the operator combines them (and the parts of other processes).
        let blockSize = 8192
        var partials = [SIMD2<Double>](repeating: .zero, count: (m + blockSize - 1) / blockSize)
        // r = A y − b at `y`; returns (‖r‖, ½ Σ W r²) and leaves W r in `residual`.
        func evaluate(_ y: [S]) -> (Double, Double) {
            y.withUnsafeBufferPointer { ys in residual.withUnsafeMutableBufferPointer { op.apply(ys, into: $0) } }
            let sums = residual.withUnsafeMutableBufferPointer { rs in
                data.withUnsafeBufferPointer { ds in
                    weights.rows.withUnsafeBufferPointer { ws in
                        partials.withUnsafeMutableBufferPointer { ps in
                        let (r, d, w) = (SendableMutableBuffer(rs), SendableBuffer(ds), SendableBuffer(ws))
                        return op.outputSpaceSum(blockSize: blockSize, partials: ps) { range in
                            var norm2 = 0.0, loss = 0.0
                            for i in range {
                                let ri = r[i] - d[i]
                                let wi = w[i]
                                let r2 = Double(ri) * Double(ri)
                                norm2 += r2
                                loss += 0.5 * Double(wi) * r2
                                r[i] = wi * ri
                            }
                            return SIMD2(norm2, loss)
                        }
                        }
                    }
                }
            }
            return (sums.x.squareRoot(), sums.y)
        }
        // x ← x − (m + s C g), m ← μ (m + s C g), optionally x ← max(x, 0);
        // point = x − m for the next iteration.
        func update() {
            x.withUnsafeMutableBufferPointer { xs in momentum.withUnsafeMutableBufferPointer { ms in
                gradient.withUnsafeBufferPointer { gs in weights.columns.withUnsafeBufferPointer { cs in
                    point.withUnsafeMutableBufferPointer { ps in
                        let (xp, mp, pp) = (SendableMutableBuffer(xs), SendableMutableBuffer(ms), SendableMutableBuffer(ps))
                        let (gp, cp) = (SendableBuffer(gs), SendableBuffer(cs))
                        Parallel.forEachChunk(count: n, minimumChunk: 16384) { range in
                            for j in range {
                                var mj = mp[j] + step * cp[j] * gp[j]
                                var v = xp[j] - mj
                                if nonNegative && v < 0 { v = 0 }
                                xp[j] = v
                                mj *= mu
                                mp[j] = mj
                                pp[j] = v - mj
                            }
                        }
                    }
                } }
            } }
        }
        point = x
        for j in 0..<n { point[j] = x[j] - momentum[j] }
        while iterations < configuration.maximumIterations {
            let (norm, loss) = evaluate(point)
            lastLoss = loss
            history.append(norm)
            residual.withUnsafeBufferPointer { rs in gradient.withUnsafeMutableBufferPointer { op.applyAdjoint(rs, into: $0) } }
            iterations += 1
            update()
            if progress?(IterationProgress(iteration: iterations, maximumIterations: configuration.maximumIterations,
                                           value: norm)) == .stop {
                reason = .cancelled
                break
            }
            if ftol > 0 && previousLoss >= 0 && loss > 0 && (previousLoss - loss) / loss < ftol {
                reason = .converged
                break
            }
            previousLoss = loss
        }
        let (finalNorm, _) = evaluate(x)
        history.append(finalNorm)
        return Result(solution: Tensor(x), stopReason: reason, iterations: iterations, residualNorm: finalNorm,
                      residualHistory: history, diagnostics: Diagnostics(lastUpdate: lastLoss))
    }
}
