import BeamlineRegistration
import BeamlineTensor
import ComplexModule
import Foundation

extension HorizontalAlignment {
    /// The horizontal derivatives of every projection, toupy 0.2.2's
    /// `calculate_derivatives` (and `derivatives`) over the whole stack:
    /// `d(y, x) = q(y, x + ½) − q(y, x − ½)`, each half-pixel shift made
    /// as toupy makes it with `method`:
    /// - ``ShiftMethod/fourier`` (toupy's default here): the row extended
    ///   on the right by its mirror image (NumPy's `reflect`) to pyFFTW's
    ///   next fast length, a phase ramp, the real part; that is, the
    ///   spectrum multiplied by `2i·sin(πf)`;
    /// - ``ShiftMethod/linear``: `(q(x + 1) − q(x − 1)) / 2`, wrapping
    ///   around the row (toupy's linear shifts wrap);
    /// - ``ShiftMethod/spline``: the cubic B-spline of the row (mirrored
    ///   beyond its ends) at `x ± ½`, as `scipy.ndimage.shift(order=3,
    ///   mode="reflect")`.
    ///
    /// These are the derivative (phase-gradient) projections that
    /// ``Options/derivatives`` expects; toupy computes them in `float32`
    /// FFTs, Beamline in `Double`.
    ///
    /// - Parameters:
    ///   - stack: projections `(projections, rows, columns)`.
    ///   - method: how the half-pixel shifts are made (default Fourier).
    /// - Returns: the derivatives, same shape.
    /// - Throws: ``AlignmentError`` for a stack that is not 3-d, is empty,
    ///   holds NaN/Inf, or has fewer than 2 columns.
    public static func derivativeProjections<T: RealElement>(_ stack: Tensor<T>,
                                                             method: ShiftMethod = .fourier) throws(AlignmentError) -> Tensor<Double> {
        let data = try ProjectionStack(stack)
        guard data.columns >= 2 else {
            throw .invalidArgument(name: "stack", expected: "at least 2 columns to differentiate along",
                                   received: "shape \(stack.shape)")
        }
        let rows = data.projections * data.rows
        let values = HorizontalDerivative.rows(data.values, count: rows, length: data.columns, method: method)
        return Tensor(shape: [data.projections, data.rows, data.columns], elements: values)
    }
}

/// toupy's horizontal derivative `q(x + ½) − q(x − ½)` of rows of one
/// length, as a dense `length × length` matrix, applied to the columns of a
/// `(length, projections)` sinogram together with its transpose (the
/// consistency gradient needs the adjoint). Every method is linear, so the
/// matrix is the derivative of the unit vectors; applying it costs
/// `length² · projections` multiply-adds in a fixed order.
struct HorizontalDerivative: Sendable {
    let length: Int
    /// `matrix[x * length + y]`: weight of input sample `y` in output `x`.
    let matrix: [Double]

    init(length n: Int, method: ShiftMethod) {
        length = n
        var identity = [Double](repeating: 0, count: n * n)
        for k in 0..<n { identity[k * n + k] = 1 }
        // Row k of `columns` is the derivative of unit vector k: column k of the matrix.
        let columns = Self.rows(identity, count: n, length: n, method: method)
        var m = [Double](repeating: 0, count: n * n)
        for y in 0..<n { for x in 0..<n { m[x * n + y] = columns[y * n + x] } }
        matrix = m
    }

    /// The derivative of `count` rows of `length` values (C order).
    static func rows(_ values: [Double], count: Int, length n: Int, method: ShiftMethod) -> [Double] {
        var out = [Double](repeating: 0, count: count * n)
        guard n >= 2 else { return out }
        switch method {
        case .linear:
            for r in 0..<count {
                let base = r * n
                for x in 0..<n {
                    out[base + x] = 0.5 * (values[base + (x + 1) % n] - values[base + (x + n - 1) % n])
                }
            }
        case .spline:
            let profiles = ShiftableProfiles(values, count: count, length: n, method: .spline, maximumShift: 1)
            let plus = profiles.evaluate(shifts: [Double](repeating: 0.5, count: count), window: 0..<n).values
            let minus = profiles.evaluate(shifts: [Double](repeating: -0.5, count: count), window: 0..<n).values
            for k in out.indices { out[k] = plus[k] - minus[k] }
        case .fourier:
            // NumPy's pad(row, (0, L − n), "reflect"): x[n−2], x[n−3], … after the row.
            let period = nextFastFFTLength(n)
            var padded = [Double](repeating: 0, count: count * period)
            for r in 0..<count {
                for i in 0..<period {
                    padded[r * period + i] = values[r * n + SubpixelShift.reflectIndex(i, n)]
                }
            }
            let half = period / 2 + 1
            guard let spectrum = try? FFT.rfft(Tensor(shape: [count, period], elements: padded), axis: 1) else { return out }
            var s = spectrum.elements
            for r in 0..<count {
                for m in 0..<half {
                    // e^{iπf} − e^{−iπf} = 2i·sin(πf); the Nyquist term is
                    // imaginary and toupy keeps the real part: zero.
                    let angle: Double = Double.pi * Double(m) / Double(period)
                    let factor: Double = 2 * m == period ? 0 : 2 * Foundation.sin(angle)
                    let v: Complex<Double> = s[r * half + m]
                    s[r * half + m] = Complex<Double>(-factor * v.imaginary, factor * v.real)
                }
            }
            guard let back = try? FFT.irfft(Tensor(shape: [count, half], elements: s), n: period, axis: 1) else { return out }
            let b = back.elements
            for r in 0..<count { for x in 0..<n { out[r * n + x] = b[r * period + x] } }
        }
        return out
    }

    /// `D` (or `Dᵀ`) applied along the first axis of a `(length, columns)`
    /// C-order array.
    func apply(_ sinogram: [Double], columns p: Int, transposed: Bool = false) -> [Double] {
        let n = length
        var out = [Double](repeating: 0, count: n * p)
        matrix.withUnsafeBufferPointer { m in
            sinogram.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    for x in 0..<n {
                        for y in 0..<n {
                            let w = transposed ? m[y * n + x] : m[x * n + y]
                            if w == 0 { continue }
                            for i in 0..<p { o[x * p + i] += w * s[y * p + i] }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// pyFFTW's `next_fast_len` (FFTW's fast sizes): the smallest `m ≥ n` of
/// the form `2^a 3^b 5^c 7^d 11^e 13^f` with `e + f ≤ 1`.
func nextFastFFTLength(_ n: Int) -> Int {
    var m = max(1, n)
    while true {
        var r = m
        for p in [2, 3, 5, 7] { while r % p == 0 { r /= p } }
        if r == 1 || r == 11 || r == 13 { return m }
        m += 1
    }
}
