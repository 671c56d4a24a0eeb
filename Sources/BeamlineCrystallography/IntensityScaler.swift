import BeamlineTensor
import CBeamlineKernels
import Foundation

/// cbclib's `IntensityScaler`: the streak model of a ``CBCTable``, its
/// scaling criteria with exact gradients, the projection-map update by
/// kernel regression, symmetry merging and training.
///
/// ## The parameter vector
/// As in cbclib, `x` holds one intercept per streak (``streakIDs`` order),
/// then one θ = log |q|² per merged reflection (``reflections`` order):
/// `x.count == streakCount + reflections.count`. A row j of streak s, whose
/// reflection is r, is modelled as
///
///     m_j = exp(θ_r) · χ(u_j) · f²_j + b_s
///
/// and the modelled counts of a pixel add the rows that share it (same
/// frame, `x` and `y`) to the row's background: λ_j = bgd_j + Σ_{k ∈ pixel(j)} m_k.
///
/// ## Criteria
/// Summed over rows with λ_j > 0 (rows with λ_j ≤ 0 are skipped, as in
/// cbclib): Poisson Σ (λ − I log λ), least squares Σ ℓ((I − λ)/√λ). The
/// gradient is the exact gradient of that value, including the coupling of
/// rows that share a pixel and the dependence of σ = √λ on the
/// parameters (see ``CBCLibCompatibility`` for cbclib's approximations).
///
/// Results are identical for any thread count: rows are processed in
/// fixed blocks of whole frames and the partial sums are combined in
/// block order.
public struct IntensityScaler: Sendable {
    /// The table.
    public let table: CBCTable
    /// The symmetry under which reflections are merged during fitting.
    public let symmetry: PointGroupSymmetry
    /// The projection maps χₙ.
    public let maps: ProjectionMaps
    /// The table's streak indices (`index`) in parameter order (increasing).
    public let streakIDs: [Int32]
    /// The merged reflections (representatives under ``symmetry``), in
    /// parameter order.
    public let reflections: [SIMD3<Int32>]
    /// The position in ``reflections`` of each streak's reflection.
    public let streakReflection: [Int]
    /// The position in ``ProjectionMaps/frames`` of each streak's frame.
    public let streakFrame: [Int]
    /// The number of table rows of each streak.
    public let streakRows: [Int]

    /// The number of streaks (intercepts).
    public var streakCount: Int { streakIDs.count }
    /// The number of distinct pixels (frame, x, y) of the table.
    public var pixelCount: Int { groupStart.count - 1 }
    /// The length of the parameter vector.
    public var parameterCount: Int { streakIDs.count + reflections.count }

    // Rows in scaler order (CriterionLayout): by frame; in a frame the rows alone on their pixel
    // by streak, then the rows sharing a pixel, pixel by pixel.
    let order: Column<Int32>          // scaler row -> table row
    let rowStreak: Column<Int32>
    let counts: Column<Float>
    let background: Column<Float>
    let profile: Column<Float>
    let kins: Column<SIMD2<Float>>
    let chi: Column<Float>            // χ at the row's aperture coordinates
    let weight: Column<Float>         // χ · f²
    let groupStart: Column<Int32>     // pixel groups: rows groupStart[p]..<groupStart[p+1]
    let blockGroups: [Int]            // blocks of whole frames: groups blockGroups[b]..<blockGroups[b+1]
    let sharedPixels: Column<Int32>   // (start, end) row pairs of the pixel groups of more than one row
    let blockSharedPixels: [Int]      // per block: pairs blockSharedPixels[b]..<blockSharedPixels[b+1]
    let loneRuns: Column<Int32>       // (start, end, streak) triples: runs of one streak's rows alone on their pixel
    let blockLoneRuns: [Int]          // per block: triples blockLoneRuns[b]..<blockLoneRuns[b+1]
    let frameRows: [Int]              // rows of frame position f: frameRows[f]..<frameRows[f+1]
    let firstNegativeCount: Int?      // table row of the first negative count, if any

