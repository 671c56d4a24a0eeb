import BeamlineOperators
import BeamlineTensor

/// An optimiser's own diagnostics.
public struct OptimizationDiagnostics: Sendable, Equatable {
    /// The objective at the solution.
    public var value: Double
    /// The largest absolute gradient component at the solution (for bounded
    /// problems, of the gradient projected onto the feasible directions).
    public var gradientNorm: Double
    /// Objective evaluations.
    public var evaluations: Int
    /// Creates diagnostics.
    public init(value: Double, gradientNorm: Double, evaluations: Int) {
        self.value = value
        self.gradientNorm = gradientNorm
        self.evaluations = evaluations
    }
}

/// The result of an optimiser: the final iterate (shaped like the starting
/// point), the stop reason (``StopReason/optimizer(_:)`` or
/// ``StopReason/cancelled``), iterations, the objective at the solution (in
/// ``IterativeResult/residualNorm``) and after each iteration (in
/// ``IterativeResult/residualHistory``), and ``OptimizationDiagnostics``.
public typealias OptimizationResult<Scalar: RealElement> = IterativeResult<Tensor<Scalar>, OptimizationDiagnostics>

/// Builds an optimiser's result.
func optimizationResult<S: RealElement>(_ solution: Tensor<S>, value: Double, gradientNorm: Double, iterations: Int,
                                        evaluations: Int, reason: OptimizationStopReason, cancelled: Bool,
                                        history: [Double]) -> OptimizationResult<S> {
    OptimizationResult(solution: solution, stopReason: cancelled ? .cancelled : .optimizer(reason), iterations: iterations,
                       residualNorm: value, residualHistory: history,
                       diagnostics: OptimizationDiagnostics(value: value, gradientNorm: gradientNorm, evaluations: evaluations))
}

/// Box constraints `lower ≤ xᵢ ≤ upper` (the same for every element);
/// the default is unbounded.
public struct Bounds: Sendable, Equatable {
    /// Lower bound (default −∞).
    public var lower: Double
    /// Upper bound (default +∞).
    public var upper: Double
    /// Creates bounds.
    public init(lower: Double = -.infinity, upper: Double = .infinity) {
        self.lower = lower
        self.upper = upper
    }
    /// No bounds.
    public static var unbounded: Bounds { Bounds() }
    /// True when neither bound is finite.
    public var isUnbounded: Bool { lower == -.infinity && upper == .infinity }

    @usableFromInline func check() throws(SolverError) {
        guard !lower.isNaN && !upper.isNaN && lower <= upper && lower < .infinity && upper > -.infinity else {
            throw .invalidArgument(name: "bounds", expected: "lower ≤ upper", received: "[\(lower), \(upper)]")
        }
    }
    @usableFromInline func project(_ x: inout [Double]) {
        if isUnbounded { return }
        for i in x.indices { x[i] = Swift.min(upper, Swift.max(lower, x[i])) }
    }
    /// ∞-norm of the projected gradient (components that point out of the
    /// box at an active bound are ignored).
    @usableFromInline func projectedGradientNorm(_ x: [Double], _ g: [Double]) -> Double {
        var worst = 0.0
        for i in x.indices {
            if x[i] <= lower && g[i] > 0 { continue }
            if x[i] >= upper && g[i] < 0 { continue }
            worst = Swift.max(worst, Swift.abs(g[i]))
        }
        return worst
    }
}

/// Calls an ``Objective`` on `Double` arrays, counting evaluations.
@usableFromInline
struct Evaluator<S: RealElement> {
    @usableFromInline let objective: Objective<S>
    @usableFromInline let shape: [Int]
    @usableFromInline var count = 0

    @usableFromInline init(_ objective: @escaping Objective<S>, shape: [Int]) {
        self.objective = objective
        self.shape = shape
    }

    @usableFromInline
    mutating func callAsFunction(_ x: [Double]) throws(SolverError) -> (value: Double, gradient: [Double]) {
        count += 1
        let (value, gradient) = try objective(Tensor(shape: shape, elements: RealConversion.values(x, as: S.self)))
        guard gradient.count == x.count else {
            throw .shapeMismatch(argument: "gradient returned by the objective", expected: shape,
                                            received: gradient.shape)
        }
        return (value, RealConversion.doubles(gradient.elements))
    }

