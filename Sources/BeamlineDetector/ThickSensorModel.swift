import BeamlineOperators
import BeamlineSolvers
import BeamlineSparse
import BeamlineTensor
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How rays get their direction in ``ThickSensorModel/raytrace(sample:directions:as:progress:)``.
public enum RayDirections: Sendable, Equatable {
    /// Each ray has the true direction from the sample to its entry point.
    case perRay
    /// Each pixel is split into `S × S` sub-faces and every ray takes the
    /// direction of the centre of its sub-face; `perSubface(1)` is one
    /// direction per pixel. Raytracing with `perSubface(S)` converges, as
    /// `sample` grows, to ``ThickSensorModel/exact(subpixels:as:progress:)``
    /// with the same `S`.
    case perSubface(Int)
}

/// A point-spread matrix and the energy balance of each entry pixel.
///
/// `matrix[e, a]` is the fraction of the flux entering pixel `e` (row,
/// flattened row-major) that is absorbed in pixel `a` (column). Rows are
/// entry pixels and columns absorbing pixels, as in pyFAI's notebook, so the
/// blurred image is `matrixᵀ · true image` (see ``blurOperator``). For every
/// traced row, `rowSum + transmitted + sideLost + absorbedInMasked = 1`.
public struct PointSpreadMatrix<Element: OperatorScalar>: Sendable {
    /// The matrix (`pixels × pixels`, sorted column indices, no explicit
    /// zeros).
    public var matrix: CSRMatrix<Element>
    /// Fraction leaving through the back of the sensor, per entry pixel
    /// (`rows × columns`; 0 for untraced gap and masked pixels).
    public var transmitted: Tensor<Double>
    /// Fraction leaving through the sides (the detector edge or a module
    /// gap), per entry pixel.
    public var sideLost: Tensor<Double>
    /// Fraction absorbed in masked (dead) pixels, per entry pixel.
    public var absorbedInMasked: Tensor<Double>

    /// Creates the value from its parts.
    public init(matrix: CSRMatrix<Element>, transmitted: Tensor<Double>, sideLost: Tensor<Double>,
                absorbedInMasked: Tensor<Double>) {
        self.matrix = matrix
        self.transmitted = transmitted
        self.sideLost = sideLost
        self.absorbedInMasked = absorbedInMasked
    }

    /// The blur `image ↦ matrixᵀ · image` as a `LinearOperator` (no copy).
    @inlinable public var blurOperator: AdjointOperator<CSRMatrix<Element>> { matrix.adjoint }
}

/// The thick-sensor model: a detector, its geometry and its sensor, and the
/// point-spread matrices built from them.
///
/// Frame: axis 1 along the rows (slow), axis 2 along the columns (fast),
/// depth `z ∈ [0, T]` into the sensor. A ray entering the front face at
/// `(x1, x2)` travels along `(x1 − poni1, x2 − poni2, distance)`; with `uz`
/// the cosine of its incidence angle, its intensity at depth `z` is
/// `exp(−μ z / uz)`, and the fraction absorbed in the pixel column it
/// crosses between depths `z_in` and `z_out` is
/// `exp(−μ z_in/uz) − exp(−μ z_out/uz)` (path lengths `t = z/uz`).
public struct ThickSensorModel: Sendable {
    /// The detector (gaps and masked pixels).
    public var detector: Detector
    /// The geometry.
    public var geometry: PONIGeometry
    /// The sensor.
    public var sensor: Sensor

    /// A model.
    public init(detector: Detector, geometry: PONIGeometry, sensor: Sensor) {
        self.detector = detector
        self.geometry = geometry
        self.sensor = sensor
    }

    /// Row blocks handed to the parallel CSR builder (fixed, so the result
    /// does not depend on the thread count).
    @usableFromInline static var rowsPerBlock: Int { 4096 }

    // MARK: - Raytracing

