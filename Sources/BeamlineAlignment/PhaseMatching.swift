import BeamlineOperators
import BeamlineRegistration
import BeamlineSolvers
import BeamlineTensor
import BeamlineTomography

/// Phase-matching alignment (mumott 2.3's `run_phase_matching_alignment`):
/// each iteration reconstructs the volume from the current offsets, projects
/// it, registers each sampled projection of the reconstruction against the
/// data by phase cross-correlation, and moves the projections' `j` and `k`
/// offsets by the shifts found.
///
/// Every option of mumott's pipeline is here (see ``Options``), with these
/// differences, each deliberate:
/// - Sampling is seeded (``Options/seed``); mumott draws from an unseeded
///   generator, so its runs with a sample size below 1 or a relaxation
///   weight above 0 cannot be repeated.
/// - The sample holds `⌈(N − ignored) · relativeSampleSize⌉` projections;
///   mumott computes `int(⌈N − ignored⌉ · size)`, which rounds down.
/// - The centre-of-mass term compares the data's centre of mass (on the
///   detector, from its centre, plus the offset) with the projection of
///   the reconstruction's centre of mass (from the volume's centre); mumott
///   mixes detector and volume indices counted from their corners, which
///   agree only for projections along the volume's axes.
/// - Nothing is rebuilt that does not depend on the offsets: the projector's
///   ray plans are rebuilt from the new offsets (microseconds per
///   projection); mumott recompiles its projector every iteration.
public enum PhaseMatchingAlignment {
    /// A Python-style slice of one detector axis: `start` and `end` may be
    /// negative (counted from the end) or nil (the ends).
    public struct AxisCrop: Sendable, Equatable {
        /// First index kept (nil: 0).
        public var start: Int?
        /// One past the last index kept (nil: the length).
        public var end: Int?
        /// A crop.
        public init(start: Int? = nil, end: Int? = nil) {
            self.start = start
            self.end = end
        }
        /// No cropping.
        public static var all: AxisCrop { AxisCrop() }

        func range(length: Int, name: String) throws(AlignmentError) -> Range<Int> {
            func resolve(_ v: Int?, _ fallback: Int) -> Int {
                guard let v else { return fallback }
                return v < 0 ? max(0, length + v) : min(v, length)
            }
            let (a, b) = (resolve(start, 0), resolve(end, length))
            guard b - a >= 2 else {
                throw .invalidArgument(name: name, expected: "a slice keeping at least 2 of \(length) pixels",
                                       received: "\(start.map(String.init) ?? ""):\(end.map(String.init) ?? "")")
            }
            return a..<b
        }
    }

    /// Options (mumott's argument names in brackets; mumott's defaults).
    public struct Options: Sendable, Equatable {
        /// Projections whose offsets never change (`ignored_subset`); they
        /// still enter the reconstruction.
        public var ignoredSubset: Set<Int>
        /// Cropping of the projections and data along `j` and `k` before
        /// registration (`projection_cropping`).
        public var cropJ: AxisCrop
        /// See ``cropJ``.
        public var cropK: AxisCrop
        /// The reconstruction run each iteration (default MITRA).
        public var reconstructionMethod: Reconstruction.Method
        /// Its options (default mumott's MITRA: 20 iterations, non-negative).
        public var reconstruction: Reconstruction.Options
        /// Alignment iterations (`maxiter`; default 20).
        public var maximumIterations: Int
        /// Upsampling factor of the registration (`upsampling`; default 1).
        /// At 1 the masked cross-correlation is used, with the mask of the
        /// rays that carry weight.
        public var upsampling: Int
        /// Stop when the largest shift of an iteration is below this
        /// (`shift_tolerance`; default `1 / upsampling`).
        public var shiftTolerance: Double?
        /// Longer shifts are rescaled to this length (`shift_cutoff`;
        /// default `5 / upsampling`).
        public var shiftCutoff: Double?
        /// Fraction of the projections registered per iteration
        /// (`relative_sample_size`; default 1).
        public var relativeSampleSize: Double
        /// Stochastic relaxation toward the mean offset
        /// (`relaxation_weight`; default 0).
        public var relaxationWeight: Double
        /// Pull toward the reconstruction's centre of mass
        /// (`center_of_mass_shift_weight`; default 0).
        public var centerOfMassShiftWeight: Double
        /// Align along `j` (`align_j`; default true).
        public var alignJ: Bool
        /// Align along `k` (`align_k`; default true).
        public var alignK: Bool
        /// Seed of the sampling and relaxation (default 0).
        public var seed: UInt64