    /// Rows per block of the parallel loops (whole frames, at least this many rows).
    static let blockRows = 1 << 15

    /// Creates a scaler for `table` with projection maps `maps` (one map
    /// per frame of the table), merging reflections under `symmetry`.
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for an empty table,
    ///   a table frame without a map, or pixel coordinates ≥ 2²¹;
    ///   ``CrystallographyError/emptyFrame(frame:)`` for a map whose frame
    ///   has no rows.
    public init(table: CBCTable, maps: ProjectionMaps, symmetry: PointGroupSymmetry = .none) throws(CrystallographyError) {
        let n = table.count
        guard n > 0 else { throw .invalidArgument(name: "table", expected: "at least one row", received: "0 rows") }
        var framePosition: [Int32: Int] = [:]
        for (i, f) in maps.frames.enumerated() { framePosition[f] = i }
        var rowsPerFrame = [Int](repeating: 0, count: maps.frames.count)
        var keys = [UInt64](repeating: 0, count: n)
        for i in 0..<n {
            guard let f = framePosition[table.frames[i]] else {
                throw .invalidArgument(name: "maps.frames", expected: "a map for every frame of the table",
                                       received: "no map for frame \(table.frames[i])")
            }
            guard table.x[i] < 1 << 21, table.y[i] < 1 << 21 else {
                throw .invalidArgument(name: "x, y", expected: "pixel coordinates below 2097152",
                                       received: "(\(table.x[i]), \(table.y[i])) at row \(i)")
            }
            rowsPerFrame[f] += 1
            keys[i] = UInt64(f) << 42 | UInt64(table.y[i]) << 21 | UInt64(table.x[i])
        }
        if let empty = rowsPerFrame.firstIndex(of: 0) { throw .emptyFrame(frame: Int(maps.frames[empty])) }
        var perm = Array(0..<n)
        var sorted = true
        for i in 1..<Swift.max(1, n) where keys[i] < keys[i - 1] { sorted = false; break }
        if !sorted { perm.sort { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 } }

        // Streaks, dense and increasing.
        let ids = Array(Set(table.streaks)).sorted()
        var dense: [Int32: Int32] = [:]
        dense.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() { dense[id] = Int32(i) }
        var streakHKL = [SIMD3<Int32>](repeating: .zero, count: ids.count)
        var streakFrame = [Int](repeating: 0, count: ids.count)
        var streakRows = [Int](repeating: 0, count: ids.count)
        var rowStreak = [Int32](repeating: 0, count: n)
        for (r, i) in perm.enumerated() {
            let s = dense[table.streaks[i]]!
            rowStreak[r] = s
            streakHKL[Int(s)] = table.hkl[i]
            streakFrame[Int(s)] = framePosition[table.frames[i]]!
            streakRows[Int(s)] += 1
        }
        let (unique, inverse) = symmetry.merge(streakHKL)

        // Pixel groups, frame rows and blocks.
        var groups: [Int32] = [0]
        var frameRows = [Int](repeating: 0, count: maps.frames.count + 1)
        for r in 1..<Swift.max(1, n) where keys[perm[r]] != keys[perm[r - 1]] { groups.append(Int32(r)) }
        groups.append(Int32(n))
        let layout = CriterionLayout(pixelGroups: groups, rowStreak: rowStreak, streakFrame: streakFrame,
                                     frameCount: maps.frames.count)
        perm = layout.order.map { perm[$0] }
        rowStreak = layout.order.map { rowStreak[$0] }
        groups = layout.groups
        var acc = 0
        for f in 0..<maps.frames.count { acc += rowsPerFrame[f]; frameRows[f + 1] = acc }
        var blocks = [0]
        var g = 0, frame = 0, rowsInBlock = 0
        while frame < maps.frames.count {
            rowsInBlock += rowsPerFrame[frame]
            let end = frameRows[frame + 1]
            frame += 1
            if rowsInBlock >= Self.blockRows || frame == maps.frames.count {
                while g < groups.count - 1 && Int(groups[g]) < end { g += 1 }
                blocks.append(g)
                rowsInBlock = 0
            }
        }

        self.firstNegativeCount = table.counts.firstIndex { $0 < 0 }
        self.table = table
        self.symmetry = symmetry
        self.maps = maps
        self.streakIDs = ids
        self.reflections = unique
        self.streakReflection = inverse
        self.streakFrame = streakFrame
        self.streakRows = streakRows
        self.order = Column(perm.map { Int32($0) })
        self.rowStreak = Column(rowStreak)
        self.counts = Column(perm.map { table.counts[$0] })
        self.background = Column(perm.map { table.background[$0] })
        self.profile = Column(perm.map { table.profile[$0] })
        self.kins = Column(perm.map { table.kins[$0] })
        self.groupStart = Column(groups)
        self.blockGroups = blocks
        let blockRows = blocks.map { Int(groups[$0]) }
        self.sharedPixels = Column(layout.sharedPixels)
        self.blockSharedPixels = CriterionLayout.blockStarts(of: layout.sharedPixels, width: 2, rowStart: blockRows)
        self.loneRuns = Column(layout.runs)
        self.blockLoneRuns = CriterionLayout.blockStarts(of: layout.runs, width: 3, rowStart: blockRows)
        self.frameRows = frameRows
        let chi = Self.interpolate(maps, kins: self.kins, frameRows: frameRows)
        self.chi = Column(chi)
        self.weight = Column(zip(chi, perm).map { $0 * table.profile[$1] })
    }

