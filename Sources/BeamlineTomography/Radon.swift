import BeamlineOperators
import BeamlineTensor
import ComplexModule
import Foundation

/// The filters of filtered back-projection, with scikit-image's names and
/// definitions (`skimage.transform.iradon`'s `filter_name`).
public enum FBPFilter: String, Sendable, CaseIterable {
    /// The ramp |f|, built from the spatial-domain kernel (Kak & Slaney,
    /// eq. 61), which removes the DC bias of a sampled ramp.
    case ramp
    /// Ramp × sinc (Shepp–Logan).
    case sheppLogan = "shepp-logan"
    /// Ramp × cosine.
    case cosine
    /// Ramp × Hamming window.
    case hamming
    /// Ramp × Hann window.
    case hann
    /// No filter (plain back-projection; scikit-image's `filter_name=None`).
    case none

    /// The filter's `size` Fourier coefficients in FFT order, as
    /// scikit-image's `_get_fourier_filter(size, name)`, with the
    /// frequencies above `cutoff` × Nyquist set to zero (`cutoff` = 1 keeps
    /// all). The ramp peaks at 1 at Nyquist (twice |f| in cycles per
    /// sample), hence scikit-image's `π / (2 · angles)` scale.
    public func coefficients(size: Int, cutoff: Double = 1) -> [Double] {
        var f = [Double](repeating: 0, count: size)
        if size > 0 { f[0] = 0.25 }
        var i = 1
        while i < size {
            let n = Double(i <= size / 2 ? i : size - i)
            f[i] = -1 / (Double.pi * n * Double.pi * n)
            i += 2
        }
        var filter = [Double](repeating: 0, count: size)
        if let spectrum = try? FFT.fft(Tensor(f)).elements {
            for m in 0..<size { filter[m] = 2 * spectrum[m].real }
        }
        let fftshift = { (w: [Double]) -> [Double] in (0..<size).map { w[($0 + size / 2) % size] } }
        switch self {
        case .ramp: break
        case .sheppLogan:
            for m in 1..<size {
                let freq = Double(m <= (size - 1) / 2 ? m : m - size) / Double(size)
                let omega = Double.pi * freq
                filter[m] *= sin(omega) / omega
            }
        case .cosine:
            let window = fftshift((0..<size).map { sin(Double.pi * Double($0) / Double(size)) })
            for m in 0..<size { filter[m] *= window[m] }
        case .hamming, .hann:
            let (a, b) = self == .hamming ? (0.54, 0.46) : (0.5, 0.5)
            let window = fftshift((0..<size).map { size > 1 ? a - b * cos(2 * Double.pi * Double($0) / Double(size - 1)) : 1 })
            for m in 0..<size { filter[m] *= window[m] }
        case .none:
            for m in 0..<size { filter[m] = 1 }
        }
        if cutoff < 1 {
            for m in 0..<size {
                let freq = Double(m <= size / 2 ? m : size - m) / Double(size)
                if freq > cutoff * 0.5 { filter[m] = 0 }
            }
        }
        return filter
    }

    /// The derivative filter for back-projecting derivative (phase-gradient)
    /// projections, toupy's `compute_filter(..., derivatives=True)`: the
    /// filter is `i·H[m]` with `H[m] = −sign(f)/π · w[m]`, `f` the digital
    /// frequency, `w` this filter's window (1 for ``ramp`` and ``none``, as
    /// toupy's `ram-lak`; for the others their coefficients divided by the
    /// ramp's), zero above `cutoff` × Nyquist; returns the real `H`, `size`
    /// values in FFT order.
    ///
    /// For projections `d = ∂s/∂x`, whose spectrum is `2πif·ŝ`, the product
    /// `i·H · 2πif = 2|f| w` is this filter on `s`: back-projecting the
    /// derivative with it reconstructs the object itself.
    public func derivativeCoefficients(size: Int, cutoff: Double = 1) -> [Double] {
        let window: [Double]
        switch self {
        case .ramp, .none:
            window = [Double](repeating: 1, count: size)
        default:
            let filter = coefficients(size: size), ramp = FBPFilter.ramp.coefficients(size: size)
            window = (0..<size).map { ramp[$0] > 0 ? filter[$0] / ramp[$0] : 0 }
        }
        return (0..<size).map { m in
            let signed = m <= (size - 1) / 2 ? m : m - size      // fftfreq's order: Nyquist negative
            let freq = Double(abs(signed)) / Double(size)
            guard signed != 0, freq <= cutoff * 0.5 else { return 0 }
            return -Double(signed.signum()) / Double.pi * window[m]
        }
    }
}