        /// Creates options.
        public init(ignoredSubset: Set<Int> = [], cropJ: AxisCrop = .all, cropK: AxisCrop = .all,
                    reconstructionMethod: Reconstruction.Method = .mitra,
                    reconstruction: Reconstruction.Options = .mitra, maximumIterations: Int = 20, upsampling: Int = 1,
                    shiftTolerance: Double? = nil, shiftCutoff: Double? = nil, relativeSampleSize: Double = 1,
                    relaxationWeight: Double = 0, centerOfMassShiftWeight: Double = 0, alignJ: Bool = true,
                    alignK: Bool = true, seed: UInt64 = 0) {
            self.ignoredSubset = ignoredSubset
            self.cropJ = cropJ
            self.cropK = cropK
            self.reconstructionMethod = reconstructionMethod
            self.reconstruction = reconstruction
            self.maximumIterations = maximumIterations
            self.upsampling = upsampling
            self.shiftTolerance = shiftTolerance
            self.shiftCutoff = shiftCutoff
            self.relativeSampleSize = relativeSampleSize
            self.relaxationWeight = relaxationWeight
            self.centerOfMassShiftWeight = centerOfMassShiftWeight
            self.alignJ = alignJ
            self.alignK = alignK
            self.seed = seed
        }
    }

    /// The outcome: the geometry with the final offsets, the last
    /// reconstruction `(X, Y, Z, 1)`, its projections and the reference
    /// `(N, J, K, 1)`, and the offsets after every iteration.
    public struct Result<Scalar: OperatorScalar>: Sendable {
        /// The geometry with the aligned offsets.
        public var geometry: Geometry
        /// The reconstruction of the last iteration.
        public var reconstruction: Tensor<Scalar>
        /// Its projections (with the offsets it was made with).
        public var projections: Tensor<Scalar>
        /// The data the projections were registered against.
        public var reference: Tensor<Scalar>
        /// `j` offsets after each iteration.
        public var jOffsetHistory: [[Double]]
        /// `k` offsets after each iteration.
        public var kOffsetHistory: [[Double]]
        /// The largest shift of each iteration.
        public var maximumShiftHistory: [Double]
        /// Iterations run.
        public var iterations: Int
        /// `converged` (largest shift below the tolerance), `iteration_limit`
        /// or `cancelled`.
        public var stopReason: StopReason
    }

    /// Aligns `absorbances` (the reference, `(N, J, K)` or `(N, J, K, 1)`)
    /// starting from `geometry`'s offsets.
    ///
    /// - Parameters:
    ///   - absorbances: the data, `(N, J, K)` or `(N, J, K, 1)`.
    ///   - weights: the data's weights, same shape (rays with weight 0 are
    ///     masked out of the registration at upsampling 1, as mumott's
    ///     `data_container.weights`); nil for all ones.
    ///   - geometry: the scan, with the starting offsets.
    ///   - options: see ``Options``.
    ///   - progress: called after each alignment iteration with the largest
    ///     shift as the value; `.stop` cancels.
    /// - Throws: ``AlignmentError`` for data that does not match the
    ///   geometry, non-finite values, an ignored subset that covers every
    ///   projection or holds indices outside, crops outside the detector,
    ///   neither direction aligned, or bad options.
    public static func align<S: OperatorScalar & RegistrationScalar>(
        absorbances: Tensor<S>, weights: Tensor<S>? = nil, geometry: Geometry, options: Options = Options(),
        progress: ProgressHandler? = nil
    ) throws(AlignmentError) -> Result<S> {
        let n = geometry.count
        let (nj, nk) = (geometry.projectionShape[0], geometry.projectionShape[1])
        let shape4 = [n, nj, nk, 1]
        guard absorbances.shape == [n, nj, nk] || absorbances.shape == shape4 else {
            throw .invalidArgument(name: "absorbances", expected: "shape \([n, nj, nk]) from the geometry",
                                   received: "shape \(absorbances.shape)")
        }
        let reference = absorbances.reshaped(shape4)
        guard reference.elements.allSatisfy({ $0.isFinite }) else { throw .nonFiniteValues(argument: "absorbances") }
        var userMask = [Bool](repeating: true, count: n * nj * nk)
        if let weights {
            guard weights.count == n * nj * nk else {
                throw .invalidArgument(name: "weights", expected: "shape \([n, nj, nk])", received: "shape \(weights.shape)")
            }
            let w = weights.elements
            guard w.allSatisfy({ $0.isFinite }) else { throw .nonFiniteValues(argument: "weights") }
            userMask = w.map { $0 > 0 }
        }
        try check(options, projections: n)
        return try iterate(reference: reference, userMask: userMask, geometry: geometry, options: options,
                           progress: progress) { (current: Geometry) throws(AlignmentError) -> IterationModel<S> in
            do throws(TomographyError) {
                let projector = try JohnTransformProjector<S>(geometry: current)
                let reconstruction = try Reconstruction.run(options.reconstructionMethod, projector: projector,
                                                            projections: reference, options: options.reconstruction).solution
                var seen: [Bool]?
                if options.upsampling == 1 {
                    let sirt = Reconstruction.sirtWeights(projector, cutoff: options.reconstruction.weightsCutoff)
                    var positive = [Bool](repeating: false, count: sirt.count)
                    for ray in sirt.indices { positive[ray] = sirt[ray] > 0 }
                    seen = positive
                }
                return IterationModel(reconstruction: reconstruction, density: reconstruction.elements,
                                      projections: projector.apply(reconstruction), raysSeen: seen)
            } catch {
                throw .tomography(error)
            }
        }
    }

