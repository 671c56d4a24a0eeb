import BeamlineOperators
import BeamlineSolvers
import BeamlineTensor

/// Tomographic reconstructions on a ``JohnTransformProjector``: mumott's
/// weighted SIRT and its MITRA variant with Nesterov momentum (both
/// `SIRT` from BeamlineSolvers, with `SIRT.Weighting.cutoffs(rows:columns:)`),
/// CGLS and LSMR (from BeamlineSolvers), and filtered back-projection.
///
/// This type only builds the problem (validates the projections, computes
/// mumott's weights on the single-channel projector) and calls the solvers;
/// the algorithms live in BeamlineSolvers.
public enum Reconstruction {
    /// The reconstruction methods (the CLI's `--method`).
    public enum Method: String, Sendable, CaseIterable {
        /// mumott's SIRT: preconditioned, weighted gradient descent with step 1.
        case sirt
        /// Conjugate gradients on the normal equations.
        case cgls
        /// LSMR.
        case lsmr
        /// mumott's MITRA default: SIRT weights and preconditioner, Nesterov
        /// momentum 0.95, non-negativity.
        case mitra
        /// Filtered back-projection along `j` (single-axis geometries).
        case fbp
    }

    /// Parameters shared by the methods (each uses the ones that apply).
    public struct Options: Sendable, Equatable {
        /// Iteration limit (default 20, mumott's `maxiter`).
        public var iterations: Int
        /// Stop tolerance: SIRT/MITRA stop when the relative decrease of the
        /// loss falls below it (mumott's `ftol`); CGLS on the relative
        /// normal-equation residual; LSMR uses it as `atol` and `btol`.
        /// 0 runs every iteration (default).
        public var tolerance: Double
        /// Clamp to ≥ 0 after every update (SIRT, MITRA) or at the end
        /// (CGLS, LSMR, FBP). Default false, except ``Method/mitra``'s
        /// ``mitra`` options.
        public var nonNegative: Bool
        /// mumott's `weights_cutoff`: rays with `P·1` ≤ this get weight 0.
        public var weightsCutoff: Double
        /// mumott's `preconditioner_cutoff`: voxels with `Pᵀ·1` ≤ this are
        /// masked (never updated).
        public var preconditionerCutoff: Double
        /// Gradient step (SIRT and MITRA; default 1).
        public var stepSize: Double
        /// Nesterov momentum weight (MITRA; default 0.95, mumott's `nestorov_weight`).
        public var nesterovWeight: Double
        /// FBP filter.
        public var filter: FBPFilter
        /// FBP frequency cut-off (fraction of Nyquist, (0, 1]).
        public var frequencyCutoff: Double

        /// Options with mumott's defaults.
        public init(iterations: Int = 20, tolerance: Double = 0, nonNegative: Bool = false, weightsCutoff: Double = 0.1,
                    preconditionerCutoff: Double = 0.1, stepSize: Double = 1, nesterovWeight: Double = 0.95,
                    filter: FBPFilter = .ramp, frequencyCutoff: Double = 1) {
            self.iterations = iterations
            self.tolerance = tolerance
            self.nonNegative = nonNegative
            self.weightsCutoff = weightsCutoff
            self.preconditionerCutoff = preconditionerCutoff
            self.stepSize = stepSize
            self.nesterovWeight = nesterovWeight
            self.filter = filter
            self.frequencyCutoff = frequencyCutoff
        }

        /// mumott's MITRA defaults: Nesterov 0.95 and non-negativity.
        public static var mitra: Options { Options(nonNegative: true) }
    }

    /// What a reconstruction reports besides the common fields.
    public struct Diagnostics: Sendable, Equatable {
        /// The method that ran.
        public var method: Method
        /// Creates diagnostics.
        public init(method: Method) { self.method = method }
    }

    /// A reconstruction: the volume `(X, Y, Z, C)` in
    /// `IterativeResult.solution` (also `IterativeResult.volume`),
    /// iterations (0 for FBP), ‖P x − d‖₂ at the returned volume, the
    /// residual history (SIRT and MITRA: before each iteration and at the
    /// end, as mumott records it; CGLS and LSMR: after each iteration), and
    /// the typed stop reason (`StopReason.cancelled` when the progress
    /// callback stopped it, `StopReason.direct` for FBP).
    public typealias Result<Scalar: OperatorScalar> = IterativeResult<Tensor<Scalar>, Diagnostics>