/// The 2-d parallel-beam Radon transform and filtered back-projection with
/// scikit-image's conventions (`skimage.transform.radon` / `iradon`):
/// sinograms are `(detector pixels, angles)`, angles in degrees, the
/// rotation centre at pixel `size // 2`.
public enum Radon {
    /// The sinogram of a 2-d image at `anglesDegrees`, shape `(P, angles)`,
    /// as `skimage.transform.radon`: for each angle the image is rotated
    /// with bilinear interpolation (zero outside) and summed over rows. The
    /// image is cropped or padded to a square, then projected with
    /// ``RadonProjector`` (the same transform as a `LinearOperator`).
    ///
    /// - Parameters:
    ///   - image: the 2-d image.
    ///   - anglesDegrees: the projection angles, in degrees.
    ///   - circle: true (scikit-image's default) assumes the image is zero
    ///     outside the inscribed circle and crops it to a square of its
    ///     shorter side (`P` = that side); false pads it to its diagonal.
    /// - Throws: ``TomographyError`` for a non-2-d or empty image, NaN, or
    ///   no angles.
    public static func transform<T: OperatorScalar>(_ image: Tensor<T>, anglesDegrees: [Double],
                                                circle: Bool = true) throws(TomographyError) -> Tensor<T> {
        guard image.rank == 2, image.count > 0 else {
            throw .invalidArgument(name: "image", expected: "a non-empty 2-d array", received: "shape \(image.shape)")
        }
        guard !anglesDegrees.isEmpty else { throw .invalidArgument(name: "anglesDegrees", expected: "at least one angle", received: "[]") }
        guard anglesDegrees.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "anglesDegrees") }
        let values = RealConversion.doubles(image.elements)
        guard values.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "image") }
        let (rows, cols) = (image.shape[0], image.shape[1])
        // The square image scikit-image rotates.
        let n: Int, square: [Double]
        if circle {
            n = Swift.min(rows, cols)
            let (r0, c0) = (Int((Double(rows - n) / 2).rounded(.up)), Int((Double(cols - n) / 2).rounded(.up)))
            square = (0..<(n * n)).map { values[(r0 + $0 / n) * cols + c0 + $0 % n] }
        } else {
            let diagonal = 2.0.squareRoot() * Double(Swift.max(rows, cols))
            let pads = [rows, cols].map { Int((diagonal - Double($0)).rounded(.up)) }
            let before = zip([rows, cols], pads).map { s, p in (s + p) / 2 - s / 2 }
            n = rows + pads[0]
            precondition(n == cols + pads[1], "Radon.transform: padded image must be square")
            var padded = [Double](repeating: 0, count: n * n)
            for r in 0..<rows { for c in 0..<cols { padded[(r + before[0]) * n + c + before[1]] = values[r * cols + c] } }
            square = padded
        }
        let projector = try RadonProjector<T>(size: n, anglesDegrees: anglesDegrees)
        return projector.apply(Tensor(shape: [n, n], elements: square.map { T($0) }))
    }

    /// Bilinear interpolation of an n×n image at (row, col), zero outside
    /// (scikit-image's `warp` with `mode='constant'`, order 1).
    @inlinable @inline(__always)
    static func bilinear<S: OperatorScalar>(_ image: UnsafePointer<S>, _ n: Int, _ r: Double, _ c: Double) -> Double {
        guard let (r0, c0, dr, dc) = cell(r, c, n) else { return 0 }
        return interpolate(image, n, r0, c0, dr, dc)
    }

    /// Where the projector at angle (cos `ca`, sin `sa`) samples the image
    /// for detector column `c` on image row `r` (rotation about pixel
    /// `center`): the image row and column, fractional.
    @inlinable @inline(__always)
    static func samplePoint(_ ca: Double, _ sa: Double, row r: Int, column c: Int, center: Double) -> (row: Double, column: Double) {
        let xc = ca * Double(c) + sa * Double(r) - center * (ca + sa - 1)
        let yr = -sa * Double(c) + ca * Double(r) - center * (ca - sa - 1)
        return (yr, xc)
    }

    /// The bilinear cell of the point (r, c) of an n×n image: its upper-left
    /// pixel (each index in −1..<n) and the fractional offsets; nil when no
    /// pixel of the cell is inside (r or c outside (−1, n)).
    @inlinable @inline(__always)
    static func cell(_ r: Double, _ c: Double, _ n: Int) -> (r0: Int, c0: Int, dr: Double, dc: Double)? {
        guard r > -1 && r < Double(n) && c > -1 && c < Double(n) else { return nil }
        // floor by truncation (r, c > −1, so r + 1 > 0): the same values as
        // rounded(.down) without the libm call.
        let (r0, c0) = (Int(r + 1) - 1, Int(c + 1) - 1)
        return (r0, c0, r - Double(r0), c - Double(c0))
    }

    /// The bilinear value on a cell (``cell(_:_:_:)``), pixels outside the
    /// image taken as zero.
    @inlinable @inline(__always)
    static func interpolate<S: OperatorScalar>(_ image: UnsafePointer<S>, _ n: Int, _ r0: Int, _ c0: Int,
                                               _ dr: Double, _ dc: Double) -> Double {
        if r0 >= 0 && c0 >= 0 && r0 &+ 1 < n && c0 &+ 1 < n {
            let i = r0 &* n &+ c0
            let top = (1 - dc) * Double(image[i]) + dc * Double(image[i &+ 1])
            let bottom = (1 - dc) * Double(image[i &+ n]) + dc * Double(image[i &+ n &+ 1])
            return (1 - dr) * top + dr * bottom
        }
        func pixel(_ i: Int, _ j: Int) -> Double { i >= 0 && i < n && j >= 0 && j < n ? Double(image[i &* n &+ j]) : 0 }
        let top = (1 - dc) * pixel(r0, c0) + dc * pixel(r0, c0 &+ 1)
        let bottom = (1 - dc) * pixel(r0 &+ 1, c0) + dc * pixel(r0 &+ 1, c0 &+ 1)
        return (1 - dr) * top + dr * bottom
    }

    /// The transpose of ``interpolate(_:_:_:_:_:_:)``: adds `value` times
    /// each of the cell's bilinear weights to the pixels inside the image.
    @inlinable @inline(__always)
    static func scatter(_ value: Double, into out: UnsafeMutablePointer<Double>, _ n: Int, _ r0: Int, _ c0: Int,
                        _ dr: Double, _ dc: Double) {
        if r0 >= 0 && c0 >= 0 && r0 &+ 1 < n && c0 &+ 1 < n {
            let i = r0 &* n &+ c0
            out[i] += value * (1 - dr) * (1 - dc)
            out[i &+ 1] += value * (1 - dr) * dc
            out[i &+ n] += value * dr * (1 - dc)
            out[i &+ n &+ 1] += value * dr * dc
            return
        }
        func add(_ i: Int, _ j: Int, _ v: Double) { if i >= 0 && i < n && j >= 0 && j < n { out[i &* n &+ j] += v } }
        add(r0, c0, value * (1 - dr) * (1 - dc))
        add(r0, c0 &+ 1, value * (1 - dr) * dc)
        add(r0 &+ 1, c0, value * dr * (1 - dc))
        add(r0 &+ 1, c0 &+ 1, value * dr * dc)
    }

    /// Filters each column of a `(P, angles)` sinogram along P as
    /// scikit-image does: zero-pad to `max(64, 2^⌈log2(2P)⌉)`, multiply the
    /// FFT by ``FBPFilter/coefficients(size:cutoff:)``, keep the first P.
    /// The arithmetic runs in `Double`.
    ///
    /// With `derivative`, the sinogram holds derivative (phase-gradient)
    /// projections and the filter is the derivative filter, `i` times
    /// ``FBPFilter/derivativeCoefficients(size:cutoff:)`` (toupy's
    /// `derivatives=True`), same padding. That filter is odd and imaginary,
    /// so this map is antisymmetric: its adjoint is its negative.
    ///
    /// - Throws: ``TomographyError`` for a sinogram that is not 2-d or a
    ///   cut-off outside (0, 1].
    public static func filterSinogram<T: OperatorScalar>(_ sinogram: Tensor<T>, filter: FBPFilter = .ramp,
                                                         cutoff: Double = 1,
                                                         derivative: Bool = false) throws(TomographyError) -> Tensor<T> {
        guard sinogram.rank == 2 else {
            throw .invalidArgument(name: "sinogram", expected: "a 2-d array (pixels, angles)", received: "shape \(sinogram.shape)")
        }
        guard cutoff > 0 && cutoff <= 1 else {
            throw .invalidArgument(name: "cutoff", expected: "a number in (0, 1]", received: "\(cutoff)")
        }
        let (p, angles) = (sinogram.shape[0], sinogram.shape[1])
        let filtered = filterColumns(RealConversion.doubles(sinogram.elements), pixels: p, angles: angles, filter: filter, cutoff: cutoff,
                                     derivative: derivative)
        return Tensor(shape: [p, angles], elements: filtered.map { T($0) })
    }

    /// ``filterSinogram(_:filter:cutoff:derivative:)`` on a C-order `(P, angles)` array.
    static func filterColumns(_ sinogram: [Double], pixels p: Int, angles: Int, filter: FBPFilter,
                              cutoff: Double, derivative: Bool = false) -> [Double] {
        let padded = Swift.max(64, 1 << Int((log2(Double(2 * p))).rounded(.up)))
        let full = derivative ? filter.derivativeCoefficients(size: padded, cutoff: cutoff)
            : filter.coefficients(size: padded, cutoff: cutoff)
        // scikit-image keeps the real part of ifft(fft(x) · F); for real x
        // that is the transform with F's Hermitian part (the Hamming and Hann
        // windows are not symmetric after fftshift), which rfft/irfft apply.
        // The derivative filter i·H: its Hermitian part is i times H's odd
        // part (zero at DC and Nyquist).
        let sign: Double = derivative ? -1 : 1
        let coefficients = (0..<padded).map { (full[$0] + sign * full[(padded - $0) % padded]) / 2 }
        var buffer = [Double](repeating: 0, count: padded * angles)
        for i in 0..<(p * angles) { buffer[i] = sinogram[i] }
        guard let spectrum = try? FFT.rfft(Tensor(shape: [padded, angles], elements: buffer), axis: 0) else { return sinogram }
        var values = spectrum.elements
        let half = padded / 2 + 1
        for m in 0..<half {
            let scale: Double = coefficients[m]
            for a in 0..<angles {
                let index = m * angles + a
                let v: Complex<Double> = values[index]
                // ×scale, or ×i·scale for the derivative filter.
                values[index] = derivative ? Complex(-v.imaginary * scale, v.real * scale)
                    : Complex(v.real * scale, v.imaginary * scale)
            }
        }
        guard let back = try? FFT.irfft(Tensor(shape: [half, angles], elements: values), n: padded, axis: 0) else { return sinogram }
        return Array(back.elements[0..<(p * angles)])
    }

    /// Filtered back-projection of a `(P, angles)` sinogram, as
    /// `skimage.transform.iradon` with linear interpolation: the result is
    /// `outputSize × outputSize` (default P with `circle`, else
    /// ⌊P/√2⌋), scaled by `π / (2 · angles)`, zero outside the inscribed
    /// circle when `circle` is true.
    ///
    /// - Parameters:
    ///   - sinogram: the sinogram, shape `(P, angles)`.
    ///   - anglesDegrees: the projection angle of each sinogram column, in
    ///     degrees.
    ///   - filter: ``FBPFilter`` (default ramp).
    ///   - frequencyCutoff: keep frequencies up to this fraction of Nyquist
    ///     (in (0, 1]; 1 is scikit-image's behaviour).
    ///   - circle: true (default) when the sinogram was taken with
    ///     `circle` (it is padded to its diagonal before filtering, and the
    ///     result is zero outside the inscribed circle).
    ///   - outputSize: the side of the square result, 1...65536 (default P
    ///     with `circle`, else ⌊P/√2⌋).
    /// - Throws: ``TomographyError`` for a sinogram that is not 2-d, angles
    ///   that do not match its columns, NaN, or a bad cut-off or size.
    public static func filteredBackProjection<T: FFTScalar>(_ sinogram: Tensor<T>, anglesDegrees: [Double],
                                                            filter: FBPFilter = .ramp, frequencyCutoff: Double = 1,
                                                            circle: Bool = true,
                                                            outputSize: Int? = nil) throws(TomographyError) -> Tensor<T> {
        guard sinogram.rank == 2, sinogram.count > 0 else {
            throw .invalidArgument(name: "sinogram", expected: "a non-empty 2-d array (pixels, angles)", received: "shape \(sinogram.shape)")
        }
        guard anglesDegrees.count == sinogram.shape[1] else {
            throw .shapeMismatch(argument: "anglesDegrees", expected: [sinogram.shape[1]], received: [anglesDegrees.count])
        }
        guard anglesDegrees.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "anglesDegrees") }
        guard frequencyCutoff > 0 && frequencyCutoff <= 1 else {
            throw .invalidArgument(name: "frequencyCutoff", expected: "a number in (0, 1]", received: "\(frequencyCutoff)")
        }
        if let outputSize, outputSize < 1 || outputSize > 1 << 16 {
            throw .invalidArgument(name: "outputSize", expected: "1...65536", received: "\(outputSize)")
        }
        var values = RealConversion.doubles(sinogram.elements)
        guard values.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "sinogram") }
        var p = sinogram.shape[0]
        let angles = sinogram.shape[1]
        let size = outputSize ?? (circle ? p : Int((Double(p * p) / 2).squareRoot().rounded(.down)))
        if circle {
            // scikit-image's _sinogram_circle_to_square.
            let diagonal = Int((2.0.squareRoot() * Double(p)).rounded(.up))
            let before = diagonal / 2 - p / 2
            var square = [Double](repeating: 0, count: diagonal * angles)
            for i in 0..<p { for a in 0..<angles { square[(i + before) * angles + a] = values[i * angles + a] } }
            values = square
            p = diagonal
        }
        let filtered = filterColumns(values, pixels: p, angles: angles, filter: filter, cutoff: frequencyCutoff)
        let radius = size / 2
        let origin = Double(p / 2)
        var image = [Double](repeating: 0, count: size * size)
        let trig = anglesDegrees.map { (cos($0 * Double.pi / 180), sin($0 * Double.pi / 180)) }
        filtered.withUnsafeBufferPointer { f in
            image.withUnsafeMutableBufferPointer { out in
                let fp = SendableBuffer(f), op = SendableMutableBuffer(out), p = p
                Parallel.forEachChunk(count: size, minimumChunk: Swift.max(1, 8192 / Swift.max(1, size * angles))) { rowsRange in
                    for r in rowsRange {
                        let xpr = Double(r - radius)
                        for c in 0..<size {
                            let ypr = Double(c - radius)
                            var sum = 0.0
                            for a in 0..<angles {
                                // np.interp(t, x = arange(p) − p//2, fp = column, left = right = 0)
                                let t = ypr * trig[a].0 - xpr * trig[a].1 + origin
                                if t < 0 || t > Double(p - 1) { continue }
                                let i0 = Swift.min(Int(t.rounded(.down)), p - 1)
                                let w = t - Double(i0)
                                let v0 = fp[i0 * angles + a]
                                sum += w == 0 ? v0 : v0 + w * (fp[(i0 + 1) * angles + a] - v0)
                            }
                            if circle && (xpr * xpr + ypr * ypr) > Double(radius * radius) { sum = 0 }
                            op[r * size + c] = sum * Double.pi / Double(2 * angles)
                        }
                    }
                }
            }
        }
        return Tensor(shape: [size, size], elements: image.map { T($0) })
    }

    /// Slice-by-slice filtered back-projection of a projection stack
    /// `(angles, J, K)` whose rotation axis runs along K: slice `k` is
    /// ``filteredBackProjection(_:anglesDegrees:filter:frequencyCutoff:circle:outputSize:)``
    /// of the sinogram `projections[:, :, k]ᵀ`. The result is
    /// `(size, size, K)`.
    public static func filteredBackProjectionStack<T: FFTScalar>(_ projections: Tensor<T>, anglesDegrees: [Double],
                                                                 filter: FBPFilter = .ramp, frequencyCutoff: Double = 1,
                                                                 circle: Bool = true,
                                                                 outputSize: Int? = nil) throws(TomographyError) -> Tensor<T> {
        guard projections.rank == 3, projections.count > 0 else {
            throw .invalidArgument(name: "projections", expected: "a non-empty 3-d array (angles, J, K)", received: "shape \(projections.shape)")
        }
        let (n, nj, nk) = (projections.shape[0], projections.shape[1], projections.shape[2])
        let values = projections.elements
        var result: [T] = []
        var size = 0
        for k in 0..<nk {
            var sinogram = [T](repeating: 0, count: nj * n)
            for a in 0..<n { for j in 0..<nj { sinogram[j * n + a] = values[(a * nj + j) * nk + k] } }
            let slice = try filteredBackProjection(Tensor(shape: [nj, n], elements: sinogram), anglesDegrees: anglesDegrees,
                                                   filter: filter, frequencyCutoff: frequencyCutoff, circle: circle,
                                                   outputSize: outputSize)
            size = slice.shape[0]
            if result.isEmpty { result = [T](repeating: 0, count: size * size * nk) }
            let sv = slice.elements
            for i in 0..<(size * size) { result[i * nk + k] = sv[i] }
        }
        return Tensor(shape: [size, size, nk], elements: result)
    }
}