    /// The raytraced point-spread matrix: `sample × sample` rays per
    /// unmasked pixel, entering at the centres of a regular sub-grid
    /// (`(i + (a + ½)/sample) · pixelSize1`), each of weight `1/sample²`,
    /// followed through the sensor by an exact voxel walk (Amanatides–Woo)
    /// in Double.
    ///
    /// Parallel over blocks of rows with `CSRMatrix.build(rows:columns:rowsPerBlock:_:)`;
    /// memory is proportional to the number of non-zeros; the result is
    /// identical for any `Parallel.threadCount`.
    ///
    /// - Parameters:
    ///   - sample: rays per pixel side, 1...4096.
    ///   - directions: ``RayDirections/perRay`` (default) or one direction per
    ///     sub-face.
    ///   - as: the element type of the matrix, `Float` or `Double` (default
    ///     inferred from the context).
    ///   - progress: called after each block of rows with
    ///     `IterationProgress` (`iteration` = rows done, `maximumIterations`
    ///     = total rows, `value` = the fraction done), possibly from several
    ///     threads at once. Returning `ProgressAction.stop` skips the rows
    ///     not yet started and throws ``DetectorError/cancelled(rowsDone:total:)``.
    /// - Throws: ``DetectorError/invalidArgument(name:expected:received:)``
    ///   for a bad `sample` or sub-face count,
    ///   ``DetectorError/cancelled(rowsDone:total:)`` when `progress` stopped
    ///   the work.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    public func raytrace<Element: OperatorScalar>(sample: Int, directions: RayDirections = .perRay,
                                                 as: Element.Type = Element.self,
                                                 progress: (@Sendable (IterationProgress) -> ProgressAction)? = nil) throws(DetectorError) -> PointSpreadMatrix<Element> {
        guard sample >= 1 && sample <= 4096 else {
            throw .invalidArgument(name: "sample", expected: "1...4096 rays per pixel side", received: "\(sample)")
        }
        var subfaces = 0
        if case .perSubface(let s) = directions {
            guard s >= 1 && s <= 4096 else {
                throw .invalidArgument(name: "subpixels", expected: "1...4096", received: "\(s)")
            }
            subfaces = s
        }
        let kernel = RowKernel(model: self)
        let subfaceCount = subfaces
        return try kernel.build({ row, scratch in
            kernel.traceRow(row, sample: sample, subfaces: subfaceCount, scratch: &scratch)
        }, progress: progress)
    }

    // MARK: - Exact matrix

    /// The exact point-spread matrix for a direction that is constant over
    /// each of `subpixels × subpixels` sub-faces of every pixel (the
    /// direction of the sub-face's centre).
    ///
    /// With the direction fixed, the flux from a sub-face reaching depth `z`
    /// is the sub-face shifted by `(k1, k2)·z/k3`, so the energy absorbed in
    /// pixel `(I, J)` is `∫₀ᵀ m e^{−m z} L₁(z) L₂(z) dz` with `m = μ/uz` and
    /// `L₁`, `L₂` the overlaps of the shifted sub-face with the pixel along
    /// each axis (piecewise linear in `z`). Between the depths where an edge
    /// of the footprint crosses a pixel boundary the integrand is a quadratic
    /// times an exponential, integrated in closed form with stable
    /// (cancellation-free) expressions. This is the `sample → ∞` limit of
    /// ``raytrace(sample:directions:as:progress:)`` with
    /// ``RayDirections/perSubface(_:)``, at a cost independent of any
    /// oversampling.
    ///
    /// `progress` is as in ``raytrace(sample:directions:as:progress:)``.
    ///
    /// - Throws: ``DetectorError/invalidArgument(name:expected:received:)``
    ///   for `subpixels` outside 1...256,
    ///   ``DetectorError/cancelled(rowsDone:total:)`` when `progress` stopped
    ///   the work.
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    public func exact<Element: OperatorScalar>(subpixels: Int = 1, as: Element.Type = Element.self,
                                              progress: (@Sendable (IterationProgress) -> ProgressAction)? = nil) throws(DetectorError) -> PointSpreadMatrix<Element> {
        guard subpixels >= 1 && subpixels <= 256 else {
            throw .invalidArgument(name: "subpixels", expected: "1...256", received: "\(subpixels)")
        }
        let kernel = RowKernel(model: self)
        return try kernel.build({ row, scratch in
            kernel.exactRow(row, subpixels: subpixels, scratch: &scratch)
        }, progress: progress)
    }
}

/// Per-row accumulator: a dense window of absorbing pixels around the entry
/// pixel plus the row's energy balance.
@usableFromInline
struct RowScratch {
    /// The window, all zeros between rows: the assembly clears the cells it
    /// read (the box below) after each row.
    @usableFromInline var window: [Double] = []
    @usableFromInline var row0 = 0, column0 = 0, height = 0, width = 0
    /// Window-relative rows and columns (inclusive) that may hold deposits.
    @usableFromInline var boxRow0 = 0, boxRow1 = -1, boxColumn0 = 0, boxColumn1 = -1
    @usableFromInline var transmitted = 0.0, sideLost = 0.0, masked = 0.0
    @usableFromInline var breakpoints: [Double] = []
    @usableFromInline init() {}
}

/// The non-generic kernels behind ``ThickSensorModel``'s matrices (all in
/// Double on unsafe buffers; the generic entry points only convert).
@usableFromInline
struct RowKernel: Sendable {
    @usableFromInline let rows: Int, columns: Int
    @usableFromInline let p1: Double, p2: Double
    @usableFromInline let poni1: Double, poni2: Double, distance: Double
    @usableFromInline let thickness: Double, mu: Double
    /// Per row / column: -1 for a gap, otherwise the module index along that axis.
    @usableFromInline let segment1: [Int32], segment2: [Int32]
    @usableFromInline let dead: [Bool]

