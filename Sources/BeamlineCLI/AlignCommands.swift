import ArgumentParser
import Beamline
import Foundation

extension ShiftMethod: ExpressibleByArgument {}
extension HorizontalAlignment.Gradient: ExpressibleByArgument {}

/// `beamline align`: tomographic alignment of a projection stack.
struct AlignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Align a projection stack: vertical (mass fluctuation), horizontal (tomographic consistency), both, the rotation axis, or apply shifts.",
        discussion: """
            The stack is (projections, rows, columns) with the rotation axis along the rows, as toupy's. \
            Shifts are toupy's shiftstack, shape (2, projections): row 0 vertical, row 1 horizontal, in \
            toupy's convention aligned(y, x) = projection(y + vertical, x + horizontal).
            """,
        subcommands: [AlignPhaseMatchingCommand.self, AlignVerticalCommand.self, AlignHorizontalCommand.self, AlignBothCommand.self,
                      AlignAxisCommand.self, AlignApplyCommand.self]
    )
}

/// The options every alignment command shares.
struct AlignInput: ParsableArguments {
    @Option(help: "Projection stack (projections, rows, columns): file.npy, file.npz:member or file.h5:/dataset[selection].",
            completion: .file(extensions: arrayExtensions))
    var stack: String

    @Option(help: "Starting shifts, toupy's shiftstack (2, projections) (default zeros).",
            completion: .file(extensions: arrayExtensions))
    var initial: String?

    @Option(help: "Sub-pixel shift method: linear, fourier or spline.")
    var method: ShiftMethod = .linear

    @Option(name: .customLong("max-iterations"), help: "Adam iterations per stage (toupy's maxit; default 400 vertical, 200 horizontal).")
    var maxIterations: Int?

    @Option(name: .customLong("pixel-tolerance"), help: "Stop when no shift moves more than this in an iteration (pixels; toupy's pixtol; default 0.0002 vertical, 0.002 horizontal).")
    var pixelTolerance: Double?

    @Option(name: .customLong("step-size"), help: "Adam's first step (pixels; default 0.5).")
    var stepSize: Double?

    @Option(name: .customLong("step-decay"), help: "Factor applied to the step after every iteration, in (0, 1] (default 0.96 vertical, 0.97 horizontal).")
    var stepDecay: Double?

    @Option(help: "Stop when the cost improves by less than this fraction in an iteration (toupy's rtol; 0 = off).")
    var rtol: Double?

    /// `base` with the options given on the command line.
    func optimizer(_ base: AlignmentOptimizer) -> AlignmentOptimizer {
        AlignmentOptimizer(stepSize: stepSize ?? base.stepSize, stepSizeDecay: stepDecay ?? base.stepSizeDecay,
                           maximumIterations: maxIterations ?? base.maximumIterations,
                           pixelTolerance: pixelTolerance ?? base.pixelTolerance,
                           relativeTolerance: rtol ?? base.relativeTolerance)
    }

    func loadStack() throws -> Tensor<Double> { try ArrayFiles.loadDoubles(stack, option: "--stack") }

    func loadInitial(projections: Int) throws -> ProjectionShifts {
        guard let initial else { return ProjectionShifts(count: projections) }
        do {
            let shifts = try ProjectionShifts(shiftstack: try ArrayFiles.loadDoubles(initial, option: "--initial"))
            guard shifts.count == projections else {
                throw CommandError("--initial \(initial): expected shape (2, \(projections)), received (2, \(shifts.count))")
            }
            return shifts
        } catch let error as AlignmentError {
            throw CommandError(argument: "--initial", value: initial, error)
        }
    }
}

/// Angles of the projections.
struct AlignAngles: ParsableArguments {
    @Option(help: "Projection angles, one per projection (degrees unless --radians).",
            completion: .file(extensions: arrayExtensions))
    var angles: String

    @Flag(help: "The angles are in radians.")
    var radians = false

    func load(projections: Int) throws -> [Double] {
        let values = try ArrayFiles.loadDoubles(angles, option: "--angles").elements
        guard values.count == projections else {
            throw CommandError("--angles \(angles): expected \(projections) angles (one per projection), received \(values.count)")
        }
        return radians ? values.map { $0 * 180 / Double.pi } : values
    }
}

/// Options of the vertical alignment.
struct VerticalOptions: ParsableArguments {
    @Option(help: "Columns left out at each side (toupy's deltax).")
    var margin = 0

