import BeamlineOperators
import BeamlineTensor

/// LSMR (Fong & Saunders, 2011): the iterative solver for `A x = b`, the
/// least-squares problem `min ‖A x − b‖₂`, and the damped problem
/// `min ‖A x − b‖² + damp² ‖x‖²`, with the parameters, stopping tests and
/// diagnostics of `scipy.sparse.linalg.lsmr`.
///
/// ```swift
/// let result = try LSMR.solve(matrix, rhs: b, configuration: .init(damp: 0.1))
/// print(result.stopReason, result.iterations, result.residualNorm)
/// ```
///
/// The scalar recurrences run in `Double` (as SciPy promotes `float32` input
/// to `float64`); the vectors stay in the operator's element type. Every
/// reduction is summed in fixed blocks, so the result is identical for any
/// thread count.
public enum LSMR {
    /// LSMR's parameters (SciPy's names in brackets).
    public struct Configuration: Sendable, Equatable {
        /// Damping factor λ for `min ‖A x − b‖² + λ² ‖x‖²` (`damp`, default 0).
        public var damp: Double
        /// Relative error tolerance on `A` (`atol`, default 1e-6).
        public var atol: Double
        /// Relative error tolerance on `b` (`btol`, default 1e-6).
        public var btol: Double
        /// Stop when the estimate of cond(Ā) exceeds this (`conlim`,
        /// default 1e8; 0 disables the test).
        public var conlim: Double
        /// Iteration limit (`maxiter`; nil means `min(rows, columns)`).
        public var maximumIterations: Int?

        /// Creates a configuration; the defaults are SciPy's.
        public init(damp: Double = 0, atol: Double = 1e-6, btol: Double = 1e-6, conlim: Double = 1e8,
                    maximumIterations: Int? = nil) {
            self.damp = damp
            self.atol = atol
            self.btol = btol
            self.conlim = conlim
            self.maximumIterations = maximumIterations
        }
    }

    /// Why LSMR stopped (SciPy's `istop`); a result reports it as
    /// ``StopReason/lsmr(_:)``.
    public typealias StopReason = LSMRStopReason

    /// SciPy's diagnostics of an LSMR solve.
    public struct Diagnostics: Sendable, Equatable {
        /// SciPy's `istop`, also in the result's stop reason (nil when the
        /// progress callback stopped the solve).
        public var istop: LSMRStopReason?
        /// ‖Aᵀ (b − A x) − damp² x‖ (`normar`).
        public var normalResidualNorm: Double
        /// Estimate of the Frobenius norm of Ā = [A; damp·I] (`norma`).
        public var operatorNorm: Double
        /// Estimate of cond(Ā) (`conda`).
        public var conditionEstimate: Double
        /// ‖x‖ (`normx`).
        public var solutionNorm: Double

        /// Creates diagnostics.
        @inlinable
        public init(istop: LSMRStopReason?, normalResidualNorm: Double, operatorNorm: Double, conditionEstimate: Double,
                    solutionNorm: Double) {
            self.istop = istop
            self.normalResidualNorm = normalResidualNorm
            self.operatorNorm = operatorNorm
            self.conditionEstimate = conditionEstimate
            self.solutionNorm = solutionNorm
        }
    }

    /// LSMR's result: the solution `x` (`columns` elements), the stop
    /// reason (``StopReason/lsmr(_:)`` or ``StopReason/cancelled``),
    /// iterations (`itn`), ‖b − A x‖ (or ‖[b − A x; −damp·x]‖ when damped,
    /// `normr`), the residual-norm estimate after each iteration, and
    /// ``Diagnostics``.
    public typealias Result<Scalar: OperatorScalar> = IterativeResult<Tensor<Scalar>, Diagnostics>

