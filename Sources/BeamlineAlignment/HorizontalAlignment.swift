import BeamlineSolvers
import BeamlineTensor
import BeamlineTomography

/// Horizontal alignment by tomographic consistency (toupy's
/// `alignprojections_horizontal`, `refine_horizontalalignment` and
/// `tomoconsistency_multiple`; Guizar-Sicairos et al., Opt. Express 19,
/// 21345, 2011).
///
/// Slices of the stack (``Options/slices`` rows around
/// ``Options/centralSlice``) are reconstructed by filtered back-projection
/// from the current shifts, re-projected, and the squared distance between
/// the measured and synthetic sinograms is minimised with Adam over one
/// horizontal shift per projection (see ``cost(_:anglesDegrees:shifts:options:)``
/// for the cost and its two gradients). A schedule of frequency cut-offs
/// (coarse to fine, each stage warm-starting the next) and a coarse
/// spatial stage (``Options/multiresolutionFactor``) widen the basin.
///
/// Differences from toupy 0.2.2, each deliberate:
/// - toupy searches each shift pixel by pixel, then by `pixtol`, against a
///   frozen synthetic sinogram; Beamline runs Adam on the exact gradient,
///   either frozen (``Gradient/frozenReference``, toupy's scheme) or through
///   the reconstruction and re-projection (``Gradient/full``, the default).
///   The frozen scheme has almost no restoring force on a common offset
///   of all projections (a misplaced rotation axis): use the full gradient,
///   or ``RotationAxis/estimate(_:anglesDegrees:shifts:options:)``, for that.
/// - The slices share one set of shifts and their costs are summed (toupy
///   aligns each slice and averages the shifts).
/// - toupy's `cliphigh` also subtracts the clip value from the slice;
///   Beamline only clips.
/// - The vertical shifts given are applied (linear interpolation between
///   rows) before the slices are taken.
public enum HorizontalAlignment {
    /// Which gradient Adam follows.
    public enum Gradient: String, Sendable, CaseIterable, Codable {
        /// The synthetic sinogram is held fixed while the gradient is
        /// taken (toupy's scheme).
        case frozenReference = "frozen"
        /// The exact gradient through the filtered back-projection and
        /// the re-projection (both linear with exact adjoints here).
        case full
    }

    /// Options (toupy's names in brackets).
    public struct Options: Sendable, Equatable {
        /// The middle slice (row) used (default the middle row).
        public var centralSlice: Int?
        /// The number of slices around it (`n_slices`; default 1).
        public var slices: Int
        /// The back-projection filter (`filtertype`; default ramp).
        public var filter: FBPFilter
        /// Frequency cut-offs, as fractions of Nyquist, run in order, each
        /// stage warm-starting the next (`freqcutoff`; default `[1]`).
        public var frequencyCutoffs: [Double]
        /// Zero the slices outside the reconstruction circle (`circle`;
        /// default true).
        public var circle: Bool
        /// Clip the slices below this (`cliplow`; default none).
        public var clipLow: Double?
        /// Clip the slices above this (`cliphigh`; default none).
        public var clipHigh: Double?
        /// Sub-pixel shift and its derivative (`shiftmeth`; default linear).
        public var shiftMethod: ShiftMethod
        /// The gradient followed (default ``Gradient/full``).
        public var gradient: Gradient
        /// Bin the columns by this factor for a coarse first stage (`mr_factor`;
        /// default 1, no coarse stage).
        public var multiresolutionFactor: Int
        /// Adam iterations of the coarse stage (`n_coarse_iter`; default 30).
        public var coarseIterations: Int
        /// The Adam schedule of each stage.
        public var optimizer: AlignmentOptimizer
        /// The stack holds derivative (phase-gradient) projections, the
        /// horizontal derivatives of the projections (toupy's
        /// `derivatives`; default false): the slices are reconstructed with
        /// the derivative filter (`FBPFilter.derivativeCoefficients(size:cutoff:)`,
        /// `filter`'s window), and the re-projection is differentiated the
        /// same way (toupy's `derivatives_sino` with ``shiftMethod``) before
        /// it is compared with the data. Make such projections with
        /// ``HorizontalAlignment/derivativeProjections(_:method:)``.
        public var derivatives: Bool
        /// With ``derivatives``: the stack holds plain projections, and
        /// only the reconstruction uses their derivatives (toupy's
        /// `calc_derivatives`; default false): each sinogram is
        /// differentiated (Fourier half-pixel shifts, as toupy) and
        /// back-projected with the derivative filter, and the re-projection
        /// is compared with the plain sinogram. Needs ``derivatives``.
        public var calculateDerivatives: Bool