    @usableFromInline
    init(model: ThickSensorModel) {
        let d = model.detector
        rows = d.rows
        columns = d.columns
        p1 = d.pixelSize1
        p2 = d.pixelSize2
        poni1 = model.geometry.poni1
        poni2 = model.geometry.poni2
        distance = model.geometry.distance
        thickness = model.sensor.thickness
        mu = model.sensor.mu
        func segments(_ gaps: [Bool]) -> [Int32] {
            var out = [Int32](repeating: -1, count: gaps.count)
            var module: Int32 = 0
            for k in gaps.indices {
                if gaps[k] {
                    if k > 0 && !gaps[k - 1] { module += 1 }
                } else {
                    out[k] = module
                }
            }
            return out
        }
        segment1 = segments(d.gapRows)
        segment2 = segments(d.gapColumns)
        self.dead = d.flags(includingDead: true)
    }

    /// Runs `fill` for every traced row and assembles the CSR matrix and the
    /// balance maps.
    ///
    /// Specialised for `Double` and `Float`: the generic entry points are
    /// `@inlinable`, so without specialisation every appended entry would go
    /// through unspecialised generic code (a metadata lookup per entry). The
    /// balance maps are written once, in parallel, straight into their
    /// tensors' storage.
    @usableFromInline
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    func build<Element: OperatorScalar>(_ fill: @Sendable (Int, inout RowScratch) -> Void,
                                       progress: (@Sendable (IterationProgress) -> ProgressAction)?) throws(DetectorError) -> PointSpreadMatrix<Element> {
        do {
            return try buildMatrix(fill, progress: progress)
        } catch let error as DetectorError {
            throw error
        } catch let error as SparseError {
            throw .sparse(error)
        } catch {
            // The row fill only appends through the builder, which throws SparseError.
            preconditionFailure("ThickSensorModel: unexpected error \(error)")
        }
    }

    @usableFromInline
    @specialized(where Element == Double)
    @specialized(where Element == Float)
    func buildMatrix<Element: OperatorScalar>(_ fill: @Sendable (Int, inout RowScratch) -> Void,
                                             progress: (@Sendable (IterationProgress) -> ProgressAction)?) throws -> PointSpreadMatrix<Element> {
        let n = rows * columns
        let done = Atomic<Int>(0)
        let stopped = Atomic<Bool>(false)
        var matrix: CSRMatrix<Element>? = nil
        var side: Tensor<Double>? = nil, masked: Tensor<Double>? = nil
        let shape = [rows, columns]
        let transmitted = try Tensor<Double>(unsafeUninitializedShape: shape) { tp in
            side = try Tensor<Double>(unsafeUninitializedShape: shape) { sp in
                masked = try Tensor<Double>(unsafeUninitializedShape: shape) { mp in
                    try dead.withUnsafeBufferPointer { deadp in
                        let t = SendableMutableBuffer(tp), s = SendableMutableBuffer(sp)
                        let m = SendableMutableBuffer(mp)
                        let flags = SendableBuffer(deadp)
                        let columns = self.columns
                        let bound = { @Sendable (range: Range<Int>) -> Int in
                            var total = 0
                            for row in range where !flags[row] {
                                let (h, w) = self.entryBound(row / columns, row % columns)
                                total += h * w
                            }
                            return total
                        }
                        matrix = try CSRMatrix<Element>.build(rows: n, columns: n, rowsPerBlock: Self.blockRows,
                                                              entryBound: bound) { range, builder in
                            var scratch = RowScratch()
                            let skip = stopped.load(ordering: .relaxed)
                            for row in range {
                                if skip || flags[row] {
                                    t[row] = 0
                                    s[row] = 0
                                    m[row] = 0
                                } else {
                                    fill(row, &scratch)
                                    t[row] = scratch.transmitted
                                    s[row] = scratch.sideLost
                                    m[row] = scratch.masked
                                    let w = scratch.width
                                    let b0 = scratch.boxColumn0, b1 = scratch.boxColumn1
                                    let a0 = scratch.boxRow0, a1 = scratch.boxRow1
                                    let r0 = scratch.row0, c0 = scratch.column0
                                    try scratch.window.withUnsafeMutableBufferPointer { win in
                                        guard a0 <= a1 && b0 <= b1 else { return }
                                        for a in a0...a1 {
                                            let base = (r0 + a) * columns + c0
                                            let line = win.baseAddress! + a * w
                                            for b in b0...b1 where line[b] > 0 {
                                                try builder.append(column: base + b, value: Element(line[b]))
                                            }
                                        }
                                        // back to all zeros for the next row
                                        for a in a0...a1 {
                                            let line = win.baseAddress! + a * w
                                            for b in b0...b1 { line[b] = 0 }
                                        }
                                    }
                                }
                                builder.endRow()
                            }
                            if skip { return }
                            let total = done.wrappingAdd(range.count, ordering: .relaxed).newValue
                            if let progress, progress(IterationProgress(iteration: total, maximumIterations: n,
                                                                        value: Double(total) / Double(Swift.max(1, n)))) == .stop {
                                stopped.store(true, ordering: .relaxed)
                            }
                        }
                    }
                }
            }
        }
        if stopped.load(ordering: .relaxed) {
            throw DetectorError.cancelled(rowsDone: done.load(ordering: .relaxed), total: n)
        }
        return PointSpreadMatrix(matrix: matrix!, transmitted: transmitted, sideLost: side!, absorbedInMasked: masked!)
    }