    @Option(help: "Rows used, as start:end (toupy's limsy; default all rows).")
    var rows: String?

    @Option(name: .customLong("poly-order"), help: "Degree of the polynomial removed from each profile (toupy's polyorder).")
    var polyOrder = 2

    @Flag(name: .customLong("align-x"), help: "Align horizontally by centre of mass first (toupy's alignx).")
    var alignX = false

    func options(_ input: AlignInput) throws -> VerticalAlignment.Options {
        var range: Range<Int>?
        if let rows {
            let parts = rows.split(separator: ":").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let a = parts[0], let b = parts[1], a < b else {
                throw CommandError("--rows: expected start:end with start < end, received \(rows)")
            }
            range = a..<b
        }
        return VerticalAlignment.Options(horizontalMargin: margin, rows: range, polynomialOrder: polyOrder,
                                         shiftMethod: input.method, alignHorizontally: alignX,
                                         optimizer: input.optimizer(VerticalAlignment.defaultOptimizer))
    }
}

/// Options of the horizontal alignment.
struct HorizontalOptions: ParsableArguments {
    @Option(help: "Number of slices around the central one (toupy's n_slices).")
    var slices = 1

    @Option(name: .customLong("central-slice"), help: "The central slice (row; default the middle row).")
    var centralSlice: Int?

    @Option(help: "Frequency cut-offs run in order, as fractions of Nyquist, e.g. 0.1,0.2,0.4 (toupy's freqcutoff).")
    var schedule: NumberList<Double>?

    @Option(help: "Bin the columns by this factor for a coarse first stage (toupy's mr_factor; 1 = off).")
    var multiresolution = 1

    @Option(name: .customLong("coarse-iterations"), help: "Adam iterations of the coarse stage (toupy's n_coarse_iter).")
    var coarseIterations = 30

    @Option(help: "Back-projection filter: ramp, shepp-logan, cosine, hamming, hann or none.")
    var filter: FBPFilter = .ramp

    @Option(help: "Gradient: full (through the reconstruction) or frozen (toupy's scheme).")
    var gradient: HorizontalAlignment.Gradient = .full

    @Flag(name: .customLong("no-circle"), help: "Do not zero the slice outside the reconstruction circle.")
    var noCircle = false

    @Option(name: .customLong("clip-low"), help: "Clip the slices below this (toupy's cliplow).")
    var clipLow: Double?

    @Option(name: .customLong("clip-high"), help: "Clip the slices above this (toupy's cliphigh, without its offset).")
    var clipHigh: Double?

    @Flag(help: "Work on derivative (phase-gradient) projections (toupy's derivatives): the slices are reconstructed with the derivative filter and the re-projection is differentiated (with --method) before the comparison. For align horizontal, --stack holds the derivative projections; align both computes them from --stack for its horizontal stage (toupy's calculate_derivatives, Fourier shifts).")
    var derivatives = false

    @Flag(name: .customLong("calc-derivatives"), help: "With --derivatives: --stack holds plain projections, which only the reconstruction differentiates (toupy's calc_derivatives, Fourier shifts); the comparison is on the plain sinograms.")
    var calcDerivatives = false

    func validate() throws {
        if calcDerivatives && !derivatives {
            throw ValidationError("--calc-derivatives needs --derivatives as well (toupy's calc_derivatives differentiates the projections for the derivative filter that derivatives=True selects)")
        }
    }

    func options(_ input: AlignInput) -> HorizontalAlignment.Options {
        HorizontalAlignment.Options(centralSlice: centralSlice, slices: slices, filter: filter, frequencyCutoffs: schedule?.values ?? [1],
                                    circle: !noCircle, clipLow: clipLow, clipHigh: clipHigh, shiftMethod: input.method,
                                    gradient: gradient, multiresolutionFactor: multiresolution,
                                    coarseIterations: coarseIterations, optimizer: input.optimizer(AlignmentOptimizer()),
                                    derivatives: derivatives, calculateDerivatives: calcDerivatives)
    }
}

/// What an alignment command reports.
struct AlignReport: Encodable {
    let stack: String
    let out: String
    let projections: Int
    let costHistory: [Double]
    let iterations: Int
    let stopReason: String
    let maxVerticalShift: Double
    let maxHorizontalShift: Double
    enum CodingKeys: String, CodingKey {
        case stack, out, projections, iterations
        case costHistory = "cost_history", stopReason = "stop_reason"
        case maxVerticalShift = "max_vertical_shift", maxHorizontalShift = "max_horizontal_shift"
    }