    /// Aligns scattering data by its segment means (mumott's
    /// `run_phase_matching_alignment` with `use_absorbances=False`): each
    /// iteration reconstructs the coefficients of `basisSet` from `data`
    /// with the tensor pipeline (MITRA by default, mumott's), and registers
    /// the mean over detector segments of their modelled intensities
    /// `B(P c)` against the mean of the data over segments.
    ///
    /// mumott's default basis for this mode is `GaussianKernels` with grid
    /// scale `segments / 2 + 1`; pass it explicitly. At upsampling 1 the
    /// correlation is masked to the rays whose tensor SIRT weights are
    /// positive in every segment and whose data weights are positive.
    /// The centre-of-mass term uses the first coefficient's density, as
    /// mumott does. Everything else is as in
    /// ``align(absorbances:weights:geometry:options:progress:)``.
    ///
    /// - Parameters:
    ///   - data: the scattering data `(N, J, K, S)`.
    ///   - weights: its weights `(N, J, K, S)`, nil for all ones.
    ///   - basisSet: the basis of the reconstruction.
    ///   - geometry: the scan (detector angles included), with the starting offsets.
    ///   - options: the alignment's options (``Options/reconstructionMethod``
    ///     and ``Options/reconstruction`` are not used in this mode).
    ///   - pipeline: the tensor reconstruction (default MITRA).
    ///   - reconstruction: its options (default mumott's: 20 iterations, SIRT weights).
    ///   - progress: as in the absorbance mode.
    /// - Throws: ``AlignmentError`` for data or weights that do not match the
    ///   geometry, non-finite values, and the errors of the absorbance mode.
    public static func align<S: OperatorScalar & RegistrationScalar, B: TensorBasisSet>(
        segmentData data: Tensor<S>, weights: Tensor<S>? = nil, basisSet: B, geometry: Geometry,
        options: Options = Options(), pipeline: TensorPipeline = .mitra,
        reconstruction: TensorReconstructionOptions = TensorReconstructionOptions(),
        progress: ProgressHandler? = nil
    ) throws(AlignmentError) -> Result<S> {
        let n = geometry.count
        let (nj, nk, segments) = (geometry.projectionShape[0], geometry.projectionShape[1], geometry.segmentCount)
        guard data.shape == [n, nj, nk, segments] else {
            throw .invalidArgument(name: "data", expected: "shape \([n, nj, nk, segments]) from the geometry",
                                   received: "shape \(data.shape)")
        }
        guard data.elements.allSatisfy({ $0.isFinite }) else { throw .nonFiniteValues(argument: "data") }
        if let weights {
            guard weights.shape == data.shape else {
                throw .invalidArgument(name: "weights", expected: "shape \(data.shape)", received: "shape \(weights.shape)")
            }
            guard weights.elements.allSatisfy({ $0.isFinite }) else { throw .nonFiniteValues(argument: "weights") }
        }
        try check(options, projections: n)
        let values = data.elements, w = weights?.elements
        var means = [S](repeating: 0, count: n * nj * nk)
        var userMask = [Bool](repeating: true, count: n * nj * nk)
        for ray in 0..<(n * nj * nk) {
            var sum = 0.0
            for s in 0..<segments {
                sum += Double(values[ray * segments + s])
                if let w, !(w[ray * segments + s] > 0) { userMask[ray] = false }
            }
            means[ray] = S(sum / Double(segments))
        }
        let reference = Tensor(shape: [n, nj, nk, 1], elements: means)
        return try iterate(reference: reference, userMask: userMask, geometry: geometry, options: options,
                           progress: progress) { (current: Geometry) throws(AlignmentError) -> IterationModel<S> in
            do throws(TomographyError) {
                var calculator = try GradientResidualCalculator<S, B>(geometry: current, basisSet: basisSet, data: data,
                                                                      weights: weights)
                let solution = try TensorReconstruction.run(pipeline, calculator: calculator, options: reconstruction)
                calculator.coefficients = solution.coefficients
                let model = try calculator.forwardModel()
                var intensities = Tensor<S>.zeros(model.outputShape)
                solution.coefficients.withUnsafeBufferPointer { c in
                    intensities.withUnsafeMutableBufferPointer { model.apply(c, into: $0) }
                }
                let modelled = intensities.elements
                var projections = [S](repeating: 0, count: n * nj * nk)
                for ray in 0..<(n * nj * nk) {
                    var sum = 0.0
                    for s in 0..<segments { sum += Double(modelled[ray * segments + s]) }
                    projections[ray] = S(sum / Double(segments))
                }
                var seen: [Bool]?
                if options.upsampling == 1 {
                    let sirt = try TensorReconstruction.sirtWeights(&calculator,
                                                                    weightsCutoff: reconstruction.weightsCutoff).weights.elements
                    var positive = [Bool](repeating: true, count: n * nj * nk)
                    for ray in 0..<(n * nj * nk) {
                        for s in 0..<segments where !(sirt[ray * segments + s] > 0) { positive[ray] = false }
                    }
                    seen = positive
                }
                let c = solution.coefficients.shape[3]
                let first = solution.coefficients.elements
                var density = [S](repeating: 0, count: first.count / c)
                for voxel in density.indices { density[voxel] = first[voxel * c] }
                return IterationModel(reconstruction: solution.coefficients, density: density,
                                      projections: Tensor(shape: [n, nj, nk, 1], elements: projections), raysSeen: seen)
            } catch {
                throw .tomography(error)
            }
        }
    }