    @usableFromInline static var blockRows: Int { 4096 }

    /// First and last rows and columns reachable from entry pixel `(i, j)`
    /// (footprint of the pixel's corners shifted to the back face, plus one
    /// pixel of margin).
    @inline(__always)
    func windowBounds(_ i: Int, _ j: Int) -> (Int, Int, Int, Int) {
        let t = thickness / distance
        func range(_ k: Int, _ p: Double, _ poni: Double, _ count: Int) -> (Int, Int) {
            let lo = Double(k) * p, hi = Double(k + 1) * p
            let a = Swift.min(lo, lo + (lo - poni) * t), b = Swift.max(hi, hi + (hi - poni) * t)
            let first = Swift.max(0, Int((a / p).rounded(.down)) - 1)
            let last = Swift.min(count - 1, Int((b / p).rounded(.down)) + 1)
            return (first, last)
        }
        let (r0, r1) = range(i, p1, poni1, rows)
        let (c0, c1) = range(j, p2, poni2, columns)
        return (r0, r1, c0, c1)
    }

    /// Upper bounds on the rows and columns holding entries of entry pixel
    /// `(i, j)`: the cells the pixel's footprint crosses between the faces,
    /// plus one for rounding, and never more than the window.
    @inline(__always)
    func entryBound(_ i: Int, _ j: Int) -> (Int, Int) {
        let t = thickness / distance
        func cells(_ k: Int, _ p: Double, _ poni: Double) -> Int {
            let lo = Double(k) * p, hi = Double(k + 1) * p
            let a = Swift.min(lo, lo + (lo - poni) * t), b = Swift.max(hi, hi + (hi - poni) * t)
            return Int((b / p).rounded(.down)) - Int((a / p).rounded(.down)) + 2
        }
        let (r0, r1, c0, c1) = windowBounds(i, j)
        return (Swift.min(r1 - r0 + 1, cells(i, p1, poni1)), Swift.min(c1 - c0 + 1, cells(j, p2, poni2)))
    }

    /// Sets the scratch window to the pixels reachable from entry pixel
    /// `(i, j)` (see ``windowBounds(_:_:)``).
    @inline(__always)
    func prepareWindow(_ i: Int, _ j: Int, _ scratch: inout RowScratch) {
        let (r0, r1, c0, c1) = windowBounds(i, j)
        scratch.row0 = r0
        scratch.column0 = c0
        scratch.height = r1 - r0 + 1
        scratch.width = c1 - c0 + 1
        let size = scratch.height * scratch.width
        if scratch.window.count < size { scratch.window = [Double](repeating: 0, count: size) }
        // the whole window until a kernel narrows it
        scratch.boxRow0 = 0
        scratch.boxRow1 = scratch.height - 1
        scratch.boxColumn0 = 0
        scratch.boxColumn1 = scratch.width - 1
        scratch.transmitted = 0
        scratch.sideLost = 0
        scratch.masked = 0
    }

    /// Raytraces entry pixel `row` (flattened) with `sample²` rays.
    @usableFromInline
    func traceRow(_ row: Int, sample: Int, subfaces: Int, scratch: inout RowScratch) {
        let i = row / columns, j = row % columns
        prepareWindow(i, j, &scratch)
        let weight = 1.0 / Double(sample * sample)
        let ratio = subfaces > 0 ? Double(subfaces) / Double(sample) : 0
        var transmitted = 0.0, side = 0.0, masked = 0.0
        segment1.withUnsafeBufferPointer { seg1 in
            segment2.withUnsafeBufferPointer { seg2 in
                dead.withUnsafeBufferPointer { deadp in
                    scratch.window.withUnsafeMutableBufferPointer { win in
                        let h = scratch.height, w = scratch.width, r0 = scratch.row0, c0 = scratch.column0
                        let home1 = seg1[i], home2 = seg2[j]
                        // attenuation rate of the pixel-centre direction and its
                        // back-face factor, the reference for every ray's e^{−m T}
                        let kc1 = (Double(i) + 0.5) * p1 - poni1, kc2 = (Double(j) + 0.5) * p2 - poni2
                        let rate = mu * (kc1 * kc1 + kc2 * kc2 + distance * distance).squareRoot() / distance
                        let back = (rate: rate, factor: exp(-rate * thickness))
                        for a in 0..<sample {
                            let e1 = (Double(i) + (Double(a) + 0.5) / Double(sample)) * p1
                            var k1 = e1 - poni1
                            if subfaces > 0 {
                                let f = Swift.min(subfaces - 1, Int(((Double(a) + 0.5) * ratio).rounded(.down)))
                                k1 = (Double(i) + (Double(f) + 0.5) / Double(subfaces)) * p1 - poni1
                            }
                            for b in 0..<sample {
                                let e2 = (Double(j) + (Double(b) + 0.5) / Double(sample)) * p2
                                var k2 = e2 - poni2
                                if subfaces > 0 {
                                    let f = Swift.min(subfaces - 1, Int(((Double(b) + 0.5) * ratio).rounded(.down)))
                                    k2 = (Double(j) + (Double(f) + 0.5) / Double(subfaces)) * p2 - poni2
                                }
                                let out = Self.walk(e1: e1, e2: e2, k1: k1, k2: k2, kernel: self, i: i, j: j,
                                                    home1: home1, home2: home2, seg1: seg1, seg2: seg2, dead: deadp,
                                                    window: win, r0: r0, c0: c0, h: h, w: w, weight: weight,
                                                    back: back)
                                transmitted += out.0
                                side += out.1
                                masked += out.2
                            }
                        }
                    }
                }
            }
        }
        scratch.transmitted = transmitted
        scratch.sideLost = side
        scratch.masked = masked
    }