    init(_ input: AlignInput, out: String, history: [Double], iterations: Int, reason: StopReason, shifts: ProjectionShifts) {
        stack = input.stack
        self.out = out
        projections = shifts.count
        costHistory = history
        self.iterations = iterations
        stopReason = reason.description
        maxVerticalShift = shifts.vertical.map(abs).max() ?? 0
        maxHorizontalShift = shifts.horizontal.map(abs).max() ?? 0
    }
}

/// Runs one alignment with a progress bar, writes the shifts, reports.
private func runAlignment(_ input: AlignInput, out: String, extraInputs: [(String, String)] = [], label: String,
                          _ body: (Tensor<Double>, ProjectionShifts, @escaping ProgressHandler) throws -> AlignmentResult) throws -> AlignReport {
    _ = try OutputCheck(inputs: [("--stack", input.stack)] + (input.initial.map { [("--initial", $0)] } ?? []) + extraInputs,
                        output: ("--out", out))
    let stack = try input.loadStack()
    guard stack.rank == 3 else {
        throw CommandError("--stack \(input.stack): expected a 3-d array (projections, rows, columns), received shape \(stack.shape)")
    }
    let initial = try input.loadInitial(projections: stack.shape[0])
    let progress = CommandProgress(label: label)
    let result: AlignmentResult
    do {
        defer { progress.finish() }
        result = try body(stack, initial, progress.handler)
    } catch let error as AlignmentError {
        throw CommandError("--stack \(input.stack): \(error)")
    }
    if result.stopReason == .cancelled { throw Interrupted() }
    try Interrupt.check()
    try ArrayFiles.write(result.shifts.shiftstack, to: out)
    return AlignReport(input, out: out, history: result.costHistory, iterations: result.iterations,
                       reason: result.stopReason, shifts: result.shifts)
}

/// `beamline align vertical`.
struct AlignVerticalCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "vertical",
        abstract: "Vertical alignment by mass fluctuation (toupy's alignprojections_vertical), Adam on the exact gradient.",
        discussion: "Writes the shifts (2, projections) to --out (.npy/.npz/.h5); the horizontal row is the starting one (or the centre-of-mass one with --align-x).")
    @OptionGroup var input: AlignInput
    @OptionGroup var vertical: VerticalOptions
    @Option(help: "Output shifts file (toupy's shiftstack, (2, projections)).", completion: .file(extensions: arrayExtensions))
    var out: String
    @OptionGroup var threads: ThreadOptions

    func execute() throws -> AlignReport {
        let options = try vertical.options(input)
        return try runAlignment(input, out: out, label: "vertical") { stack, initial, handler in
            try VerticalAlignment.align(stack, initial: initial, options: options, progress: handler)
        }
    }
}

/// `beamline align horizontal`.
struct AlignHorizontalCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "horizontal",
        abstract: "Horizontal alignment by tomographic consistency (toupy's alignprojections_horizontal), Adam on the exact gradient.",
        discussion: """
            Phase-gradient data (toupy's derivatives=True): pass the derivative projections as --stack with \
            --derivatives; or the plain projections with --derivatives --calc-derivatives (toupy's \
            calc_derivatives: the reconstruction differentiates them, the comparison stays on the plain \
            sinograms). Derivative projections can converge more slowly \
            (more iterations, a --schedule, or --calc-derivatives; see docs/alignment.md).
            """)
    @OptionGroup var input: AlignInput
    @OptionGroup var angles: AlignAngles
    @OptionGroup var horizontal: HorizontalOptions
    @Option(help: "Output shifts file (toupy's shiftstack, (2, projections)).", completion: .file(extensions: arrayExtensions))
    var out: String
    @OptionGroup var threads: ThreadOptions

    func execute() throws -> AlignReport {
        let options = horizontal.options(input)
        return try runAlignment(input, out: out, extraInputs: [("--angles", angles.angles)], label: "horizontal") { stack, initial, handler in
            let degrees = try angles.load(projections: stack.shape[0])
            return try HorizontalAlignment.align(stack, anglesDegrees: degrees, initial: initial, options: options, progress: handler)
        }
    }
}