    /// Runs `method` with `options`.
    ///
    /// `progress` is called after each iteration with the residual norm;
    /// returning `ProgressAction.stop` ends the reconstruction at that
    /// iteration (the volume so far is returned, with
    /// `StopReason.cancelled`).
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func run<S: OperatorScalar>(_ method: Method, projector: JohnTransformProjector<S>, projections: Tensor<S>,
                                              options: Options = Options(), initial: Tensor<S>? = nil,
                                              progress: ProgressHandler? = nil) throws(TomographyError) -> Result<S> {
        switch method {
        case .sirt: return try sirt(projector, projections: projections, options: options, initial: initial, progress: progress)
        case .mitra: return try mitra(projector, projections: projections, options: options, initial: initial, progress: progress)
        case .cgls: return try cgls(projector, projections: projections, options: options, initial: initial, progress: progress)
        case .lsmr: return try lsmr(projector, projections: projections, options: options, initial: initial, progress: progress)
        case .fbp: return try fbp(projector, projections: projections, options: options)
        }
    }

    // MARK: - Weights

    /// mumott's SIRT weights and preconditioner (`get_sirt_weights`,
    /// `get_sirt_preconditioner`) for `projector`: `SIRT.Weights` of the
    /// single-channel projector with cut-offs, repeated over the channels.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func weights<S: OperatorScalar>(_ projector: JohnTransformProjector<S>, weightsCutoff: Double = 0.1,
                                                  preconditionerCutoff: Double = 0.1) -> SIRT.Weights<S> {
        let single = projector.singleChannel
        let w = SIRT.Weights(of: single, weighting: .cutoffs(rows: weightsCutoff, columns: preconditionerCutoff))
        let c = projector.channels
        guard c > 1 else { return w }
        func repeated(_ values: [S]) -> [S] {
            var out = [S](repeating: 0, count: values.count * c)
            for (i, v) in values.enumerated() { for ch in 0..<c { out[i * c + ch] = v } }
            return out
        }
        return SIRT.Weights(rows: repeated(w.rows), columns: repeated(w.columns))
    }

    /// mumott's SIRT weights `mask / max(P·1, cutoff)` with mask `P·1 > cutoff`
    /// (`get_sirt_weights`), shape `(N, J, K, 1)` flattened.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func sirtWeights<S: OperatorScalar>(_ projector: JohnTransformProjector<S>, cutoff: Double = 0.1) -> [S] {
        let single = projector.singleChannel
        return weights(single, weightsCutoff: cutoff).rows
    }

    /// mumott's SIRT preconditioner `mask / max(Pᵀ·1, cutoff)` with mask
    /// `Pᵀ·1 > cutoff` (`get_sirt_preconditioner`), shape `(X, Y, Z, 1)` flattened.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func sirtPreconditioner<S: OperatorScalar>(_ projector: JohnTransformProjector<S>, cutoff: Double = 0.1) -> [S] {
        let single = projector.singleChannel
        return weights(single, preconditionerCutoff: cutoff).columns
    }

    // MARK: - SIRT and MITRA

    /// mumott's SIRT (`run_sirt`): gradient descent with step ``Options/stepSize``
    /// on the weighted loss `½ Σ W (P x − d)²`, the gradient preconditioned
    /// by `C`: `x ← x − C Pᵀ W (P x − d)`, with the weights of
    /// ``weights(_:weightsCutoff:preconditionerCutoff:)``. Optional
    /// non-negativity; no momentum. Runs `SIRT` with
    /// `SIRT.Weighting.cutoffs(rows:columns:)`.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func sirt<S: OperatorScalar>(_ projector: JohnTransformProjector<S>, projections: Tensor<S>,
                                               options: Options = Options(), initial: Tensor<S>? = nil,
                                               progress: ProgressHandler? = nil) throws(TomographyError) -> Result<S> {
        var o = options
        o.nesterovWeight = 0
        return try weightedDescent(.sirt, projector, projections, o, initial, progress)
    }

    /// mumott's MITRA default (`run_mitra` with absorbances): the SIRT
    /// loss, weights and preconditioner, minimised by mumott's
    /// `GradientDescent` with Nesterov momentum (``Options/nesterovWeight``,
    /// default 0.95) and, with ``Options/mitra``, non-negativity:
    /// `g = C Pᵀ W (P(x − m) − d)`, `m ← m + s g`, `x ← x − m`, `m ← μ m`,
    /// `x ← max(x, 0)`. Runs `SIRT` with momentum.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func mitra<S: OperatorScalar>(_ projector: JohnTransformProjector<S>, projections: Tensor<S>,
                                                options: Options = .mitra, initial: Tensor<S>? = nil,
                                                progress: ProgressHandler? = nil) throws(TomographyError) -> Result<S> {
        try weightedDescent(.mitra, projector, projections, options, initial, progress)
    }

    @specialized(where S == Float)
    @specialized(where S == Double)
    static func validate<S: OperatorScalar>(_ projector: JohnTransformProjector<S>, _ projections: Tensor<S>, _ options: Options,
                                            _ initial: Tensor<S>?) throws(TomographyError) -> ([S], [S]) {
        guard projections.shape == projector.projectionsShape else {
            throw .shapeMismatch(argument: "projections", expected: projector.projectionsShape, received: projections.shape)
        }
        let data = projections.elements
        guard data.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "projections") }
        guard options.iterations >= 0 else { throw .invalidArgument(name: "iterations", expected: "≥ 0", received: "\(options.iterations)") }
        for (name, value) in [("tolerance", options.tolerance), ("weightsCutoff", options.weightsCutoff),
                              ("preconditionerCutoff", options.preconditionerCutoff), ("stepSize", options.stepSize)] {
            guard value.isFinite && value >= 0 else { throw .invalidArgument(name: name, expected: "a finite number ≥ 0", received: "\(value)") }
        }
        guard options.nesterovWeight >= 0 && options.nesterovWeight <= 1 else {
            throw .invalidArgument(name: "nesterovWeight", expected: "a number in [0, 1]", received: "\(options.nesterovWeight)")
        }
        var x = [S](repeating: 0, count: projector.columns)
        if let initial {
            guard initial.shape == projector.volumeShape else {
                throw .shapeMismatch(argument: "initial", expected: projector.volumeShape, received: initial.shape)
            }
            x = initial.elements
            guard x.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "initial") }
        }
        return (data, x)
    }

    @specialized(where S == Float)
    @specialized(where S == Double)
    static func weightedDescent<S: OperatorScalar>(_ method: Method, _ projector: JohnTransformProjector<S>, _ projections: Tensor<S>,
                                                   _ options: Options, _ initial: Tensor<S>?,
                                                   _ progress: ProgressHandler?) throws(TomographyError) -> Result<S> {
        let (data, start) = try validate(projector, projections, options, initial)
        let weighting = SIRT.Weighting.cutoffs(rows: options.weightsCutoff, columns: options.preconditionerCutoff)
        let configuration = SIRT.Configuration(maximumIterations: options.iterations, relaxation: options.stepSize,
                                               nonNegative: options.nonNegative, weighting: weighting,
                                               momentum: options.nesterovWeight, lossTolerance: options.tolerance)
        let w = weights(projector, weightsCutoff: options.weightsCutoff, preconditionerCutoff: options.preconditionerCutoff)
        let result: SIRT.Result<S>
        do {
            result = try SIRT.solve(projector, rhs: Tensor(data), x0: Tensor(start), configuration: configuration,
                                    weights: w, progress: progress)
        } catch { throw .solver(error) }
        return Result(solution: result.solution.reshaped(projector.volumeShape), stopReason: result.stopReason,
                      iterations: result.iterations, residualNorm: result.residualNorm,
                      residualHistory: result.residualHistory, diagnostics: Diagnostics(method: method))
    }

    // MARK: - CGLS and LSMR

    /// CGLS (`CGLS` from BeamlineSolvers) on the projector; with
    /// ``Options/nonNegative`` the result is clamped to ≥ 0 at the end.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func cgls<S: OperatorScalar>(_ projector: JohnTransformProjector<S>, projections: Tensor<S>,
                                               options: Options = Options(), initial: Tensor<S>? = nil,
                                               progress: ProgressHandler? = nil) throws(TomographyError) -> Result<S> {
        let (data, start) = try validate(projector, projections, options, initial)
        let result: CGLS.Result<S>
        do {
            result = try CGLS.solve(projector, rhs: Tensor(data), x0: Tensor(start),
                                    configuration: .init(tolerance: options.tolerance, maximumIterations: options.iterations),
                                    progress: progress)
        } catch { throw .solver(error) }
        return finish(.cgls, projector, data, result.solution.elements, options, result.iterations, result.residualHistory,
                      result.stopReason)
    }

    /// LSMR (`LSMR` from BeamlineSolvers, `atol = btol =` ``Options/tolerance``)
    /// on the projector; with ``Options/nonNegative`` the result is clamped
    /// at the end.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func lsmr<S: OperatorScalar>(_ projector: JohnTransformProjector<S>, projections: Tensor<S>,
                                               options: Options = Options(), initial: Tensor<S>? = nil,
                                               progress: ProgressHandler? = nil) throws(TomographyError) -> Result<S> {
        let (data, start) = try validate(projector, projections, options, initial)
        let result: LSMR.Result<S>
        do {
            result = try LSMR.solve(projector, rhs: Tensor(data), x0: Tensor(start),
                                    configuration: .init(atol: options.tolerance, btol: options.tolerance, conlim: 0,
                                                         maximumIterations: options.iterations),
                                    progress: progress)
        } catch { throw .solver(error) }
        return finish(.lsmr, projector, data, result.solution.elements, options, result.iterations, result.residualHistory,
                      result.stopReason)
    }

    @specialized(where S == Float)
    @specialized(where S == Double)
    static func finish<S: OperatorScalar>(_ method: Method, _ projector: JohnTransformProjector<S>, _ data: [S], _ solution: [S],
                                          _ options: Options, _ iterations: Int, _ history: [Double],
                                          _ reason: StopReason) -> Result<S> {
        var x = solution
        if options.nonNegative { for j in 0..<x.count where x[j] < 0 { x[j] = 0 } }
        var r = [S](repeating: 0, count: projector.rows)
        x.withUnsafeBufferPointer { xs in r.withUnsafeMutableBufferPointer { projector.apply(xs, into: $0) } }
        var norm2 = 0.0
        for i in 0..<r.count { let d = Double(r[i]) - Double(data[i]); norm2 += d * d }
        return Result(solution: Tensor(shape: projector.volumeShape, elements: x), stopReason: reason, iterations: iterations,
                      residualNorm: norm2.squareRoot(), residualHistory: history, diagnostics: Diagnostics(method: method))
    }

    // MARK: - FBP

    /// Filtered back-projection through the projector: each projection is
    /// filtered along `j` as scikit-image filters sinograms
    /// (``Radon/filterSinogram(_:filter:cutoff:derivative:)``), then back-projected
    /// with the exact adjoint and scaled by `π / (2N)`.
    /// Right for single-axis geometries whose rotation axis is the detector's
    /// `k` axis, with angles spread evenly over 180° or 360°; an
    /// approximation otherwise.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func fbp<S: OperatorScalar>(_ projector: JohnTransformProjector<S>, projections: Tensor<S>,
                                              options: Options = Options()) throws(TomographyError) -> Result<S> {
        let (data, _) = try validate(projector, projections, options, nil)
        guard options.frequencyCutoff > 0 && options.frequencyCutoff <= 1 else {
            throw .invalidArgument(name: "frequencyCutoff", expected: "a number in (0, 1]", received: "\(options.frequencyCutoff)")
        }
        let s = projector.projectionsShape
        let (n, nj, nk, c) = (s[0], s[1], s[2], s[3])
        let lines = n * nk * c
        // Gather every detector line along j as a column of a (J, lines) sinogram.
        var sinogram = [Double](repeating: 0, count: nj * lines)
        for i in 0..<n { for j in 0..<nj { for k in 0..<nk { for ch in 0..<c {
            sinogram[j * lines + (i * nk + k) * c + ch] = Double(data[((i * nj + j) * nk + k) * c + ch])
        } } } }
        let filtered = try Radon.filterSinogram(Tensor(shape: [nj, lines], elements: sinogram), filter: options.filter,
                                                cutoff: options.frequencyCutoff).elements
        var y = [S](repeating: 0, count: data.count)
        for i in 0..<n { for j in 0..<nj { for k in 0..<nk { for ch in 0..<c {
            y[((i * nj + j) * nk + k) * c + ch] = S(filtered[j * lines + (i * nk + k) * c + ch])
        } } } }
        var x = [S](repeating: 0, count: projector.columns)
        y.withUnsafeBufferPointer { ys in x.withUnsafeMutableBufferPointer { projector.applyAdjoint(ys, into: $0) } }
        let scale = S(Double.pi / Double(2 * n))
        for j in 0..<x.count { x[j] *= scale }
        return finish(.fbp, projector, data, x, options, 0, [], .direct)
    }
}

extension IterativeResult where Diagnostics == Reconstruction.Diagnostics {
    /// The reconstructed volume `(X, Y, Z, C)` (the ``solution``).
    public var volume: Solution { solution }
}
