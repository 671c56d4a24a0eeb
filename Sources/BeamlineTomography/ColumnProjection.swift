import BeamlineOperators
import BeamlineTensor
import CBeamlineKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The column fast path of JohnTransformProjector.
//
// A projection has "column geometry" when its detector k direction is exactly
// ±z of the volume and its beam and j directions have no z component (a
// single-axis scan about z, any angle, any j and k offsets). Its rays then lie
// in z-planes, the dominant axis is x or y, and the transform factorises:
//
//   P[i, j, k, :] = Σ_s Σ_corners w(j, s) · (l · x[col, z(k), :] + a · x[col, z(k) + 1, :])
//
// where (col, w) are the in-plane Joseph weights of ray j on slice s (the
// same for every detector row k) and z(k) = f + σk, with f = ⌊b⌋, a = b − f,
// l = 1 − a for the ray's z position b of row 0 (σ = ±1). A (j, s) pair's
// contribution to all rows is one contiguous run over (k, c): a fused
// multiply-add over up to K·C elements, with weights computed once.
//
// The matrix entries are the general kernel's up to rounding: positions are
// computed as `b + Double(s) · step` with the same plan constants, the same
// edge rules (a position must lie in (−1, D); corners outside the volume are
// dropped), and the weights are products of the same factors. The forward and
// the adjoint below form every entry with the same expression
// (`tap(inPlane, zWeight)`), so they are exact transposes of each other.

/// The constants of one projection with column geometry.
@usableFromInline
struct ColumnPlan: Sendable {
    /// Index of the projection in the operator's output (into `plans`).
    @usableFromInline var output: Int
    /// The dominant in-plane axis (0 = x, 1 = y) and the lengths of the
    /// slice axis (`d0`) and of the other in-plane axis (`d1`).
    @usableFromInline var axis: Int, d0: Int, d1: Int
    /// Volume element strides of the slice axis and the in-plane axis.
    @usableFromInline var stride0: Int, stride1: Int
    /// In-plane position of ray j on slice s: `(base1 + j · dj1) + s · step1`.
    @usableFromInline var base1: Double, dj1: Double, step1: Double
    /// `1 / dj1` (|dj1| ≥ 1 for these geometries).
    @usableFromInline var inverseDj1: Double
    /// The step length `|v| / |v_a|`.
    @usableFromInline var distance: Double
    /// z position of row k: `zFloor + zSign · k + zFraction`.
    @usableFromInline var zFloor: Int, zSign: Int
    /// Interpolation weights along z: `zLow` on voxel `z(k)`, `zHigh` on `z(k) + 1`
    /// (`zHigh == 0` when rows lie on voxel rows).
    @usableFromInline var zLow: Double, zHigh: Double

    /// The largest change of a ray position (in voxels) that treating a plan
    /// as a column geometry may make: rotation matrices built from angles
    /// (Rodrigues' formula) give `R_zz = cos θ + (1 − cos θ)`, which is
    /// `1 − 2⁻⁵³` for some θ, so `k` steps of `1 − 2⁻⁵³` along z are taken as
    /// exact unit steps, and a row-0 z position that far from a voxel centre
    /// as on it. The matrix entries then differ from the general kernel's by
    /// at most about this much (rounding level).
    @usableFromInline static var positionTolerance: Double { 1e-13 }

    /// The column plan of `plan` (detector `nj × nk`), or nil when its
    /// geometry is not a column geometry within ``positionTolerance``.
    init?(_ plan: RayPlan, output: Int, nj: Int, nk: Int) {
        guard plan.axis != 2, Swift.abs(plan.dj1) >= 0.5, Swift.abs(plan.base2) < 1e15 else { return nil }
        // Drift of the positions from a column geometry over the whole detector and volume.
        let drift = Swift.abs(plan.step2) * Double(plan.d0) + Swift.abs(plan.dj2) * Double(nj)
            + (Swift.abs(plan.dk1) + Swift.abs(Swift.abs(plan.dk2) - 1)) * Double(nk)
        guard drift <= Self.positionTolerance else { return nil }
        self.output = output
        (axis, d0, d1) = (plan.axis, plan.d0, plan.d1)
        (stride0, stride1) = (plan.stride0, plan.stride1)
        (base1, dj1, step1) = (plan.base1, plan.dj1, plan.step1)
        inverseDj1 = 1 / plan.dj1
        distance = plan.distance
        // A z position within the tolerance of a voxel centre is taken as on it
        // (rows on voxel rows: one tap instead of two).
        let nearest = plan.base2.rounded()
        let base2 = Swift.abs(plan.base2 - nearest) <= Self.positionTolerance ? nearest : plan.base2
        let f = base2.rounded(.down)
        zFloor = Int(f)
        zSign = plan.dk2 > 0 ? 1 : -1
        zHigh = base2 - f
        zLow = 1 - zHigh
    }