/// `beamline align both`: vertical, then horizontal from its result.
struct AlignBothCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "both",
        abstract: "Vertical alignment, then horizontal alignment starting from its shifts.",
        discussion: """
            --stack holds plain projections (the vertical alignment needs them). With --derivatives the \
            horizontal stage runs on their derivative projections, computed as toupy's \
            calculate_derivatives does (Fourier half-pixel shifts); with --derivatives --calc-derivatives \
            on the plain projections, as toupy's calc_derivatives.
            """)
    @OptionGroup var input: AlignInput
    @OptionGroup var angles: AlignAngles
    @OptionGroup var vertical: VerticalOptions
    @OptionGroup var horizontal: HorizontalOptions
    @Option(help: "Output shifts file (toupy's shiftstack, (2, projections)).", completion: .file(extensions: arrayExtensions))
    var out: String
    @OptionGroup var threads: ThreadOptions

    func execute() throws -> AlignReport {
        let verticalOptions = try vertical.options(input)
        let horizontalOptions = horizontal.options(input)
        return try runAlignment(input, out: out, extraInputs: [("--angles", angles.angles)], label: "align") { stack, initial, handler in
            let degrees = try angles.load(projections: stack.shape[0])
            let first = try VerticalAlignment.align(stack, initial: initial, options: verticalOptions, progress: handler)
            if first.stopReason == .cancelled { return first }
            // toupy's workflow: vertical alignment on the projections, then
            // the horizontal one on their derivatives.
            let horizontalStack = horizontalOptions.derivatives && !horizontalOptions.calculateDerivatives
                ? try HorizontalAlignment.derivativeProjections(stack) : stack
            var second = try HorizontalAlignment.align(horizontalStack, anglesDegrees: degrees, initial: first.shifts,
                                                       options: horizontalOptions, progress: handler)
            second.costHistory = first.costHistory + second.costHistory
            second.iterations += first.iterations
            return second
        }
    }
}

/// `beamline align axis`.
struct AlignAxisCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "axis",
        abstract: "Estimate the rotation-axis offset: the sub-pixel common horizontal shift with the most consistent sinogram.",
        discussion: "Prints the offset (add it to every horizontal shift) and the scan (offset, cost) in the JSON summary; --out writes the shifts with the offset added.")
    @OptionGroup var input: AlignInput
    @OptionGroup var angles: AlignAngles
    @Option(help: "Offsets scanned: -range...range pixels.")
    var range = 10.0
    @Option(name: .customLong("finest-step"), help: "Smallest refinement step (pixels).")
    var finestStep = 0.01
    @Option(help: "Number of slices around the central one.")
    var slices = 1
    @Option(help: "Output shifts file with the offset added to the horizontal row (optional).",
            completion: .file(extensions: arrayExtensions))
    var out: String?
    @Option(help: "Write a PNG plot of the scan (cost against offset, the best offset marked) to this file.",
            completion: .file(extensions: ["png"]))
    var plot: String?
    @OptionGroup var threads: ThreadOptions

    struct Report: Encodable {
        let offset: Double
        let scan: [[Double]]
        let out: String?
        let plot: String?
    }

    func execute() throws -> Report {
        let inputs = [("--stack", input.stack), ("--angles", angles.angles)] + (input.initial.map { [("--initial", $0)] } ?? [])
        if let out { _ = try OutputCheck(inputs: inputs, output: ("--out", out)) }
        if let plot { _ = try OutputCheck(inputs: inputs, output: ("--plot", plot), outputIsArray: false) }
        let stack = try input.loadStack()
        guard stack.rank == 3 else {
            throw CommandError("--stack \(input.stack): expected a 3-d array (projections, rows, columns), received shape \(stack.shape)")
        }
        var shifts = try input.loadInitial(projections: stack.shape[0])
        let degrees = try angles.load(projections: stack.shape[0])
        var options = RotationAxis.Options(range: range, finestStep: finestStep)
        options.consistency.slices = slices
        options.consistency.shiftMethod = input.method == .linear ? .fourier : input.method
        let estimate: RotationAxis.Estimate
        do { estimate = try RotationAxis.estimate(stack, anglesDegrees: degrees, shifts: shifts, options: options) } catch {
            throw CommandError("--stack \(input.stack): \(error)")
        }
        try Interrupt.check()
        if let out {
            shifts.horizontal = shifts.horizontal.map { $0 + estimate.offset }
            try ArrayFiles.write(shifts.shiftstack, to: out)
        }
        if let plot {
            let png = try Self.scanPlot(estimate)
            let written: Result<Void, AtomicFile.Failure> = png.withUnsafeBytes { raw in
                Result { () throws(AtomicFile.Failure) in try AtomicFile.write(raw, to: plot) }
            }
            if case .failure(let failure) = written { throw CommandError("--plot \(plot): \(failure)") }
        }
        return Report(offset: estimate.offset, scan: estimate.scan.map { [$0.offset, $0.cost] }, out: out, plot: plot)
    }

    /// A 480 × 280 grey PNG: the scan's points (cost against offset, the
    /// cost axis from its minimum to its maximum), joined in offset order,
    /// inside a frame, with a vertical line at the best offset.
    static func scanPlot(_ estimate: RotationAxis.Estimate) throws -> Data {
        let (width, height, margin) = (480, 280, 20)
        var pixels = [UInt8](repeating: 255, count: width * height)
        func set(_ x: Int, _ y: Int, _ value: UInt8 = 0) {
            if x >= 0 && x < width && y >= 0 && y < height { pixels[y * width + x] = value }
        }
        for x in margin...(width - margin) { set(x, margin); set(x, height - margin) }
        for y in margin...(height - margin) { set(margin, y); set(width - margin, y) }
        let points = estimate.scan.sorted { $0.offset < $1.offset }
        guard let first = points.first, let last = points.last else {
            return try PNGFile.encodeGrayscale(pixels, width: width, height: height)
        }
        let costs = points.map(\.cost)
        let (low, high) = (costs.min() ?? 0, costs.max() ?? 1)
        let span = max(last.offset - first.offset, 1e-12), range = max(high - low, 1e-300)
        func position(_ offset: Double, _ cost: Double) -> (Int, Int) {
            let x = Double(margin) + (offset - first.offset) / span * Double(width - 2 * margin)
            let y = Double(height - margin) - (cost - low) / range * Double(height - 2 * margin)
            return (Int(x.rounded()), Int(y.rounded()))
        }
        let best = position(estimate.offset, low).0
        for y in stride(from: margin, through: height - margin, by: 4) { set(best, y, 128) }
        for (a, b) in zip(points, points.dropFirst()) {
            let (p, q) = (position(a.offset, a.cost), position(b.offset, b.cost))
            let steps = max(abs(q.0 - p.0), abs(q.1 - p.1), 1)
            for k in 0...steps {
                let t = Double(k) / Double(steps)
                set(Int((Double(p.0) + t * Double(q.0 - p.0)).rounded()), Int((Double(p.1) + t * Double(q.1 - p.1)).rounded()))
            }
        }
        for point in points {
            let (x, y) = position(point.offset, point.cost)
            for dx in -1...1 { for dy in -1...1 { set(x + dx, y + dy) } }
        }
        return try PNGFile.encodeGrayscale(pixels, width: width, height: height)
    }
}