    func tensor(_ x: [Double]) -> Tensor<S> { Tensor(shape: shape, elements: RealConversion.values(x, as: S.self)) }
}

/// Checks a starting point.
func startingPoint<S: RealElement>(_ x0: Tensor<S>) throws(SolverError) -> [Double] {
    guard x0.count > 0 else { throw .invalidArgument(name: "x0", expected: "at least one element", received: "shape \(x0.shape)") }
    let values = RealConversion.doubles(x0.elements)
    if values.contains(where: { !$0.isFinite }) { throw .nonFiniteValues(argument: "x0") }
    return values
}

@inline(__always) func infinityNorm(_ v: [Double]) -> Double { v.reduce(0) { Swift.max($0, Swift.abs($1)) } }
@inline(__always) func dotProduct(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}
@inline(__always) func isFinite(_ value: Double, _ g: [Double]) -> Bool { value.isFinite && g.allSatisfy { $0.isFinite } }

// MARK: - Gradient descent

/// Gradient descent with a fixed step: `x ← P(x − step · ∇f(x))`, where `P`
/// projects onto the bounds.
public enum GradientDescent {
    /// Parameters.
    public struct Configuration: Sendable, Equatable {
        /// Step size (default 1e-3).
        public var stepSize: Double
        /// Iteration limit (default 1000).
        public var maximumIterations: Int
        /// Stop when the largest (projected) gradient component is at most
        /// this (default 1e-6).
        public var gradientTolerance: Double
        /// Box constraints (default none).
        public var bounds: Bounds
        /// Creates a configuration.
        public init(stepSize: Double = 1e-3, maximumIterations: Int = 1000, gradientTolerance: Double = 1e-6,
                    bounds: Bounds = .unbounded) {
            self.stepSize = stepSize
            self.maximumIterations = maximumIterations
            self.gradientTolerance = gradientTolerance
            self.bounds = bounds
        }
    }

    /// Minimises `objective` from `x0`.
    ///
    /// - Throws: ``SolverError`` for bad parameters or `x0`, and the
    ///   ``SolverError`` that `objective` throws.
    @specialized(where S == Double)
    @specialized(where S == Float)
    public static func minimize<S: RealElement>(_ objective: @escaping Objective<S>, from x0: Tensor<S>,
                                                configuration: Configuration = Configuration(),
                                                progress: ProgressHandler? = nil) throws(SolverError) -> OptimizationResult<S> {
        try checkParameter(configuration.stepSize, "stepSize", positive: true)
        try checkParameter(configuration.gradientTolerance, "gradientTolerance")
        try configuration.bounds.check()
        var evaluate = Evaluator(objective, shape: x0.shape)
        var x = try startingPoint(x0)
        configuration.bounds.project(&x)
        var (f, g) = try evaluate(x)
        guard isFinite(f, g) else { throw .nonFiniteValues(argument: "objective at x0") }
        var iterations = 0
        var history: [Double] = []
        var cancelled = false
        var reason = OptimizationStopReason.iterationLimit
        while true {
            if configuration.bounds.projectedGradientNorm(x, g) <= configuration.gradientTolerance {
                reason = .gradientTolerance; break
            }
            if iterations >= configuration.maximumIterations { break }
            iterations += 1
            var candidate = x
            for i in candidate.indices { candidate[i] -= configuration.stepSize * g[i] }
            configuration.bounds.project(&candidate)
            let (fn, gn) = try evaluate(candidate)
            guard isFinite(fn, gn) else { reason = .nonFiniteValue; break }
            (x, f, g) = (candidate, fn, gn)
            history.append(f)
            if progress?(IterationProgress(iteration: iterations, maximumIterations: configuration.maximumIterations, value: f)) == .stop {
                cancelled = true
                break
            }
        }
        return optimizationResult(evaluate.tensor(x), value: f, gradientNorm: configuration.bounds.projectedGradientNorm(x, g),
                                  iterations: iterations, evaluations: evaluate.count, reason: reason,
                                  cancelled: cancelled, history: history)
    }
}

// MARK: - Adam