    /// Whether `other` maps detector rows to voxel rows the same way.
    func sameZMapping(as other: ColumnPlan) -> Bool {
        zFloor == other.zFloor && zHigh == other.zHigh && zSign == other.zSign
    }

    /// The in-plane position of ray `j` on slice `s`, as the general kernel computes it.
    @inlinable @inline(__always)
    func position(_ j: Int, _ s: Int) -> Double { (base1 + Double(j) * dj1) + Double(s) * step1 }

    /// Floor and fraction of an in-plane position `p` with `−1 < p < d1`, and
    /// the two in-plane weights (step length included): `low` on voxel `i`
    /// (when `i ≥ 0`), `high` on voxel `i + 1` (when `i + 1 < d1` and the
    /// fraction is not 0).
    @inlinable @inline(__always)
    func corners(_ p: Double) -> (i: Int, low: Double, high: Double) {
        var i = Int(p)
        if Double(i) > p { i &-= 1 }
        let a = p - Double(i)
        return (i, (1 - a) * distance, a * distance)
    }
}

/// `lower..<upper` intersected with `range` (empty ranges start at `range.lowerBound`).
@inlinable @inline(__always)
func clampedRange(_ lower: Int, _ upper: Int, within range: Range<Int>) -> Range<Int> {
    let lo = Swift.max(lower, range.lowerBound), hi = Swift.min(upper, range.upperBound)
    return lo < hi ? lo..<hi : range.lowerBound..<range.lowerBound
}

/// A matrix entry: the in-plane weight times the z tap weight, rounded to `S`.
@inlinable @inline(__always)
func tap<S: OperatorScalar>(_ inPlane: Double, _ z: Double) -> S { S(inPlane * z) }

// MARK: - Contiguous multiply-adds (C kernels for Float and Double)

/// `y[n] += w0 a0[n]` for `n < count`.
@inlinable @inline(__always)
func columnAxpy<S: OperatorScalar>(_ fused: Int32, _ count: Int, _ y: UnsafeMutablePointer<S>,
                                  _ w0: S, _ a0: UnsafePointer<S>) {
    S._axpy(fused: fused, count: count, y: y, w0: w0, a0: a0)
}

/// `y[n] = (accumulate ? y[n] : 0) + Σ_t w[t] · base[offsets[t] + n]` for
/// `n < count`, terms in order.
@inlinable @inline(__always)
func columnGather<S: OperatorScalar>(_ fused: Int32, _ count: Int, _ y: UnsafeMutablePointer<S>, _ accumulate: Bool,
                                    _ terms: Int, _ w: UnsafePointer<S>, _ offsets: UnsafePointer<Int>,
                                    _ base: UnsafePointer<S>) {
    S._gather(fused: fused, count: count, y: y, accumulate: accumulate, terms: terms, w: w, offsets: offsets, base: base)
}

/// A list of up to ``capacity`` gather terms (weight, offset) in stack
/// memory, flushed into one run with ``columnGather(_:_:_:_:_:_:_:)``.
@usableFromInline
struct GatherTerms<S: OperatorScalar> {
    /// Terms held before a flush: 32 (stack memory for
    /// `withUnsafeTemporaryAllocation`). Measured on the 50³ × 120 benchmark
    /// (45 channels): 32 beats 16, 64 and 128 (fewer streams for the cache
    /// to follow per pass, against more passes over the run).
    @usableFromInline static var capacity: Int { 32 }
    @usableFromInline let weights: UnsafeMutablePointer<S>
    @usableFromInline let offsets: UnsafeMutablePointer<Int>
    @usableFromInline var count = 0
    /// When set, the next flush overwrites its run instead of adding to it
    /// (and zeroes the run if no term was added).
    @usableFromInline var overwrite = false