        /// Creates options.
        public init(centralSlice: Int? = nil, slices: Int = 1, filter: FBPFilter = .ramp,
                    frequencyCutoffs: [Double] = [1], circle: Bool = true, clipLow: Double? = nil,
                    clipHigh: Double? = nil, shiftMethod: ShiftMethod = .linear, gradient: Gradient = .full,
                    multiresolutionFactor: Int = 1, coarseIterations: Int = 30,
                    optimizer: AlignmentOptimizer = AlignmentOptimizer(), derivatives: Bool = false,
                    calculateDerivatives: Bool = false) {
            self.centralSlice = centralSlice
            self.slices = slices
            self.filter = filter
            self.frequencyCutoffs = frequencyCutoffs
            self.circle = circle
            self.clipLow = clipLow
            self.clipHigh = clipHigh
            self.shiftMethod = shiftMethod
            self.gradient = gradient
            self.multiresolutionFactor = multiresolutionFactor
            self.coarseIterations = coarseIterations
            self.optimizer = optimizer
            self.derivatives = derivatives
            self.calculateDerivatives = calculateDerivatives
        }
    }

    /// Aligns `stack` horizontally, starting from `initial`.
    ///
    /// - Parameters:
    ///   - stack: projections `(projections, rows, columns)`, the rotation
    ///     axis along the rows.
    ///   - anglesDegrees: the angle of each projection, in degrees.
    ///   - initial: starting shifts (toupy's `shiftstack`; zero when nil);
    ///     the vertical ones are applied and returned unchanged.
    ///   - options: see ``Options``.
    ///   - progress: called after every Adam iteration; `.stop` cancels.
    /// - Throws: ``AlignmentError`` for mismatched angles, a stack that is
    ///   not 3-d or holds NaN/Inf, slices outside the stack, or bad options.
    public static func align<T: RealElement>(_ stack: Tensor<T>, anglesDegrees: [Double],
                                             initial: ProjectionShifts? = nil, options: Options = Options(),
                                             progress: ProgressHandler? = nil) throws(AlignmentError) -> AlignmentResult {
        let data = try ProjectionStack(stack)
        var shifts = initial ?? ProjectionShifts(count: data.projections)
        try shifts.check(projections: data.projections)
        try check(anglesDegrees, data: data, options: options)
        var horizontal = shifts.horizontal
        var history: [Double] = []
        var iterations = 0
        var reason = StopReason.optimizer(.iterationLimit)
        let rows = try sliceRows(data, vertical: shifts.vertical, options: options)
        let f = options.multiresolutionFactor
        if f > 1 && options.coarseIterations > 0 {
            let coarseColumns = data.columns / f
            let binned = bin(rows.values, count: rows.count, columns: data.columns, factor: f)
            let offset = Double(f - 1) / 2 + Double(f) * Double(coarseColumns / 2) - Double(data.columns / 2)
            var coarseOptimizer = options.optimizer
            coarseOptimizer.maximumIterations = options.coarseIterations
            coarseOptimizer.pixelTolerance = options.optimizer.pixelTolerance / Double(f)
            let coarse = try TomographicConsistency(
                sliceRows: binned, slices: rows.count / data.projections, projections: data.projections,
                columns: coarseColumns, anglesDegrees: anglesDegrees, method: options.shiftMethod,
                filter: options.filter, cutoff: options.frequencyCutoffs[0], circle: options.circle,
                clipLow: options.clipLow, clipHigh: options.clipHigh, derivatives: options.derivatives,
                calculateDerivatives: options.calculateDerivatives)
            let start = horizontal.map { ($0 - offset) / Double(f) }
            let stage = try minimize(coarse, from: start, gradient: options.gradient, optimizer: coarseOptimizer,
                                     progress: progress)
            horizontal = stage.shifts.map { Double(f) * $0 + offset }
            history += stage.history
            iterations += stage.iterations
            reason = stage.reason
            if reason == .cancelled {
                shifts.horizontal = horizontal
                return AlignmentResult(shifts: shifts, costHistory: history, iterations: iterations, stopReason: reason)
            }
        }
        for cutoff in options.frequencyCutoffs {
            let problem = try TomographicConsistency(
                sliceRows: rows.values, slices: rows.count / data.projections, projections: data.projections,
                columns: data.columns, anglesDegrees: anglesDegrees, method: options.shiftMethod, filter: options.filter,
                cutoff: cutoff, circle: options.circle, clipLow: options.clipLow, clipHigh: options.clipHigh,
                derivatives: options.derivatives, calculateDerivatives: options.calculateDerivatives)
            let stage = try minimize(problem, from: horizontal, gradient: options.gradient, optimizer: options.optimizer,
                                     progress: progress)
            horizontal = stage.shifts
            history += stage.history
            iterations += stage.iterations
            reason = stage.reason
            if reason == .cancelled { break }
        }
        shifts.horizontal = horizontal
        return AlignmentResult(shifts: shifts, costHistory: history, iterations: iterations, stopReason: reason)
    }