/// Adam (Kingma & Ba, 2015): `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²`,
/// `x ← P(x − step · m̂ / (√v̂ + ε))`, with the bias corrections
/// `m̂ = m / (1 − β₁ᵗ)`, `v̂ = v / (1 − β₂ᵗ)` (optional) and `P` the
/// projection onto the bounds. The defaults are the paper's (and PyTorch's).
public enum Adam {
    /// Parameters.
    public struct Configuration: Sendable, Equatable {
        /// Step size α (default 1e-3).
        public var stepSize: Double
        /// First-moment decay β₁ (default 0.9).
        public var beta1: Double
        /// Second-moment decay β₂ (default 0.999).
        public var beta2: Double
        /// ε (default 1e-8).
        public var epsilon: Double
        /// Apply the bias corrections (default true).
        public var biasCorrection: Bool
        /// Iteration limit (default 1000).
        public var maximumIterations: Int
        /// Stop when the largest (projected) gradient component is at most
        /// this (default 1e-8).
        public var gradientTolerance: Double
        /// Box constraints (default none).
        public var bounds: Bounds
        /// The step size is multiplied by this after every iteration
        /// (exponential decay, in (0, 1]; default 1, a constant step).
        public var stepSizeDecay: Double
        /// Stop when the largest component of an accepted step is at most
        /// this (in the units of `x`, e.g. pixels; default 0, off).
        public var stepTolerance: Double
        /// Stop when the relative decrease `(f_prev − f) / max(|f_prev|, |f|, 1e-300)`
        /// of an iteration is non-negative and at most this (default 0, off).
        public var valueTolerance: Double
        /// Creates a configuration.
        public init(stepSize: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                    biasCorrection: Bool = true, maximumIterations: Int = 1000, gradientTolerance: Double = 1e-8,
                    bounds: Bounds = .unbounded, stepSizeDecay: Double = 1, stepTolerance: Double = 0,
                    valueTolerance: Double = 0) {
            self.stepSize = stepSize
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.biasCorrection = biasCorrection
            self.maximumIterations = maximumIterations
            self.gradientTolerance = gradientTolerance
            self.bounds = bounds
            self.stepSizeDecay = stepSizeDecay
            self.stepTolerance = stepTolerance
            self.valueTolerance = valueTolerance
        }
    }

    /// Minimises `objective` from `x0`.
    ///
    /// - Throws: ``SolverError`` for bad parameters or `x0`, and the
    ///   ``SolverError`` that `objective` throws.
    @specialized(where S == Double)
    @specialized(where S == Float)
    public static func minimize<S: RealElement>(_ objective: @escaping Objective<S>, from x0: Tensor<S>,
                                                configuration c: Configuration = Configuration(),
                                                progress: ProgressHandler? = nil) throws(SolverError) -> OptimizationResult<S> {
        try checkParameter(c.stepSize, "stepSize", positive: true)
        guard c.beta1 >= 0 && c.beta1 < 1 else {
            throw .invalidArgument(name: "beta1", expected: "a number in [0, 1)", received: "\(c.beta1)")
        }
        guard c.beta2 >= 0 && c.beta2 < 1 else {
            throw .invalidArgument(name: "beta2", expected: "a number in [0, 1)", received: "\(c.beta2)")
        }
        try checkParameter(c.epsilon, "epsilon")
        try checkParameter(c.gradientTolerance, "gradientTolerance")
        guard c.stepSizeDecay > 0 && c.stepSizeDecay <= 1 else {
            throw .invalidArgument(name: "stepSizeDecay", expected: "a number in (0, 1]", received: "\(c.stepSizeDecay)")
        }
        try checkParameter(c.stepTolerance, "stepTolerance")
        try checkParameter(c.valueTolerance, "valueTolerance")
        try c.bounds.check()
        var evaluate = Evaluator(objective, shape: x0.shape)
        var x = try startingPoint(x0)
        c.bounds.project(&x)
        let n = x.count
        var m = [Double](repeating: 0, count: n), v = [Double](repeating: 0, count: n)
        var (f, g) = try evaluate(x)
        guard isFinite(f, g) else { throw .nonFiniteValues(argument: "objective at x0") }
        var iterations = 0
        var history: [Double] = []
        var cancelled = false
        var reason = OptimizationStopReason.iterationLimit
        var power1 = 1.0, power2 = 1.0
        var step = c.stepSize
        while true {
            if c.bounds.projectedGradientNorm(x, g) <= c.gradientTolerance { reason = .gradientTolerance; break }
            if iterations >= c.maximumIterations { break }
            iterations += 1
            power1 *= c.beta1
            power2 *= c.beta2
            let correction1 = c.biasCorrection ? 1 / (1 - power1) : 1
            let correction2 = c.biasCorrection ? 1 / (1 - power2) : 1
            var candidate = x
            for i in 0..<n {
                m[i] = c.beta1 * m[i] + (1 - c.beta1) * g[i]
                v[i] = c.beta2 * v[i] + (1 - c.beta2) * g[i] * g[i]
                candidate[i] -= step * (m[i] * correction1) / ((v[i] * correction2).squareRoot() + c.epsilon)
            }
            step *= c.stepSizeDecay
            c.bounds.project(&candidate)
            let (fn, gn) = try evaluate(candidate)
            guard isFinite(fn, gn) else { reason = .nonFiniteValue; break }
            var largestStep = 0.0
            for i in 0..<n { largestStep = Swift.max(largestStep, abs(candidate[i] - x[i])) }
            let decrease = (f - fn) / Swift.max(abs(f), abs(fn), 1e-300)
            (x, f, g) = (candidate, fn, gn)
            history.append(f)
            if progress?(IterationProgress(iteration: iterations, maximumIterations: c.maximumIterations, value: f)) == .stop {
                cancelled = true
                break
            }
            if largestStep <= c.stepTolerance { reason = .stepTolerance; break }
            if c.valueTolerance > 0 && decrease >= 0 && decrease <= c.valueTolerance { reason = .valueTolerance; break }
        }
        return optimizationResult(evaluate.tensor(x), value: f, gradientNorm: c.bounds.projectedGradientNorm(x, g),
                                  iterations: iterations, evaluations: evaluate.count, reason: reason,
                                  cancelled: cancelled, history: history)
    }
}