    @inlinable init(weights: UnsafeMutablePointer<S>, offsets: UnsafeMutablePointer<Int>) {
        self.weights = weights
        self.offsets = offsets
    }

    /// Flushes first when fewer than `room` slots are free.
    @inlinable @inline(__always)
    mutating func reserve(_ room: Int, fused: Int32, count n: Int, into y: UnsafeMutablePointer<S>,
                          from base: UnsafePointer<S>) {
        if count &+ room > Self.capacity { flush(fused: fused, count: n, into: y, from: base) }
    }

    /// Writes a term into the next slot and keeps it only when `keep` (no
    /// branch; the caller has reserved the slot).
    @inlinable @inline(__always)
    mutating func put(_ w: S, _ offset: Int, if keep: Bool) {
        weights[count] = w
        offsets[count] = offset
        count &+= keep ? 1 : 0
    }

    /// Adds the held terms to `y[0..<n]` and empties the list.
    @inlinable @inline(__always)
    mutating func flush(fused: Int32, count n: Int, into y: UnsafeMutablePointer<S>, from base: UnsafePointer<S>) {
        if count > 0 {
            columnGather(fused, n, y, !overwrite, count, weights, offsets, base)
        } else if overwrite {
            y.initialize(repeating: 0, count: n)
        }
        overwrite = false
        count = 0
    }
}

/// Runs `body` with stack storage for one ``GatherTerms`` list.
@inlinable @inline(__always)
func withGatherTerms<S: OperatorScalar>(_ type: S.Type, _ body: (inout GatherTerms<S>) -> Void) {
    withUnsafeTemporaryAllocation(of: S.self, capacity: GatherTerms<S>.capacity) { w in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: GatherTerms<S>.capacity) { o in
            var terms = GatherTerms<S>(weights: w.baseAddress!, offsets: o.baseAddress!)
            body(&terms)
        }
    }
}

/// Per-column lists of gather terms (weight, offset) for the adjoint's
/// tiles: ``capacity`` slots per column, in memory the caller provides.
@usableFromInline
struct ColumnTermLists<S: OperatorScalar> {
    /// Slots per column: ``GatherTerms/capacity`` (32), the number of terms
    /// per gather pass that the forward measured best; also measured here on
    /// the 50³ × 120 benchmark (45 channels: 60 ms with 32 slots against 67 ms
    /// with 64; one channel alike). Room for one projection's terms, at most
    /// 4 rays · 2 taps for the in-plane ray spacings of column plans.
    @usableFromInline static var capacity: Int { GatherTerms<S>.capacity }

    @usableFromInline let weights: UnsafeMutablePointer<S>
    @usableFromInline let offsets: UnsafeMutablePointer<Int>
    @usableFromInline let counts: UnsafeMutablePointer<Int>

    @inlinable init(weights: UnsafeMutablePointer<S>, offsets: UnsafeMutablePointer<Int>, counts: UnsafeMutablePointer<Int>,
                    spare: Int) {
        (self.weights, self.offsets, self.counts, self.spare) = (weights, offsets, counts, spare)
    }

    /// Bytes of the lists of `columns` columns and the spare list (a
    /// multiple of 64, so consecutive lists stay aligned).
    @inlinable
    static func bytes(columns used: Int) -> Int {
        let columns = used + 1
        let bytes = columns * Self.capacity * (MemoryLayout<Int>.stride + MemoryLayout<S>.stride) + columns * MemoryLayout<Int>.stride
        return (bytes + 63) / 64 * 64
    }

    /// Empty lists for `columns` columns and the spare list in the
    /// ``bytes(columns:)`` bytes at `memory` (8-byte aligned).
    @inlinable
    init(memory raw: UnsafeMutableRawPointer, columns used: Int) {
        let columns = used + 1
        let slots = columns * Self.capacity
        let offsets = raw.bindMemory(to: Int.self, capacity: slots + columns)
        let counts = offsets + slots
        counts.initialize(repeating: 0, count: columns)
        let weights = (raw + (slots + columns) * MemoryLayout<Int>.stride).bindMemory(to: S.self, capacity: slots)
        self.init(weights: weights, offsets: offsets, counts: counts, spare: used)
    }

