import BeamlineSolvers
import BeamlineTensor

/// The Adam schedule shared by the alignment methods: Adam (Kingma & Ba)
/// on one shift per projection, with an exponentially decaying step so the
/// iterates settle to a fraction of a pixel, stopping when no shift moved
/// by more than ``pixelTolerance`` in an iteration, when the cost improved
/// by less than ``relativeTolerance`` (toupy's `rtol`), or after
/// ``maximumIterations``.
public struct AlignmentOptimizer: Sendable, Equatable {
    /// Adam's first step, in pixels (default 0.5).
    public var stepSize: Double
    /// The step is multiplied by this after every iteration (default 0.97).
    public var stepSizeDecay: Double
    /// Iteration limit (toupy's `maxit`; default 200).
    public var maximumIterations: Int
    /// Stop when the largest change of a shift in one iteration is at most
    /// this, in pixels (toupy's `pixtol`; default 0.002).
    public var pixelTolerance: Double
    /// Stop when the relative improvement of the cost in one iteration is
    /// at most this (toupy's `rtol`; default 0, off).
    public var relativeTolerance: Double

    /// Creates a schedule.
    public init(stepSize: Double = 0.5, stepSizeDecay: Double = 0.97, maximumIterations: Int = 200,
                pixelTolerance: Double = 0.002, relativeTolerance: Double = 0) {
        self.stepSize = stepSize
        self.stepSizeDecay = stepSizeDecay
        self.maximumIterations = maximumIterations
        self.pixelTolerance = pixelTolerance
        self.relativeTolerance = relativeTolerance
    }

    /// Adam's configuration for this schedule (the gradient tolerance is
    /// off: alignment stops on pixels, not on the gradient's scale).
    var adam: Adam.Configuration {
        Adam.Configuration(stepSize: stepSize, maximumIterations: maximumIterations, gradientTolerance: 0,
                           stepSizeDecay: stepSizeDecay, stepTolerance: pixelTolerance,
                           valueTolerance: relativeTolerance)
    }

    func check() throws(AlignmentError) {
        guard stepSize.isFinite && stepSize > 0 else {
            throw .invalidArgument(name: "stepSize", expected: "a finite number > 0 (pixels)", received: "\(stepSize)")
        }
        guard stepSizeDecay > 0 && stepSizeDecay <= 1 else {
            throw .invalidArgument(name: "stepSizeDecay", expected: "a number in (0, 1]", received: "\(stepSizeDecay)")
        }
        guard maximumIterations >= 0 else {
            throw .invalidArgument(name: "maximumIterations", expected: "≥ 0", received: "\(maximumIterations)")
        }
        guard pixelTolerance.isFinite && pixelTolerance >= 0 else {
            throw .invalidArgument(name: "pixelTolerance", expected: "a finite number ≥ 0", received: "\(pixelTolerance)")
        }
        guard relativeTolerance.isFinite && relativeTolerance >= 0 else {
            throw .invalidArgument(name: "relativeTolerance", expected: "a finite number ≥ 0", received: "\(relativeTolerance)")
        }
    }
}

/// Shifts of a projection stack in toupy's `shiftstack` layout: row 0 the
/// vertical shifts, row 1 the horizontal ones, one column per projection,
/// in toupy's sign convention (the aligned projection is
/// `aligned(y, x) = projection(y + vertical, x + horizontal)`).
public struct ProjectionShifts: Sendable, Equatable {
    /// Vertical shift of each projection, in pixels.
    public var vertical: [Double]
    /// Horizontal shift of each projection, in pixels.
    public var horizontal: [Double]

    /// Shifts from two arrays of equal length.
    public init(vertical: [Double], horizontal: [Double]) {
        self.vertical = vertical
        self.horizontal = horizontal
    }

    /// Zero shifts for `count` projections.
    public init(count: Int) {
        self.init(vertical: [Double](repeating: 0, count: count), horizontal: [Double](repeating: 0, count: count))
    }

    /// Shifts from toupy's `(2, N)` `shiftstack`.
    ///
    /// - Throws: ``AlignmentError`` when the shape is not `(2, N)` or a
    ///   value is not finite.
    public init<T: RealElement>(shiftstack: Tensor<T>) throws(AlignmentError) {
        guard shiftstack.rank == 2 && shiftstack.shape[0] == 2 else {
            throw .invalidArgument(name: "shiftstack", expected: "shape (2, projections)", received: "shape \(shiftstack.shape)")
        }
        let values = RealConversion.doubles(shiftstack.elements)
        guard values.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "shiftstack") }
        let n = shiftstack.shape[1]
        self.init(vertical: Array(values[0..<n]), horizontal: Array(values[n..<(2 * n)]))
    }

    /// The number of projections.
    public var count: Int { vertical.count }

    /// toupy's `(2, N)` `shiftstack`: vertical, then horizontal.
    public var shiftstack: Tensor<Double> { Tensor(shape: [2, count], elements: vertical + horizontal) }

    func check(projections: Int) throws(AlignmentError) {
        guard vertical.count == projections && horizontal.count == projections else {
            throw .invalidArgument(name: "shifts", expected: "\(projections) vertical and horizontal shifts (one per projection)",
                                   received: "\(vertical.count) and \(horizontal.count)")
        }
        guard vertical.allSatisfy(\.isFinite) && horizontal.allSatisfy(\.isFinite) else {
            throw .nonFiniteValues(argument: "shifts")
        }
    }
}