// MARK: - L-BFGS

/// Limited-memory BFGS (Nocedal, 1980; Liu & Nocedal, 1989) for
/// unconstrained problems: the two-loop recursion over the last
/// ``Configuration/memory`` pairs `(s, y)` gives the search direction, and
/// a line search (bracketing and zoom with cubic interpolation, Nocedal &
/// Wright Algorithms 3.5–3.6) finds a step satisfying the strong Wolfe
/// conditions. The stopping tests and their defaults are those of
/// `scipy.optimize.minimize(method="L-BFGS-B")`: `gtol` on the largest
/// gradient component and `ftol` on the relative decrease of `f`.
public enum LBFGS {
    /// Parameters (SciPy's names in brackets).
    public struct Configuration: Sendable, Equatable {
        /// Number of correction pairs kept (`maxcor`, default 10).
        public var memory: Int
        /// Iteration limit (`maxiter`, default 15000).
        public var maximumIterations: Int
        /// Evaluation limit (`maxfun`, default 15000).
        public var maximumEvaluations: Int
        /// Stop when max |gᵢ| ≤ this (`gtol`, default 1e-5).
        public var gradientTolerance: Double
        /// Stop when (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ this
        /// (`ftol`, default 2.220446049250313e-09).
        public var valueTolerance: Double
        /// Sufficient-decrease constant c₁ (default 1e-4).
        public var c1: Double
        /// Curvature constant c₂ (default 0.9).
        public var c2: Double
        /// Function evaluations per line search (`maxls`, default 20).
        public var maximumLineSearchSteps: Int
        /// Creates a configuration.
        public init(memory: Int = 10, maximumIterations: Int = 15000, maximumEvaluations: Int = 15000,
                    gradientTolerance: Double = 1e-5, valueTolerance: Double = 2.220446049250313e-09,
                    c1: Double = 1e-4, c2: Double = 0.9, maximumLineSearchSteps: Int = 20) {
            self.memory = memory
            self.maximumIterations = maximumIterations
            self.maximumEvaluations = maximumEvaluations
            self.gradientTolerance = gradientTolerance
            self.valueTolerance = valueTolerance
            self.c1 = c1
            self.c2 = c2
            self.maximumLineSearchSteps = maximumLineSearchSteps
        }
    }

