import BeamlineOperators
import BeamlineTensor

/// The parallel-beam John transform (X-ray transform) of a multi-channel
/// volume, with mumott's geometry conventions, and its exact adjoint.
///
/// A volume of shape `(X, Y, Z, C)` (channels last, C-contiguous) maps to
/// projections of shape `(N, J, K, C)`, one `(J, K)` image per selected
/// projection of the ``Geometry``. The ray through pixel `(j, k)` of
/// projection `i` passes through `(j + 0.5 + o_j − J/2) u + (k + 0.5 + o_k − K/2) w`
/// (volume centre at the origin, voxel size 1) along `v = R_iᵀ p`, with
/// `u = R_iᵀ j₀`, `w = R_iᵀ k₀`. It is sampled Joseph-style: on each slice
/// of the volume across the dominant axis `a` of `v` (largest `|v_a|`,
/// first on ties) the ray's position is interpolated bilinearly between
/// the four voxel centres around it, and the samples are summed with the
/// step length `1/|v_a|`, as mumott's `SAXSProjector.forward` does.
///
/// Differences from mumott: voxels outside the volume count as zero on
/// every side. mumott clamps the lower edge wrongly (for a position `−1 ≤ p < 0`
/// it gives voxel 0's weight to voxel 1); rays that come within one voxel
/// of a lower volume face therefore differ from mumott's (ours are
/// right). And the adjoint (``applyAdjoint(_:into:)``, ``adjoint(_:)``) is
/// the exact transpose of the forward map (mumott's pixel-driven
/// back-projection is not).
///
/// Projections of a single-axis scan about z (detector k along ±z, beam
/// and j in the xy plane, any angle and offsets: "column geometry") take a
/// fast path: the in-plane weights of ray j on slice s are the same for
/// every detector row, so each (ray, slice) contributes one contiguous run
/// over (k, c), summed by a C kernel (AVX2 + FMA when the CPU has it, else
/// portable C). Other projections (tilts) take the general ray kernels.
/// Both give the same matrix entries up to rounding.
///
/// Work is split so that every output element is written by one task in a
/// fixed order (column path: blocks of detector rows for the forward map,
/// tiles of the volume for the adjoint; general path: (projection, row)
/// pairs, and slabs of slices of the dominant axis): results do not depend
/// on the thread count. No memory is allocated per ray.
public struct JohnTransformProjector<Scalar: OperatorScalar>: LinearOperator, Sendable {
    /// The geometry (all projections, even when a subset is selected).
    public let geometry: Geometry
    /// Number of channels `C` (last axis of volumes and projections).
    public let channels: Int
    /// The projections this operator computes, as indices into
    /// ``geometry`` (all of them by default).
    public let projectionIndices: [Int]
    /// Per selected projection, the ray-traversal constants.
    @usableFromInline let plans: [RayPlan]
    /// Indices into ``plans`` of the projections without column geometry
    /// (the general ray kernels), in order.
    @usableFromInline let generalPlans: [Int]
    /// Those indices by dominant axis (x, y, z), in order.
    @usableFromInline let planGroups: [[Int]]
    /// The projections with column geometry (see `ColumnProjection.swift`),
    /// sorted by their z mapping (stably, so in order within a class).
    @usableFromInline let columnPlans: [ColumnPlan]
    /// Ranges of ``columnPlans`` with the same z mapping (floor, fraction, direction).
    @usableFromInline let columnClasses: [Range<Int>]
    /// Whether the column kernels run their AVX2 + FMA versions.
    @usableFromInline let fusedKernels: Bool
    /// Whether column geometries take the column path (false only in tests).
    let columnPath: Bool

    /// A projector for `geometry` with `channels` channels, computing the
    /// projections `indices` (default all, in order).
    ///
    /// - Throws: ``TomographyError`` for an invalid geometry, `channels < 1`,
    ///   an index out of range, an empty index list, or offsets so large
    ///   (beyond 1e9 pixels) that no ray can meet the volume.
    public init(geometry: Geometry, channels: Int = 1, indices: [Int]? = nil) throws(TomographyError) {
        try self.init(geometry: geometry, channels: channels, indices: indices, columnPath: true,
                      fusedKernels: defaultFusedKernels())
    }

    /// The designated initialiser; `columnPath: false` sends every projection
    /// through the general ray kernels and `fusedKernels: false` forces the
    /// portable column kernels (tests compare the paths).
    init(geometry: Geometry, channels: Int, indices: [Int]?, columnPath: Bool, fusedKernels: Bool) throws(TomographyError) {
        try geometry.validate()
        guard channels >= 1 else { throw .invalidArgument(name: "channels", expected: "≥ 1", received: "\(channels)") }
        let selected = indices ?? Array(0..<geometry.count)
        guard !selected.isEmpty else { throw .emptyGeometry("no projections selected (indices is empty)") }
        for index in selected where index < 0 || index >= geometry.count {
            throw .invalidArgument(name: "indices", expected: "indices in 0..<\(geometry.count)", received: "\(index)")
        }
        for (name, offsets) in [("j_offsets", geometry.jOffsets), ("k_offsets", geometry.kOffsets)] {
            if let bad = offsets.first(where: { Swift.abs($0) > 1e9 }) {
                throw .invalidArgument(name: name, expected: "|offset| ≤ 1e9 pixels", received: "\(bad)")
            }
        }
        self.init(validated: geometry, channels: channels, selected: selected, columnPath: columnPath, fusedKernels: fusedKernels)
    }

