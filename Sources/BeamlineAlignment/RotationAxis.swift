import BeamlineTensor
import BeamlineTomography

/// The rotation-axis offset, estimated without a GUI (replacing toupy's
/// `estimate_rot_axis` picker).
///
/// For a trial offset `o` every projection is shifted horizontally by
/// `o` on top of its own shift (sub-pixel, with the chosen
/// ``ShiftMethod``; toupy's linear shift locks to whole pixels), and the
/// tomographic-consistency cost of the chosen slices is computed: a
/// misplaced axis makes the sinogram inconsistent (projections θ and
/// θ + 180° no longer mirror each other about the centre), so the cost is
/// smallest at the right offset. The offsets are scanned on a grid of
/// whole pixels over ``Options/range``, then refined around the best one
/// with steps of 1/4, 1/16 and 1/64 pixel (and ``Options/finestStep``).
public enum RotationAxis {
    /// Options.
    public struct Options: Sendable, Equatable {
        /// Offsets scanned: `−range...range` pixels (default 10).
        public var range: Double
        /// The smallest refinement step, in pixels (default 0.01).
        public var finestStep: Double
        /// The slices, filter, cut-off (the first of the schedule), circle,
        /// clipping and shift method used for the cost; its optimiser and
        /// gradient settings are not used.
        public var consistency: HorizontalAlignment.Options

        /// Creates options (the shift method defaults to Fourier, whose
        /// sub-pixel shifts do not favour whole pixels).
        public init(range: Double = 10, finestStep: Double = 0.01,
                    consistency: HorizontalAlignment.Options = HorizontalAlignment.Options(shiftMethod: .fourier)) {
            self.range = range
            self.finestStep = finestStep
            self.consistency = consistency
        }
    }

    /// The estimate: the best offset (pixels, in toupy's shift
    /// convention: add it to every horizontal shift) and every trial
    /// `(offset, cost)` in the order scanned.
    public struct Estimate: Sendable, Equatable {
        /// The offset with the smallest cost.
        public var offset: Double
        /// Every trial, in the order scanned.
        public var scan: [(offset: Double, cost: Double)]

        /// Two estimates are equal when their offsets and scans are.
        public static func == (a: Estimate, b: Estimate) -> Bool {
            a.offset == b.offset && a.scan.count == b.scan.count
                && zip(a.scan, b.scan).allSatisfy { $0.offset == $1.offset && $0.cost == $1.cost }
        }
    }

    /// Scans the axis offset of `stack` (see ``RotationAxis``).
    ///
    /// - Throws: ``AlignmentError`` as
    ///   ``HorizontalAlignment/align(_:anglesDegrees:initial:options:progress:)``,
    ///   and for a range or step that is not positive and finite.
    public static func estimate<T: RealElement>(_ stack: Tensor<T>, anglesDegrees: [Double],
                                                shifts: ProjectionShifts? = nil,
                                                options: Options = Options()) throws(AlignmentError) -> Estimate {
        guard options.range.isFinite && options.range > 0 else {
            throw .invalidArgument(name: "range", expected: "a finite number > 0 (pixels)", received: "\(options.range)")
        }
        guard options.finestStep.isFinite && options.finestStep > 0 && options.finestStep <= 1 else {
            throw .invalidArgument(name: "finestStep", expected: "a number in (0, 1] (pixels)", received: "\(options.finestStep)")
        }
        let data = try ProjectionStack(stack)
        let base = shifts ?? ProjectionShifts(count: data.projections)
        try base.check(projections: data.projections)
        let c = options.consistency
        try HorizontalAlignment.check(anglesDegrees, data: data, options: c)
        let rows = try HorizontalAlignment.sliceRows(data, vertical: base.vertical, options: c)
        let problem = try TomographicConsistency(
            sliceRows: rows.values, slices: rows.count / data.projections, projections: data.projections,
            columns: data.columns, anglesDegrees: anglesDegrees, method: c.shiftMethod, filter: c.filter,
            cutoff: c.frequencyCutoffs[0], circle: c.circle, clipLow: c.clipLow, clipHigh: c.clipHigh,
            derivatives: c.derivatives, calculateDerivatives: c.calculateDerivatives)
        var scan: [(offset: Double, cost: Double)] = []
        func score(_ o: Double) throws(AlignmentError) -> Double {
            let value = try problem.evaluate(base.horizontal.map { $0 + o }, fullGradient: false).value
            scan.append((o, value))
            return value
        }
        var best = 0.0, bestCost = Double.infinity
        let whole = Int(options.range.rounded(.down))
        for k in -whole...whole {
            let value = try score(Double(k))
            if value < bestCost { (best, bestCost) = (Double(k), value) }
        }
        var step = 1.0
        while step > options.finestStep {
            step = max(step / 4, options.finestStep)
            let centre = best
            for k in [-3, -2, -1, 1, 2, 3] {
                let o = centre + Double(k) * step
                guard abs(o) <= options.range else { continue }
                let value = try score(o)
                if value < bestCost { (best, bestCost) = (o, value) }
            }
        }
        return Estimate(offset: best, scan: scan)
    }
}