    /// What one iteration of the alignment takes from its reconstruction.
    struct IterationModel<S: OperatorScalar> {
        /// The reconstruction (volume or coefficients).
        var reconstruction: Tensor<S>
        /// The scalar density whose centre of mass is used, `X·Y·Z`.
        var density: [S]
        /// The reconstruction's projections, `(N, J, K, 1)`.
        var projections: Tensor<S>
        /// Rays the reconstruction weights (SIRT weights > 0), `N·J·K`; only
        /// at upsampling 1, where it masks the correlation.
        var raysSeen: [Bool]?
    }

    /// The alignment loop shared by the absorbance and segment-mean modes:
    /// `model` reconstructs and projects at the current offsets.
    static func iterate<S: OperatorScalar & RegistrationScalar>(
        reference: Tensor<S>, userMask: [Bool], geometry: Geometry, options: Options, progress: ProgressHandler?,
        model: (Geometry) throws(AlignmentError) -> IterationModel<S>
    ) throws(AlignmentError) -> Result<S> {
        let n = geometry.count
        let (nj, nk) = (geometry.projectionShape[0], geometry.projectionShape[1])
        let shape4 = [n, nj, nk, 1]
        let rowsJ = try options.cropJ.range(length: nj, name: "cropJ")
        let rowsK = try options.cropK.range(length: nk, name: "cropK")
        let tolerance = options.shiftTolerance ?? 1 / Double(options.upsampling)
        let cutoff = options.shiftCutoff ?? 5 / Double(options.upsampling)
        let valid = (0..<n).filter { !options.ignoredSubset.contains($0) }
        let sampleSize = min(valid.count, Int((Double(valid.count) * options.relativeSampleSize).rounded(.up)))
        var generator = SplitMix64(seed: options.seed)
        // The detector vectors of each projection, Rᵢᵀ j₀ and Rᵢᵀ k₀ (mumott's einsum 'kij,i->kj').
        func transposedTimes(_ m: Matrix3, _ v: SIMD3<Double>) -> SIMD3<Double> {
            v.x * m.rows.0 + v.y * m.rows.1 + v.z * m.rows.2
        }
        let jVectors = geometry.rotations.map { transposedTimes($0, geometry.jDirection0) }
        let kVectors = geometry.rotations.map { transposedTimes($0, geometry.kDirection0) }
        var current = geometry
        var jHistory: [[Double]] = [], kHistory: [[Double]] = [], maxHistory: [Double] = []
        var reconstruction = Tensor<S>(shape: geometry.volumeShape + [1], repeating: 0)
        var projections = Tensor<S>(shape: shape4, repeating: 0)
        var density: [S] = []
        var reason = StopReason.optimizer(.iterationLimit)
        var iterations = 0
        for _ in 0..<options.maximumIterations {
            iterations += 1
            let step = try model(current)
            (reconstruction, projections, density) = (step.reconstruction, step.projections, step.density)
            var mask: [Bool] = []
            if options.upsampling == 1, let seen = step.raysSeen {
                mask = [Bool](repeating: false, count: n * nj * nk)
                for ray in 0..<(n * nj * nk) { mask[ray] = seen[ray] && userMask[ray] }
            }
            let sample = sampleWithoutReplacement(valid, count: sampleSize, generator: &generator)
            var shifts = [SIMD2<Double>](repeating: .zero, count: n)
            let p = projections.elements, r = reference.elements
            for i in sample {
                let cropped = { (values: [S]) -> Tensor<S> in
                    var out: [S] = []
                    out.reserveCapacity(rowsJ.count * rowsK.count)
                    for j in rowsJ { for k in rowsK { out.append(values[(i * nj + j) * nk + k]) } }
                    return Tensor(shape: [rowsJ.count, rowsK.count], elements: out)
                }
                let (moving, fixed) = (cropped(r), cropped(p))
                var found: [Double]
                do {
                    if options.upsampling == 1 {
                        var m: [Bool] = []
                        for j in rowsJ { for k in rowsK { m.append(mask[(i * nj + j) * nk + k]) } }
                        let maskTensor = Tensor(shape: [rowsJ.count, rowsK.count], elements: m)
                        found = try Registration.maskedPhaseCrossCorrelation(fixed, moving, referenceMask: maskTensor,
                                                                             movingMask: maskTensor)
                    } else {
                        found = try Registration.phaseCrossCorrelation(fixed, moving, upsampleFactor: options.upsampling).shift
                    }
                } catch {
                    found = [0, 0]   // a projection that cannot be registered (e.g. empty mask) is not moved
                }
                shifts[i] = SIMD2(found[0].isFinite ? found[0] : 0, found[1].isFinite ? found[1] : 0)
            }
            var largest = 0.0
            for i in 0..<n {
                let size = (shifts[i] * shifts[i]).sum().squareRoot()
                largest = max(largest, size)
                if size > cutoff { shifts[i] *= cutoff / size }
            }
            if options.relaxationWeight != 0 {
                let relaxJ = relaxations(current.jOffsets, generator: &generator)
                let relaxK = relaxations(current.kOffsets, generator: &generator)
                for i in sample {
                    shifts[i].x -= min(max(relaxJ[i], -1), 1) * options.relaxationWeight
                    shifts[i].y -= min(max(relaxK[i], -1), 1) * options.relaxationWeight
                }
            }
            if options.centerOfMassShiftWeight != 0 {
                let volumeCentre = centreOfMass(density, shape: geometry.volumeShape)
                for i in sample {
                    let c = centreOfMass(Array(r[(i * nj * nk)..<((i + 1) * nj * nk)]), shape: [nj, nk])
                    let projected = SIMD2((jVectors[i] * volumeCentre).sum() + current.jOffsets[i],
                                          (kVectors[i] * volumeCentre).sum() + current.kOffsets[i])
                    let pull = SIMD2(c.x, c.y) - projected
                    shifts[i].x += min(max(pull.x, -1), 1) * options.centerOfMassShiftWeight
                    shifts[i].y += min(max(pull.y, -1), 1) * options.centerOfMassShiftWeight
                }
            }
            for i in 0..<n {
                if options.alignJ { current.jOffsets[i] += shifts[i].x }
                if options.alignK { current.kOffsets[i] += shifts[i].y }
            }
            jHistory.append(current.jOffsets)
            kHistory.append(current.kOffsets)
            maxHistory.append(largest)
            if progress?(IterationProgress(iteration: iterations, maximumIterations: options.maximumIterations,
                                           value: largest)) == .stop {
                reason = .cancelled
                break
            }
            if largest < tolerance { reason = .converged; break }
        }
        return Result(geometry: current, reconstruction: reconstruction, projections: projections, reference: reference,
                      jOffsetHistory: jHistory, kOffsetHistory: kHistory, maximumShiftHistory: maxHistory,
                      iterations: iterations, stopReason: reason)
    }