    /// One ray: voxel walk in depth `z` from the entry point `(e1, e2)`
    /// along `(k1, k2, distance)`. Returns the weighted (transmitted,
    /// side-lost, masked) energies and adds the absorbed ones to `window`.
    /// `back` is a reference attenuation rate (the pixel centre's) and
    /// `e^{−rate·T}`, from which the ray's back-face factor is derived
    /// without a libm call.
    @inline(__always)
    static func walk(e1: Double, e2: Double, k1: Double, k2: Double, kernel: RowKernel, i: Int, j: Int,
                     home1: Int32, home2: Int32,
                     seg1: UnsafeBufferPointer<Int32>, seg2: UnsafeBufferPointer<Int32>,
                     dead: UnsafeBufferPointer<Bool>, window: UnsafeMutableBufferPointer<Double>,
                     r0: Int, c0: Int, h: Int, w: Int, weight: Double,
                     back: (rate: Double, factor: Double)) -> (Double, Double, Double) {
        let p1 = kernel.p1, p2 = kernel.p2, dist = kernel.distance, thickness = kernel.thickness
        // depth per unit of lateral displacement (dist / k): one division
        // per axis; the first-axis terms are the same for a whole line of
        // rays and are hoisted out of the inner loop by the optimiser
        let s1 = dist / k1, s2 = dist / k2
        let m = kernel.mu * (k1 * k1 + k2 * k2 + dist * dist).squareRoot() / dist  // attenuation per unit depth
        var cell1 = i, cell2 = j
        let step1 = k1 > 0 ? 1 : -1, step2 = k2 > 0 ? 1 : -1
        var next1 = Double.infinity, next2 = Double.infinity
        var delta1 = Double.infinity, delta2 = Double.infinity
        if k1 != 0 {
            next1 = ((k1 > 0 ? Double(i + 1) * p1 : Double(i) * p1) - e1) * s1
            delta1 = p1 * Swift.abs(s1)
        }
        if k2 != 0 {
            next2 = ((k2 > 0 ? Double(j + 1) * p2 : Double(j) * p2) - e2) * s2
            delta2 = p2 * Swift.abs(s2)
        }
        var energy = 1.0
        var masked = 0.0
        let columns = kernel.columns, rows = kernel.rows
        // e^{−m T} at the back face from the pixel's reference value:
        // e^{−m₀T} · e^{y}, y = (m₀ − m) T small, by its Taylor polynomial
        // (libm when |y| > 2e-3, where the degree-5 truncation would exceed
        // 1e-19 relative)
        let y = (back.rate - m) * thickness
        var backFactor: Double
        if Swift.abs(y) <= 2e-3 {
            backFactor = back.factor * (1 + y * (1 + y * (1.0 / 2 + y * (1.0 / 6 + y * (1.0 / 24 + y * (1.0 / 120))))))
        } else {
            backFactor = exp(-m * thickness)
        }
        while true {
            let last = thickness <= next1 && thickness <= next2
            let remaining = last ? backFactor : exp(-m * Swift.min(next1, next2))
            let deposit = (energy - remaining) * weight
            if deposit > 0 {
                if dead[cell1 * columns + cell2] {
                    masked += deposit
                } else {
                    let a = cell1 - r0, b = cell2 - c0
                    assert(a >= 0 && a < h && b >= 0 && b < w, "ray left the row window")
                    window[a * w + b] += deposit
                }
            }
            energy = remaining
            if last { return (energy * weight, 0, masked) }
            if next1 <= next2 {
                cell1 += step1
                next1 += delta1
                if cell1 < 0 || cell1 >= rows || seg1[cell1] != home1 { return (0, energy * weight, masked) }
            } else {
                cell2 += step2
                next2 += delta2
                if cell2 < 0 || cell2 >= columns || seg2[cell2] != home2 { return (0, energy * weight, masked) }
            }
        }
    }

    // MARK: Exact