    /// The index of a spare list that never keeps a term (see ``put(_:_:_:if:)``).
    @usableFromInline let spare: Int

    /// Writes a term into the next slot of `column`'s list and keeps it only
    /// when `keep` (no branch; pass ``spare`` as the column of a term not
    /// kept). The caller keeps within ``capacity``.
    @inlinable @inline(__always)
    mutating func put(_ column: Int, _ w: S, _ offset: Int, if keep: Bool) {
        let k = counts[column], slot = column &* Self.capacity &+ k
        weights[slot] = w
        offsets[slot] = offset
        counts[column] = k &+ (keep ? 1 : 0)
    }

    /// Adds the terms of `column` to `y[0..<n]` (in order) and empties its list.
    @inlinable @inline(__always)
    mutating func flush(_ column: Int, fused: Int32, count n: Int, into y: UnsafeMutablePointer<S>, from base: UnsafePointer<S>) {
        let k = counts[column]
        guard k > 0 else { return }
        let slot = column &* Self.capacity
        columnGather(fused, n, y, true, k, weights + slot, offsets + slot, base)
        counts[column] = 0
    }
}

/// Whether the AVX2 + FMA kernels should run: the CPU has them and
/// `BEAMLINE_PORTABLE_KERNELS` is unset (or `0`).
func defaultFusedKernels() -> Bool {
    if let value = getenv("BEAMLINE_PORTABLE_KERNELS"), String(cString: value) != "" && String(cString: value) != "0" {
        return false
    }
    return bl_kernels_have_avx2_fma() != 0
}

// MARK: - Forward and adjoint on column plans

extension JohnTransformProjector {
    /// Rows (of z, or of detector k) per block: enough that one term's run
    /// of `rows · C` values is at least 384 long (long contiguous runs for
    /// the gather kernel, and the per-term set-up amortised), at most
    /// `maxRows`, balanced so the blocks have nearly equal sizes.
    @inlinable
    static func columnRows(length: Int, channels c: Int, maxRows: Int) -> Int {
        let wanted = Swift.max(1, Swift.min(length, maxRows, (384 + c - 1) / c))
        let blocks = (length + wanted - 1) / wanted
        return (length + blocks - 1) / blocks
    }

    /// The largest block of volume rows a task reads at a time (forward) or
    /// writes (adjoint), in bytes: large enough for long runs, small enough
    /// to stay in the last-level cache (on x86-64 servers ≥ 16 MB shared).
    @usableFromInline static var columnBlockBytes: Int { 8 << 20 }

    /// `y = P x` for the projections with column geometry.
    ///
    /// Blocks of detector rows `k` run one after the other; within a block,
    /// tasks own projections, so each output value is written by one task,
    /// summing its terms in slice order, and the block's rows of the volume
    /// (`X · Y · rows · C` values, at most ``columnBlockBytes``) stay in the
    /// shared last-level cache while every thread reads them.
    @inlinable
    func applyColumns(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>) {
        guard !columnPlans.isEmpty else { return }
        let (nj, nk, c) = (geometry.projectionShape[0], geometry.projectionShape[1], channels)
        let (vx, vy) = (geometry.volumeShape[0], geometry.volumeShape[1])
        let plane = Swift.max(1, vx * vy * c * MemoryLayout<Scalar>.stride)
        let rows = Self.columnRows(length: nk, channels: c, maxRows: Swift.max(1, Self.columnBlockBytes / plane))
        let blocks = (nk + rows - 1) / rows
        let input = SendableBuffer(start: x, validIndices: 0..<self.columns)
        let output = SendableMutableBuffer(start: y, validIndices: 0..<self.rows)
        let fused = fusedKernels ? Int32(1) : 0
        let nz = geometry.volumeShape[2]
        columnPlans.withUnsafeBufferPointer { planStorage in
            let planBuffer = SendableBuffer(planStorage)
            // One block of rows at a time, its projections shared among the
            // threads: every thread reads the same slice of the volume.
            // Work items: (projection, part of its rays), enough parts to share
            // out even a single projection.
            let count = planBuffer.count
            let parts = Swift.max(1, Swift.min(nj, (4 * Parallel.threadCount + count - 1) / count))
            for block in 0..<blocks {
                let k0 = block * rows, k1 = Swift.min(nk, k0 + rows)
                Parallel.forEachChunk(count: count * parts, minimumChunk: 1) { items in
                    withGatherTerms(Scalar.self) { terms in
                        for item in items {
                            let member = item / parts, part = item - member * parts
                            Self.forwardColumns(planBuffer[member], rays: (nj * part / parts)..<(nj * (part + 1) / parts),
                                                rows: k0..<k1, nj: nj, nk: nk, channels: c, z: nz, fused: fused,
                                                terms: &terms, x: UnsafePointer(input.baseAddress), y: output.baseAddress)
                        }
                    }
                }
            }
        }
    }

