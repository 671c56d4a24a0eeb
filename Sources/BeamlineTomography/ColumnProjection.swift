import BeamlineSparse
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
func tap<S: SparseElement>(_ inPlane: Double, _ z: Double) -> S { S(inPlane * z) }

// MARK: - Contiguous fused multiply-adds

/// `y[n] += w0 a0[n]` for `n < count` (C kernels for Float and Double).
@inlinable @inline(__always)
func columnAxpy<S: SparseElement>(_ fused: Int32, _ count: Int, _ y: UnsafeMutablePointer<S>,
                                  _ w0: S, _ a0: UnsafePointer<S>) {
    if S.self == Double.self {
        bl_axpy1_d(fused, count, UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self),
                   unsafeBitCast(w0, to: Double.self), UnsafeRawPointer(a0).assumingMemoryBound(to: Double.self))
    } else if S.self == Float.self {
        bl_axpy1_f(fused, count, UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self),
                   unsafeBitCast(w0, to: Float.self), UnsafeRawPointer(a0).assumingMemoryBound(to: Float.self))
    } else {
        for n in 0..<count { y[n] = y[n] + w0 * a0[n] }
    }
}

/// `y[n] += w0 a0[n] + w1 a1[n]`.
@inlinable @inline(__always)
func columnAxpy<S: SparseElement>(_ fused: Int32, _ count: Int, _ y: UnsafeMutablePointer<S>,
                                  _ w0: S, _ a0: UnsafePointer<S>, _ w1: S, _ a1: UnsafePointer<S>) {
    if S.self == Double.self {
        bl_axpy2_d(fused, count, UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self),
                   unsafeBitCast(w0, to: Double.self), UnsafeRawPointer(a0).assumingMemoryBound(to: Double.self),
                   unsafeBitCast(w1, to: Double.self), UnsafeRawPointer(a1).assumingMemoryBound(to: Double.self))
    } else if S.self == Float.self {
        bl_axpy2_f(fused, count, UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self),
                   unsafeBitCast(w0, to: Float.self), UnsafeRawPointer(a0).assumingMemoryBound(to: Float.self),
                   unsafeBitCast(w1, to: Float.self), UnsafeRawPointer(a1).assumingMemoryBound(to: Float.self))
    } else {
        for n in 0..<count { y[n] = (y[n] + w0 * a0[n]) + w1 * a1[n] }
    }
}