    /// Exact row for entry pixel `row` with `subpixels²` sub-faces.
    ///
    /// All buffers are opened once per row; the per-face kernel
    /// (``exactFace(_:_:_:_:_:_:_:_:_:_:_:)``) works on raw pointers.
    @usableFromInline
    func exactRow(_ row: Int, subpixels s: Int, scratch: inout RowScratch) {
        let i = row / columns, j = row % columns
        prepareWindow(i, j, &scratch)
        // Room for the breakpoints of any sub-face of this pixel: each of the
        // four edges crosses at most ⌊|v| T⌋ + 1 pixel boundaries.
        let far1 = Swift.max(Swift.abs(Double(i) * p1 - poni1), Swift.abs(Double(i + 1) * p1 - poni1))
        let far2 = Swift.max(Swift.abs(Double(j) * p2 - poni2), Swift.abs(Double(j + 1) * p2 - poni2))
        let reach = Swift.max(far1 / p1, far2 / p2) * thickness / distance
        let capacity = 4 * (Int(reach.rounded(.down)) + 2) + 2
        if scratch.breakpoints.count < capacity { scratch.breakpoints = [Double](repeating: 0, count: capacity) }
        var absorbed = 0.0, masked = 0.0, transmitted = 0.0
        var lowRow = Int.max, highRow = Int.min, lowColumn = Int.max, highColumn = Int.min
        let home1 = segment1[i], home2 = segment2[j]
        let frame = FaceFrame(row0: scratch.row0, column0: scratch.column0, width: scratch.width,
                              height: scratch.height, home1: home1, home2: home2)
        scratch.window.withUnsafeMutableBufferPointer { win in
            scratch.breakpoints.withUnsafeMutableBufferPointer { zs in
                segment1.withUnsafeBufferPointer { seg1 in
                    segment2.withUnsafeBufferPointer { seg2 in
                        dead.withUnsafeBufferPointer { deadp in
                            let buffers = FaceBuffers(window: win.baseAddress!, breakpoints: zs.baseAddress!,
                                                      segment1: seg1.baseAddress!, segment2: seg2.baseAddress!,
                                                      dead: deadp.baseAddress!)
                            for f1 in 0..<s {
                                let a1 = Double(i) + Double(f1) / Double(s), b1 = Double(i) + Double(f1 + 1) / Double(s)
                                let c1 = (Double(i) + (Double(f1) + 0.5) / Double(s)) * p1 - poni1
                                for f2 in 0..<s {
                                    let a2 = Double(j) + Double(f2) / Double(s), b2 = Double(j) + Double(f2 + 1) / Double(s)
                                    let c2 = (Double(j) + (Double(f2) + 0.5) / Double(s)) * p2 - poni2
                                    // velocities in pixel units per metre of depth, attenuation per metre of depth
                                    let v1 = c1 / distance / p1, v2 = c2 / distance / p2
                                    let m = mu * (c1 * c1 + c2 * c2 + distance * distance).squareRoot() / distance
                                    // cells the sub-face's footprint can touch between the faces
                                    let t = thickness
                                    lowRow = Swift.min(lowRow, Int(Swift.min(a1, a1 + v1 * t).rounded(.down)))
                                    highRow = Swift.max(highRow, Int(Swift.max(b1, b1 + v1 * t).rounded(.down)))
                                    lowColumn = Swift.min(lowColumn, Int(Swift.min(a2, a2 + v2 * t).rounded(.down)))
                                    highColumn = Swift.max(highColumn, Int(Swift.max(b2, b2 + v2 * t).rounded(.down)))
                                    let out = exactFace(a1, b1, v1, a2, b2, v2, m, frame, buffers)
                                    absorbed += out.0
                                    masked += out.1
                                    transmitted += out.2
                                }
                            }
                        }
                    }
                }
            }
        }
        scratch.boxRow0 = Swift.max(0, lowRow - scratch.row0)
        scratch.boxRow1 = Swift.min(scratch.height - 1, highRow - scratch.row0)
        scratch.boxColumn0 = Swift.max(0, lowColumn - scratch.column0)
        scratch.boxColumn1 = Swift.min(scratch.width - 1, highColumn - scratch.column0)
        scratch.masked = masked
        scratch.transmitted = transmitted
        scratch.sideLost = Swift.max(0, 1 - absorbed - masked - transmitted)
    }

    /// Where a row's window sits and which modules its entry pixel belongs to.
    @usableFromInline
    struct FaceFrame {
        @usableFromInline let row0: Int, column0: Int, width: Int, height: Int
        @usableFromInline let home1: Int32, home2: Int32
        @usableFromInline init(row0: Int, column0: Int, width: Int, height: Int, home1: Int32, home2: Int32) {
            self.row0 = row0; self.column0 = column0; self.width = width; self.height = height
            self.home1 = home1; self.home2 = home2
        }
    }