/// The 2-d parallel-beam Radon transform of ``Radon/transform(_:anglesDegrees:circle:)``
/// as a `LinearOperator`: a square `size × size` image in, a
/// `(size, angles)` sinogram out (scikit-image's conventions: angles in
/// degrees, rotation centre at pixel `size / 2`, bilinear rotation with
/// zero outside, column sums).
///
/// The adjoint scatters each sinogram value back with the same bilinear
/// weights, so it is the exact transpose (⟨R x, y⟩ = ⟨x, Rᵀ y⟩), not
/// scikit-image's interpolating back-projection. The forward product runs in
/// parallel over angles; the adjoint runs serially (scattered writes), or
/// with a precomputed plan in parallel over fixed angle blocks, so both are
/// deterministic. Sums are accumulated in `Double`.
public struct RadonProjector<Scalar: OperatorScalar>: LinearOperator, Sendable {
    /// The side of the square image.
    public let size: Int
    /// The projection angles in degrees.
    public let anglesDegrees: [Double]
    @usableFromInline let cosines: [Double]
    @usableFromInline let sines: [Double]
    /// The bilinear samples of every angle, computed once (see
    /// ``init(size:anglesDegrees:precomputeSamples:)``); nil: computed on the fly.
    @usableFromInline let plan: RadonSamplePlan?