    /// Rows `rows` of the rays `rays` of one column-geometry projection.
    ///
    /// Each ray's run of rows whose taps all lie inside the volume is one
    /// gather over its (slice, corner, tap) terms, summed in that order; the
    /// few edge rows (and every row when k₀ runs down z) go row by row.
    @inlinable
    static func forwardColumns(_ plan: ColumnPlan, rays: Range<Int>, rows: Range<Int>, nj: Int, nk: Int, channels c: Int, z nz: Int,
                               fused: Int32, terms: inout GatherTerms<Scalar>,
                               x: UnsafePointer<Scalar>, y: UnsafeMutablePointer<Scalar>) {
        let (k0, k1) = (rows.lowerBound, rows.upperBound)
        let f = plan.zFloor, high = plan.zHigh, low = plan.zLow
        let end1 = Double(plan.d1)
        // Rows whose every tap lies inside the volume (σ = +1): z(k) = f + k and,
        // with a fraction, z(k) + 1 in 0..<Z.
        let inner = plan.zSign == 1 ? clampedRange(-f, (high == 0 ? nz : nz - 1) - f, within: rows) : k0..<k0
        // Rows with at least one tap inside the volume: z(k) in −1..<Z (0..<Z without a fraction).
        let touched = plan.zSign == 1
            ? clampedRange((high == 0 ? 0 : -1) - f, nz - f, within: rows)
            : clampedRange(f - nz + 1, f + (high == 0 ? 1 : 2), within: rows)
        let (before, after) = inner.isEmpty
            ? (touched, touched.upperBound..<touched.upperBound)
            : (touched.lowerBound..<inner.lowerBound, inner.upperBound..<touched.upperBound)
        let n = inner.count * c, zOffset = (f + inner.lowerBound) * c
        for j in rays {
            let row = y + ((plan.output * nj + j) * nk + k0) * c
            if inner.isEmpty {
                row.initialize(repeating: 0, count: (k1 - k0) * c)
            } else {
                // The inner rows are overwritten by the first flush.
                row.initialize(repeating: 0, count: (inner.lowerBound - k0) * c)
                (row + (inner.upperBound - k0) * c).initialize(repeating: 0, count: (k1 - inner.upperBound) * c)
                terms.overwrite = true
                let dst = row + (inner.lowerBound - k0) * c
                // Branch-free: every candidate term is written, and counted
                // only when its weight belongs to the matrix.
                for s in 0..<plan.d0 {
                    terms.reserve(4, fused: fused, count: n, into: dst, from: x)
                    let p = plan.position(j, s)
                    let inside = p > -1 && p < end1
                    let (i, wl, wh) = plan.corners(inside ? p : 0)
                    let column = s &* plan.stride0 &+ i &* plan.stride1 &+ zOffset
                    let useLow = inside && i >= 0, useHigh = inside && i &+ 1 < plan.d1 && wh != 0
                    if high == 0 {
                        terms.put(tap(wl, low), column, if: useLow)
                        terms.put(tap(wh, low), column &+ plan.stride1, if: useHigh)
                    } else {
                        terms.put(tap(wl, low), column, if: useLow)
                        terms.put(tap(wl, high), column &+ c, if: useLow)
                        terms.put(tap(wh, low), column &+ plan.stride1, if: useHigh)
                        terms.put(tap(wh, high), column &+ plan.stride1 &+ c, if: useHigh)
                    }
                }
                terms.flush(fused: fused, count: n, into: dst, from: x)
            }
            guard !before.isEmpty || !after.isEmpty else { continue }
            for s in 0..<plan.d0 {
                let p = plan.position(j, s)
                guard p > -1 && p < end1 else { continue }
                let (i, wl, wh) = plan.corners(p)
                let column = s &* plan.stride0 &+ i &* plan.stride1
                @inline(__always) func edgeRow(_ k: Int) {
                    let zl = f + plan.zSign * k
                    let dst = row + (k - k0) * c
                    @inline(__always) func add(_ w: Double, _ offset: Int) {
                        if zl >= 0 && zl < nz { columnAxpy(fused, c, dst, tap(w, low), x + (offset + zl * c)) }
                        if high != 0 && zl + 1 >= 0 && zl + 1 < nz {
                            columnAxpy(fused, c, dst, tap(w, high), x + (offset + (zl + 1) * c))
                        }
                    }
                    if i >= 0 { add(wl, column) }
                    if i + 1 < plan.d1 && wh != 0 { add(wh, column + plan.stride1) }
                }
                for k in before { edgeRow(k) }
                for k in after { edgeRow(k) }
            }
        }
    }