    /// The raw buffers the per-face kernel reads and writes.
    @usableFromInline
    struct FaceBuffers {
        @usableFromInline let window: UnsafeMutablePointer<Double>, breakpoints: UnsafeMutablePointer<Double>
        @usableFromInline let segment1: UnsafePointer<Int32>, segment2: UnsafePointer<Int32>
        @usableFromInline let dead: UnsafePointer<Bool>
        @usableFromInline init(window: UnsafeMutablePointer<Double>, breakpoints: UnsafeMutablePointer<Double>,
                               segment1: UnsafePointer<Int32>, segment2: UnsafePointer<Int32>, dead: UnsafePointer<Bool>) {
            self.window = window; self.breakpoints = breakpoints
            self.segment1 = segment1; self.segment2 = segment2; self.dead = dead
        }
    }

    /// Appends to `out` (from index `count`) the depths in `(0, T)` where
    /// `e + v z` crosses an integer; returns the new count.
    @inline(__always)
    func addCrossings(_ e: Double, _ v: Double, _ out: UnsafeMutablePointer<Double>, _ count: Int) -> Int {
        var n = count
        if v > 0 {
            var k = e.rounded(.down) + 1
            let end = e + v * thickness
            while k < end { out[n] = (k - e) / v; n += 1; k += 1 }
        } else if v < 0 {
            var k = e.rounded(.up) - 1
            let end = e + v * thickness
            while k > end { out[n] = (k - e) / v; n += 1; k -= 1 }
        }
        return n
    }

    /// One sub-face `[a1, b1] × [a2, b2]` (pixel units) moving with
    /// `(v1, v2)` per metre of depth; adds its deposits (times the face
    /// area) to the window and returns (absorbed in read-out pixels,
    /// absorbed in masked pixels, transmitted).
    @inline(__always)
    func exactFace(_ a1: Double, _ b1: Double, _ v1: Double, _ a2: Double, _ b2: Double, _ v2: Double, _ m: Double,
                   _ frame: FaceFrame, _ buffers: FaceBuffers) -> (Double, Double, Double) {
        let zs = buffers.breakpoints
        zs[0] = 0
        var count = 1
        count = addCrossings(a1, v1, zs, count)
        count = addCrossings(b1, v1, zs, count)
        count = addCrossings(a2, v2, zs, count)
        count = addCrossings(b2, v2, zs, count)
        zs[count] = thickness
        count += 1
        Self.insertionSort(zs, count)
        var absorbed = 0.0, masked = 0.0
        let r0 = frame.row0, c0 = frame.column0, w = frame.width, h = frame.height
        let home1 = frame.home1, home2 = frame.home2
        let seg1 = buffers.segment1, seg2 = buffers.segment2, deadp = buffers.dead, win = buffers.window
        let rows = self.rows, columns = self.columns
        let inverseM = 1 / m
        // e^{−m z0}, carried from interval to interval (one libm call per
        // interval instead of two; a few ulp after many intervals)
        var attenuation = 1.0
        for k in 0..<(count - 1) {
            let z0 = zs[k], z1 = zs[k + 1]
            let span = z1 - z0
            if !(span > 0) { continue }
            let zm = 0.5 * (z0 + z1)
            let (g0, g1, g2, ex) = Self.depthMoments(m * span)
            let w0 = attenuation * g0, w1 = attenuation * g1 * inverseM
            let w2 = attenuation * 2 * g2 * (inverseM * inverseM)
            attenuation *= ex
            let lo1 = a1 + v1 * zm, hi1 = b1 + v1 * zm
            let lo2 = a2 + v2 * zm, hi2 = b2 + v2 * zm
            var cell1 = Int(lo1.rounded(.down))
            while Double(cell1) < hi1 {
                defer { cell1 += 1 }
                if cell1 < 0 || cell1 >= rows || seg1[cell1] != home1 { continue }
                let (l0, ls) = Self.overlap(a1, b1, v1, z0, zm, cell1)
                if l0 == 0 && ls == 0 { continue }
                var cell2 = Int(lo2.rounded(.down))
                while Double(cell2) < hi2 {
                    defer { cell2 += 1 }
                    if cell2 < 0 || cell2 >= columns || seg2[cell2] != home2 { continue }
                    let (q0, qs) = Self.overlap(a2, b2, v2, z0, zm, cell2)
                    // ∫ m e^{−m z} (l0 + ls t)(q0 + qs t) dt over the interval
                    let value = l0 * q0 * w0 + (l0 * qs + ls * q0) * w1 + ls * qs * w2
                    if value > 0 {
                        if deadp[cell1 * columns + cell2] {
                            masked += value
                        } else {
                            let a = cell1 - r0, b = cell2 - c0
                            assert(a >= 0 && a < h && b >= 0 && b < w, "footprint left the row window")
                            win[a * w + b] += value
                            absorbed += value
                        }
                    }
                }
            }
        }
        // transmitted: footprint at the back face inside the home module
        let t = thickness
        let total1 = Self.allowedOverlap(a1 + v1 * t, b1 + v1 * t, seg1, rows, home1)
        let total2 = Self.allowedOverlap(a2 + v2 * t, b2 + v2 * t, seg2, columns, home2)
        let transmitted = attenuation * total1 * total2
        return (absorbed, masked, transmitted)
    }

