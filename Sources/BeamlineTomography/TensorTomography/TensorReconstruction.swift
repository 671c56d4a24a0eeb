import BeamlineOperators
import BeamlineSolvers
import BeamlineTensor
import Foundation

/// The tensor-tomography reconstruction pipelines (mumott's `run_sirt`,
/// `run_mitra`, `run_sigtt`, `run_group_lasso`).
public enum TensorPipeline: String, Sendable, Hashable, CaseIterable {
    /// Preconditioned gradient descent with the tensor SIRT weights and
    /// preconditioner, no momentum, non-negativity.
    case sirt
    /// MITRA: the same with Nesterov momentum 0.95 (mumott's update).
    case mitra
    /// SIGTT: L-BFGS on the squared loss plus a Laplacian regulariser (weight 1e-4).
    case sigtt
    /// Group lasso: ISTA (mumott's) or FISTA with group soft-thresholding.
    case groupLasso = "group-lasso"
}

/// Options of ``TensorReconstruction/run(_:calculator:options:progress:)``.
/// `nil` means the pipeline's default, given per field.
public struct TensorReconstructionOptions: Sendable, Hashable {
    /// Optimiser iterations (default 20, mumott's for MITRA and SIGTT). They
    /// all run unless ``ftol`` is given.
    public var iterations: Int
    /// Step size. Default for SIRT and MITRA `1/λ` and for group lasso `0.5/λ`
    /// (mumott's), where λ is the power-iteration estimate of the largest
    /// eigenvalue of the (preconditioned, weighted) normal operator; mumott's
    /// MITRA default of 1 diverges on spherical-harmonic data.
    public var stepSize: Double?
    /// Nesterov momentum weight (MITRA 0.95, SIRT 0).
    public var nesterovWeight: Double?
    /// Use the tensor SIRT weights and preconditioner (SIRT and MITRA; default true).
    public var useSIRTWeights: Bool
    /// Clip coefficients at zero after every update (default true for SIRT and MITRA, false for group lasso; not used by SIGTT).
    public var nonNegativity: Bool?
    /// Regulariser weight: the Laplacian's for SIGTT (default 1e-4), the
    /// group lasso's (default 1e-3).
    public var regularizationWeight: Double?
    /// Stop when the relative loss decrease falls below this (mumott's
    /// `ftol`, tested after 5 iterations; for SIGTT, L-BFGS's value
    /// tolerance). Default none: run ``iterations``.
    public var ftol: Double?
    /// SIGTT: the limit on function evaluations (default `20 · iterations + 20`).
    public var maxfun: Int?
    /// Group lasso: FISTA's acceleration instead of ISTA (default false).
    public var fista: Bool
    /// Power iterations for the eigenvalue estimate (default 20).
    public var powerIterations: Int
    /// Seed of the power iteration's start.
    public var seed: UInt64
    /// mumott's cut-offs for the SIRT weights and preconditioner (0.1).
    public var weightsCutoff: Double
    /// See ``weightsCutoff``.
    public var preconditionerCutoff: Double

    /// Options with the defaults described per field.
    public init(iterations: Int = 20, stepSize: Double? = nil, nesterovWeight: Double? = nil, useSIRTWeights: Bool = true,
                nonNegativity: Bool? = nil, regularizationWeight: Double? = nil, ftol: Double? = nil, maxfun: Int? = nil,
                fista: Bool = false, powerIterations: Int = 20, seed: UInt64 = 0,
                weightsCutoff: Double = 0.1, preconditionerCutoff: Double = 0.1) {
        self.iterations = iterations
        self.stepSize = stepSize
        self.nesterovWeight = nesterovWeight
        self.useSIRTWeights = useSIRTWeights
        self.nonNegativity = nonNegativity
        self.regularizationWeight = regularizationWeight
        self.ftol = ftol
        self.maxfun = maxfun
        self.fista = fista
        self.powerIterations = powerIterations
        self.seed = seed
        self.weightsCutoff = weightsCutoff
        self.preconditionerCutoff = preconditionerCutoff
    }
}

/// What a pipeline returns: the coefficients, the loss per iteration and
/// what it used.
public struct TensorReconstructionResult<Scalar: OperatorScalar>: Sendable {
    /// The coefficients `(X, Y, Z, C)`.
    public var coefficients: Tensor<Scalar>
    /// The pipeline.
    public var pipeline: TensorPipeline
    /// The loss after each iteration.
    public var lossHistory: [Double]
    /// Iterations run.
    public var iterations: Int
    /// Loss evaluations.
    public var evaluations: Int
    /// Why it stopped (`.iterationLimit`, `.converged`, `.cancelled`, or L-BFGS's reason).
    public var stopReason: StopReason
    /// The step size used (nil for SIGTT).
    public var stepSize: Double?
    /// The largest-eigenvalue estimate, when one was computed.
    public var largestEigenvalue: Double?
    /// The momentum weight used (nil for SIGTT and group lasso).
    public var nesterovWeight: Double?
    /// The regularisation weight used (SIGTT, group lasso).
    public var regularizationWeight: Double?
    /// Whether non-negativity was enforced.
    public var nonNegativity: Bool
}

