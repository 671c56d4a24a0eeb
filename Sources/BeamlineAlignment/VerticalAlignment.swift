import BeamlineSolvers
import BeamlineTensor

/// Vertical alignment by mass fluctuation (toupy's
/// `alignprojections_vertical`; Guizar-Sicairos et al., Opt. Express 19,
/// 21345, 2011).
///
/// For each projection the row profile is the sum over the columns of the
/// region of interest (``Options/horizontalMargin`` columns left out at
/// both sides, ``Options/rows`` kept), shifted vertically by the
/// projection's shift, minus its least-squares polynomial of degree
/// ``Options/polynomialOrder``. The cost is the squared L2 distance of every
/// profile to their mean; it is minimised with Adam on its analytic
/// gradient (the derivative of the shifted profile with respect to the
/// shift, for each ``ShiftMethod``).
///
/// Differences from toupy 0.2.2, each deliberate:
/// - toupy searches pixel by pixel, then by `pixtol`; Beamline runs Adam on
///   the exact gradient, to sub-pixel precision in one pass.
/// - toupy wraps each profile around a margin of `max|shift| + 1` rows;
///   Beamline reads the whole projection (see ``ShiftMethod``).
/// - toupy crashes with `limsy=None` and with `alignx=True` (a wrong call
///   of `center_of_mass_stack`), and its centre-of-mass correction has the
///   wrong sign (`shiftstack[1] = −centre`); Beamline takes all rows when
///   ``Options/rows`` is nil and shifts by `+centre` (moving each centre of
///   mass to the middle of the region), without rounding.
/// - The mean vertical shift is kept at its starting value (the cost cannot
///   see a common shift); toupy re-centres on the rounded mean.
public enum VerticalAlignment {
    /// Options (toupy's names in brackets).
    public struct Options: Sendable, Equatable {
        /// Columns left out at each side of the projections (`deltax`;
        /// default 0).
        public var horizontalMargin: Int
        /// Rows of the profile (`limsy`; nil, the default, for all rows).
        public var rows: Range<Int>?
        /// Degree of the polynomial removed from each profile (`polyorder`;
        /// default 2, as toupy).
        public var polynomialOrder: Int
        /// Sub-pixel shift and its derivative (`shiftmeth`; default linear).
        public var shiftMethod: ShiftMethod
        /// Align horizontally by centre of mass first (`alignx`; default
        /// false). The horizontal shifts then replace the starting ones.
        public var alignHorizontally: Bool
        /// The Adam schedule.
        public var optimizer: AlignmentOptimizer

        /// Creates options.
        public init(horizontalMargin: Int = 0, rows: Range<Int>? = nil, polynomialOrder: Int = 2,
                    shiftMethod: ShiftMethod = .linear, alignHorizontally: Bool = false,
                    optimizer: AlignmentOptimizer = VerticalAlignment.defaultOptimizer) {
            self.horizontalMargin = horizontalMargin
            self.rows = rows
            self.polynomialOrder = polynomialOrder
            self.shiftMethod = shiftMethod
            self.alignHorizontally = alignHorizontally
            self.optimizer = optimizer
        }
    }

    /// The default Adam schedule here: a faster decay and a finer tolerance
    /// than ``AlignmentOptimizer``'s defaults, since one evaluation is cheap
    /// (1-d profiles): step 0.5 px × 0.96ᵗ, stop below 0.0002 px, at most
    /// 400 iterations.
    public static let defaultOptimizer = AlignmentOptimizer(stepSize: 0.5, stepSizeDecay: 0.96, maximumIterations: 400,
                                                            pixelTolerance: 0.0002)