    /// Sorts `count` values in place (insertion sort: a handful of values).
    @inline(__always)
    static func insertionSort(_ v: UnsafeMutablePointer<Double>, _ count: Int) {
        var i = 1
        while i < count {
            let x = v[i]
            var j = i - 1
            while j >= 0 && v[j] > x { v[j + 1] = v[j]; j -= 1 }
            v[j + 1] = x
            i += 1
        }
    }

    /// `(g₀(x), g₁(x), g₂(x), e^{−x})` (see ``g(_:_:)``) with one libm call
    /// for `x ≤ 1`: `g₀ = −expm1(−x)`, `e^{−x} = 1 − g₀`, and the all-positive
    /// series `e^{−x} Σ_{j≥3} x^j/j!` summed to `j = 20` (truncation below
    /// 1e-19 relative) as two interleaved polynomials in `x²`.
    @inline(__always)
    static func depthMoments(_ x: Double) -> (Double, Double, Double, Double) {
        let g0 = -expm1(-x)
        if x > 1 {
            let ex = exp(-x)
            return (g0, 1 - ex * (1 + x), 1 - ex * (1 + x + 0.5 * x * x), ex)
        }
        let ex = 1 - g0
        let y = x * x
        // 1/j! for odd j (3...19) and even j (4...20)
        var odd = 1.0 / 121645100408832000.0
        odd = odd * y + 1.0 / 355687428096000.0
        odd = odd * y + 1.0 / 1307674368000.0
        odd = odd * y + 1.0 / 6227020800.0
        odd = odd * y + 1.0 / 39916800.0
        odd = odd * y + 1.0 / 362880.0
        odd = odd * y + 1.0 / 5040.0
        odd = odd * y + 1.0 / 120.0
        odd = odd * y + 1.0 / 6.0
        var even = 1.0 / 2432902008176640000.0
        even = even * y + 1.0 / 6402373705728000.0
        even = even * y + 1.0 / 20922789888000.0
        even = even * y + 1.0 / 87178291200.0
        even = even * y + 1.0 / 479001600.0
        even = even * y + 1.0 / 3628800.0
        even = even * y + 1.0 / 40320.0
        even = even * y + 1.0 / 720.0
        even = even * y + 1.0 / 24.0
        let tail = y * x * (odd + x * even)
        return (g0, ex * (0.5 * y + tail), ex * tail, ex)
    }

    /// Overlap of `[a + v z, b + v z]` with cell `[c, c + 1]` on an interval
    /// with no breakpoints, as `value at z0 + slope · (z − z0)`.
    @inline(__always)
    static func overlap(_ a: Double, _ b: Double, _ v: Double, _ z0: Double, _ zm: Double, _ c: Int) -> (Double, Double) {
        let cell = Double(c)
        var low0 = cell, lowSlope = 0.0, up0 = cell + 1, upSlope = 0.0
        if a + v * zm > cell { low0 = a + v * z0; lowSlope = v }
        if b + v * zm < cell + 1 { up0 = b + v * z0; upSlope = v }
        return (up0 - low0, upSlope - lowSlope)
    }

    /// Length of `[lo, hi]` inside cells of module `home` (`segment` holds
    /// `count` cells).
    @inline(__always)
    static func allowedOverlap(_ lo: Double, _ hi: Double, _ segment: UnsafePointer<Int32>, _ count: Int,
                               _ home: Int32) -> Double {
        var total = 0.0
        var cell = Int(lo.rounded(.down))
        while Double(cell) < hi {
            if cell >= 0 && cell < count && segment[cell] == home {
                total += Swift.max(0, Swift.min(hi, Double(cell + 1)) - Swift.max(lo, Double(cell)))
            }
            cell += 1
        }
        return total
    }

    /// `g_k(x) = 1 − e^{−x} Σ_{j≤k} x^j/j!` (so `∫₀ʰ m t^k e^{−m t} dt =
    /// k! g_k(m h)/m^k`), without cancellation: for small `x` as the
    /// all-positive series `e^{−x} Σ_{j>k} x^j/j!`.
    @inline(__always)
    static func g(_ k: Int, _ x: Double) -> Double {
        if x > 1 {
            var partial = 1.0, term = 1.0
            if k >= 1 { for n in 1...k { term *= x / Double(n); partial += term } }
            return 1 - exp(-x) * partial
        }
        if k == 0 { return -expm1(-x) }
        var term = 1.0
        for n in 1...k { term *= x / Double(n) }
        var sum = 0.0
        var n = k + 1
        while true {
            term *= x / Double(n)
            sum += term
            if term <= sum * 1e-17 || n > 60 { break }
            n += 1
        }
        return exp(-x) * sum
    }
}