    /// A Radon transform of `size × size` images at `anglesDegrees`.
    ///
    /// - Throws: ``TomographyError`` for a size below 1, no angles, or a
    ///   non-finite angle.
    public init(size: Int, anglesDegrees: [Double]) throws(TomographyError) {
        guard size >= 1 else { throw .invalidArgument(name: "size", expected: "≥ 1", received: "\(size)") }
        guard !anglesDegrees.isEmpty else { throw .invalidArgument(name: "anglesDegrees", expected: "at least one angle", received: "[]") }
        guard anglesDegrees.allSatisfy(\.isFinite) else { throw .nonFiniteValues(argument: "anglesDegrees") }
        self.size = size
        self.anglesDegrees = anglesDegrees
        cosines = anglesDegrees.map { cos($0 * Double.pi / 180) }
        sines = anglesDegrees.map { sin($0 * Double.pi / 180) }
        plan = nil
    }

    /// A Radon transform that computes the position and bilinear weights of
    /// every sample once, here, and reads them in every product, for
    /// operators applied many times (an alignment applies its projector
    /// hundreds of times). The forward product is the same, bit for bit, as
    /// without the plan; the adjoint runs in parallel over fixed blocks of
    /// angles (at most 8), whose partial images are summed in block order,
    /// so it differs from the serial scatter by rounding only and does not
    /// depend on the thread count. The plan holds 28 bytes per sample
    /// inside the image (about `28 · size² · angles` bytes), the adjoint up
    /// to 8 partial images; above ``maximumPrecomputedSamples`` samples no
    /// plan is built and the samples are computed on the fly.
    ///
    /// - Throws: ``TomographyError`` as ``init(size:anglesDegrees:)``.
    public init(size: Int, anglesDegrees: [Double], precomputeSamples: Bool) throws(TomographyError) {
        let plain = try RadonProjector(size: size, anglesDegrees: anglesDegrees)
        self.size = size
        self.anglesDegrees = anglesDegrees
        cosines = plain.cosines
        sines = plain.sines
        plan = precomputeSamples && size * size * anglesDegrees.count <= Self.maximumPrecomputedSamples
            ? RadonSamplePlan(size: size, cosines: cosines, sines: sines) : nil
    }