    static func check(_ o: Options, projections n: Int) throws(AlignmentError) {
        guard o.alignJ || o.alignK else {
            throw .invalidArgument(name: "alignJ, alignK", expected: "at least one direction to align", received: "both false")
        }
        if let bad = o.ignoredSubset.first(where: { $0 < 0 || $0 >= n }) {
            throw .invalidArgument(name: "ignoredSubset", expected: "projection indices in 0..<\(n)", received: "\(bad)")
        }
        guard o.ignoredSubset.count < n else {
            throw .invalidArgument(name: "ignoredSubset", expected: "fewer than all \(n) projections",
                                   received: "all \(n) projections ignored")
        }
        guard o.maximumIterations >= 0 else {
            throw .invalidArgument(name: "maximumIterations", expected: "≥ 0", received: "\(o.maximumIterations)")
        }
        guard o.upsampling >= 1 else {
            throw .invalidArgument(name: "upsampling", expected: "≥ 1", received: "\(o.upsampling)")
        }
        for (name, value) in [("shiftTolerance", o.shiftTolerance), ("shiftCutoff", o.shiftCutoff)] {
            if let value, !(value.isFinite && value > 0) {
                throw .invalidArgument(name: name, expected: "a finite number > 0 (pixels)", received: "\(value)")
            }
        }
        guard o.relativeSampleSize > 0 && o.relativeSampleSize <= 1 else {
            throw .invalidArgument(name: "relativeSampleSize", expected: "a number in (0, 1]", received: "\(o.relativeSampleSize)")
        }
        for (name, value) in [("relaxationWeight", o.relaxationWeight), ("centerOfMassShiftWeight", o.centerOfMassShiftWeight)] {
            guard value.isFinite && value >= 0 else {
                throw .invalidArgument(name: name, expected: "a finite number ≥ 0", received: "\(value)")
            }
        }
    }