/// Tensor-tomography reconstructions on a ``GradientResidualCalculator``.
public enum TensorReconstruction {
    /// The tensor SIRT weights `W = mask / max(B P 1, cutoff)` `(N, J, K, S)`
    /// and preconditioner `C = mask / max(Pᵀ Bᵀ 1, cutoff)` `(X, Y, Z, C)`,
    /// mumott's `get_tensor_sirt_weights` / `get_tensor_sirt_preconditioner`
    /// (mask: 1 where the sum exceeds the cut-off).
    ///
    /// - Throws: ``TomographyError`` as the calculator.
    public static func sirtWeights<Scalar: OperatorScalar, Basis: TensorBasisSet>(
        _ calculator: inout GradientResidualCalculator<Scalar, Basis>, weightsCutoff: Double = 0.1, preconditionerCutoff: Double = 0.1
    ) throws(TomographyError) -> (weights: Tensor<Scalar>, preconditioner: Tensor<Scalar>) {
        let op = try calculator.forwardModel()
        var forward = Tensor<Scalar>.zeros(op.outputShape)
        let ones = Tensor<Scalar>(shape: op.inputShape, repeating: 1)
        ones.withUnsafeBufferPointer { x in forward.withUnsafeMutableBufferPointer { y in op.apply(x, into: y) } }
        let back = calculator.backProjection(op, Tensor(shape: op.outputShape, repeating: 1))
        func invert(_ t: Tensor<Scalar>, _ cutoff: Double) -> Tensor<Scalar> {
            let c = Scalar(cutoff)
            return Tensor(shape: t.shape, elements: t.elements.map { $0 > c ? 1 / Swift.max($0, c) : 0 })
        }
        return (invert(forward, weightsCutoff), invert(back, preconditionerCutoff))
    }

    /// Runs `pipeline` from the calculator's current coefficients.
    ///
    /// - Parameters:
    ///   - pipeline: which reconstruction.
    ///   - calculator: the residual calculator (data, weights, geometry, basis).
    ///   - options: iterations, step, momentum, weights, tolerances (see ``TensorReconstructionOptions``).
    ///   - progress: called after every iteration with the loss; return `.stop` to cancel (the coefficients so far are returned).
    /// - Throws: ``TomographyError`` for bad options or a failing calculator.
    @specialized(where Scalar == Double, Basis == SphericalHarmonics)
    @specialized(where Scalar == Double, Basis == GaussianKernels)
    @specialized(where Scalar == Double, Basis == NearestNeighbor)
    @specialized(where Scalar == Double, Basis == TrivialBasis)
    @specialized(where Scalar == Float, Basis == SphericalHarmonics)
    @specialized(where Scalar == Float, Basis == GaussianKernels)
    @specialized(where Scalar == Float, Basis == NearestNeighbor)
    @specialized(where Scalar == Float, Basis == TrivialBasis)
    public static func run<Scalar: OperatorScalar, Basis: TensorBasisSet>(
        _ pipeline: TensorPipeline, calculator: GradientResidualCalculator<Scalar, Basis>,
        options: TensorReconstructionOptions = TensorReconstructionOptions(), progress: ProgressHandler? = nil
    ) throws(TomographyError) -> TensorReconstructionResult<Scalar> {
        guard options.iterations >= 0 else {
            throw .invalidArgument(name: "iterations", expected: "≥ 0", received: "\(options.iterations)")
        }
        if let s = options.stepSize, !(s > 0 && s.isFinite) {
            throw .invalidArgument(name: "stepSize", expected: "a positive finite number", received: "\(s)")
        }
        if let b = options.nesterovWeight, !(b >= 0 && b <= 1) {
            throw .invalidArgument(name: "nesterovWeight", expected: "in [0, 1]", received: "\(b)")
        }
        if let w = options.regularizationWeight, !(w >= 0 && w.isFinite) {
            throw .invalidArgument(name: "regularizationWeight", expected: "a non-negative finite number", received: "\(w)")
        }
        if let f = options.ftol, !(f >= 0 && f.isFinite) {
            throw .invalidArgument(name: "ftol", expected: "a non-negative finite number", received: "\(f)")
        }
        if let m = options.maxfun, m < 1 { throw .invalidArgument(name: "maxfun", expected: "≥ 1", received: "\(m)") }
        guard options.powerIterations >= 1 else {
            throw .invalidArgument(name: "powerIterations", expected: "≥ 1", received: "\(options.powerIterations)")
        }
        var calc = calculator
        switch pipeline {
        case .sirt, .mitra:
            return try descent(pipeline, &calc, options, progress)
        case .sigtt:
            return try sigtt(&calc, options, progress)
        case .groupLasso:
            return try groupLasso(&calc, options, progress)
        }
    }

