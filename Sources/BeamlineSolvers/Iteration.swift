import BeamlineOperators
/// What iterative work reports after each iteration (or, for the detector
/// builders, each block of rows) to its progress callback.
public struct IterationProgress: Sendable, Equatable {
    /// The iteration just finished (1-based), or the units of work done.
    public var iteration: Int
    /// The iteration limit, or the total units of work.
    public var maximumIterations: Int
    /// The method's main figure after this iteration: the residual norm
    /// for LSMR, CGLS, SIRT and the reconstructions, the largest relative
    /// change for MLEM, the objective value for the optimisers, the
    /// fraction done for the builders.
    public var value: Double

    /// Creates a progress report.
    public init(iteration: Int, maximumIterations: Int, value: Double) {
        self.iteration = iteration
        self.maximumIterations = maximumIterations
        self.value = value
    }
}

/// What a progress callback tells the work to do next.
public enum ProgressAction: Sendable, Equatable {
    /// Go on.
    case `continue`
    /// Stop now: an iterative method returns its current iterate with
    /// ``StopReason/cancelled``; a builder throws its module's `cancelled`
    /// error and returns nothing.
    case stop
}

/// The one progress callback shape of Beamline's iterative work. Return
/// ``ProgressAction/stop`` to stop it (for example when a signal handler has
/// set a flag):
///
/// ```swift
/// let result = try LSMR.solve(a, rhs: b) { p in
///     print(p.iteration, p.value)
///     return cancelFlag.load(ordering: .relaxed) ? .stop : .continue
/// }
/// ```
public typealias ProgressHandler = (IterationProgress) -> ProgressAction

/// Why iterative work stopped.
public enum StopReason: Sendable, Hashable, CustomStringConvertible {
    /// The right-hand side (or data) is zero, so the start is the answer.
    case zeroRightHandSide
    /// The method's tolerance test was met.
    case converged
    /// The iteration limit was reached.
    case iterationLimit
    /// A search direction gave a zero curvature (CGLS; the normal equations
    /// are solved to machine precision).
    case breakdown
    /// The progress callback returned ``ProgressAction/stop``.
    case cancelled
    /// Not iterative (filtered back-projection): one direct evaluation.
    case direct
    /// LSMR's own reason (SciPy's `istop`).
    case lsmr(LSMRStopReason)
    /// An optimiser's own reason.
    case optimizer(OptimizationStopReason)

    /// The snake-case name the CLI prints (`converged`, `iteration_limit`,
    /// `cancelled`, or the LSMR / optimiser reason's name).
    public var description: String {
        switch self {
        case .zeroRightHandSide: return "zero_right_hand_side"
        case .converged: return "converged"
        case .iterationLimit: return "iteration_limit"
        case .breakdown: return "breakdown"
        case .cancelled: return "cancelled"
        case .direct: return "direct"
        case .lsmr(let reason): return "\(reason)"
        case .optimizer(let reason): return "\(reason)"
        }
    }
}

/// Why LSMR stopped; the raw value is SciPy's `istop`.
public enum LSMRStopReason: Int, Sendable, Hashable, CaseIterable {
    /// `x = 0` (or `x0`) is the exact solution (istop 0).
    case exactSolutionAtStart = 0
    /// `A x − b` is small enough, given atol and btol (istop 1).
    case compatibleSolution = 1
    /// The least-squares solution is good enough, given atol (istop 2).
    case leastSquaresSolution = 2
    /// The estimate of cond(Ā) exceeded conlim (istop 3).
    case conditionLimit = 3
    /// `A x − b` is small enough for this machine (istop 4).
    case compatibleAtMachinePrecision = 4
    /// The least-squares solution is good enough for this machine (istop 5).
    case leastSquaresAtMachinePrecision = 5
    /// cond(Ā) seems too large for this machine (istop 6).
    case conditionTooLargeForMachine = 6
    /// The iteration limit was reached (istop 7).
    case iterationLimit = 7

    /// SciPy's `istop` code.
    public var istop: Int { rawValue }
}

/// Why an optimiser stopped.
public enum OptimizationStopReason: String, Sendable, Hashable, CaseIterable {
    /// The largest gradient component fell to the gradient tolerance.
    case gradientTolerance
    /// The relative decrease of the objective fell to the value tolerance.
    case valueTolerance
    /// The iteration limit was reached.
    case iterationLimit
    /// The largest component of the last step fell to the step tolerance
    /// (Adam's `stepTolerance`).
    case stepTolerance
    /// The evaluation limit was reached (L-BFGS).
    case evaluationLimit
    /// No step satisfying the Wolfe conditions was found, even along the
    /// steepest descent (L-BFGS; usually the minimum is reached to
    /// rounding).
    case lineSearchFailed
    /// The objective or gradient became NaN or infinite; the last finite
    /// iterate is returned.
    case nonFiniteValue
}

/// The one result type of iterative work: solvers, reconstructions,
/// deconvolution and optimisers.
///
/// `Solution` is what was computed (a vector, a volume, an image);
/// `Diagnostics` holds the method's own figures (LSMR's norms, an
/// optimiser's gradient norm, a deconvolution's residual image), typed per
/// method.
public struct IterativeResult<Solution, Diagnostics> {
    /// The final iterate.
    public var solution: Solution
    /// Why the work stopped.
    public var stopReason: StopReason
    /// Iterations run.
    public var iterations: Int
    /// The residual norm at ``solution`` (`‖b − A x‖` for the solvers; the
    /// objective value for the optimisers).
    public var residualNorm: Double
    /// The residual norm (or objective) after each iteration, as reported
    /// to the progress callback (the reconstructions' SIRT forms also
    /// record the start and the end; see each method).
    public var residualHistory: [Double]
    /// The method's own diagnostics.
    public var diagnostics: Diagnostics

    /// Creates a result.
    @inlinable
    public init(solution: Solution, stopReason: StopReason, iterations: Int, residualNorm: Double,
                residualHistory: [Double], diagnostics: Diagnostics) {
        self.solution = solution
        self.stopReason = stopReason
        self.iterations = iterations
        self.residualNorm = residualNorm
        self.residualHistory = residualHistory
        self.diagnostics = diagnostics
    }
}

extension IterativeResult: Sendable where Solution: Sendable, Diagnostics: Sendable {}

/// Diagnostics for methods that have none beyond the common fields.
public struct NoDiagnostics: Sendable, Hashable {
    /// None.
    @inlinable public init() {}
}