    /// The most samples (`size² · angles`) for which
    /// ``init(size:anglesDegrees:precomputeSamples:)`` builds its plan:
    /// 2²² (a plan of at most 117 MB).
    public static var maximumPrecomputedSamples: Int { 1 << 22 }

    /// `size · angles`.
    @inlinable public var rows: Int { size * anglesDegrees.count }
    /// `size · size`.
    @inlinable public var columns: Int { size * size }
    /// `[size, size]`.
    @inlinable public var inputShape: [Int] { [size, size] }
    /// `[size, angles]`.
    @inlinable public var outputShape: [Int] { [size, anglesDegrees.count] }

    /// The sinogram `y = R x` (C order, `(size, angles)`).
    @inlinable
    public func apply(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>) {
        precondition(x.count == columns && y.count == rows, "RadonProjector.apply: buffer lengths")
        let n = size, count = anglesDegrees.count
        let center = Double(n / 2)
        guard x.baseAddress != nil, y.baseAddress != nil else { return }
        if let plan {
            plan.apply(x, into: y, size: n, angles: count)
            return
        }
        let (src, dst) = (SendableBuffer(x), SendableMutableBuffer(y))
        cosines.withUnsafeBufferPointer { cb in sines.withUnsafeBufferPointer { sb in
            let (cp, sp) = (SendableBuffer(cb), SendableBuffer(sb))
            Parallel.forEachChunk(count: count, minimumChunk: Swift.max(1, 4096 / Swift.max(1, n))) { range in
                var column = [Double](repeating: 0, count: n)
                for a in range {
                    let (ca, sa) = (cp[a], sp[a])
                    for c in 0..<n { column[c] = 0 }
                    for r in 0..<n {
                        for c in 0..<n {
                            let (yr, xc) = Radon.samplePoint(ca, sa, row: r, column: c, center: center)
                            column[c] += Radon.bilinear(src.baseAddress, n, yr, xc)
                        }
                    }
                    for c in 0..<n { dst[c * count + a] = Scalar(column[c]) }
                }
            }
        } }
    }