    /// Aligns `stack` vertically, starting from `initial` (zero shifts when
    /// nil).
    ///
    /// - Parameters:
    ///   - stack: projections `(projections, rows, columns)`, the rotation
    ///     axis along the rows (toupy's layout).
    ///   - initial: starting shifts (toupy's `shiftstack`); the horizontal
    ///     ones are applied before the profiles are taken.
    ///   - options: see ``Options``.
    ///   - progress: called after every Adam iteration with the cost;
    ///     returning `.stop` cancels (the shifts so far are returned).
    /// - Returns: the shifts (vertical found; horizontal as given, or from
    ///   the centre of mass) and the cost history.
    /// - Throws: ``AlignmentError`` for a stack that is not 3-d or holds
    ///   NaN/Inf, shifts of the wrong length, a region of interest outside
    ///   the projections or too short for the polynomial, or bad options.
    public static func align<T: RealElement>(_ stack: Tensor<T>, initial: ProjectionShifts? = nil,
                                             options: Options = Options(),
                                             progress: ProgressHandler? = nil) throws(AlignmentError) -> AlignmentResult {
        let data = try ProjectionStack(stack)
        var shifts = initial ?? ProjectionShifts(count: data.projections)
        try shifts.check(projections: data.projections)
        try options.optimizer.check()
        let problem = try MassFluctuation(data, options: options, horizontal: &shifts.horizontal)
        let start = shifts.vertical
        let startMean = start.reduce(0, +) / Double(start.count)
        let objective: Objective<Double> = { x throws(SolverError) in
            let (value, gradient) = problem.cost(x.elements)
            return (value, Tensor(shape: [gradient.count], elements: gradient))
        }
        let initialCost = problem.cost(start).value
        let result: OptimizationResult<Double>
        do {
            result = try Adam.minimize(objective, from: Tensor(shape: [start.count], elements: start),
                                       configuration: options.optimizer.adam, progress: progress)
        } catch { throw .solver(error) }
        var vertical = result.solution.elements
        let mean = vertical.reduce(0, +) / Double(vertical.count)
        for i in vertical.indices { vertical[i] += startMean - mean }
        shifts.vertical = vertical
        return AlignmentResult(shifts: shifts, costHistory: [initialCost] + result.residualHistory,
                               iterations: result.iterations, stopReason: result.stopReason)
    }

    /// The mass-fluctuation profiles (toupy's `vertical_fluctuations`):
    /// `(projections, rows)` after the shifts and the polynomial removal.
    ///
    /// - Throws: ``AlignmentError`` as ``align(_:initial:options:progress:)``.
    public static func profiles<T: RealElement>(_ stack: Tensor<T>, shifts: ProjectionShifts,
                                                options: Options = Options()) throws(AlignmentError) -> Tensor<Double> {
        let data = try ProjectionStack(stack)
        try shifts.check(projections: data.projections)
        var horizontal = shifts.horizontal
        let problem = try MassFluctuation(data, options: options, horizontal: &horizontal)
        let values = problem.detrendedProfiles(shifts.vertical).values
        return Tensor(shape: [data.projections, problem.window.count], elements: values)
    }

    /// The cost `Σᵢ ‖pᵢ − p̄‖²` and its gradient with respect to the
    /// vertical shifts, at `shifts`.
    ///
    /// - Throws: ``AlignmentError`` as ``align(_:initial:options:progress:)``.
    public static func cost<T: RealElement>(_ stack: Tensor<T>, shifts: ProjectionShifts,
                                            options: Options = Options()) throws(AlignmentError) -> (value: Double, gradient: [Double]) {
        let data = try ProjectionStack(stack)
        try shifts.check(projections: data.projections)
        var horizontal = shifts.horizontal
        let problem = try MassFluctuation(data, options: options, horizontal: &horizontal)
        return problem.cost(shifts.vertical)
    }
}

/// The mass-fluctuation cost of one stack: the row sums (over the region's
/// columns, after the horizontal shifts) of every projection, shiftable
/// vertically, and the orthonormal polynomial basis of the window.
struct MassFluctuation: Sendable {
    let profiles: ShiftableProfiles
    let window: Range<Int>
    /// Orthonormal polynomials of degree 0...order over the window, `(order+1) × window.count`.
    let basis: [Double]
    let order: Int

    init(_ data: ProjectionStack, options: VerticalAlignment.Options, horizontal: inout [Double]) throws(AlignmentError) {
        let margin = options.horizontalMargin
        guard margin >= 0 && 2 * margin < data.columns else {
            throw .invalidArgument(name: "horizontalMargin", expected: "0 ≤ margin < columns / 2 = \(Double(data.columns) / 2)",
                                   received: "\(margin)")
        }
        let window = options.rows ?? 0..<data.rows
        guard window.lowerBound >= 0 && window.upperBound <= data.rows else {
            throw .invalidArgument(name: "rows", expected: "a range inside 0..<\(data.rows)", received: "\(window)")
        }
        guard options.polynomialOrder >= -1 && window.count > options.polynomialOrder + 1 else {
            throw .invalidArgument(name: "polynomialOrder",
                                   expected: "≥ -1 (none) and below the number of rows minus 1 (\(window.count - 1))",
                                   received: "\(options.polynomialOrder)")
        }
        let columns = margin..<(data.columns - margin)
        if options.alignHorizontally {
            horizontal = centresOfMass(data, rows: window, columns: columns)
        }
        var sums = [Double](repeating: 0, count: data.projections * data.rows)
        for p in 0..<data.projections {
            for y in 0..<data.rows {
                sums[p * data.rows + y] = data.shiftedRowSum(p, y, shift: horizontal[p], columns: columns)
            }
        }
        profiles = ShiftableProfiles(sums, count: data.projections, length: data.rows, method: options.shiftMethod,
                                     maximumShift: Double(data.rows))
        self.window = window
        order = options.polynomialOrder
        basis = orthonormalPolynomials(length: window.count, order: order)
    }