/// The outcome of an alignment: the shifts, the cost after each
/// iteration (the first entry is the starting cost), and why it stopped.
public struct AlignmentResult: Sendable {
    /// The shifts found (those not aligned are returned as given).
    public var shifts: ProjectionShifts
    /// The cost at the start, then after each iteration (every stage of a
    /// schedule appends its own).
    public var costHistory: [Double]
    /// Adam iterations run, over every stage.
    public var iterations: Int
    /// Why the last stage stopped.
    public var stopReason: StopReason
}

/// A 3-d projection stack `(projections, rows, columns)` as `Double`, checked.
struct ProjectionStack: Sendable {
    let values: [Double]
    let projections: Int
    let rows: Int
    let columns: Int

    init<T: RealElement>(_ stack: Tensor<T>, argument: String = "stack") throws(AlignmentError) {
        guard stack.rank == 3, stack.shape.allSatisfy({ $0 > 0 }) else {
            throw .invalidArgument(name: argument, expected: "a non-empty 3-d array (projections, rows, columns)",
                                   received: "shape \(stack.shape)")
        }
        let values = RealConversion.doubles(stack.elements)
        guard values.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: argument) }
        self.values = values
        (projections, rows, columns) = (stack.shape[0], stack.shape[1], stack.shape[2])
    }

    /// Row `y` of projection `p`, shifted horizontally by `h` (linear
    /// interpolation, edge values beyond the ends), summed over `columns`.
    func shiftedRowSum(_ p: Int, _ y: Int, shift h: Double, columns range: Range<Int>) -> Double {
        let base = (p * rows + y) * columns
        var sum = 0.0
        let lower = h.rounded(.down), f = h - lower
        let k = Int(max(-Double(columns) - 1, min(Double(columns) + 1, lower)))
        for x in range {
            let a = values[base + min(max(x + k, 0), columns - 1)]
            let b = values[base + min(max(x + k + 1, 0), columns - 1)]
            sum += a + f * (b - a)
        }
        return sum
    }
}

extension ProjectionShifts {
    /// The aligned stack: `aligned[p](y, x) = stack[p](y + vertical[p], x + horizontal[p])`
    /// (toupy's `compute_aligned_stack`), shifting each projection along
    /// its columns, then along its rows, with `method` (values beyond the
    /// edges as described in ``ShiftMethod``).
    ///
    /// - Throws: ``AlignmentError`` for a stack that is not 3-d or holds
    ///   NaN/Inf, or shifts of the wrong length.
    public func apply<T: RealElement>(to stack: Tensor<T>, method: ShiftMethod = .linear) throws(AlignmentError) -> Tensor<T> {
        let data = try ProjectionStack(stack)
        try check(projections: data.projections)
        let (rows, columns) = (data.rows, data.columns)
        var out = [T](repeating: 0, count: data.values.count)
        for p in 0..<data.projections {
            // Along the columns: one profile per row.
            let image = Array(data.values[(p * rows * columns)..<((p + 1) * rows * columns)])
            let across = ShiftableProfiles(image, count: rows, length: columns, method: method,
                                           maximumShift: abs(horizontal[p]) + 1)
            let shiftedRows = across.evaluate(shifts: [Double](repeating: horizontal[p], count: rows), window: 0..<columns).values
            // Along the rows: one profile per column.
            var transposed = [Double](repeating: 0, count: rows * columns)
            for y in 0..<rows { for x in 0..<columns { transposed[x * rows + y] = shiftedRows[y * columns + x] } }
            let down = ShiftableProfiles(transposed, count: columns, length: rows, method: method,
                                         maximumShift: abs(vertical[p]) + 1)
            let shifted = down.evaluate(shifts: [Double](repeating: vertical[p], count: columns), window: 0..<rows).values
            for y in 0..<rows { for x in 0..<columns { out[(p * rows + y) * columns + x] = T(shifted[x * rows + y]) } }
        }
        return Tensor(shape: stack.shape, elements: out)
    }
}