    /// The exact adjoint `x = Rᵀ y`: each `y[c, a]` spread over the (up to
    /// four) pixels its bilinear sample read, with the same weights.
    @inlinable
    public func applyAdjoint(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>) {
        precondition(y.count == rows && x.count == columns, "RadonProjector.applyAdjoint: buffer lengths")
        let n = size, count = anglesDegrees.count
        let center = Double(n / 2)
        if let plan {
            plan.applyAdjoint(y, into: x, size: n, angles: count)
            return
        }
        var image = [Double](repeating: 0, count: n * n)
        image.withUnsafeMutableBufferPointer { out in
            guard let out = out.baseAddress else { return }
            for a in 0..<count {
                let (ca, sa) = (cosines[a], sines[a])
                for r in 0..<n {
                    for c in 0..<n {
                        let value = Double(y[c * count + a])
                        if value == 0 { continue }
                        let (yr, xc) = Radon.samplePoint(ca, sa, row: r, column: c, center: center)
                        guard let (r0, c0, dr, dc) = Radon.cell(yr, xc, n) else { continue }
                        Radon.scatter(value, into: out, n, r0, c0, dr, dc)
                    }
                }
            }
        }
        for i in 0..<(n * n) { x[i] = Scalar(image[i]) }
    }
}

/// The samples of a ``RadonProjector`` inside the image, in the order the
/// projector visits them (angle, image row, detector column), each with the
/// detector column it adds to, the upper-left pixel it reads and its
/// fractional offsets: exactly the values the projector computes on the
/// fly, so forward products through the plan are the same bit for bit.
@usableFromInline
final class RadonSamplePlan: Sendable {
    /// `angleStart[a]..<angleStart[a + 1]`: the samples of angle `a`.
    @usableFromInline let angleStart: [Int]
    /// Detector column of each sample.
    @usableFromInline let column: [Int32]
    /// Upper-left pixel row `⌊yr⌋` and column `⌊xc⌋` (each in −1..<n).
    @usableFromInline let pixelRow: [Int32]
    @usableFromInline let pixelColumn: [Int32]
    /// Fractional offsets `yr − ⌊yr⌋`, `xc − ⌊xc⌋`.
    @usableFromInline let rowFraction: [Double]
    @usableFromInline let columnFraction: [Double]

