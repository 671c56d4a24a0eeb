import BeamlineSolvers
import BeamlineTensor
import Foundation

/// The parameters of ``IntensityScaler/train(_:from:progress:)``, with
/// cbclib's names in brackets.
public struct ScalingConfiguration: Sendable, Equatable {
    /// Kernel bandwidth of the map update in aperture units (`bandwidth`), > 0.
    public var bandwidth: Double
    /// Rounds of fit + map update (`n_iter`, default 10).
    public var rounds: Int
    /// L-BFGS iterations per fit (`max_iter`, default 10).
    public var fitIterations: Int
    /// Stop when the relative improvement of the error over a round,
    /// (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|), is ≤ this (`f_tol`, default 0).
    public var valueTolerance: Double
    /// Fit the per-streak intercepts (`fit_intercept`, default true); without,
    /// they are held at zero.
    public var fitIntercept: Bool
    /// The criterion (`kind`, `loss`), default Poisson.
    public var criterion: ScalingCriterion

    /// Creates a configuration.
    public init(bandwidth: Double, rounds: Int = 10, fitIterations: Int = 10, valueTolerance: Double = 0,
                fitIntercept: Bool = true, criterion: ScalingCriterion = .poisson) {
        self.bandwidth = bandwidth
        self.rounds = rounds
        self.fitIterations = fitIterations
        self.valueTolerance = valueTolerance
        self.fitIntercept = fitIntercept
        self.criterion = criterion
    }
}

/// Why training stopped.
public enum ScalingStopReason: String, Sendable, Hashable {
    /// All ``ScalingConfiguration/rounds`` ran.
    case roundLimit = "round limit"
    /// The relative improvement of a round was ≤ ``ScalingConfiguration/valueTolerance``.
    case valueTolerance = "value tolerance"
    /// The progress callback returned `ProgressAction.stop`.
    case cancelled
}

/// The result of ``IntensityScaler/train(_:from:progress:)``.
public struct ScalingResult: Sendable {
    /// The scaler with the final maps.
    public var scaler: IntensityScaler
    /// The parameters matching ``scaler``'s maps.
    public var x: [Double]
    /// The error at the start and after each completed round (cbclib's `errors`).
    public var errors: [Double]
    /// Completed rounds.
    public var rounds: Int
    /// Why training stopped.
    public var stopReason: ScalingStopReason
}

extension IntensityScaler {
    /// cbclib's `train`: alternates an L-BFGS fit of `x` (at most
    /// ``ScalingConfiguration/fitIterations`` iterations, SciPy's default
    /// tolerances) with the maps fixed, and a map update
    /// (``updatingMaps(_:bandwidth:fitIntercept:)``), for at most
    /// ``ScalingConfiguration/rounds`` rounds. After each round the error at
    /// the new maps and parameters is compared with the previous one; the
    /// round's result is kept when the error decreased, and training stops
    /// when the relative improvement is ≤ ``ScalingConfiguration/valueTolerance``
    /// (cbclib keeps the old maps but returns the new parameters then,
    /// which do not match each other).
    ///
    /// `progress` is called after every L-BFGS iteration (iteration =
    /// L-BFGS iterations so far, maximum = rounds × fitIterations, value =
    /// the current error); returning `ProgressAction.stop` ends training
    /// with the last consistent state and ``ScalingStopReason/cancelled``.
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for bad parameters
    ///   or `x0`, negative counts with the Poisson criterion,
    ///   ``CrystallographyError/solver(_:)`` when L-BFGS rejects the problem.
    public func train(_ configuration: ScalingConfiguration, from x0: [Double]? = nil,
                      progress: ProgressHandler? = nil) throws(CrystallographyError) -> ScalingResult {
        let c = configuration
        guard c.bandwidth > 0, c.bandwidth.isFinite else {
            throw .invalidArgument(name: "bandwidth", expected: "a positive finite kernel bandwidth (aperture units)",
                                   received: "\(c.bandwidth)")
        }
        guard c.rounds >= 0 else { throw .invalidArgument(name: "rounds", expected: "≥ 0", received: "\(c.rounds)") }
        guard c.fitIterations >= 1 else {
            throw .invalidArgument(name: "fitIterations", expected: "≥ 1", received: "\(c.fitIterations)")
        }
        guard c.valueTolerance >= 0, c.valueTolerance.isFinite else {
            throw .invalidArgument(name: "valueTolerance", expected: "a finite value ≥ 0", received: "\(c.valueTolerance)")
        }
        var x = x0 ?? initialEstimate()
        try check(x)
        if c.criterion.kind == .poisson { try checkCounts() }
        if !c.fitIntercept { for i in 0..<streakCount { x[i] = 0 } }
        var scaler = self
        var errors = [try scaler.criterion(x, c.criterion, fitIntercept: c.fitIntercept).value]
        var completed = 0
        var done = 0
        let total = c.rounds * c.fitIterations
        for round in 1...Swift.max(1, c.rounds) where c.rounds > 0 {
            let fitter = scaler
            let objective: Objective<Double> = { (t: Tensor<Double>) throws(SolverError) -> (value: Double, gradient: Tensor<Double>) in
                let r = fitter.evaluate(t.elements, c.criterion, fitIntercept: c.fitIntercept, gradient: true, perStreak: false)
                return (r.value, Tensor(shape: [r.gradient.count], elements: r.gradient))
            }
            var stopped = false
            let base = done
            let handler: ProgressHandler = { p in
                let action = progress?(IterationProgress(iteration: base + p.iteration, maximumIterations: total, value: p.value)) ?? .continue
                if action == .stop { stopped = true }
                return action
            }
            let result: OptimizationResult<Double>
            do {
                result = try LBFGS.minimize(objective, from: Tensor(shape: [x.count], elements: x),
                                            configuration: LBFGS.Configuration(maximumIterations: c.fitIterations),
                                            progress: handler)
            } catch { throw .solver(error) }
            done += result.iterations
            let fitted = result.solution.elements
            if stopped {
                // The fit with the current maps is consistent: keep it.
                errors.append(result.diagnostics.value)
                return ScalingResult(scaler: scaler, x: fitted, errors: errors, rounds: completed, stopReason: .cancelled)
            }
            let (next, nextX) = try scaler.updatingMaps(fitted, bandwidth: c.bandwidth, fitIntercept: c.fitIntercept)
            let error = try next.criterion(nextX, c.criterion, fitIntercept: c.fitIntercept).value
            let previous = errors[errors.count - 1]
            errors.append(error)
            completed = round
            let improvement = (previous - error) / Swift.max(Swift.abs(previous), Swift.abs(error))
            if error < previous {
                scaler = next
                x = nextX
            } else {
                x = fitted
            }
            if !(improvement > c.valueTolerance) {
                return ScalingResult(scaler: scaler, x: x, errors: errors, rounds: completed, stopReason: .valueTolerance)
            }
        }
        return ScalingResult(scaler: scaler, x: x, errors: errors, rounds: completed, stopReason: .roundLimit)
    }
}