    /// `x += Pᵀ y` for the projections with column geometry (`x` zeroed by the caller).
    ///
    /// Tasks own tiles of the volume (a range of x times a block of z rows,
    /// at most 512 KB), so each voxel is written by one task.
    /// Within a tile, chunks of projections are swept ray by ray (as the
    /// forward does): each ray's in-plane weights on a slice are computed
    /// once and appended, as terms, to the lists of the one or two voxel
    /// columns it meets in the tile. Each list is then gathered in one pass
    /// over its column's run of (z, c) values, with the partial sums in
    /// registers. A column's terms come in (projection, ray, tap) order
    /// whatever the tiling, so results do not depend on the thread count.
    /// Projections are grouped by their z mapping (``ColumnPlan/zFloor``,
    /// fraction, direction), which fixes the run.
    @inlinable
    func applyAdjointColumns(_ y: UnsafePointer<Scalar>, into x: UnsafeMutablePointer<Scalar>) {
        guard !columnPlans.isEmpty else { return }
        let (nj, nk, c) = (geometry.projectionShape[0], geometry.projectionShape[1], channels)
        let (vx, vy, vz) = (geometry.volumeShape[0], geometry.volumeShape[1], geometry.volumeShape[2])
        let bytes = MemoryLayout<Scalar>.stride
        let rows = Self.columnRows(length: vz, channels: c, maxRows: vz)
        let zBlocks = (vz + rows - 1) / rows
        let threads = Parallel.threadCount
        // Tiles of `width` x-rows of the volume: at most 512 KB (in L2 while the
        // tile's projections are gathered into it), and two tiles per thread
        // (wider tiles sweep fewer spare candidate rays: 50³ × 120, one channel,
        // 2.0 ms against 2.1–2.5 ms with four per thread).
        var width = Swift.max(1, (512 << 10) / Swift.max(1, vy * rows * c * bytes))
        width = Swift.min(width, Swift.max(1, (vx * zBlocks) / (2 * threads)))
        width = Swift.min(width, vx)
        let xBlocks = (vx + width - 1) / width
        let tileWidth = width
        let input = SendableBuffer(start: y, validIndices: 0..<self.rows)
        let output = SendableMutableBuffer(start: x, validIndices: 0..<self.columns)
        let fused = fusedKernels ? Int32(1) : 0
        let columns = width * vy
        columnPlans.withUnsafeBufferPointer { planStorage in
            columnClasses.withUnsafeBufferPointer { classStorage in
                let planBuffer = SendableBuffer(planStorage), classes = SendableBuffer(classStorage)
                // Blocks of tiles, each with its own lists in one workspace made on
                // this thread (so a call's allocations do not depend on which
                // thread runs which block; the buffer comes from StorageCache).
                let tiles = zBlocks * xBlocks
                let wantedBlocks = Swift.min(tiles, 4 * threads)
                let tilesPerBlock = (tiles + wantedBlocks - 1) / wantedBlocks
                let blocks = (tiles + tilesPerBlock - 1) / tilesPerBlock
                let listBytes = ColumnTermLists<Scalar>.bytes(columns: columns)
                var workspace = Tensor<Double>(unsafeUninitializedShape: [blocks * listBytes / 8]) { _ in }   // lists are set up before use
                workspace.withUnsafeMutableBufferPointer { space in
                    let memory = SendableMutableBuffer(space)
                    Parallel.forEachBlock(count: tiles, blockSize: tilesPerBlock) { block, tileRange in
                        var lists = ColumnTermLists<Scalar>(memory: UnsafeMutableRawPointer(memory.baseAddress) + block * listBytes,
                                                            columns: columns)
                        for tile in tileRange {
                            let zb = tile / xBlocks, xb = tile - zb * xBlocks
                            let xs = (xb * tileWidth)..<Swift.min(vx, (xb + 1) * tileWidth)
                            let zs = (zb * rows)..<Swift.min(vz, (zb + 1) * rows)
                            for range in classes {
                                Self.adjointColumns(UnsafeBufferPointer(start: planBuffer.pointer(at: range.lowerBound, count: range.count),
                                                                        count: range.count), xs: xs, ys: 0..<vy,
                                                    zs: zs, nj: nj, nk: nk, ny: vy, nz: vz, channels: c, fused: fused,
                                                    lists: &lists, y: UnsafePointer(input.baseAddress), x: output.baseAddress)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The contributions of projections `plans` (one z class: same z floor,
    /// fraction and direction) to the voxels `xs × ys × zs`.
    @inlinable
    static func adjointColumns(_ plans: UnsafeBufferPointer<ColumnPlan>, xs: Range<Int>, ys: Range<Int>, zs: Range<Int>,
                               nj: Int, nk: Int, ny: Int, nz: Int, channels c: Int, fused: Int32,
                               lists: inout ColumnTermLists<Scalar>, y: UnsafePointer<Scalar>, x: UnsafeMutablePointer<Scalar>) {
        guard let first = plans.first else { return }
        let f = first.zFloor, high = first.zHigh, low = first.zLow, sign = first.zSign
        // Voxel rows z whose every tap comes from a detector row in 0..<K (σ = +1):
        // row k = z − f (weight low) and, with a fraction, row z − f − 1 (weight high).
        let inner = sign == 1 ? clampedRange(high == 0 ? f : f + 1, f + nk, within: zs) : zs.lowerBound..<zs.lowerBound
        // Voxel rows that receive at least one tap: row k = σ(z − f) or, with a fraction, σ(z − f − 1) in 0..<K.
        let extra = high == 0 ? 0 : 1
        let touched = sign == 1
            ? clampedRange(f, f + nk + extra, within: zs)
            : clampedRange(f - nk + 1, f + 1 + extra, within: zs)
        guard !touched.isEmpty else { return }
        let (before, after) = inner.isEmpty
            ? (touched, touched.upperBound..<touched.upperBound)
            : (touched.lowerBound..<inner.lowerBound, inner.upperBound..<touched.upperBound)
        let hasEdges = !before.isEmpty || !after.isEmpty
        let n = inner.count * c
        let rowLength = nk * c
        let lowOffset = (inner.lowerBound - f) * c   // detector row of the low tap of the first inner voxel row
        let height = ys.count
        // Terms one projection may add to one column: its rays are |dj1| apart
        // and a column takes positions in an open interval of length 2.
        var raysPerColumn = 1
        for plan in plans { raysPerColumn = Swift.max(raysPerColumn, Int((2 * Swift.abs(plan.inverseDj1)).rounded(.up))) }
        let perPlan = inner.isEmpty ? 0 : raysPerColumn * (high == 0 ? 1 : 2)
        let spare = lists.spare
        let chunk = perPlan == 0 ? plans.count : Swift.max(1, ColumnTermLists<Scalar>.capacity / perPlan)
        var chunkStart = 0
        while chunkStart < plans.count {
            let chunkEnd = Swift.min(plans.count, chunkStart + chunk)
            for plan in plans[chunkStart..<chunkEnd] {
                let image = plan.output &* nj &* rowLength
                // Slices of the tile, and the tile's range of the in-plane axis;
                // list index of (s, q) = (s − s₀) · sStride + (q − q₀) · qStride.
                let (slices, qs) = plan.axis == 0 ? (xs, ys) : (ys, xs)
                let (sStride, qStride) = plan.axis == 0 ? (height, 1) : (1, height)
                let (q0, q1) = (qs.lowerBound, qs.upperBound)
                // Positions in (q₀ − 1, q₁) have a corner in qs (qs lies in 0..<d1,
                // so such positions are inside the volume).
                let lo = Double(q0 &- 1), hi = Double(q1)
                for s in slices {
                    let sColumn = (s &- slices.lowerBound) &* sStride
                    // Candidate rays from the inverse of the position formula (a margin of
                    // one ray covers rounding; each is then settled with the forward's formula).
                    let origin = plan.base1 + Double(s) * plan.step1
                    let ja = (lo - origin) * plan.inverseDj1, jb = (hi - origin) * plan.inverseDj1
                    let lowest = Swift.min(Swift.max(Swift.min(ja, jb), -2), Double(nj) + 2)
                    let highest = Swift.min(Swift.max(Swift.max(ja, jb), -2), Double(nj) + 2)
                    let firstRay = Swift.max(0, Int(lowest + 3) &- 3)          // ⌊lowest⌋ (lowest ≥ −2)
                    let lastRay = Swift.min(nj &- 1, Int(highest + 3) &- 2)    // ⌊highest⌋ + 1
                    guard firstRay <= lastRay else { continue }
                    for j in firstRay...lastRay {
                        // Branch-free: both corners' terms are written, and kept only
                        // when they belong to the matrix (else they go to the spare list).
                        let p = plan.position(j, s)
                        let inside = p > lo && p < hi
                        let (i, wl, wh) = plan.corners(inside ? p : lo + 0.5)
                        let keepLow = inside && i >= q0 && wl != 0
                        let keepHigh = inside && i &+ 1 < q1 && wh != 0
                        let columnLow = keepLow ? sColumn &+ (i &- q0) &* qStride : spare
                        let columnHigh = keepHigh ? sColumn &+ (i &+ 1 &- q0) &* qStride : spare
                        let ray = image &+ j &* rowLength
                        if perPlan != 0 {
                            lists.put(columnLow, tap(wl, low), ray &+ lowOffset, if: keepLow)
                            lists.put(columnHigh, tap(wh, low), ray &+ lowOffset, if: keepHigh)
                            if high != 0 {
                                lists.put(columnLow, tap(wl, high), ray &+ lowOffset &- c, if: keepLow)
                                lists.put(columnHigh, tap(wh, high), ray &+ lowOffset &- c, if: keepHigh)
                            }
                        }
                        guard hasEdges else { continue }
                        @inline(__always) func edgeRows(_ q: Int, _ w: Double) {
                            let (vxIndex, vyIndex) = plan.axis == 0 ? (s, q) : (q, s)
                            let target = x + ((vxIndex * ny + vyIndex) * nz) * c
                            @inline(__always) func edgeRow(_ zv: Int) {
                                let kl = sign * (zv - f)
                                if kl >= 0 && kl < nk { columnAxpy(fused, c, target + zv * c, tap(w, low), y + (ray + kl * c)) }
                                if high != 0 {
                                    let kh = sign * (zv - f - 1)
                                    if kh >= 0 && kh < nk { columnAxpy(fused, c, target + zv * c, tap(w, high), y + (ray + kh * c)) }
                                }
                            }
                            for zv in before { edgeRow(zv) }
                            for zv in after { edgeRow(zv) }
                        }
                        if keepLow { edgeRows(i, wl) }
                        if keepHigh { edgeRows(i + 1, wh) }
                    }
                }
            }
            if perPlan != 0 {
                for vxIndex in xs {
                    for vyIndex in ys {
                        let column = (vxIndex - xs.lowerBound) * height + (vyIndex - ys.lowerBound)
                        let dst = x + ((vxIndex * ny + vyIndex) * nz + inner.lowerBound) * c
                        lists.flush(column, fused: fused, count: n, into: dst, from: y)
                    }
                }
            }
            chunkStart = chunkEnd
        }
    }
}