    /// Minimises `objective` from `x0`.
    ///
    /// - Throws: ``SolverError`` for bad parameters or `x0`, and the
    ///   ``SolverError`` that `objective` throws.
    @specialized(where S == Double)
    @specialized(where S == Float)
    public static func minimize<S: RealElement>(_ objective: @escaping Objective<S>, from x0: Tensor<S>,
                                                configuration c: Configuration = Configuration(),
                                                progress: ProgressHandler? = nil) throws(SolverError) -> OptimizationResult<S> {
        guard c.memory >= 1 else {
            throw .invalidArgument(name: "memory", expected: "≥ 1", received: "\(c.memory)")
        }
        guard c.c1 > 0 && c.c1 < c.c2 && c.c2 < 1 else {
            throw .invalidArgument(name: "c1, c2", expected: "0 < c1 < c2 < 1", received: "\(c.c1), \(c.c2)")
        }
        guard c.maximumLineSearchSteps >= 1 else {
            throw .invalidArgument(name: "maximumLineSearchSteps", expected: "≥ 1",
                                              received: "\(c.maximumLineSearchSteps)")
        }
        try checkParameter(c.gradientTolerance, "gradientTolerance")
        try checkParameter(c.valueTolerance, "valueTolerance")
        var evaluate = Evaluator(objective, shape: x0.shape)
        var x = try startingPoint(x0)
        let n = x.count
        var (f, g) = try evaluate(x)
        guard isFinite(f, g) else { throw .nonFiniteValues(argument: "objective at x0") }
        var sHistory: [[Double]] = [], yHistory: [[Double]] = [], rhoHistory: [Double] = []
        var iterations = 0
        var history: [Double] = []
        var cancelled = false
        var reason = OptimizationStopReason.iterationLimit
        var alphas = [Double](repeating: 0, count: c.memory)
        while true {
            if infinityNorm(g) <= c.gradientTolerance { reason = .gradientTolerance; break }
            if iterations >= c.maximumIterations { reason = .iterationLimit; break }
            if evaluate.count >= c.maximumEvaluations { reason = .evaluationLimit; break }
            // Two-loop recursion: d = −H g.
            var q = g
            for k in stride(from: sHistory.count - 1, through: 0, by: -1) {
                alphas[k] = rhoHistory[k] * dotProduct(sHistory[k], q)
                for i in 0..<n { q[i] -= alphas[k] * yHistory[k][i] }
            }
            if let s = sHistory.last, let y = yHistory.last {
                let gamma = dotProduct(s, y) / dotProduct(y, y)
                for i in 0..<n { q[i] *= gamma }
            }
            for k in 0..<sHistory.count {
                let beta = rhoHistory[k] * dotProduct(yHistory[k], q)
                for i in 0..<n { q[i] += sHistory[k][i] * (alphas[k] - beta) }
            }
            var direction = q.map { -$0 }
            var slope = dotProduct(g, direction)
            if !(slope < 0) || sHistory.isEmpty {
                if !(slope < 0) { sHistory = []; yHistory = []; rhoHistory = [] }
                direction = g.map { -$0 }
                slope = dotProduct(g, direction)
            }
            // First step as in L-BFGS-B: 1/‖d‖ on the first iteration, then 1.
            let initialStep = sHistory.isEmpty ? Swift.min(1, 1 / dotProduct(direction, direction).squareRoot()) : 1
            var search = try lineSearch(&evaluate, x: x, f: f, slope: slope, direction: direction,
                                        initialStep: initialStep, c: c)
            if search == nil && !sHistory.isEmpty {
                // Retry once along the steepest descent with a fresh memory.
                sHistory = []; yHistory = []; rhoHistory = []
                direction = g.map { -$0 }
                slope = dotProduct(g, direction)
                search = try lineSearch(&evaluate, x: x, f: f, slope: slope, direction: direction,
                                        initialStep: Swift.min(1, 1 / dotProduct(direction, direction).squareRoot()), c: c)
            }
            guard let (step, fn, gn) = search else { reason = .lineSearchFailed; break }
            iterations += 1
            var s = [Double](repeating: 0, count: n), y = [Double](repeating: 0, count: n)
            var xNew = x
            for i in 0..<n {
                xNew[i] = x[i] + step * direction[i]
                s[i] = xNew[i] - x[i]
                y[i] = gn[i] - g[i]
            }
            let sy = dotProduct(s, y)
            if sy > 2.220446049250313e-16 * dotProduct(y, y) {
                if sHistory.count == c.memory {
                    sHistory.removeFirst(); yHistory.removeFirst(); rhoHistory.removeFirst()
                }
                sHistory.append(s); yHistory.append(y); rhoHistory.append(1 / sy)
            }
            let decrease = (f - fn) / Swift.max(Swift.abs(f), Swift.abs(fn), 1)
            (x, f, g) = (xNew, fn, gn)
            history.append(f)
            if progress?(IterationProgress(iteration: iterations, maximumIterations: c.maximumIterations, value: f)) == .stop {
                cancelled = true
                break
            }
            if decrease <= c.valueTolerance {
                reason = infinityNorm(g) <= c.gradientTolerance ? .gradientTolerance : .valueTolerance
                break
            }
        }
        return optimizationResult(evaluate.tensor(x), value: f, gradientNorm: infinityNorm(g),
                                  iterations: iterations, evaluations: evaluate.count, reason: reason,
                                  cancelled: cancelled, history: history)
    }