    /// `count` of `values` drawn without replacement (a partial
    /// Fisher–Yates shuffle), in draw order.
    static func sampleWithoutReplacement(_ values: [Int], count: Int, generator: inout SplitMix64) -> [Int] {
        var pool = values
        for i in 0..<count {
            let j = i + Int(generator.next() % UInt64(pool.count - i))
            pool.swapAt(i, j)
        }
        return Array(pool[0..<count])
    }

    /// mumott's `_relax_offsets`: `sign(d)·max(0, |d| − |σ·z|)` with `d`
    /// the offsets minus their mean, `σ` their standard deviation and `z`
    /// standard normal draws.
    static func relaxations(_ offsets: [Double], generator: inout SplitMix64) -> [Double] {
        let mean = offsets.reduce(0, +) / Double(offsets.count)
        let d = offsets.map { $0 - mean }
        let sigma = (d.map { $0 * $0 }.reduce(0, +) / Double(d.count)).squareRoot()
        return d.map { v in
            let magnitude = max(0, abs(v) - abs(sigma * generator.normal()))
            return v > 0 ? magnitude : (v < 0 ? -magnitude : 0)
        }
    }

    /// Centre of mass of a C-order array of `shape` (2 or 3 axes), measured
    /// from its centre `(shapeᵢ − 1)/2`; zero without mass.
    static func centreOfMass<S: OperatorScalar>(_ values: [S], shape: [Int]) -> SIMD3<Double> {
        var total = 0.0
        var moment = SIMD3<Double>.zero
        let (a, b) = (shape[0], shape[1])
        let c = shape.count > 2 ? shape[2] : 1
        for i in 0..<a { for j in 0..<b { for k in 0..<c {
            let v = Double(values[(i * b + j) * c + k])
            total += v
            moment += v * SIMD3(Double(i), Double(j), Double(k))
        } } }
        guard total != 0 else { return .zero }
        let centre = SIMD3(Double(a - 1) / 2, Double(b - 1) / 2, Double(c - 1) / 2)
        return moment / total - centre
    }
}