    /// SciPy's `_sym_ortho`: a stable Givens rotation (c, s, r) with
    /// `[c s; −s c] [a; b] = [r; 0]`.
    @inlinable
    static func symOrtho(_ a: Double, _ b: Double) -> (c: Double, s: Double, r: Double) {
        func sign(_ v: Double) -> Double { v > 0 ? 1 : (v < 0 ? -1 : 0) }
        if b == 0 { return (sign(a), 0, Swift.abs(a)) }
        if a == 0 { return (0, sign(b), Swift.abs(b)) }
        if Swift.abs(b) > Swift.abs(a) {
            let tau = a / b
            let s = sign(b) / (1 + tau * tau).squareRoot()
            let c = s * tau
            return (c, s, b / s)
        }
        let tau = b / a
        let c = sign(a) / (1 + tau * tau).squareRoot()
        let s = c * tau
        return (c, s, a / c)
    }

    /// Solves `A x = b` (or the least-squares / damped problem) with LSMR.
    ///
    /// - Parameters:
    ///   - op: the operator `A` (any `LinearOperator`).
    ///   - b: the right-hand side, `LinearOperator.rows` elements.
    ///   - x0: optional starting point, `LinearOperator.columns` elements.
    ///   - configuration: damp, atol, btol, conlim, iteration limit.
    ///   - progress: called after each iteration with the residual norm;
    ///     returning ``ProgressAction/stop`` ends the solve at that
    ///     iteration with ``StopReason/cancelled``.
    /// - Throws: ``SolverError/emptyOperator(rows:columns:)``,
    ///   ``SolverError/shapeMismatch(argument:expected:received:)`` for `b`
    ///   or `x0`, ``SolverError/nonFiniteValues(argument:)``, and
    ///   ``SolverError/invalidArgument(name:expected:received:)`` for a
    ///   negative or non-finite parameter.
    @inlinable
    public static func solve<Op: LinearOperator>(_ op: Op, rhs b: Tensor<Op.Scalar>, x0: Tensor<Op.Scalar>? = nil,
                                                 configuration: Configuration = Configuration(),
                                                 progress: ProgressHandler? = nil) throws(SolverError) -> Result<Op.Scalar> {
        try checkNonEmpty(op)
        let bValues = try checkedVector(b, count: op.rows, name: "b (right-hand side)")
        let start = try x0.map { v throws(SolverError) in try checkedVector(v, count: op.columns, name: "x0") }
        try checkParameter(configuration.damp, "damp")
        try checkParameter(configuration.atol, "atol")
        try checkParameter(configuration.btol, "btol")
        guard configuration.conlim >= 0 && !configuration.conlim.isNaN else {
            throw .invalidArgument(name: "conlim", expected: "a number ≥ 0", received: "\(configuration.conlim)")
        }
        let maxIterations = configuration.maximumIterations ?? Swift.min(op.rows, op.columns)
        guard maxIterations >= 0 else {
            throw .invalidArgument(name: "maximumIterations", expected: "≥ 0", received: "\(maxIterations)")
        }
        return run(op, bValues, start, configuration, maxIterations, progress)
    }