    /// A scaler with maps equal to one on an `nx` × `ny` grid spanning
    /// the table's aperture coordinates (cbclib's `CBCTable.scale`).
    ///
    /// - Throws: as ``init(table:maps:symmetry:)`` and
    ///   ``ProjectionMaps/uniform(covering:nx:ny:)``.
    public init(table: CBCTable, gridShape: (nx: Int, ny: Int), symmetry: PointGroupSymmetry = .none) throws(CrystallographyError) {
        try self.init(table: table, maps: try .uniform(covering: table, nx: gridShape.nx, ny: gridShape.ny), symmetry: symmetry)
    }

    /// The same table and maps with reflections merged under `symmetry`.
    public func merged(_ symmetry: PointGroupSymmetry) -> IntensityScaler {
        // A valid scaler's table and maps stay valid.
        try! IntensityScaler(table: table, maps: maps, symmetry: symmetry)
    }

    /// The same table and symmetry with other maps (on the same frames).
    ///
    /// - Throws: as ``init(table:maps:symmetry:)``.
    public func replacingMaps(_ maps: ProjectionMaps) throws(CrystallographyError) -> IntensityScaler {
        guard maps.frames == self.maps.frames else { return try IntensityScaler(table: table, maps: maps, symmetry: symmetry) }
        // Same frames: keep the row layout, interpolate the new maps.
        return IntensityScaler(layoutOf: self, maps: maps)
    }

    /// `other`'s table, symmetry and row layout with new maps on the same frames.
    init(layoutOf other: IntensityScaler, maps: ProjectionMaps) {
        table = other.table
        symmetry = other.symmetry
        self.maps = maps
        streakIDs = other.streakIDs
        reflections = other.reflections
        streakReflection = other.streakReflection
        streakFrame = other.streakFrame
        streakRows = other.streakRows
        order = other.order
        rowStreak = other.rowStreak
        counts = other.counts
        background = other.background
        profile = other.profile
        kins = other.kins
        groupStart = other.groupStart
        blockGroups = other.blockGroups
        sharedPixels = other.sharedPixels
        blockSharedPixels = other.blockSharedPixels
        loneRuns = other.loneRuns
        blockLoneRuns = other.blockLoneRuns
        frameRows = other.frameRows
        firstNegativeCount = other.firstNegativeCount
        let chi = Self.interpolate(maps, kins: other.kins, frameRows: other.frameRows)
        self.chi = Column(chi)
        let profile = other.profile
        self.weight = Column((0..<chi.count).map { chi[$0] * profile[$0] })
    }