    /// The projector for arguments already checked by the designated initialiser.
    init(validated geometry: Geometry, channels: Int, selected: [Int], columnPath: Bool, fusedKernels: Bool) {
        self.geometry = geometry
        self.channels = channels
        self.projectionIndices = selected
        let plans = selected.map { RayPlan(geometry: geometry, projection: $0, channels: channels) }
        self.plans = plans
        let columns = columnPath ? plans.indices.map { ColumnPlan(plans[$0], output: $0, nj: geometry.projectionShape[0], nk: geometry.projectionShape[1]) } : plans.map { _ in nil }
        let general = plans.indices.filter { columns[$0] == nil }
        var sorted = columns.compactMap { $0 }
        sorted = sorted.enumerated().sorted { a, b in
            (a.element.zFloor, a.element.zHigh, a.element.zSign, a.offset) < (b.element.zFloor, b.element.zHigh, b.element.zSign, b.offset)
        }.map(\.element)
        var classes: [Range<Int>] = []
        var start = 0
        for index in sorted.indices where index + 1 == sorted.count || !sorted[index].sameZMapping(as: sorted[index + 1]) {
            classes.append(start..<(index + 1))
            start = index + 1
        }
        self.columnPlans = sorted
        self.columnClasses = classes
        self.generalPlans = general
        self.planGroups = (0..<3).map { axis in general.filter { plans[$0].axis == axis } }
        self.fusedKernels = fusedKernels
        self.columnPath = columnPath
    }

    /// The same projections with one channel (itself when it has one).
    var singleChannel: JohnTransformProjector<Scalar> {
        channels == 1 ? self : JohnTransformProjector(validated: geometry, channels: 1, selected: projectionIndices,
                                                      columnPath: columnPath, fusedKernels: fusedKernels)
    }

    /// Whether projection `index` (into the selected projections) takes the
    /// column fast path.
    func usesColumnPath(_ index: Int) -> Bool { columnPlans.contains { $0.output == index } }

    /// The same projector restricted to the projections `indices` (indices
    /// into ``geometry``), for stochastic or per-projection work.
    public func subset(_ indices: [Int]) throws(TomographyError) -> JohnTransformProjector {
        try JohnTransformProjector(geometry: geometry, channels: channels, indices: indices,
                                   columnPath: columnPath,
                                   fusedKernels: fusedKernels)
    }

    /// `(X, Y, Z, C)`.
    @inlinable public var volumeShape: [Int] { geometry.volumeShape + [channels] }
    /// `(N, J, K, C)` with N the number of selected projections.
    @inlinable public var projectionsShape: [Int] { [projectionIndices.count] + geometry.projectionShape + [channels] }
    /// Number of projection values, `N · J · K · C`.
    @inlinable public var rows: Int { projectionIndices.count * geometry.projectionShape[0] * geometry.projectionShape[1] * channels }
    /// Number of volume values, `X · Y · Z · C`.
    @inlinable public var columns: Int { geometry.volumeShape[0] * geometry.volumeShape[1] * geometry.volumeShape[2] * channels }
    /// Number of ray samples (bilinear interpolations) of one forward or
    /// adjoint application, per channel: Σ over projections of `J · K ·
    /// (length of the dominant axis)`. Benchmarks report throughput in these.
    public var raySamples: Int {
        plans.reduce(0) { $0 + $1.d0 } * geometry.projectionShape[0] * geometry.projectionShape[1]
    }

    // MARK: - Tensor interface

    /// The volume shape `(X, Y, Z, C)`: `LinearOperator.apply(_:)` and
    /// `LinearOperator.checkedApply(_:)` take volumes and return
    /// projections of ``outputShape``.
    @inlinable public var inputShape: [Int] { volumeShape }
    /// The projections shape `(N, J, K, C)`.
    @inlinable public var outputShape: [Int] { projectionsShape }

    /// Projects a volume of shape exactly `(X, Y, Z, C)` to `(N, J, K, C)`.
    ///
    /// - Throws: ``TomographyError/shapeMismatch(argument:expected:received:)``
    ///   or ``TomographyError/nonFiniteValues(argument:)`` naming `volume`.
    @available(*, deprecated, message: "use checkedApply(_:) (any shape with the right count; throws ArgumentError)")
    @inlinable
    public func forward(_ volume: Tensor<Scalar>) throws(TomographyError) -> Tensor<Scalar> {
        guard volume.shape == volumeShape else {
            throw .shapeMismatch(argument: "volume", expected: volumeShape, received: volume.shape)
        }
        do { return try checkedApply(volume) } catch { throw .nonFiniteValues(argument: "volume") }
    }