    /// The iteration (inputs already checked).
    @inlinable
    static func run<Op: LinearOperator>(_ op: Op, _ bValues: [Op.Scalar], _ start: [Op.Scalar]?,
                                        _ configuration: Configuration, _ maxIterations: Int,
                                        _ progress: ProgressHandler?) -> Result<Op.Scalar> {
        typealias S = Op.Scalar
        let m = op.rows, n = op.columns
        let damp = configuration.damp, atol = configuration.atol, btol = configuration.btol
        var u = bValues
        var x: [S] = start ?? zeroArray(n)
        var v: [S] = zeroArray(n)
        var hbar: [S] = zeroArray(n)
        var scratchM: [S] = zeroArray(m)
        var scratchN: [S] = zeroArray(n)

        let normb = bValues.withUnsafeBufferPointer { op.outputSquaredNorm($0) }.squareRoot()
        var beta: Double
        if start != nil {
            x.withUnsafeBufferPointer { xs in scratchM.withUnsafeMutableBufferPointer { op.apply(xs, into: $0) } }
            u.withUnsafeMutableBufferPointer { up in
                scratchM.withUnsafeBufferPointer { t in
                    let (pu, pt) = (SendableMutableBuffer(up), SendableBuffer(t))
                    VectorKernels.forEach(m) { r in for i in r { pu[i] = pu[i] - pt[i] } }
                }
            }
        }
        beta = u.withUnsafeBufferPointer { op.outputSquaredNorm($0) }.squareRoot()
        var alpha = 0.0
        if beta > 0 {
            u.withUnsafeMutableBufferPointer { VectorKernels.scale($0.baseAddress!, m, by: S(1 / beta)) }
            u.withUnsafeBufferPointer { us in v.withUnsafeMutableBufferPointer { op.applyAdjoint(us, into: $0) } }
            alpha = v.withUnsafeBufferPointer { op.inputSquaredNorm($0) }.squareRoot()
        }
        if alpha > 0 {
            v.withUnsafeMutableBufferPointer { VectorKernels.scale($0.baseAddress!, n, by: S(1 / alpha)) }
        }

        var itn = 0
        var zetabar = alpha * beta
        var alphabar = alpha
        var rho = 1.0, rhobar = 1.0, cbar = 1.0, sbar = 0.0
        var h = v
        var betadd = beta, betad = 0.0, rhodold = 1.0, tautildeold = 0.0, thetatilde = 0.0, zeta = 0.0, d = 0.0
        var normA2 = alpha * alpha
        var maxrbar = 0.0, minrbar = 1e100
        var normA = normA2.squareRoot()
        var condA = 1.0
        var normx = 0.0
        var istop = 0
        let ctol = configuration.conlim > 0 ? 1 / configuration.conlim : 0
        var normr = beta
        var normar = alpha * beta
        var history: [Double] = []
        history.reserveCapacity(Swift.min(maxIterations, 1024))
        var cancelled = false

        func finish() -> Result<S> {
            let reason = LSMRStopReason(rawValue: istop)!
            return Result(solution: Tensor(x), stopReason: cancelled ? .cancelled : .lsmr(reason), iterations: itn,
                          residualNorm: normr, residualHistory: history,
                          diagnostics: Diagnostics(istop: cancelled ? nil : reason, normalResidualNorm: normar,
                                                   operatorNorm: normA, conditionEstimate: condA, solutionNorm: normx))
        }
        if normar == 0 { return finish() }
        if normb == 0 {
            x = zeroArray(n)
            return finish()
        }

        while itn < maxIterations {
            itn += 1
            // Bidiagonalisation: beta u = A v − alpha u, alpha v = Aᵀ u − beta v.
            v.withUnsafeBufferPointer { vs in scratchM.withUnsafeMutableBufferPointer { op.apply(vs, into: $0) } }
            let minusAlpha = S(-alpha)
            beta = u.withUnsafeMutableBufferPointer { up in
                scratchM.withUnsafeBufferPointer { t in
                    let (pu, pt) = (SendableMutableBuffer(up), SendableBuffer(t))
                    return op.outputSpaceSum(scalar: { r in
                        var sum = 0.0
                        for i in r {
                            let value = pu[i] * minusAlpha + pt[i]
                            pu[i] = value
                            sum += Double(value) * Double(value)
                        }
                        return sum
                    }).squareRoot()
                }
            }
            if beta > 0 {
                u.withUnsafeMutableBufferPointer { VectorKernels.scale($0.baseAddress!, m, by: S(1 / beta)) }
                u.withUnsafeBufferPointer { us in scratchN.withUnsafeMutableBufferPointer { op.applyAdjoint(us, into: $0) } }
                let minusBeta = S(-beta)
                alpha = v.withUnsafeMutableBufferPointer { vp in
                    scratchN.withUnsafeBufferPointer { t in
                        let (pv, pt) = (SendableMutableBuffer(vp), SendableBuffer(t))
                        return op.inputSpaceSum(scalar: { r in
                            var sum = 0.0
                            for i in r {
                                let value = pv[i] * minusBeta + pt[i]
                                pv[i] = value
                                sum += Double(value) * Double(value)
                            }
                            return sum
                        }).squareRoot()
                    }
                }
                if alpha > 0 {
                    v.withUnsafeMutableBufferPointer { VectorKernels.scale($0.baseAddress!, n, by: S(1 / alpha)) }
                }
            }

            // Rotation Qhat_{k,2k+1}.
            let (chat, shat, alphahat) = symOrtho(alphabar, damp)
            // Rotation Q_i turning B_i into R_i.
            let rhoold = rho
            let (c, s, rhoNew) = symOrtho(alphahat, beta)
            rho = rhoNew
            let thetanew = s * alpha
            alphabar = c * alpha
            // Rotation Qbar_i turning R_iᵀ into R_i^bar.
            let rhobarold = rhobar
            let zetaold = zeta
            let thetabar = sbar * rho
            let rhotemp = cbar * rho
            let (cbarNew, sbarNew, rhobarNew) = symOrtho(cbar * rho, thetanew)
            cbar = cbarNew; sbar = sbarNew; rhobar = rhobarNew
            zeta = cbar * zetabar
            zetabar = -sbar * zetabar

            // Update h, hbar, x (one pass) and ‖x‖.
            let hbarFactor = S(-(thetabar * rho / (rhoold * rhobarold)))
            let xFactor = S(zeta / (rho * rhobar))
            let hFactor = S(-(thetanew / rho))
            normx = x.withUnsafeMutableBufferPointer { xp in
                h.withUnsafeMutableBufferPointer { hp in
                    hbar.withUnsafeMutableBufferPointer { hbp in
                        v.withUnsafeBufferPointer { vp in
                            let (px, ph, phb, pv) = (SendableMutableBuffer(xp), SendableMutableBuffer(hp),
                                                     SendableMutableBuffer(hbp), SendableBuffer(vp))
                            return op.inputSpaceSum(scalar: { r in
                                var sum = 0.0
                                for i in r {
                                    let hb = phb[i] * hbarFactor + ph[i]
                                    phb[i] = hb
                                    let xi = px[i] + xFactor * hb
                                    px[i] = xi
                                    ph[i] = ph[i] * hFactor + pv[i]
                                    sum += Double(xi) * Double(xi)
                                }
                                return sum
                            }).squareRoot()
                        }
                    }
                }
            }

            // Estimate ‖r‖.
            let betaacute = chat * betadd
            let betacheck = -shat * betadd
            let betahat = c * betaacute
            betadd = -s * betaacute
            let thetatildeold = thetatilde
            let (ctildeold, stildeold, rhotildeold) = symOrtho(rhodold, thetabar)
            thetatilde = stildeold * rhobar
            rhodold = ctildeold * rhobar
            betad = -stildeold * betad + ctildeold * betahat
            tautildeold = (zetaold - thetatildeold * tautildeold) / rhotildeold
            let taud = (zeta - thetatilde * tautildeold) / rhodold
            d = d + betacheck * betacheck
            normr = (d + (betad - taud) * (betad - taud) + betadd * betadd).squareRoot()

            // Estimate ‖A‖ and cond(A).
            normA2 = normA2 + beta * beta
            normA = normA2.squareRoot()
            normA2 = normA2 + alpha * alpha
            maxrbar = Swift.max(maxrbar, rhobarold)
            if itn > 1 { minrbar = Swift.min(minrbar, rhobarold) }
            condA = Swift.max(maxrbar, rhotemp) / Swift.min(minrbar, rhotemp)

            // Convergence tests.
            normar = Swift.abs(zetabar)
            let test1 = normr / normb
            let test2 = (normA * normr) != 0 ? normar / (normA * normr) : Double.infinity
            let test3 = 1 / condA
            let t1 = test1 / (1 + normA * normx / normb)
            let rtol = btol + atol * normA * normx / normb
            if itn >= maxIterations { istop = 7 }
            if 1 + test3 <= 1 { istop = 6 }
            if 1 + test2 <= 1 { istop = 5 }
            if 1 + t1 <= 1 { istop = 4 }
            if test3 <= ctol { istop = 3 }
            if test2 <= atol { istop = 2 }
            if test1 <= rtol { istop = 1 }
            history.append(normr)
            if progress?(IterationProgress(iteration: itn, maximumIterations: maxIterations, value: normr)) == .stop {
                cancelled = true
                break
            }
            if istop > 0 { break }
        }
        return finish()
    }
}