    static func interpolate(_ maps: ProjectionMaps, kins: Column<SIMD2<Float>>, frameRows: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: kins.count)
        let frames = maps.frames.count
        maps.gridX.withUnsafeBufferPointer { gx in
            maps.gridY.withUnsafeBufferPointer { gy in
                maps.values.withUnsafeBufferPointer { v in
                    out.withUnsafeMutableBufferPointer { o in
                        let gx = SendableBuffer(gx), gy = SendableBuffer(gy), v = SendableBuffer(v), o = SendableMutableBuffer(o)
                        let stride = maps.nx * maps.ny
                        Parallel.forEachBlock(count: frames, blockSize: 1) { f, _ in
                            let gxp = UnsafeBufferPointer(start: gx.baseAddress, count: gx.validIndices.count)
                            let gyp = UnsafeBufferPointer(start: gy.baseAddress, count: gy.validIndices.count)
                            let vp = UnsafeBufferPointer(start: v.baseAddress, count: v.validIndices.count)
                            for r in frameRows[f]..<frameRows[f + 1] {
                                o.baseAddress[r] = ProjectionMaps.bilinear(vp, f * stride, gxp, gyp, kins.pointer[r])
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    // MARK: - Parameters and model

    /// cbclib's `init_estimate`: zeros (intercepts 0, |q|² = 1).
    public func initialEstimate() -> [Double] { [Double](repeating: 0, count: parameterCount) }

    /// Checks a parameter vector's length and values.
    func check(_ x: [Double]) throws(CrystallographyError) {
        guard x.count == parameterCount else {
            throw .shapeMismatch(argument: "x", expected: [parameterCount], received: [x.count])
        }
        if x.contains(where: { !$0.isFinite }) { throw .nonFiniteValues(argument: "x") }
    }

    /// cbclib's `model`: the intercept and the intensity |q|² = exp θ of
    /// each streak (the merged θ unmerged to the streaks).
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for a wrong length or
    ///   non-finite values.
    public func model(_ x: [Double]) throws(CrystallographyError) -> (intercepts: [Double], intensities: [Double]) {
        try check(x)
        let s = streakCount
        return (Array(x[0..<s]), (0..<s).map { Foundation.exp(x[s + streakReflection[$0]]) })
    }

    /// The θ of each streak's reflection (the parameter vector unmerged).
    public func unmergedTheta(_ x: [Double]) throws(CrystallographyError) -> [Double] {
        try check(x)
        return streakReflection.map { x[streakCount + $0] }
    }

    /// A parameter vector for this scaler's merging from per-streak
    /// intercepts and θ (equivalent streaks' θ averaged), e.g. to move a
    /// solution between symmetries: `b.mergingTheta(intercepts:theta:)`
    /// with `a.model(x)`.
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for wrong lengths.
    public func mergingTheta(intercepts: [Double], theta: [Double]) throws(CrystallographyError) -> [Double] {
        guard intercepts.count == streakCount else {
            throw .shapeMismatch(argument: "intercepts", expected: [streakCount], received: [intercepts.count])
        }
        guard theta.count == streakCount else {
            throw .shapeMismatch(argument: "theta", expected: [streakCount], received: [theta.count])
        }
        var sum = [Double](repeating: 0, count: reflections.count), count = sum
        for s in 0..<streakCount { sum[streakReflection[s]] += theta[s]; count[streakReflection[s]] += 1 }
        return intercepts + zip(sum, count).map { $1 > 0 ? $0 / $1 : 0 }
    }

    /// The modelled counts λ of each table row (table order): background
    /// plus the model of every row sharing the pixel.
    public func modelledCounts(_ x: [Double], fitIntercept: Bool = true) throws(CrystallographyError) -> [Double] {
        try check(x)
        let (a, b) = streakFactors(x, fitIntercept: fitIntercept)
        var out = [Double](repeating: 0, count: table.count)
        for p in 0..<(groupStart.count - 1) {
            let lo = Int(groupStart[p]), hi = Int(groupStart[p + 1])
            var sum = 0.0
            for j in lo..<hi { let s = Int(rowStreak[j]); sum += a[s] * Double(weight[j]) + b[s] }
            for j in lo..<hi { out[Int(order[j])] = sum + Double(background[j]) }
        }
        return out
    }

    /// χ at each table row's aperture coordinates (table order), cbclib's `xtal_bi`.
    public var interpolatedMaps: [Float] {
        var out = [Float](repeating: 0, count: table.count)
        for j in 0..<table.count { out[Int(order[j])] = chi[j] }
        return out
    }

    func streakFactors(_ x: [Double], fitIntercept: Bool) -> (a: [Double], b: [Double]) {
        let s = streakCount
        let a = (0..<s).map { Foundation.exp(x[s + streakReflection[$0]]) }
        let b = fitIntercept ? Array(x[0..<s]) : [Double](repeating: 0, count: s)
        return (a, b)
    }

    // MARK: - Criteria

    /// The criterion's value and gradient at `x` (cbclib's `fitness`).
    /// Without `fitIntercept` the intercepts are taken as zero and their
    /// gradient is zero.
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for a wrong length or
    ///   non-finite values of `x`, or negative counts with the Poisson criterion.
    public func criterion(_ x: [Double], _ criterion: ScalingCriterion = .poisson,
                          fitIntercept: Bool = true) throws(CrystallographyError) -> (value: Double, gradient: [Double]) {
        try check(x)
        if criterion.kind == .poisson { try checkCounts() }
        let r = evaluate(x, criterion, fitIntercept: fitIntercept, gradient: true, perStreak: false)
        return (r.value, r.gradient)
    }

    /// The criterion summed over the rows of each merged reflection.
    ///
    /// - Throws: as ``criterion(_:_:fitIntercept:)``.
    public func reflectionErrors(_ x: [Double], _ criterion: ScalingCriterion = .poisson,
                                 fitIntercept: Bool = true) throws(CrystallographyError) -> [Double] {
        try check(x)
        if criterion.kind == .poisson { try checkCounts() }
        let r = evaluate(x, criterion, fitIntercept: fitIntercept, gradient: false, perStreak: true)
        var out = [Double](repeating: 0, count: reflections.count)
        for s in 0..<streakCount { out[streakReflection[s]] += r.streakValues[s] }
        return out
    }

    /// cbclib's `gain`: for each merged reflection, its error at the
    /// initial estimate minus its error at `x` (positive where `x` fits better).
    ///
    /// - Throws: as ``criterion(_:_:fitIntercept:)``.
    public func gain(_ x: [Double], _ criterion: ScalingCriterion = .poisson) throws(CrystallographyError) -> [Double] {
        let e0 = try reflectionErrors(initialEstimate(), criterion)
        let e = try reflectionErrors(x, criterion)
        return zip(e0, e).map { $0 - $1 }
    }

    func checkCounts() throws(CrystallographyError) {
        if let row = firstNegativeCount {
            throw .invalidArgument(name: "I_raw", expected: "non-negative photon counts for the Poisson criterion",
                                   received: "\(table.counts[row]) at row \(row)")
        }
    }

    struct Evaluation {
        var value: Double
        var gradient: [Double]
        var streakValues: [Double]
    }

    /// Whether the criterion runs the AVX2 + FMA kernel (decided once per process).
    static let fusedKernel = bl_kernels_have_avx2_fma() != 0

    /// The C kernel's row term for a criterion, and whether it takes σ as a constant.
    static func kernelTerm(_ c: ScalingCriterion) -> (kind: Int32, constantSigma: Bool) {
        guard c.kind == .leastSquares else { return (BL_CBC_POISSON, false) }
        let constantSigma = c.compatibility.contains(.constantSigmaGradient)
        switch c.loss {
        case .l2: return (BL_CBC_LEAST_SQUARES_L2, constantSigma)
        case .l1: return (BL_CBC_LEAST_SQUARES_L1, constantSigma)
        case .huber:
            let kind = c.compatibility.contains(.discontinuousHuber) ? BL_CBC_LEAST_SQUARES_CBCLIB_HUBER : BL_CBC_LEAST_SQUARES_HUBER
            return (kind, constantSigma)
        }
    }

    /// The criterion over every block of rows (`bl_cbc_criterion_block`, in
    /// parallel over blocks of whole frames), the block values summed in block
    /// order: the same result for any thread count.
    /// `fused` chooses the kernel's AVX2 + FMA version (tests compare the two).
    func evaluate(_ x: [Double], _ c: ScalingCriterion, fitIntercept: Bool, gradient: Bool, perStreak: Bool,
                  fused useFused: Bool = IntensityScaler.fusedKernel) -> Evaluation {
        let s = streakCount
        let (a, b) = streakFactors(x, fitIntercept: fitIntercept)
        let (kind, constantSigma) = Self.kernelTerm(c)
        let fused: Int32 = useFused ? 1 : 0
        var gI = [Double](repeating: 0, count: s), gT = gI
        var sv = [Double](repeating: 0, count: perStreak ? s : 0)
        let nBlocks = blockGroups.count - 1
        var blockValues = [Double](repeating: 0, count: nBlocks)
        let sharedStart = blockSharedPixels
        let streak = SendableBuffer(start: rowStreak.pointer, validIndices: 0..<rowStreak.count)
        let weight = SendableBuffer(start: weight.pointer, validIndices: 0..<weight.count)
        let counts = SendableBuffer(start: counts.pointer, validIndices: 0..<counts.count)
        let background = SendableBuffer(start: background.pointer, validIndices: 0..<background.count)
        let shared = SendableBuffer(start: sharedPixels.pointer, validIndices: 0..<sharedPixels.count)
        let runs = SendableBuffer(start: loneRuns.pointer, validIndices: 0..<loneRuns.count)
        let runStart = blockLoneRuns, rows = table.count
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                gI.withUnsafeMutableBufferPointer { gIp in
                    gT.withUnsafeMutableBufferPointer { gTp in
                        sv.withUnsafeMutableBufferPointer { svp in
                            blockValues.withUnsafeMutableBufferPointer { vp in
                                let A = SendableBuffer(ap), B = SendableBuffer(bp)
                                let GI = SendableMutableBuffer(gIp), GT = SendableMutableBuffer(gTp)
                                let SV = SendableMutableBuffer(svp), V = SendableMutableBuffer(vp)
                                Parallel.forEachBlock(count: nBlocks, blockSize: 1) { block, _ in
                                    // Streaks never span two blocks, so blocks add to disjoint streak sums.
                                    let pairs = sharedStart[block], lone = runStart[block]
                                    V.baseAddress[block] = bl_cbc_criterion_block(
                                        fused, kind, constantSigma ? 1 : 0, rows,
                                        streak.baseAddress, weight.baseAddress, counts.baseAddress, background.baseAddress,
                                        runStart[block + 1] - lone, runs.baseAddress + 3 * lone,
                                        sharedStart[block + 1] - pairs, shared.baseAddress + 2 * pairs,
                                        A.baseAddress, B.baseAddress, GI.baseAddress, GT.baseAddress,
                                        perStreak ? SV.baseAddress : nil)
                                }
                            }
                        }
                    }
                }
            }
        }
        var value = 0.0
        for v in blockValues { value += v }
        var grad = [Double]()
        if gradient {
            grad = [Double](repeating: 0, count: parameterCount)
            for i in 0..<s {
                if fitIntercept { grad[i] = gI[i] }
                grad[s + streakReflection[i]] += a[i] * gT[i]
            }
        }
        return Evaluation(value: value, gradient: grad, streakValues: sv)
    }
}