    init(size n: Int, cosines: [Double], sines: [Double]) {
        let center = Double(n / 2)
        var starts = [0]
        var column: [Int32] = [], pixelRow: [Int32] = [], pixelColumn: [Int32] = []
        var rowFraction: [Double] = [], columnFraction: [Double] = []
        let estimate = n * n * cosines.count
        column.reserveCapacity(estimate)
        pixelRow.reserveCapacity(estimate)
        pixelColumn.reserveCapacity(estimate)
        rowFraction.reserveCapacity(estimate)
        columnFraction.reserveCapacity(estimate)
        for a in 0..<cosines.count {
            let (ca, sa) = (cosines[a], sines[a])
            for r in 0..<n {
                for c in 0..<n {
                    let (yr, xc) = Radon.samplePoint(ca, sa, row: r, column: c, center: center)
                    guard let (r0, c0, dr, dc) = Radon.cell(yr, xc, n) else { continue }
                    column.append(Int32(c))
                    pixelRow.append(Int32(r0))
                    pixelColumn.append(Int32(c0))
                    rowFraction.append(dr)
                    columnFraction.append(dc)
                }
            }
            starts.append(column.count)
        }
        angleStart = starts
        self.column = column
        self.pixelRow = pixelRow
        self.pixelColumn = pixelColumn
        self.rowFraction = rowFraction
        self.columnFraction = columnFraction
    }