    /// λ of `C Aᵀ W A` by power iteration (mumott's `get_largest_eigenvalue`).
    static func eigenvalue<Scalar: OperatorScalar, Basis: TensorBasisSet>(
        _ calc: inout GradientResidualCalculator<Scalar, Basis>, weights: Tensor<Scalar>?, preconditioner: Tensor<Scalar>?,
        iterations: Int, seed: UInt64
    ) throws(TomographyError) -> Double {
        let op = try calc.forwardModel()
        typealias Calc = GradientResidualCalculator<Scalar, Basis>
        var x = Tensor<Scalar>.normal(op.inputShape, seed: seed)
        var lambda = 0.0
        for _ in 0..<iterations {
            let n = Calc.norm(x)
            guard n > 0 else { return 0 }
            x.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = Scalar(Double(b[i]) / n) } }
            var y = Tensor<Scalar>.zeros(op.outputShape)
            x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in op.apply(xb, into: yb) } }
            if let weights { Calc.multiply(&y, weights) }
            x = calc.backProjection(op, y)
            if let preconditioner { Calc.multiply(&x, preconditioner) }
            lambda = Calc.norm(x)
        }
        return lambda
    }

    static func descent<Scalar: OperatorScalar, Basis: TensorBasisSet>(
        _ pipeline: TensorPipeline, _ calc: inout GradientResidualCalculator<Scalar, Basis>,
        _ options: TensorReconstructionOptions, _ progress: ProgressHandler?
    ) throws(TomographyError) -> TensorReconstructionResult<Scalar> {
        typealias Calc = GradientResidualCalculator<Scalar, Basis>
        let beta = options.nesterovWeight ?? (pipeline == .mitra ? 0.95 : 0)
        let nonNegative = options.nonNegativity ?? true
        var sirtW: Tensor<Scalar>? = nil, precond: Tensor<Scalar>? = nil
        if options.useSIRTWeights {
            let (w, p) = try sirtWeights(&calc, weightsCutoff: options.weightsCutoff, preconditionerCutoff: options.preconditionerCutoff)
            sirtW = w; precond = p
        }
        // The weights the loss uses: data weights × SIRT weights.
        var combined = calc.fittedWeights
        if let sirtW { Calc.multiply(&combined, sirtW) }
        var lambda: Double? = nil
        let step: Double
        if let s = options.stepSize {
            step = s
        } else {
            lambda = try eigenvalue(&calc, weights: combined, preconditioner: precond, iterations: options.powerIterations, seed: options.seed)
            step = lambda! > 0 ? 1 / lambda! : 1
        }
        let loss = TensorTomographyLossFunction(calculator: calc, loss: .squared, useWeights: true, preconditioner: precond)
        loss.weightOverride = sirtW
        var x = calc.coefficients
        var momentum = Tensor<Scalar>.zeros(x.shape)
        var history: [Double] = []
        var previous = -1.0
        var reason = StopReason.iterationLimit
        var done = 0
        let s = Scalar(step), b = Scalar(beta)
        for i in 0..<options.iterations {
            var lookahead = x
            Calc.subtract(&lookahead, momentum)
            let (value, gradient) = try loss.evaluate(lookahead, gradient: true)
            let g = gradient!
            momentum.withUnsafeMutableBufferPointer { p in
                x.withUnsafeMutableBufferPointer { xb in
                    g.withUnsafeBufferPointer { gb in
                        for k in p.indices {
                            p[k] += s * gb[k]
                            xb[k] -= p[k]
                            p[k] *= b
                            if nonNegative && xb[k] < 0 { xb[k] = 0 }
                        }
                    }
                }
            }
            let relative = (previous - value) / value
            previous = value
            history.append(value)
            done = i + 1
            if progress?(IterationProgress(iteration: done, maximumIterations: options.iterations, value: value)) == .stop {
                reason = .cancelled; break
            }
            if let f = options.ftol, i > 5, relative < f { reason = .converged; break }
        }
        return TensorReconstructionResult(coefficients: x, pipeline: pipeline, lossHistory: history, iterations: done,
                                          evaluations: loss.evaluations, stopReason: reason, stepSize: step,
                                          largestEigenvalue: lambda, nesterovWeight: beta, regularizationWeight: nil,
                                          nonNegativity: nonNegative)
    }

    static func sigtt<Scalar: OperatorScalar, Basis: TensorBasisSet>(
        _ calc: inout GradientResidualCalculator<Scalar, Basis>, _ options: TensorReconstructionOptions, _ progress: ProgressHandler?
    ) throws(TomographyError) -> TensorReconstructionResult<Scalar> {
        let weight = options.regularizationWeight ?? 1e-4
        let loss = TensorTomographyLossFunction(calculator: calc, loss: .squared, useWeights: true,
                                                regularizers: [RegularizerTerm(name: "laplacian", regularizer: .laplacian, weight: weight)])
        let configuration = LBFGS.Configuration(maximumIterations: options.iterations,
                                                maximumEvaluations: options.maxfun ?? (20 * options.iterations + 20),
                                                gradientTolerance: 0, valueTolerance: options.ftol ?? 0)
        let x0 = calc.coefficients
        if options.iterations == 0 {
            let v = try loss.evaluate(x0, gradient: false).value
            return TensorReconstructionResult(coefficients: x0, pipeline: .sigtt, lossHistory: [], iterations: 0, evaluations: 1,
                                              stopReason: .iterationLimit, stepSize: nil, largestEigenvalue: nil, nesterovWeight: nil,
                                              regularizationWeight: weight, nonNegativity: false).with(value: v)
        }
        let result: OptimizationResult<Scalar>
        do {
            result = try LBFGS.minimize(loss.objective(), from: x0, configuration: configuration, progress: progress)
        } catch {
            throw .solver(error)
        }
        return TensorReconstructionResult(coefficients: result.solution, pipeline: .sigtt, lossHistory: result.residualHistory,
                                          iterations: result.iterations, evaluations: result.diagnostics.evaluations,
                                          stopReason: result.stopReason, stepSize: nil, largestEigenvalue: nil, nesterovWeight: nil,
                                          regularizationWeight: weight, nonNegativity: false)
    }

    static func groupLasso<Scalar: OperatorScalar, Basis: TensorBasisSet>(
        _ calc: inout GradientResidualCalculator<Scalar, Basis>, _ options: TensorReconstructionOptions, _ progress: ProgressHandler?
    ) throws(TomographyError) -> TensorReconstructionResult<Scalar> {
        let weight = options.regularizationWeight ?? 1e-3
        let nonNegative = options.nonNegativity ?? false
        var lambda: Double? = nil
        let step: Double
        if let s = options.stepSize {
            step = s
        } else {
            lambda = try eigenvalue(&calc, weights: calc.fittedWeights, preconditioner: nil, iterations: options.powerIterations, seed: options.seed)
            step = lambda! > 0 ? 0.5 / lambda! : 1
        }
        let loss = TensorTomographyLossFunction(calculator: calc, loss: .squared, useWeights: true)
        var x = calc.coefficients
        var y = x, t = 1.0
        var history: [Double] = []
        var previous = -1.0
        var reason = StopReason.iterationLimit
        var done = 0
        let s = Scalar(step)
        for i in 0..<options.iterations {
            let point = options.fista ? y : x
            let (value, gradient) = try loss.evaluate(point, gradient: true)
            let penalty = try TensorRegularizer.groupLasso.evaluate(point, gradient: false).value * weight
            var next = point
            let g = gradient!
            next.withUnsafeMutableBufferPointer { nb in g.withUnsafeBufferPointer { gb in for k in nb.indices { nb[k] -= s * gb[k] } } }
            TensorRegularizer.groupLassoProximal(&next, threshold: weight * step)
            if nonNegative { next.withUnsafeMutableBufferPointer { nb in for k in nb.indices where nb[k] < 0 { nb[k] = 0 } } }
            if options.fista {
                let tn = (1 + (1 + 4 * t * t).squareRoot()) / 2
                let c = Scalar((t - 1) / tn)
                var yn = next
                next.withUnsafeBufferPointer { nb in x.withUnsafeBufferPointer { xb in
                    yn.withUnsafeMutableBufferPointer { yb in for k in yb.indices { yb[k] = nb[k] + c * (nb[k] - xb[k]) } }
                } }
                y = yn; t = tn
            }
            x = next
            let total = value + penalty
            let relative = (previous - total) / total
            previous = total
            history.append(total)
            done = i + 1
            if progress?(IterationProgress(iteration: done, maximumIterations: options.iterations, value: total)) == .stop {
                reason = .cancelled; break
            }
            if let f = options.ftol, i > 5, relative < f { reason = .converged; break }
        }
        return TensorReconstructionResult(coefficients: x, pipeline: .groupLasso, lossHistory: history, iterations: done,
                                          evaluations: loss.evaluations, stopReason: reason, stepSize: step, largestEigenvalue: lambda,
                                          nesterovWeight: nil, regularizationWeight: weight, nonNegativity: nonNegative)
    }
}

extension TensorReconstructionResult {
    func with(value: Double) -> Self {
        var r = self
        r.lossHistory = [value]
        return r
    }
}