/// `beamline align apply`.
struct AlignApplyCommand: BeamlineSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Write the aligned stack: aligned(y, x) = projection(y + vertical, x + horizontal) (toupy's compute_aligned_stack).")
    @Option(help: "Projection stack (projections, rows, columns).", completion: .file(extensions: arrayExtensions))
    var stack: String
    @Option(help: "Shifts, toupy's shiftstack (2, projections).", completion: .file(extensions: arrayExtensions))
    var shifts: String
    @Option(help: "Sub-pixel shift method: linear, fourier or spline.")
    var method: ShiftMethod = .linear
    @Option(help: "Output stack file.", completion: .file(extensions: arrayExtensions))
    var out: String
    @OptionGroup var threads: ThreadOptions

    struct Report: Encodable { let stack, shifts, out: String }

    func execute() throws -> Report {
        _ = try OutputCheck(inputs: [("--stack", stack), ("--shifts", shifts)], output: ("--out", out))
        let data = try ArrayFiles.loadDoubles(stack, option: "--stack")
        let aligned: Tensor<Double>
        do {
            let s = try ProjectionShifts(shiftstack: try ArrayFiles.loadDoubles(shifts, option: "--shifts"))
            guard data.rank == 3, s.count == data.shape[0] else {
                throw CommandError("--shifts \(shifts): expected shape (2, \(data.rank == 3 ? data.shape[0] : -1)) for --stack of shape \(data.shape), received (2, \(s.count))")
            }
            aligned = try s.apply(to: data, method: method)
        } catch let error as AlignmentError {
            throw CommandError(argument: "--stack", value: stack, error)
        }
        try ArrayFiles.write(aligned, to: out)
        return Report(stack: stack, shifts: shifts, out: out)
    }
}