    /// The consistency cost and its gradient with respect to the
    /// horizontal shifts, at `shifts`, with the first frequency cut-off of
    /// `options`.
    ///
    /// - Throws: ``AlignmentError`` as ``align(_:anglesDegrees:initial:options:progress:)``.
    public static func cost<T: RealElement>(_ stack: Tensor<T>, anglesDegrees: [Double], shifts: ProjectionShifts,
                                            options: Options = Options()) throws(AlignmentError) -> (value: Double, gradient: [Double]) {
        let data = try ProjectionStack(stack)
        try shifts.check(projections: data.projections)
        try check(anglesDegrees, data: data, options: options)
        let rows = try sliceRows(data, vertical: shifts.vertical, options: options)
        let problem = try TomographicConsistency(
            sliceRows: rows.values, slices: rows.count / data.projections, projections: data.projections,
            columns: data.columns, anglesDegrees: anglesDegrees, method: options.shiftMethod, filter: options.filter,
            cutoff: options.frequencyCutoffs[0], circle: options.circle, clipLow: options.clipLow, clipHigh: options.clipHigh,
            derivatives: options.derivatives, calculateDerivatives: options.calculateDerivatives)
        return try problem.evaluate(shifts.horizontal, fullGradient: options.gradient == .full)
    }

    static func check(_ angles: [Double], data: ProjectionStack, options: Options) throws(AlignmentError) {
        guard angles.count == data.projections else {
            throw .invalidArgument(name: "anglesDegrees", expected: "\(data.projections) angles (one per projection)",
                                   received: "\(angles.count)")
        }
        guard angles.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "anglesDegrees") }
        guard options.slices >= 1 && options.slices <= data.rows else {
            throw .invalidArgument(name: "slices", expected: "1...\(data.rows) (the stack's rows)", received: "\(options.slices)")
        }
        let centre = options.centralSlice ?? data.rows / 2
        guard centre >= 0 && centre < data.rows else {
            throw .invalidArgument(name: "centralSlice", expected: "a row in 0..<\(data.rows)", received: "\(centre)")
        }
        guard !options.frequencyCutoffs.isEmpty, options.frequencyCutoffs.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw .invalidArgument(name: "frequencyCutoffs", expected: "one or more numbers in (0, 1]",
                                   received: "\(options.frequencyCutoffs)")
        }
        guard options.multiresolutionFactor >= 1 && data.columns / options.multiresolutionFactor >= 4 else {
            throw .invalidArgument(name: "multiresolutionFactor", expected: "1...\(max(1, data.columns / 4)) (≥ 4 binned columns)",
                                   received: "\(options.multiresolutionFactor)")
        }
        guard options.coarseIterations >= 0 else {
            throw .invalidArgument(name: "coarseIterations", expected: "≥ 0", received: "\(options.coarseIterations)")
        }
        if options.calculateDerivatives && !options.derivatives {
            throw .invalidArgument(name: "calculateDerivatives",
                                   expected: "derivatives = true as well (the derivatives feed the derivative filter)",
                                   received: "calculateDerivatives = true, derivatives = false")
        }
        if let low = options.clipLow, let high = options.clipHigh, !(low < high) {
            throw .invalidArgument(name: "clipLow", expected: "below clipHigh (\(high))", received: "\(low)")
        }
        try options.optimizer.check()
    }

    /// The rows of the chosen slices of every projection, after the
    /// vertical shifts: `slices × projections × columns`.
    static func sliceRows(_ data: ProjectionStack, vertical: [Double],
                          options: Options) throws(AlignmentError) -> (values: [Double], count: Int) {
        let centre = options.centralSlice ?? data.rows / 2
        let first = max(0, min(centre - options.slices / 2, data.rows - options.slices))
        let n = data.columns
        var values = [Double](repeating: 0, count: options.slices * data.projections * n)
        for s in 0..<options.slices {
            for p in 0..<data.projections {
                let (y0, y1, f) = linearNeighbours(Double(first + s) + vertical[p], count: data.rows)
                for x in 0..<n {
                    let a = data.values[(p * data.rows + y0) * n + x], b = data.values[(p * data.rows + y1) * n + x]
                    values[(s * data.projections + p) * n + x] = a + f * (b - a)
                }
            }
        }
        return (values, options.slices * data.projections)
    }

    /// Averages groups of `factor` columns (the remainder is dropped).
    static func bin(_ values: [Double], count: Int, columns: Int, factor: Int) -> [Double] {
        let coarse = columns / factor
        var out = [Double](repeating: 0, count: count * coarse)
        for r in 0..<count {
            for c in 0..<coarse {
                var sum = 0.0
                for k in 0..<factor { sum += values[r * columns + c * factor + k] }
                out[r * coarse + c] = sum / Double(factor)
            }
        }
        return out
    }

    struct Stage { var shifts: [Double]; var history: [Double]; var iterations: Int; var reason: StopReason }

    static func minimize(_ problem: TomographicConsistency, from start: [Double], gradient: Gradient,
                         optimizer: AlignmentOptimizer, progress: ProgressHandler?) throws(AlignmentError) -> Stage {
        let full = gradient == .full
        let objective: Objective<Double> = { x throws(SolverError) in
            let (value, g): (Double, [Double])
            do { (value, g) = try problem.evaluate(x.elements, fullGradient: full) } catch {
                throw .invalidArgument(name: "consistency cost", expected: "a computable cost", received: "\(error)")
            }
            return (value, Tensor(shape: [g.count], elements: g))
        }
        let initial = try problem.evaluate(start, fullGradient: full).value
        let result: OptimizationResult<Double>
        do {
            result = try Adam.minimize(objective, from: Tensor(shape: [start.count], elements: start),
                                       configuration: optimizer.adam, progress: progress)
        } catch { throw .solver(error) }
        return Stage(shifts: result.solution.elements, history: [initial] + result.residualHistory,
                     iterations: result.iterations, reason: result.stopReason)
    }
}