    /// ``RadonProjector/apply(_:into:)`` through the plan: parallel over
    /// angles, each detector column summed in the projector's order.
    @inlinable
    func apply<Scalar: OperatorScalar>(_ x: UnsafeBufferPointer<Scalar>, into y: UnsafeMutableBufferPointer<Scalar>,
                                       size n: Int, angles count: Int) {
        guard let image = x.baseAddress, let sinogram = y.baseAddress else { return }
        let (src, dst) = (SendableBuffer(start: image, validIndices: 0..<x.count),
                          SendableMutableBuffer(start: sinogram, validIndices: 0..<y.count))
        angleStart.withUnsafeBufferPointer { starts in column.withUnsafeBufferPointer { columns in
        pixelRow.withUnsafeBufferPointer { rows in pixelColumn.withUnsafeBufferPointer { pixelColumns in
        rowFraction.withUnsafeBufferPointer { rowFractions in columnFraction.withUnsafeBufferPointer { columnFractions in
            let (st, cs, rs, ps, rf, cf) = (SendableBuffer(starts), SendableBuffer(columns), SendableBuffer(rows),
                                            SendableBuffer(pixelColumns), SendableBuffer(rowFractions), SendableBuffer(columnFractions))
            Parallel.forEachChunk(count: count, minimumChunk: Swift.max(1, 4096 / Swift.max(1, n))) { range in
                let sums = UnsafeMutablePointer<Double>.allocate(capacity: n)
                defer { sums.deallocate() }
                let pixels = src.baseAddress, out = dst.baseAddress
                let (start, col, r0s, c0s, drs, dcs) = (st.baseAddress, cs.baseAddress, rs.baseAddress, ps.baseAddress,
                                                        rf.baseAddress, cf.baseAddress)
                for a in range {
                    sums.update(repeating: 0, count: n)
                    for k in start[a]..<start[a &+ 1] {
                        sums[Int(col[k])] += Radon.interpolate(pixels, n, Int(r0s[k]), Int(c0s[k]), drs[k], dcs[k])
                    }
                    for c in 0..<n { out[c &* count &+ a] = Scalar(sums[c]) }
                }
            }
        } } } } } }
    }

    /// The number of fixed angle blocks the planned adjoint scatters into
    /// partial images (at most 8; one per angle for fewer angles).
    @inlinable
    static func adjointBlocks(angles: Int) -> Int { Swift.min(8, Swift.max(1, angles)) }

    /// ``RadonProjector/applyAdjoint(_:into:)`` through the plan, in
    /// parallel: the angles are cut into ``adjointBlocks(angles:)`` fixed
    /// blocks (whatever the thread count), each block scatters its samples
    /// in the projector's order into a partial image of its own, and the
    /// partial images are summed in block order. The result does not
    /// depend on the thread count; it differs from the serial scatter only
    /// by the order of the sums (rounding).
    @inlinable
    func applyAdjoint<Scalar: OperatorScalar>(_ y: UnsafeBufferPointer<Scalar>, into x: UnsafeMutableBufferPointer<Scalar>,
                                              size n: Int, angles count: Int) {
        guard let sinogram = y.baseAddress, let image = x.baseAddress else { return }
        let blocks = Self.adjointBlocks(angles: count)
        let blockSize = (count + blocks - 1) / blocks
        let partialCount = (count + blockSize - 1) / blockSize
        let partials = UnsafeMutablePointer<Double>.allocate(capacity: partialCount * n * n)
        partials.initialize(repeating: 0, count: partialCount * n * n)
        defer { partials.deallocate() }
        let (src, dst) = (SendableBuffer(start: sinogram, validIndices: 0..<y.count),
                          SendableMutableBuffer(start: partials, validIndices: 0..<(partialCount * n * n)))
        angleStart.withUnsafeBufferPointer { starts in column.withUnsafeBufferPointer { columns in
        pixelRow.withUnsafeBufferPointer { rows in pixelColumn.withUnsafeBufferPointer { pixelColumns in
        rowFraction.withUnsafeBufferPointer { rowFractions in columnFraction.withUnsafeBufferPointer { columnFractions in
            let (st, cs, rs, ps, rf, cf) = (SendableBuffer(starts), SendableBuffer(columns), SendableBuffer(rows),
                                            SendableBuffer(pixelColumns), SendableBuffer(rowFractions), SendableBuffer(columnFractions))
            Parallel.forEachBlock(count: count, blockSize: blockSize) { block, angleRange in
                let values = src.baseAddress, out = dst.baseAddress + block * n * n
                let (start, col, r0s, c0s, drs, dcs) = (st.baseAddress, cs.baseAddress, rs.baseAddress, ps.baseAddress,
                                                        rf.baseAddress, cf.baseAddress)
                for a in angleRange {
                    for k in start[a]..<start[a &+ 1] {
                        let value = Double(values[Int(col[k]) &* count &+ a])
                        if value == 0 { continue }
                        Radon.scatter(value, into: out, n, Int(r0s[k]), Int(c0s[k]), drs[k], dcs[k])
                    }
                }
            }
        } } } } } }
        for i in 0..<(n * n) {
            var sum = partials[i]
            for b in 1..<Swift.max(1, partialCount) { sum += partials[b &* n &* n &+ i] }
            image[i] = Scalar(sum)
        }
    }
}