    /// The shifted profiles with their polynomial parts removed, and the
    /// derivatives of the shifted (not detrended) profiles.
    func detrendedProfiles(_ shifts: [Double]) -> (values: [Double], derivatives: [Double]) {
        var (values, derivatives) = profiles.evaluate(shifts: shifts, window: window)
        let w = window.count
        for p in 0..<profiles.count {
            for k in 0..<(order + 1) {
                var coefficient = 0.0
                for y in 0..<w { coefficient += basis[k * w + y] * values[p * w + y] }
                for y in 0..<w { values[p * w + y] -= coefficient * basis[k * w + y] }
            }
        }
        return (values, derivatives)
    }

    /// `E = Σᵢ ‖Q pᵢ − m‖²` with `m` the mean of the `Q pᵢ`, and
    /// `∂E/∂sᵢ = 2 (Q pᵢ − m) · ∂pᵢ/∂sᵢ` (Q is a symmetric projector and
    /// `Q pᵢ − m` lies in its range; the mean's own derivative cancels
    /// because the deviations sum to zero).
    func cost(_ shifts: [Double]) -> (value: Double, gradient: [Double]) {
        let (values, derivatives) = detrendedProfiles(shifts)
        let n = profiles.count, w = window.count
        var mean = [Double](repeating: 0, count: w)
        for p in 0..<n { for y in 0..<w { mean[y] += values[p * w + y] } }
        for y in 0..<w { mean[y] /= Double(n) }
        var value = 0.0
        var gradient = [Double](repeating: 0, count: n)
        for p in 0..<n {
            var g = 0.0
            for y in 0..<w {
                let deviation = values[p * w + y] - mean[y]
                value += deviation * deviation
                g += deviation * derivatives[p * w + y]
            }
            gradient[p] = 2 * g
        }
        return (value, gradient)
    }
}

/// Horizontal centre of mass of each projection inside the region,
/// relative to the region's middle column `⌊mean column⌋` (toupy's
/// reference), so that shifting by it centres the mass. Zero for a
/// projection without mass.
func centresOfMass(_ data: ProjectionStack, rows: Range<Int>, columns: Range<Int>) -> [Double] {
    let middle = Double(columns.lowerBound) + (Double(columns.count - 1) / 2).rounded(.down)
    var centres = [Double](repeating: 0, count: data.projections)
    for p in 0..<data.projections {
        var mass = 0.0, moment = 0.0
        for y in rows {
            let base = (p * data.rows + y) * data.columns
            for x in columns {
                let v = data.values[base + x]
                mass += v
                moment += v * (Double(x) - middle)
            }
        }
        centres[p] = mass != 0 ? moment / mass : 0
    }
    let mean = centres.reduce(0, +) / Double(max(centres.count, 1))
    return centres.map { $0 - mean }
}

/// Orthonormal polynomials of degree 0...order on `x = i − ⌈mean i⌉`,
/// `i = 0..<length` (toupy's `polynomial1d`), by modified Gram–Schmidt run
/// twice; `(order + 1) × length`, C order.
func orthonormalPolynomials(length: Int, order: Int) -> [Double] {
    guard order >= 0 else { return [] }
    let centre = (Double(length - 1) / 2).rounded(.up)
    var basis = [Double](repeating: 0, count: (order + 1) * length)
    for k in 0...order {
        for i in 0..<length {
            var power = 1.0
            for _ in 0..<k { power *= Double(i) - centre }
            basis[k * length + i] = power
        }
        for _ in 0..<2 {
            for j in 0..<k {
                var dot = 0.0
                for i in 0..<length { dot += basis[k * length + i] * basis[j * length + i] }
                for i in 0..<length { basis[k * length + i] -= dot * basis[j * length + i] }
            }
            var norm = 0.0
            for i in 0..<length { norm += basis[k * length + i] * basis[k * length + i] }
            norm = norm.squareRoot()
            for i in 0..<length { basis[k * length + i] /= norm > 0 ? norm : 1 }
        }
    }
    return basis
}