    /// A step along `direction` satisfying the strong Wolfe conditions, with
    /// the objective and gradient there; nil when none was found within the
    /// step budget.
    static func lineSearch<S: RealElement>(_ evaluate: inout Evaluator<S>, x: [Double], f: Double, slope: Double,
                                           direction: [Double], initialStep: Double,
                                           c: Configuration) throws(SolverError) -> (Double, Double, [Double])? {
        let n = x.count
        var budget = c.maximumLineSearchSteps
        func phi(_ alpha: Double) throws(SolverError) -> (Double, Double, [Double]) {
            budget -= 1
            var point = x
            for i in 0..<n { point[i] += alpha * direction[i] }
            let (value, gradient) = try evaluate(point)
            guard isFinite(value, gradient) else { return (.infinity, .nan, gradient) }
            return (value, dotProduct(gradient, direction), gradient)
        }
        /// Minimiser of the cubic through (a, fa, da) and (b, fb, db), or nil.
        func cubic(_ a: Double, _ fa: Double, _ da: Double, _ b: Double, _ fb: Double, _ db: Double) -> Double? {
            let d1 = da + db - 3 * (fa - fb) / (a - b)
            let radicand = d1 * d1 - da * db
            guard radicand >= 0 else { return nil }
            let d2 = (b > a ? 1.0 : -1.0) * radicand.squareRoot()
            let value = b - (b - a) * (db + d2 - d1) / (db - da + 2 * d2)
            return value.isFinite ? value : nil
        }
        func zoom(_ lo0: (Double, Double, Double), _ hi0: (Double, Double, Double)) throws(SolverError) -> (Double, Double, [Double])? {
            var lo = lo0, hi = hi0
            while budget > 0 {
                let (a, b) = (lo.0, hi.0)
                let width = Swift.abs(b - a)
                if width <= 1e-16 * Swift.max(1, Swift.abs(a)) { return nil }
                var trial = hi.1.isFinite && !hi.2.isNaN ? cubic(lo.0, lo.1, lo.2, hi.0, hi.1, hi.2) : nil
                let lowEdge = Swift.min(a, b) + 0.1 * width, highEdge = Swift.max(a, b) - 0.1 * width
                if trial == nil || trial! < lowEdge || trial! > highEdge { trial = (a + b) / 2 }
                let alpha = trial!
                let (value, derivative, gradient) = try phi(alpha)
                if value > f + c.c1 * alpha * slope || value >= lo.1 || derivative.isNaN {
                    hi = (alpha, value, derivative)
                } else {
                    if Swift.abs(derivative) <= -c.c2 * slope { return (alpha, value, gradient) }
                    if derivative * (hi.0 - lo.0) >= 0 { hi = lo }
                    lo = (alpha, value, derivative)
                }
            }
            return nil
        }
        var previous = (0.0, f, slope)
        var alpha = initialStep
        var first = true
        while budget > 0 {
            let (value, derivative, gradient) = try phi(alpha)
            if value > f + c.c1 * alpha * slope || (!first && value >= previous.1) || derivative.isNaN {
                return try zoom(previous, (alpha, value, derivative))
            }
            if Swift.abs(derivative) <= -c.c2 * slope { return (alpha, value, gradient) }
            if derivative >= 0 { return try zoom((alpha, value, derivative), previous) }
            previous = (alpha, value, derivative)
            alpha *= 2
            first = false
        }
        return nil
    }
}
