import BeamlineSolvers
import BeamlineSparse
import BeamlineTensor

/// Tomographic reconstructions on a ``JohnTransformProjector``: mumott's
/// weighted SIRT, mumott's MITRA-style gradient descent with Nesterov
/// momentum, CGLS and LSMR (from BeamlineSolvers), and filtered
/// back-projection.
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

    /// A reconstruction and its diagnostics.
    public struct Result<Scalar: SparseElement>: Sendable {
        /// The volume, `(X, Y, Z, C)`.
        public var volume: Tensor<Scalar>
        /// Iterations run (0 for FBP).
        public var iterations: Int
        /// ‖P x − d‖₂ at the returned volume.
        public var residualNorm: Double
        /// ‖P x − d‖₂ before each iteration and at the end (SIRT, MITRA),
        /// or after each iteration (CGLS, LSMR).
        public var residualHistory: [Double]
        /// Why it stopped: "iteration_limit", "converged", or the solver's reason.
        public var stopReason: String
    }

    /// Runs `method` with `options`.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func run<S: SparseElement>(_ method: Method, projector: JohnTransformProjector<S>, projections: Tensor<S>,
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

    /// mumott's SIRT weights `mask / max(P·1, cutoff)` with mask `P·1 > cutoff`
    /// (`get_sirt_weights`), shape `(N, J, K, 1)` flattened.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func sirtWeights<S: SparseElement>(_ projector: JohnTransformProjector<S>, cutoff: Double = 0.1) -> [S] {
        let single = try! JohnTransformProjector<S>(geometry: projector.geometry, channels: 1, indices: projector.projectionIndices)
        var sums = [S](repeating: 0, count: single.rows)
        let ones = [S](repeating: 1, count: single.columns)
        ones.withUnsafeBufferPointer { o in sums.withUnsafeMutableBufferPointer { single.apply(o, into: $0) } }
        return sums.map { Double($0) > cutoff ? 1 / Swift.max($0, S(cutoff)) : 0 }
    }

    /// mumott's SIRT preconditioner `mask / max(Pᵀ·1, cutoff)` with mask
    /// `Pᵀ·1 > cutoff` (`get_sirt_preconditioner`), shape `(X, Y, Z, 1)` flattened.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func sirtPreconditioner<S: SparseElement>(_ projector: JohnTransformProjector<S>, cutoff: Double = 0.1) -> [S] {
        let single = try! JohnTransformProjector<S>(geometry: projector.geometry, channels: 1, indices: projector.projectionIndices)
        var sums = [S](repeating: 0, count: single.columns)
        let ones = [S](repeating: 1, count: single.rows)
        ones.withUnsafeBufferPointer { o in sums.withUnsafeMutableBufferPointer { single.applyAdjoint(o, into: $0) } }
        return sums.map { Double($0) > cutoff ? 1 / Swift.max($0, S(cutoff)) : 0 }
    }

    // MARK: - SIRT and MITRA

    /// mumott's SIRT (`run_sirt`): gradient descent with step ``Options/stepSize``
    /// on the weighted loss `½ Σ W (P x − d)²`, the gradient preconditioned
    /// by `C`: `x ← x − C Pᵀ W (P x − d)`, with ``sirtWeights(_:cutoff:)``
    /// `W` and ``sirtPreconditioner(_:cutoff:)`` `C`. Optional
    /// non-negativity; no momentum.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func sirt<S: SparseElement>(_ projector: JohnTransformProjector<S>, projections: Tensor<S>,
                                              options: Options = Options(), initial: Tensor<S>? = nil,
                                              progress: ProgressHandler? = nil) throws(TomographyError) -> Result<S> {
        var o = options
        o.nesterovWeight = 0
        return try weightedGradientDescent(projector, projections, o, initial, progress)
    }

    /// mumott's MITRA default (`run_mitra` with absorbances): the SIRT
    /// loss, weights and preconditioner, minimised by mumott's
    /// `GradientDescent` with Nesterov momentum (``Options/nesterovWeight``,
    /// default 0.95) and, with ``Options/mitra``, non-negativity:
    /// `g = C Pᵀ W (P(x − m) − d)`, `m ← m + s g`, `x ← x − m`, `m ← μ m`,
    /// `x ← max(x, 0)`.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func mitra<S: SparseElement>(_ projector: JohnTransformProjector<S>, projections: Tensor<S>,
                                               options: Options = .mitra, initial: Tensor<S>? = nil,
                                               progress: ProgressHandler? = nil) throws(TomographyError) -> Result<S> {
        try weightedGradientDescent(projector, projections, options, initial, progress)
    }

    @specialized(where S == Float)
    @specialized(where S == Double)
    static func validate<S: SparseElement>(_ projector: JohnTransformProjector<S>, _ projections: Tensor<S>, _ options: Options,
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
    static func weightedGradientDescent<S: SparseElement>(_ projector: JohnTransformProjector<S>, _ projections: Tensor<S>,
                                                          _ options: Options, _ initial: Tensor<S>?,
                                                          _ progress: ProgressHandler?) throws(TomographyError) -> Result<S> {
        let (data, start) = try validate(projector, projections, options, initial)
        var x = start
        let c = projector.channels
        let weights = sirtWeights(projector, cutoff: options.weightsCutoff)
        let preconditioner = sirtPreconditioner(projector, cutoff: options.preconditionerCutoff)
        let (m, n) = (projector.rows, projector.columns)
        var residual = [S](repeating: 0, count: m), gradient = [S](repeating: 0, count: n)
        var momentum = [S](repeating: 0, count: n), point = [S](repeating: 0, count: n)
        let step = S(options.stepSize), mu = S(options.nesterovWeight)
        var history: [Double] = []
        var previousLoss = -1.0
        var iterations = 0
        var reason = "iteration_limit"
        // Blocks of the residual reduction: fixed size, so the per-block
        // partial sums (combined in block order) do not depend on the thread count.
        let blockSize = 8192
        var partials = [Double](repeating: 0, count: 2 * ((m + blockSize - 1) / blockSize))
        // r = P y − d at `y`, returns (‖r‖, ½ Σ W r²), and leaves W r in `residual`.
        func evaluate(_ y: [S]) -> (Double, Double) {
            y.withUnsafeBufferPointer { ys in residual.withUnsafeMutableBufferPointer { projector.apply(ys, into: $0) } }
            residual.withUnsafeMutableBufferPointer { rs in
                data.withUnsafeBufferPointer { ds in
                    weights.withUnsafeBufferPointer { ws in
                        partials.withUnsafeMutableBufferPointer { ps in
                            let (r, d, w, p) = (SendableMutableBuffer(rs), UnsafePointer(ds.baseAddress!),
                                                UnsafePointer(ws.baseAddress!), SendableMutableBuffer(ps))
                            let (dd, wd) = (SendableBuffer(start: d, validIndices: 0..<ds.count), SendableBuffer(start: w, validIndices: 0..<ws.count))
                            Parallel.forEachBlock(count: m, blockSize: blockSize) { block, range in
                                var norm2 = 0.0, loss = 0.0
                                var pixel = range.lowerBound / c, channel = range.lowerBound - pixel * c
                                for i in range {
                                    let ri = r[i] - dd[i]
                                    let wi = wd[pixel]
                                    let r2 = Double(ri) * Double(ri)
                                    norm2 += r2
                                    loss += 0.5 * Double(wi) * r2
                                    r[i] = wi * ri
                                    channel += 1
                                    if channel == c { channel = 0; pixel += 1 }
                                }
                                p[2 * block] = norm2
                                p[2 * block + 1] = loss
                            }
                        }
                    }
                }
            }
            var norm2 = 0.0, loss = 0.0
            for b in 0..<(partials.count / 2) { norm2 += partials[2 * b]; loss += partials[2 * b + 1] }
            return (norm2.squareRoot(), loss)
        }
        // x ← x − (m + s C g), m ← μ (m + s C g), optionally x ← max(x, 0); point = x − m for the next iteration.
        func update() {
            let nonNegative = options.nonNegative
            x.withUnsafeMutableBufferPointer { xs in momentum.withUnsafeMutableBufferPointer { ms in
                gradient.withUnsafeBufferPointer { gs in preconditioner.withUnsafeBufferPointer { cs in
                    point.withUnsafeMutableBufferPointer { ps in
                        let (xp, mp, pp) = (SendableMutableBuffer(xs), SendableMutableBuffer(ms), SendableMutableBuffer(ps))
                        let gp = SendableBuffer(gs)
                        let cp = SendableBuffer(cs)
                        Parallel.forEachChunk(count: n, minimumChunk: 16384) { range in
                            var voxel = range.lowerBound / c, channel = range.lowerBound - voxel * c
                            for j in range {
                                var mj = mp[j] + step * cp[voxel] * gp[j]
                                var v = xp[j] - mj
                                if nonNegative && v < 0 { v = 0 }
                                xp[j] = v
                                mj *= mu
                                mp[j] = mj
                                pp[j] = v - mj
                                channel += 1
                                if channel == c { channel = 0; voxel += 1 }
                            }
                        }
                    }
                } }
            } }
        }
        point = x
        for j in 0..<n { point[j] = x[j] - momentum[j] }
        while iterations < options.iterations {
            let (norm, loss) = evaluate(point)
            history.append(norm)
            residual.withUnsafeBufferPointer { rs in gradient.withUnsafeMutableBufferPointer { projector.applyAdjoint(rs, into: $0) } }
            iterations += 1
            update()
            progress?(IterationProgress(iteration: iterations, maximumIterations: options.iterations, value: norm))
            if options.tolerance > 0 && previousLoss >= 0 && loss > 0 && (previousLoss - loss) / loss < options.tolerance {
                reason = "converged"
                break
            }
            previousLoss = loss
        }
        let (finalNorm, _) = evaluate(x)
        history.append(finalNorm)
        return Result(volume: Tensor(shape: projector.volumeShape, elements: x), iterations: iterations,
                      residualNorm: finalNorm, residualHistory: history, stopReason: reason)
    }

    // MARK: - CGLS and LSMR

    /// CGLS (``CGLS`` from BeamlineSolvers) on the projector; with
    /// ``Options/nonNegative`` the result is clamped to ≥ 0 at the end.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func cgls<S: SparseElement>(_ projector: JohnTransformProjector<S>, projections: Tensor<S>,
                                              options: Options = Options(), initial: Tensor<S>? = nil,
                                              progress: ProgressHandler? = nil) throws(TomographyError) -> Result<S> {
        let (data, start) = try validate(projector, projections, options, initial)
        var history: [Double] = []
        let result: IterativeResult<S>
        do {
            result = try CGLS.solve(projector, rhs: Tensor(data), x0: Tensor(start),
                                    configuration: .init(tolerance: options.tolerance, maximumIterations: options.iterations),
                                    progress: { history.append($0.value); progress?($0) })
        } catch { throw .invalidArgument(name: "CGLS", expected: "a solvable problem", received: "\(error)") }
        return finish(projector, data, result.solution.elements, options, result.iterations, history, result.stopReason.rawValue)
    }

    /// LSMR (``LSMR`` from BeamlineSolvers, `atol = btol =` ``Options/tolerance``)
    /// on the projector; with ``Options/nonNegative`` the result is clamped
    /// at the end.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func lsmr<S: SparseElement>(_ projector: JohnTransformProjector<S>, projections: Tensor<S>,
                                              options: Options = Options(), initial: Tensor<S>? = nil,
                                              progress: ProgressHandler? = nil) throws(TomographyError) -> Result<S> {
        let (data, start) = try validate(projector, projections, options, initial)
        var history: [Double] = []
        let result: LSMR.Result<S>
        do {
            result = try LSMR.solve(projector, rhs: Tensor(data), x0: Tensor(start),
                                    configuration: .init(atol: options.tolerance, btol: options.tolerance, conlim: 0,
                                                         maximumIterations: options.iterations),
                                    progress: { history.append($0.value); progress?($0) })
        } catch { throw .invalidArgument(name: "LSMR", expected: "a solvable problem", received: "\(error)") }
        return finish(projector, data, result.solution.elements, options, result.iterations, history, "\(result.stopReason)")
    }

    @specialized(where S == Float)
    @specialized(where S == Double)
    static func finish<S: SparseElement>(_ projector: JohnTransformProjector<S>, _ data: [S], _ solution: [S], _ options: Options,
                                         _ iterations: Int, _ history: [Double], _ reason: String) -> Result<S> {
        var x = solution
        if options.nonNegative { for j in 0..<x.count where x[j] < 0 { x[j] = 0 } }
        var r = [S](repeating: 0, count: projector.rows)
        x.withUnsafeBufferPointer { xs in r.withUnsafeMutableBufferPointer { projector.apply(xs, into: $0) } }
        var norm2 = 0.0
        for i in 0..<r.count { let d = Double(r[i]) - Double(data[i]); norm2 += d * d }
        return Result(volume: Tensor(shape: projector.volumeShape, elements: x), iterations: iterations,
                      residualNorm: norm2.squareRoot(), residualHistory: history, stopReason: reason)
    }

    // MARK: - FBP

    /// Filtered back-projection through the projector: each projection is
    /// filtered along `j` as scikit-image filters sinograms
    /// (``Radon/filterSinogram(_:pixels:angles:filter:cutoff:)``), then
    /// back-projected with the exact adjoint and scaled by `π / (2N)`.
    /// Right for single-axis geometries whose rotation axis is the detector's
    /// `k` axis, with angles spread evenly over 180° or 360°; an
    /// approximation otherwise.
    @specialized(where S == Float)
    @specialized(where S == Double)
    public static func fbp<S: SparseElement>(_ projector: JohnTransformProjector<S>, projections: Tensor<S>,
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
        let filtered = Radon.filterSinogram(sinogram, pixels: nj, angles: lines, filter: options.filter, cutoff: options.frequencyCutoff)
        var y = [S](repeating: 0, count: data.count)
        for i in 0..<n { for j in 0..<nj { for k in 0..<nk { for ch in 0..<c {
            y[((i * nj + j) * nk + k) * c + ch] = S(filtered[j * lines + (i * nk + k) * c + ch])
        } } } }
        var x = [S](repeating: 0, count: projector.columns)
        y.withUnsafeBufferPointer { ys in x.withUnsafeMutableBufferPointer { projector.applyAdjoint(ys, into: $0) } }
        let scale = S(Double.pi / Double(2 * n))
        for j in 0..<x.count { x[j] *= scale }
        return finish(projector, data, x, options, 0, [], "direct")
    }
}