    /// The back-projection of projections of shape exactly `(N, J, K, C)`.
    ///
    /// - Throws: ``TomographyError/shapeMismatch(argument:expected:received:)``
    ///   or ``TomographyError/nonFiniteValues(argument:)`` naming `projections`.
    @available(*, deprecated, message: "use checkedApplyAdjoint(_:) (any shape with the right count; throws ArgumentError)")
    @inlinable
    public func adjoint(_ projections: Tensor<Scalar>) throws(TomographyError) -> Tensor<Scalar> {
        guard projections.shape == projectionsShape else {
            throw .shapeMismatch(argument: "projections", expected: projectionsShape, received: projections.shape)
        }
        do { return try checkedApplyAdjoint(projections) } catch { throw .nonFiniteValues(argument: "projections") }
    }

    // MARK: - LinearOperator

    /// `y = P x` on flat C-order buffers (`x`: `(X, Y, Z, C)`, `y`: `(N, J, K, C)`).
    ///
    /// Specialised for `Float` and `Double`, so a caller that is itself
    /// generic (the tensor pipelines, the solvers) still runs the specialised
    /// ray loops and not per-element protocol calls.
    @specialized(where Scalar == Double)
    @specialized(where Scalar == Float)
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>) {
        precondition(x.count == columns && y.count == rows,
                     "JohnTransformProjector.apply: buffers of \(x.count) and \(y.count) elements for operator [\(rows), \(columns)]")
        guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
        let (nj, nk, c) = (geometry.projectionShape[0], geometry.projectionShape[1], channels)
        applyColumns(xp, into: yp)
        guard !generalPlans.isEmpty else { return }
        let input = SendableBuffer(x), output = SendableMutableBuffer(y)
        let work = generalPlans.count * nj
        let samplesPerRow = Swift.max(1, nk * (plans.first?.d0 ?? 1) * c)
        plans.withUnsafeBufferPointer { planBuffer in
          generalPlans.withUnsafeBufferPointer { generalBuffer in
            let planPointer = SendableBuffer(planBuffer), general = SendableBuffer(generalBuffer)
            Parallel.forEachChunk(count: work, minimumChunk: Swift.max(1, 32768 / samplesPerRow)) { range in
                for item in range {
                    let g = item / nj, j = item - g * nj, p = general[g]
                    let row = output.pointer(at: (p * nj + j) * nk * c, count: nk * c)
                    if c == 1 {
                        Self.forwardRowSingle(planPointer[p], j: j, nk: nk, x: UnsafePointer(input.baseAddress), y: row)
                    } else {
                        Self.forwardRow(planPointer[p], j: j, nk: nk, channels: c, x: UnsafePointer(input.baseAddress), y: row)
                    }
                }
            }
          }
        }
    }

    /// `x = Pᵀ y`, the exact transpose of ``apply(_:into:)`` (specialised
    /// for `Float` and `Double` as it).
    @specialized(where Scalar == Double)
    @specialized(where Scalar == Float)
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>) {
        precondition(x.count == columns && y.count == rows,
                     "JohnTransformProjector.applyAdjoint: buffers of \(y.count) and \(x.count) elements for operator [\(rows), \(columns)]")
        guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
        xp.initialize(repeating: 0, count: x.count)
        applyAdjointColumns(yp, into: xp)
        guard !generalPlans.isEmpty else { return }
        let (nj, nk, c) = (geometry.projectionShape[0], geometry.projectionShape[1], channels)
        let input = SendableBuffer(y), output = SendableMutableBuffer(x)
        let threads = Parallel.threadCount
        // Projections sharing a dominant axis are back-projected together:
        // one parallel pass per axis, each task owning a slab of slices of
        // that axis for all of them (projection order, then ray order, for
        // every voxel, whatever the split), so there are at most three
        // barriers per application instead of one per projection.
        plans.withUnsafeBufferPointer { planBuffer in
            let planPointer = SendableBuffer(planBuffer)
            for axis in 0..<3 {
                let group = planGroups[axis]
                guard let first = group.first else { continue }
                let d0 = planPointer[first].d0
                let minimumSlices = Swift.max(1, 32768 / Swift.max(1, nj * nk * c * group.count), (d0 + threads - 1) / threads)
                group.withUnsafeBufferPointer { memberBuffer in
                    let members = SendableBuffer(memberBuffer)
                    Parallel.forEachChunk(count: d0, minimumChunk: minimumSlices) { slices in
                        for p in members {
                            let image = input.pointer(at: p * nj * nk * c, count: nj * nk * c)
                            if c == 1 {
                                Self.adjointSlab(planPointer[p], slices: slices, nj: nj, nk: nk, y: image, x: output.baseAddress)
                            } else {
                                Self.adjointSlab(planPointer[p], slices: slices, nj: nj, nk: nk, channels: c, y: image, x: output.baseAddress)
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Kernels
    //
    // Every kernel walks a ray's slices in three parts: the edge slices
    // before and after the interior (where a bilinear corner may lie outside
    // the volume) through the careful ``RayPlan/sample(slice:_:_:)``, and the
    // interior (all four corners inside, ``RayPlan/interiorSlices(_:_:within:)``)
    // through a branch-free loop with truncation and direct offsets. Both
    // compute a position as `b + Double(s) · step` and the same weights, so
    // forward and adjoint use identical matrix entries whatever the split.

    /// One row `j` of one projection, one channel.
    @inlinable
    static func forwardRowSingle(_ plan: RayPlan, j: Int, nk: Int, x: UnsafePointer<Scalar>, y: UnsafeMutablePointer<Scalar>) {
        // Most single-channel plans have a unit stride on axis 2 (z): a
        // constant there lets both corners of a pair load together.
        if plan.stride2 == 1 {
            forwardRowSingle(plan, j: j, nk: nk, x: x, y: y, stride2: 1)
        } else {
            forwardRowSingle(plan, j: j, nk: nk, x: x, y: y, stride2: plan.stride2)
        }
    }

    @inlinable @inline(__always)
    static func forwardRowSingle(_ plan: RayPlan, j: Int, nk: Int, x: UnsafePointer<Scalar>, y: UnsafeMutablePointer<Scalar>,
                                 stride2: Int) {
        let (step1, step2) = (plan.step1, plan.step2)
        let (stride0, stride1) = (plan.stride0, plan.stride1)
        let stride12 = stride1 &+ stride2
        let d = Scalar(plan.distance)
        for k in 0..<nk {
            let (b1, b2) = plan.rayStart(j: j, k: k)
            let all = plan.slices(b1, b2, within: 0..<plan.d0)
            let inner = plan.interiorSlices(b1, b2, within: all)
            var sum: Scalar = 0
            for s in all.lowerBound..<inner.lowerBound {
                let t = plan.sample(slice: s, b1, b2)
                sum += Scalar(t.w00) * x[t.o00] + Scalar(t.w10) * x[t.o10] + Scalar(t.w01) * x[t.o01] + Scalar(t.w11) * x[t.o11]
            }
            // Interior: bilinear interpolation in lerp form (the same weights,
            // fewer operations), two slices per step into two partial sums.
            var sum2: Scalar = 0
            @inline(__always) func lerp(_ q: UnsafePointer<Scalar>, _ a1: Scalar, _ a2: Scalar) -> Scalar {
                let x00 = q[0], x10 = q[stride1]
                let lo = x00 + a1 * (x10 - x00)
                let x01 = q[stride2], x11 = q[stride12]
                let hi = x01 + a1 * (x11 - x01)
                return lo + a2 * (hi - lo)
            }
            do {
                var fs = Double(inner.lowerBound)
                var slice = x + inner.lowerBound &* stride0
                var remaining = inner.count
                while remaining >= 2 {
                    let p1 = b1 + fs * step1, p2 = b2 + fs * step2
                    let q1 = b1 + (fs + 1) * step1, q2 = b2 + (fs + 1) * step2
                    let (i1, a1) = floorSplit(p1), (i2, a2) = floorSplit(p2), (k1, e1) = floorSplit(q1), (k2, e2) = floorSplit(q2)
                    sum += lerp(slice + (i1 &* stride1 &+ i2 &* stride2), Scalar(a1), Scalar(a2))
                    sum2 += lerp(slice + (stride0 &+ k1 &* stride1 &+ k2 &* stride2), Scalar(e1), Scalar(e2))
                    fs += 2
                    slice += 2 &* stride0
                    remaining &-= 2
                }
                if remaining == 1 {
                    let p1 = b1 + fs * step1, p2 = b2 + fs * step2
                    let (i1, a1) = floorSplit(p1), (i2, a2) = floorSplit(p2)
                    sum += lerp(slice + (i1 &* stride1 &+ i2 &* stride2), Scalar(a1), Scalar(a2))
                }
            }
            sum += sum2
            for s in inner.upperBound..<all.upperBound {
                let t = plan.sample(slice: s, b1, b2)
                sum += Scalar(t.w00) * x[t.o00] + Scalar(t.w10) * x[t.o10] + Scalar(t.w01) * x[t.o01] + Scalar(t.w11) * x[t.o11]
            }
            y[k] = sum * d
        }
    }

    /// Adds `w00 x00 + w10 x10 + w01 x01 + w11 x11` to `pixel`, channel by channel.
    @inlinable @inline(__always)
    static func accumulate(_ pixel: UnsafeMutablePointer<Scalar>, _ c: Int, _ x: UnsafePointer<Scalar>,
                           _ o00: Int, _ o10: Int, _ o01: Int, _ o11: Int, _ w00: Scalar, _ w10: Scalar, _ w01: Scalar, _ w11: Scalar) {
        let (x00, x10, x01, x11) = (x + o00, x + o10, x + o01, x + o11)
        for ch in 0..<c {
            pixel[ch] += w00 * x00[ch] + w10 * x10[ch] + w01 * x01[ch] + w11 * x11[ch]
        }
    }

    /// One row `j` of one projection, `channels` channels.
    ///
    /// Slice-outer: for each slice, every ray of the row takes its sample
    /// there, so the row's voxels of one slice (two lines of `channels`-long
    /// pixels) are read while in L1, and the row's pixels stay in L1. Each
    /// pixel still sums its samples in slice order.
    @inlinable
    static func forwardRow(_ plan: RayPlan, j: Int, nk: Int, channels c: Int, x: UnsafePointer<Scalar>,
                           y: UnsafeMutablePointer<Scalar>) {
        let (step1, step2) = (plan.step1, plan.step2)
        let (stride0, stride1, stride2) = (plan.stride0, plan.stride1, plan.stride2)
        let stride12 = stride1 &+ stride2
        let (top1, top2) = (Double(plan.d1 - 1), Double(plan.d2 - 1))
        let (end1, end2) = (Double(plan.d1), Double(plan.d2))
        y.initialize(repeating: 0, count: nk * c)
        // Rows that miss the volume on every slice are skipped cheaply by the ranges.
        var first = plan.d0, last = 0
        for k in 0..<nk {
            let (b1, b2) = plan.rayStart(j: j, k: k)
            let r = plan.slices(b1, b2, within: 0..<plan.d0)
            if !r.isEmpty { first = Swift.min(first, r.lowerBound); last = Swift.max(last, r.upperBound) }
        }
        if first < last {
            for s in first..<last {
                let fs = Double(s)
                let base = s &* stride0
                for k in 0..<nk {
                    let (b1, b2) = plan.rayStart(j: j, k: k)
                    let p1 = b1 + fs * step1, p2 = b2 + fs * step2
                    let pixel = y + k &* c
                    if p1 >= 0 && p1 < top1 && p2 >= 0 && p2 < top2 {
                        let i1 = Int(p1), i2 = Int(p2)
                        let a1 = p1 - Double(i1), a2 = p2 - Double(i2)
                        let l1 = 1 - a1, l2 = 1 - a2
                        let o = base &+ i1 &* stride1 &+ i2 &* stride2
                        accumulate(pixel, c, x, o, o &+ stride1, o &+ stride2, o &+ stride12,
                                   Scalar(l1 * l2), Scalar(a1 * l2), Scalar(l1 * a2), Scalar(a1 * a2))
                    } else if p1 > -1 && p1 < end1 && p2 > -1 && p2 < end2 {
                        let t = plan.sample(slice: s, b1, b2)
                        accumulate(pixel, c, x, t.o00, t.o10, t.o01, t.o11, Scalar(t.w00), Scalar(t.w10), Scalar(t.w01), Scalar(t.w11))
                    }
                }
            }
        }
        let d = Scalar(plan.distance)
        for i in 0..<(nk * c) { y[i] *= d }
    }

    /// The adjoint of one projection restricted to `slices` of its dominant
    /// axis (one channel). Voxels in those slices get their contributions
    /// in ray order (j, k), whatever the split.
    @inlinable
    static func adjointSlab(_ plan: RayPlan, slices: Range<Int>, nj: Int, nk: Int, y: UnsafePointer<Scalar>,
                            x: UnsafeMutablePointer<Scalar>) {
        if plan.stride2 == 1 {
            adjointSlab(plan, slices: slices, nj: nj, nk: nk, y: y, x: x, stride2: 1)
        } else {
            adjointSlab(plan, slices: slices, nj: nj, nk: nk, y: y, x: x, stride2: plan.stride2)
        }
    }

    @inlinable @inline(__always)
    static func adjointSlab(_ plan: RayPlan, slices: Range<Int>, nj: Int, nk: Int, y: UnsafePointer<Scalar>,
                            x: UnsafeMutablePointer<Scalar>, stride2: Int) {
        let (step1, step2) = (plan.step1, plan.step2)
        let (stride0, stride1) = (plan.stride0, plan.stride1)
        let stride12 = stride1 &+ stride2
        let d = Scalar(plan.distance)
        for j in 0..<nj {
            for k in 0..<nk {
                let value = y[j * nk + k] * d
                if value == 0 { continue }
                let (b1, b2) = plan.rayStart(j: j, k: k)
                let all = plan.slices(b1, b2, within: slices)
                let inner = plan.interiorSlices(b1, b2, within: all)
                for s in all.lowerBound..<inner.lowerBound {
                    let t = plan.sample(slice: s, b1, b2)
                    x[t.o00] += Scalar(t.w00) * value
                    x[t.o10] += Scalar(t.w10) * value
                    x[t.o01] += Scalar(t.w01) * value
                    x[t.o11] += Scalar(t.w11) * value
                }
                // Interior: the transpose of the forward's lerp form, two slices per step
                @inline(__always) func spread(_ q: UnsafeMutablePointer<Scalar>, _ a1: Scalar, _ a2: Scalar) {
                    let high = value * a2, low = value - high
                    let lowHigh = low * a1, highHigh = high * a1
                    q[0] += low - lowHigh
                    q[stride1] += lowHigh
                    q[stride2] += high - highHigh
                    q[stride12] += highHigh
                }
                do {
                    var fs = Double(inner.lowerBound)
                    var slice = x + inner.lowerBound &* stride0
                    var remaining = inner.count
                    while remaining >= 2 {
                        let p1 = b1 + fs * step1, p2 = b2 + fs * step2
                        let q1 = b1 + (fs + 1) * step1, q2 = b2 + (fs + 1) * step2
                        let (i1, a1) = floorSplit(p1), (i2, a2) = floorSplit(p2), (k1, e1) = floorSplit(q1), (k2, e2) = floorSplit(q2)
                        spread(slice + (i1 &* stride1 &+ i2 &* stride2), Scalar(a1), Scalar(a2))
                        spread(slice + (stride0 &+ k1 &* stride1 &+ k2 &* stride2), Scalar(e1), Scalar(e2))
                        fs += 2
                        slice += 2 &* stride0
                        remaining &-= 2
                    }
                    if remaining == 1 {
                        let p1 = b1 + fs * step1, p2 = b2 + fs * step2
                        let (i1, a1) = floorSplit(p1), (i2, a2) = floorSplit(p2)
                        spread(slice + (i1 &* stride1 &+ i2 &* stride2), Scalar(a1), Scalar(a2))
                    }
                }
                for s in inner.upperBound..<all.upperBound {
                    let t = plan.sample(slice: s, b1, b2)
                    x[t.o00] += Scalar(t.w00) * value
                    x[t.o10] += Scalar(t.w10) * value
                    x[t.o01] += Scalar(t.w01) * value
                    x[t.o11] += Scalar(t.w11) * value
                }
            }
        }
    }

    /// Adds `w · pixel` to the four corners, channel by channel.
    @inlinable @inline(__always)
    static func scatter(_ pixel: UnsafePointer<Scalar>, _ c: Int, _ x: UnsafeMutablePointer<Scalar>,
                        _ o00: Int, _ o10: Int, _ o01: Int, _ o11: Int, _ w00: Scalar, _ w10: Scalar, _ w01: Scalar, _ w11: Scalar) {
        let (x00, x10, x01, x11) = (x + o00, x + o10, x + o01, x + o11)
        for ch in 0..<c {
            let v = pixel[ch]
            x00[ch] += w00 * v
            x10[ch] += w10 * v
            x01[ch] += w01 * v
            x11[ch] += w11 * v
        }
    }

    /// ``adjointSlab(_:slices:nj:nk:y:x:)`` for several channels.
    ///
    /// Slice-outer: every ray of the projection scatters into one slice
    /// before the next slice, so the slice being written stays in cache.
    /// Each voxel still receives its contributions in ray order (j, k).
    @inlinable
    static func adjointSlab(_ plan: RayPlan, slices: Range<Int>, nj: Int, nk: Int, channels c: Int,
                            y: UnsafePointer<Scalar>, x: UnsafeMutablePointer<Scalar>) {
        let (step1, step2) = (plan.step1, plan.step2)
        let (stride0, stride1, stride2) = (plan.stride0, plan.stride1, plan.stride2)
        let stride12 = stride1 &+ stride2
        let (top1, top2) = (Double(plan.d1 - 1), Double(plan.d2 - 1))
        let (end1, end2) = (Double(plan.d1), Double(plan.d2))
        let d = Scalar(plan.distance)
        for s in slices {
            let fs = Double(s)
            let base = s &* stride0
            for j in 0..<nj {
                for k in 0..<nk {
                    let (b1, b2) = plan.rayStart(j: j, k: k)
                    let p1 = b1 + fs * step1, p2 = b2 + fs * step2
                    let pixel = y + (j &* nk &+ k) &* c
                    if p1 >= 0 && p1 < top1 && p2 >= 0 && p2 < top2 {
                        let i1 = Int(p1), i2 = Int(p2)
                        let a1 = p1 - Double(i1), a2 = p2 - Double(i2)
                        let l1 = 1 - a1, l2 = 1 - a2
                        let o = base &+ i1 &* stride1 &+ i2 &* stride2
                        scatter(pixel, c, x, o, o &+ stride1, o &+ stride2, o &+ stride12,
                                Scalar(l1 * l2) * d, Scalar(a1 * l2) * d, Scalar(l1 * a2) * d, Scalar(a1 * a2) * d)
                    } else if p1 > -1 && p1 < end1 && p2 > -1 && p2 < end2 {
                        let t = plan.sample(slice: s, b1, b2)
                        scatter(pixel, c, x, t.o00, t.o10, t.o01, t.o11,
                                Scalar(t.w00) * d, Scalar(t.w10) * d, Scalar(t.w01) * d, Scalar(t.w11) * d)
                    }
                }
            }
        }
    }
}

/// `(floor(p), p − floor(p))` for `0 ≤ p < 2⁵¹` without a checked
/// conversion: adding 1.5·2⁵² rounds `p` to the nearest integer in the low
/// mantissa bits, and one branch-free comparison turns that into the floor.
/// The fraction is `p − floor(p)` exactly, the same value as
/// `p − Double(Int(p))`.
@inlinable @inline(__always)
func floorSplit(_ p: Double) -> (Int, Double) {
    let magic = 6755399441055744.0
    let t = p + magic
    let r = t - magic
    let down = r > p
    let f = r - (down ? 1 : 0)
    let i = Int(truncatingIfNeeded: t.bitPattern &- magic.bitPattern) &- (down ? 1 : 0)
    return (i, p - f)
}


/// The constants of one projection's ray traversal: the dominant axis,
/// the volume strides, and the linear maps from (j, k, slice) to the
/// fractional voxel positions along the two other axes.
@usableFromInline
struct RayPlan: Sendable {
    /// Length of the dominant axis and of the two others (mumott's order:
    /// x → (y, z), y → (x, z), z → (x, y)).
    @usableFromInline var d0: Int, d1: Int, d2: Int
    /// The dominant axis (0, 1, 2 for x, y, z).
    @usableFromInline var axis: Int
    /// Element strides of the three axes in the (X, Y, Z, C) volume.
    @usableFromInline var stride0: Int, stride1: Int, stride2: Int
    /// Position along axes 1 and 2 (in voxel-index units, voxel centres at
    /// integers) of ray (0, 0) on slice 0.
    @usableFromInline var base1: Double, base2: Double
    /// Change of those positions per step in j, in k, and per slice.
    @usableFromInline var dj1: Double, dj2: Double, dk1: Double, dk2: Double, step1: Double, step2: Double
    /// `1 / step1` and `1 / step2` (0 where the step is below 1e-12).
    @usableFromInline var inverseStep1: Double, inverseStep2: Double
    /// The step length `|v| / |v_a|`.
    @usableFromInline var distance: Double

    init(geometry: Geometry, projection i: Int, channels: Int) {
        let v = geometry.beamDirection(i), u = geometry.jDirection(i), w = geometry.kDirection(i)
        let shape = geometry.volumeShape
        let (nj, nk) = (Double(geometry.projectionShape[0]), Double(geometry.projectionShape[1]))
        let magnitudes = [Swift.abs(v.x), Swift.abs(v.y), Swift.abs(v.z)]
        var a = 0
        if magnitudes[1] > magnitudes[a] { a = 1 }
        if magnitudes[2] > magnitudes[a] { a = 2 }
        let order = a == 0 ? [0, 1, 2] : (a == 1 ? [1, 0, 2] : [2, 0, 1])
        axis = a
        let strides = [shape[1] * shape[2] * channels, shape[2] * channels, channels]
        (d0, d1, d2) = (shape[order[0]], shape[order[1]], shape[order[2]])
        (stride0, stride1, stride2) = (strides[order[0]], strides[order[1]], strides[order[2]])
        let s1 = v[order[1]] / v[order[0]], s2 = v[order[2]] / v[order[0]]
        // Ray (j, k) passes through r = (j + 0.5 + o_j − J/2) u + (k + 0.5 + o_k − K/2) w.
        let r0 = u * (0.5 + geometry.jOffsets[i] - nj / 2) + w * (0.5 + geometry.kOffsets[i] - nk / 2)
        // On the slice whose centre is at c0 = s + 0.5 − D0/2 along axis 0,
        // the position along axis n is r_n + (c0 − r_0) s_n, i.e. in index units
        // r_n − s_n r_0 + s_n (s + 0.5 − D0/2) + D_n/2 − 0.5.
        let half0 = 0.5 - Double(d0) / 2
        base1 = r0[order[1]] - s1 * r0[order[0]] + s1 * half0 + Double(d1) / 2 - 0.5
        base2 = r0[order[2]] - s2 * r0[order[0]] + s2 * half0 + Double(d2) / 2 - 0.5
        dj1 = u[order[1]] - s1 * u[order[0]]
        dj2 = u[order[2]] - s2 * u[order[0]]
        dk1 = w[order[1]] - s1 * w[order[0]]
        dk2 = w[order[2]] - s2 * w[order[0]]
        step1 = s1
        step2 = s2
        inverseStep1 = Swift.abs(s1) < 1e-12 ? 0 : 1 / s1
        inverseStep2 = Swift.abs(s2) < 1e-12 ? 0 : 1 / s2
        distance = (1 + s1 * s1 + s2 * s2).squareRoot()
    }

    /// Positions along axes 1 and 2 of ray (j, k) on slice 0.
    @inlinable @inline(__always)
    func rayStart(j: Int, k: Int) -> (Double, Double) {
        let (fj, fk) = (Double(j), Double(k))
        return (base1 + fj * dj1 + fk * dk1, base2 + fj * dj2 + fk * dk2)
    }

    /// The slices in `range` where the ray can have non-zero weights
    /// (positions in `(−1, D)` on both axes; monotone in the slice, so a range).
    /// Uses the plan's reciprocal steps and truncation with a margin
    /// instead of divisions and `floor` (no libm call per ray).
    @inlinable @inline(__always)
    func slices(_ b1: Double, _ b2: Double, within range: Range<Int>) -> Range<Int> {
        var lo = Double(range.lowerBound), hi = Double(range.upperBound)
        @inline(__always) func clip(_ b: Double, _ s: Double, _ inverse: Double, _ d: Int) {
            // Need −1 < b + t s < d.
            if Swift.abs(s) < 1e-12 {
                if !(b > -1.5 && b < Double(d) + 0.5) { hi = lo }
                return
            }
            let t1 = (-1 - b) * inverse, t2 = (Double(d) - b) * inverse
            // Clamped into range ± 8 (≥ −8, so truncating t + 16 is floor(t) + 16);
            // a margin of one slice each side covers rounding in t.
            let first = Swift.min(Swift.max(Swift.min(t1, t2), lo - 8), hi + 8)
            let last = Swift.min(Swift.max(Swift.max(t1, t2), lo - 8), hi + 8)
            lo = Swift.max(lo, Double(Int(first + 16) &- 17))
            hi = Swift.min(hi, Double(Int(last + 16) &- 14))
        }
        clip(b1, step1, inverseStep1, d1)
        clip(b2, step2, inverseStep2, d2)
        guard hi > lo else { return range.lowerBound..<range.lowerBound }
        // Settle the ends with the kernels' position formula: drop slices
        // where a position is ≤ −1 or ≥ D (all four weights are zero there).
        var first = Int(lo), last = Int(hi)
        @inline(__always) func touches(_ s: Int) -> Bool {
            let fs = Double(s)
            let p1 = b1 + fs * step1, p2 = b2 + fs * step2
            return p1 > -1 && p1 < Double(d1) && p2 > -1 && p2 < Double(d2)
        }
        while first < last && !touches(first) { first &+= 1 }
        while last > first && !touches(last &- 1) { last &-= 1 }
        return first < last ? first..<last : range.lowerBound..<range.lowerBound
    }

    /// The slices in `range` (a range from ``slices(_:_:within:)``) on
    /// which all four bilinear corners lie inside the volume, i.e. the
    /// positions `b + Double(s) · step` satisfy `0 ≤ p < D − 1` on both
    /// axes. Positions are monotone in `s`, so this is a range; it is
    /// estimated by division and then settled with the exact position
    /// formula used by the kernels. Empty ranges start at `range.lowerBound`.
    @inlinable @inline(__always)
    func interiorSlices(_ b1: Double, _ b2: Double, within range: Range<Int>) -> Range<Int> {
        var lo = range.lowerBound, hi = range.upperBound
        @inline(__always) func inside(_ s: Int) -> Bool {
            let fs = Double(s)
            let p1 = b1 + fs * step1, p2 = b2 + fs * step2
            return p1 >= 0 && p1 < Double(d1 - 1) && p2 >= 0 && p2 < Double(d2 - 1)
        }
        @inline(__always) func clip(_ b: Double, _ s: Double, _ inverse: Double, _ d: Int) {
            if Swift.abs(s) < 1e-12 { return }  // (nearly) constant position: settled by `inside` below
            let t1 = (0 - b) * inverse, t2 = (Double(d - 1) - b) * inverse
            // A superset estimate (clamped so truncation is safe); `inside` settles it.
            let a = Swift.min(Swift.max(Swift.min(t1, t2), Double(lo) - 8), Double(hi) + 8)
            let z = Swift.min(Swift.max(Swift.max(t1, t2), Double(lo) - 8), Double(hi) + 8)
            lo = Swift.max(lo, Int(a + 16) &- 17)
            hi = Swift.min(hi, Int(z + 16) &- 14)
        }
        clip(b1, step1, inverseStep1, d1)
        clip(b2, step2, inverseStep2, d2)
        while lo < hi && !inside(lo) { lo &+= 1 }
        while hi > lo && !inside(hi &- 1) { hi &-= 1 }
        return lo < hi ? lo..<hi : range.lowerBound..<range.lowerBound
    }

    /// The four voxel offsets and bilinear weights of the ray at slice `s`.
    /// Corners outside the volume get weight 0 (and a clamped, valid offset
    /// in the same slice).
    @inlinable @inline(__always)
    func sample(slice s: Int, _ b1: Double, _ b2: Double)
        -> (o00: Int, o10: Int, o01: Int, o11: Int, w00: Double, w10: Double, w01: Double, w11: Double) {
        let fs = Double(s)
        let p1 = Swift.min(Swift.max(b1 + fs * step1, -2), Double(d1) + 1)
        let p2 = Swift.min(Swift.max(b2 + fs * step2, -2), Double(d2) + 1)
        // p ≥ −2, so truncating p + 2 is floor(p) + 2 (no libm call).
        let i1 = Int(p1 + 2) &- 2, i2 = Int(p2 + 2) &- 2
        let a1 = p1 - Double(i1), a2 = p2 - Double(i2)
        let lo1 = i1 >= 0 && i1 < d1, hi1 = i1 + 1 >= 0 && i1 + 1 < d1
        let lo2 = i2 >= 0 && i2 < d2, hi2 = i2 + 1 >= 0 && i2 + 1 < d2
        let wl1 = lo1 ? 1 - a1 : 0, wh1 = hi1 ? a1 : 0
        let wl2 = lo2 ? 1 - a2 : 0, wh2 = hi2 ? a2 : 0
        let c1l = Swift.min(Swift.max(i1, 0), d1 - 1), c1h = Swift.min(Swift.max(i1 + 1, 0), d1 - 1)
        let c2l = Swift.min(Swift.max(i2, 0), d2 - 1), c2h = Swift.min(Swift.max(i2 + 1, 0), d2 - 1)
        let base = s * stride0
        let r1l = base + c1l * stride1, r1h = base + c1h * stride1
        return (r1l + c2l * stride2, r1h + c2l * stride2, r1l + c2h * stride2, r1h + c2h * stride2,
                wl1 * wl2, wh1 * wl2, wl1 * wh2, wh1 * wh2)
    }
}