/// `y[n] += w0 a0[n] + w1 a1[n] + w2 a2[n] + w3 a3[n]`.
@inlinable @inline(__always)
func columnAxpy<S: SparseElement>(_ fused: Int32, _ count: Int, _ y: UnsafeMutablePointer<S>,
                                  _ w0: S, _ a0: UnsafePointer<S>, _ w1: S, _ a1: UnsafePointer<S>,
                                  _ w2: S, _ a2: UnsafePointer<S>, _ w3: S, _ a3: UnsafePointer<S>) {
    if S.self == Double.self {
        bl_axpy4_d(fused, count, UnsafeMutableRawPointer(y).assumingMemoryBound(to: Double.self),
                   unsafeBitCast(w0, to: Double.self), UnsafeRawPointer(a0).assumingMemoryBound(to: Double.self),
                   unsafeBitCast(w1, to: Double.self), UnsafeRawPointer(a1).assumingMemoryBound(to: Double.self),
                   unsafeBitCast(w2, to: Double.self), UnsafeRawPointer(a2).assumingMemoryBound(to: Double.self),
                   unsafeBitCast(w3, to: Double.self), UnsafeRawPointer(a3).assumingMemoryBound(to: Double.self))
    } else if S.self == Float.self {
        bl_axpy4_f(fused, count, UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self),
                   unsafeBitCast(w0, to: Float.self), UnsafeRawPointer(a0).assumingMemoryBound(to: Float.self),
                   unsafeBitCast(w1, to: Float.self), UnsafeRawPointer(a1).assumingMemoryBound(to: Float.self),
                   unsafeBitCast(w2, to: Float.self), UnsafeRawPointer(a2).assumingMemoryBound(to: Float.self),
                   unsafeBitCast(w3, to: Float.self), UnsafeRawPointer(a3).assumingMemoryBound(to: Float.self))
    } else {
        for n in 0..<count { y[n] = (((y[n] + w0 * a0[n]) + w1 * a1[n]) + w2 * a2[n]) + w3 * a3[n] }
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
    /// Cache budget per task (bytes): the block of the volume (forward) or of
    /// the volume being written (adjoint) that one task works on at a time.
    @usableFromInline static var columnBlockBytes: Int { 512 * 1024 }

    /// `y = P x` for the projections with column geometry.
    ///
    /// Tasks own blocks of detector rows `k` (for a group of projections), so
    /// each output value is written by one task, summing its terms in slice
    /// order; the block's rows of the volume (`X · Y · rows · C` values, about
    /// ``columnBlockBytes``) stay in cache while every projection of the
    /// group reads them.
    @inlinable
    func applyColumns(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>) {
        guard !columnPlans.isEmpty else { return }
        let (nj, nk, c) = (geometry.projectionShape[0], geometry.projectionShape[1], channels)
        let (vx, vy) = (geometry.volumeShape[0], geometry.volumeShape[1])
        let plane = Swift.max(1, vx * vy * c * MemoryLayout<Scalar>.stride)
        var rows = Swift.max(1, Self.columnBlockBytes / plane, (8 + c - 1) / c)
        rows = Swift.min(rows, nk)
        let blocks = (nk + rows - 1) / rows
        let threads = Parallel.threadCount
        let groups = Swift.max(1, Swift.min(columnPlans.count, (4 * threads + blocks - 1) / blocks))
        let input = SendablePointer(UnsafeMutablePointer(mutating: x)), output = SendablePointer(y)
        let fused = fusedKernels ? Int32(1) : 0
        columnPlans.withUnsafeBufferPointer { planBuffer in
            let count = planBuffer.count
            Parallel.forEachChunk(count: blocks * groups, minimumChunk: 1) { tiles in
                for tile in tiles {
                    let block = tile / groups, group = tile - block * groups
                    let k0 = block * rows, k1 = Swift.min(nk, k0 + rows)
                    for member in (count * group / groups)..<(count * (group + 1) / groups) {
                        Self.forwardColumns(planBuffer[member], rows: k0..<k1, nj: nj, nk: nk, channels: c,
                                            z: geometry.volumeShape[2], fused: fused,
                                            x: UnsafePointer(input.base), y: output.base)
                    }
                }
            }
        }
    }

    /// Rows `rows` of every ray `j` of one column-geometry projection.
    @inlinable
    static func forwardColumns(_ plan: ColumnPlan, rows: Range<Int>, nj: Int, nk: Int, channels c: Int, z nz: Int,
                               fused: Int32, x: UnsafePointer<Scalar>, y: UnsafeMutablePointer<Scalar>) {
        let (k0, k1) = (rows.lowerBound, rows.upperBound)
        let f = plan.zFloor, high = plan.zHigh, low = plan.zLow
        let end1 = Double(plan.d1)
        // Rows whose every tap lies inside the volume (σ = +1): z(k) = f + k and,
        // with a fraction, z(k) + 1 in 0..<Z.
        var inner = 0..<0
        if plan.zSign == 1 {
            let lo = Swift.max(k0, -f), hi = Swift.min(k1, (high == 0 ? nz : nz - 1) - f)
            if lo < hi { inner = lo..<hi }
        }
        // Rows with at least one tap inside the volume: z(k) in −1..<Z (0..<Z without a fraction).
        let touched = plan.zSign == 1
            ? clampedRange((high == 0 ? 0 : -1) - f, nz - f, within: rows)
            : clampedRange(f - nz + 1, f + (high == 0 ? 1 : 2), within: rows)
        let (before, after) = inner.isEmpty
            ? (touched, touched.upperBound..<touched.upperBound)
            : (touched.lowerBound..<inner.lowerBound, inner.upperBound..<touched.upperBound)
        for j in 0..<nj {
            let row = y + ((plan.output * nj + j) * nk + k0) * c
            row.initialize(repeating: 0, count: (k1 - k0) * c)
            for s in 0..<plan.d0 {
                let p = plan.position(j, s)
                guard p > -1 && p < end1 else { continue }
                let (i, wl, wh) = plan.corners(p)
                let hasLow = i >= 0, hasHigh = i + 1 < plan.d1 && wh != 0
                let column = s &* plan.stride0 &+ i &* plan.stride1   // voxel column of the low corner
                if !inner.isEmpty {
                    let n = inner.count * c
                    let dst = row + (inner.lowerBound - k0) * c
                    let zOffset = (f + inner.lowerBound) * c
                    if high == 0 {
                        if hasLow && hasHigh {
                            columnAxpy(fused, n, dst, tap(wl, low), x + (column + zOffset),
                                       tap(wh, low), x + (column + plan.stride1 + zOffset))
                        } else if hasLow {
                            columnAxpy(fused, n, dst, tap(wl, low), x + (column + zOffset))
                        } else {
                            columnAxpy(fused, n, dst, tap(wh, low), x + (column + plan.stride1 + zOffset))
                        }
                    } else {
                        if hasLow && hasHigh {
                            let a = x + (column + zOffset), b = x + (column + plan.stride1 + zOffset)
                            columnAxpy(fused, n, dst, tap(wl, low), a, tap(wl, high), a + c,
                                       tap(wh, low), b, tap(wh, high), b + c)
                        } else if hasLow {
                            let a = x + (column + zOffset)
                            columnAxpy(fused, n, dst, tap(wl, low), a, tap(wl, high), a + c)
                        } else {
                            let b = x + (column + plan.stride1 + zOffset)
                            columnAxpy(fused, n, dst, tap(wh, low), b, tap(wh, high), b + c)
                        }
                    }
                }
                // The other rows one at a time (edge rows; every row when σ = −1).
                @inline(__always) func edgeRow(_ k: Int) {
                    let zl = f + plan.zSign * k
                    let dst = row + (k - k0) * c
                    @inline(__always) func add(_ w: Double, _ offset: Int) {
                        if zl >= 0 && zl < nz { columnAxpy(fused, c, dst, tap(w, low), x + (offset + zl * c)) }
                        if high != 0 && zl + 1 >= 0 && zl + 1 < nz {
                            columnAxpy(fused, c, dst, tap(w, high), x + (offset + (zl + 1) * c))
                        }
                    }
                    if hasLow { add(wl, column) }
                    if hasHigh { add(wh, column + plan.stride1) }
                }
                for k in before { edgeRow(k) }
                for k in after { edgeRow(k) }
            }
        }
    }

    /// `x += Pᵀ y` for the projections with column geometry (`x` zeroed by the caller).
    ///
    /// Tasks own tiles of the volume (a range of x times a block of z rows,
    /// about ``columnBlockBytes``), so each voxel is written by one task. For
    /// each projection and each voxel column of the tile, the rays that touch
    /// the column in its slice (at most two: rays are at least one voxel apart
    /// along the in-plane axis) are gathered in one fused pass over the
    /// column's run of (z, c) values, in (projection, ray) order.
    @inlinable
    func applyAdjointColumns(_ y: UnsafePointer<Scalar>, into x: UnsafeMutablePointer<Scalar>) {
        guard !columnPlans.isEmpty else { return }
        let (nj, nk, c) = (geometry.projectionShape[0], geometry.projectionShape[1], channels)
        let (vx, vy, vz) = (geometry.volumeShape[0], geometry.volumeShape[1], geometry.volumeShape[2])
        let bytes = MemoryLayout<Scalar>.stride
        var rows = Swift.max(1, Swift.min(vz, Self.columnBlockBytes / Swift.max(1, vy * c * bytes)))
        rows = Swift.max(rows, Swift.min(vz, (8 + c - 1) / c))
        let zBlocks = (vz + rows - 1) / rows
        let threads = Parallel.threadCount
        var width = Swift.max(1, Self.columnBlockBytes / Swift.max(1, vy * rows * c * bytes))
        width = Swift.min(width, Swift.max(1, (vx * zBlocks) / (4 * threads)))
        width = Swift.min(width, vx)
        let xBlocks = (vx + width - 1) / width
        let input = SendablePointer(UnsafeMutablePointer(mutating: y)), output = SendablePointer(x)
        let fused = fusedKernels ? Int32(1) : 0
        columnPlans.withUnsafeBufferPointer { planBuffer in
            Parallel.forEachChunk(count: zBlocks * xBlocks, minimumChunk: 1) { tiles in
                for tile in tiles {
                    let zb = tile / xBlocks, xb = tile - zb * xBlocks
                    let xs = (xb * width)..<Swift.min(vx, (xb + 1) * width)
                    let zs = (zb * rows)..<Swift.min(vz, (zb + 1) * rows)
                    for plan in planBuffer {
                        Self.adjointColumns(plan, xs: xs, ys: 0..<vy, zs: zs, nj: nj, nk: nk, ny: vy, nz: vz, channels: c,
                                            fused: fused, y: UnsafePointer(input.base), x: output.base)
                    }
                }
            }
        }
    }

    /// One column-geometry projection's contribution to the voxels `xs × ys × zs`.
    @inlinable
    static func adjointColumns(_ plan: ColumnPlan, xs: Range<Int>, ys: Range<Int>, zs: Range<Int>, nj: Int, nk: Int,
                               ny: Int, nz: Int, channels c: Int, fused: Int32, y: UnsafePointer<Scalar>,
                               x: UnsafeMutablePointer<Scalar>) {
        let f = plan.zFloor, high = plan.zHigh, low = plan.zLow
        let end1 = Double(plan.d1)
        let image = y + plan.output * nj * nk * c
        let rowLength = nk * c
        // Voxel rows z whose every tap comes from a detector row in 0..<K (σ = +1):
        // row k = z − f (weight low) and, with a fraction, row z − f − 1 (weight high).
        var inner = 0..<0
        if plan.zSign == 1 {
            let lo = Swift.max(zs.lowerBound, high == 0 ? f : f + 1), hi = Swift.min(zs.upperBound, f + nk)
            if lo < hi { inner = lo..<hi }
        }
        // Voxel rows that receive at least one tap: row k = σ(z − f) or, with a fraction, σ(z − f − 1) in 0..<K.
        let extra = high == 0 ? 0 : 1
        let touched = plan.zSign == 1
            ? clampedRange(f, f + nk + extra, within: zs)
            : clampedRange(f - nk + 1, f + 1 + extra, within: zs)
        guard !touched.isEmpty else { return }
        let (before, after) = inner.isEmpty
            ? (touched, touched.upperBound..<touched.upperBound)
            : (touched.lowerBound..<inner.lowerBound, inner.upperBound..<touched.upperBound)
        let span = Swift.abs(plan.inverseDj1)
        for vxIndex in xs {
            for vyIndex in ys {
                let (s, q) = plan.axis == 0 ? (vxIndex, vyIndex) : (vyIndex, vxIndex)
                let column = x + ((vxIndex * ny + vyIndex) * nz) * c
                // Candidate rays: the in-plane position must lie in (q − 1, q + 1).
                let centre = (Double(q) - plan.base1 - Double(s) * plan.step1) * plan.inverseDj1
                let lowest = Swift.min(Swift.max(centre - span, -2), Double(nj) + 2)
                let highest = Swift.min(Swift.max(centre + span, -2), Double(nj) + 2)
                let first = Swift.max(0, Int(lowest + 2) - 3), last = Swift.min(nj - 1, Int(highest + 2))
                guard first <= last else { continue }
                /// Adds one or two rays' rows to the column's z run.
                @inline(__always) func gather(_ wa: Double, _ ra: UnsafePointer<Scalar>, _ wb: Double?, _ rb: UnsafePointer<Scalar>?) {
                    if !inner.isEmpty {
                        let n = inner.count * c
                        let dst = column + inner.lowerBound * c
                        let offset = (inner.lowerBound - f) * c   // detector row of the low tap
                        if high == 0 {
                            if let wb, let rb {
                                columnAxpy(fused, n, dst, tap(wa, low), ra + offset, tap(wb, low), rb + offset)
                            } else {
                                columnAxpy(fused, n, dst, tap(wa, low), ra + offset)
                            }
                        } else {
                            if let wb, let rb {
                                columnAxpy(fused, n, dst, tap(wa, low), ra + offset, tap(wa, high), ra + (offset - c),
                                           tap(wb, low), rb + offset, tap(wb, high), rb + (offset - c))
                            } else {
                                columnAxpy(fused, n, dst, tap(wa, low), ra + offset, tap(wa, high), ra + (offset - c))
                            }
                        }
                    }
                    @inline(__always) func edgeRow(_ zv: Int) {
                        let dst = column + zv * c
                        @inline(__always) func add(_ w: Double, _ r: UnsafePointer<Scalar>) {
                            let kl = plan.zSign * (zv - f)
                            if kl >= 0 && kl < nk { columnAxpy(fused, c, dst, tap(w, low), r + kl * c) }
                            if high != 0 {
                                let kh = plan.zSign * (zv - f - 1)
                                if kh >= 0 && kh < nk { columnAxpy(fused, c, dst, tap(w, high), r + kh * c) }
                            }
                        }
                        add(wa, ra)
                        if let wb, let rb { add(wb, rb) }
                    }
                    for zv in before { edgeRow(zv) }
                    for zv in after { edgeRow(zv) }
                }
                var pending = -1
                var pendingWeight = 0.0
                for j in first...last {
                    let p = plan.position(j, s)
                    guard p > -1 && p < end1 else { continue }
                    let (i, wl, wh) = plan.corners(p)
                    let w: Double
                    if i == q { w = wl } else if i + 1 == q && wh != 0 { w = wh } else { continue }
                    if pending < 0 {
                        pending = j; pendingWeight = w
                    } else {
                        gather(pendingWeight, image + pending * rowLength, w, image + j * rowLength)
                        pending = -1
                    }
                }
                if pending >= 0 { gather(pendingWeight, image + pending * rowLength, nil, nil) }
            }
        }
    }
}
