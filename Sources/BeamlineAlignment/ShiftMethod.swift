import ComplexModule
import BeamlineTensor
import Foundation

/// How a projection is shifted by a sub-pixel amount (toupy's
/// `shiftmeth`), and with it how the derivative of the shifted values with
/// respect to the shift is taken.
///
/// Beamline's shifts follow toupy's sign convention: shifting a profile `q`
/// by `s` gives `p(y) = q(y + s)` (content moves towards lower indices for
/// a positive `s`), so toupy's `shiftstack` can be used as is.
///
/// Unlike toupy, which wraps each profile around a margin of a few rows,
/// values are read from the whole profile and extended beyond its ends
/// (by the edge value for ``linear``, by half-sample mirroring for
/// ``spline``, by mirroring into a padded period for ``fourier``), so a
/// region of interest never sees wrapped-around data.
public enum ShiftMethod: String, Sendable, CaseIterable, Codable {
    /// Linear interpolation between the two neighbouring samples; the
    /// derivative is the difference of those samples.
    case linear
    /// A phase ramp on the spectrum of the profile extended by its mirror
    /// image (a period of twice its length); the derivative
    /// multiplies the spectrum by `2πiν` as well.
    case fourier
    /// Cubic B-spline interpolation (scipy.ndimage's `shift` with order 3,
    /// `mode="reflect"`); the derivative is that of the spline.
    case spline
}

/// A set of 1-d profiles (one per projection) that can be sampled at
/// shifted positions, with the derivative of each sample with respect to
/// the shift. Everything is precomputed once per profile, so one
/// evaluation costs `O(profiles · window)` (linear, spline) or one batch of
/// inverse FFTs (fourier).
struct ShiftableProfiles: Sendable {
    let method: ShiftMethod
    let count: Int
    let length: Int
    /// linear: the profiles; spline: B-spline coefficients on the extended
    /// range `[-extension, length + extension)`; fourier: unused.
    private let samples: [Double]
    private let stride: Int
    private let extensionLength: Int
    /// fourier: the half spectra (`count × half`) of the mirrored profiles.
    private let spectra: [Complex<Double>]
    private let period: Int

    /// - Parameters:
    ///   - profiles: `count × length`, C order.
    ///   - maximumShift: the largest |shift| that will be asked for (the
    ///     spline's extension is sized from it; larger shifts are clamped).
    init(_ profiles: [Double], count: Int, length: Int, method: ShiftMethod, maximumShift: Double) {
        self.method = method
        self.count = count
        self.length = length
        switch method {
        case .linear:
            samples = profiles
            stride = length
            extensionLength = 0
            spectra = []
            period = 0
        case .spline:
            // Coefficients on an extended, mirrored signal; the causal and
            // anticausal recursions start 24 samples beyond the range that
            // is read, where the pole's influence (0.268^24 ≈ 2e-14) is gone.
            let e = Int(min(maximumShift, 1e6).rounded(.up)) + 28
            var coefficients = [Double](repeating: 0, count: count * (length + 2 * e))
            for p in 0..<count {
                let base = p * length
                var extended = (0..<(length + 2 * e)).map { i in profiles[base + mirroredIndex(i - e, length)] }
                splinePrefilter(&extended)
                for i in 0..<extended.count { coefficients[p * (length + 2 * e) + i] = extended[i] }
            }
            samples = coefficients
            stride = length + 2 * e
            extensionLength = e
            spectra = []
            period = 0
        case .fourier:
            let n = 2 * length
            var mirrored = [Double](repeating: 0, count: count * n)
            for p in 0..<count {
                for i in 0..<n {
                    // One period: the profile, then its mirror image, so
                    // both ends join smoothly.
                    mirrored[p * n + i] = profiles[p * length + mirroredIndex(i, length)]
                }
            }
            let tensor = Tensor(shape: [count, n], elements: mirrored)
            spectra = (try? FFT.rfft(tensor, axis: 1))?.elements ?? []
            samples = []
            stride = 0
            extensionLength = 0
            period = n
        }
    }

    /// Samples `p_i(y) = q_i(y + s_i)` for `y` in `window` and every
    /// profile, and `∂p_i(y)/∂s_i`: two `count × window.count` arrays.
    func evaluate(shifts: [Double], window: Range<Int>) -> (values: [Double], derivatives: [Double]) {
        let w = window.count
        var values = [Double](repeating: 0, count: count * w)
        var derivatives = [Double](repeating: 0, count: count * w)
        switch method {
        case .linear:
            for p in 0..<count {
                let base = p * stride
                let s = shifts[p]
                for (k, y) in window.enumerated() {
                    let (i0, i1, f) = linearNeighbours(Double(y) + s, count: length)
                    let a = samples[base + i0], b = samples[base + i1]
                    values[p * w + k] = a + f * (b - a)
                    derivatives[p * w + k] = b - a
                }
            }
        case .spline:
            let e = extensionLength
            for p in 0..<count {
                let base = p * stride
                let s = min(max(shifts[p], -Double(e - 4)), Double(e - 4))
                for (k, y) in window.enumerated() {
                    let t = Double(y) + s + Double(e)
                    let i1 = Int(t.rounded(.down))
                    let f = t - Double(i1)
                    // Cubic B-spline weights of samples i1-1 ... i1+2 at
                    // fraction f, and their derivatives.
                    let g = 1 - f
                    let w0 = g * g * g / 6, w3 = f * f * f / 6
                    let w1 = (3 * f * f * f - 6 * f * f + 4) / 6
                    let w2 = (3 * g * g * g - 6 * g * g + 4) / 6
                    let d0 = -g * g / 2, d3 = f * f / 2
                    let d1 = (9 * f * f - 12 * f) / 6
                    let d2 = -(9 * g * g - 12 * g) / 6
                    let c0 = samples[base + i1 - 1], c1 = samples[base + i1]
                    let c2 = samples[base + i1 + 1], c3 = samples[base + i1 + 2]
                    values[p * w + k] = w0 * c0 + w1 * c1 + w2 * c2 + w3 * c3
                    derivatives[p * w + k] = d0 * c0 + d1 * c1 + d2 * c2 + d3 * c3
                }
            }
        case .fourier:
            let n = period, half = n / 2 + 1
            var ramped = [Complex<Double>](repeating: .zero, count: count * half)
            var rampedDerivative = ramped
            for p in 0..<count {
                for m in 0..<half {
                    let nu = Double(m) / Double(n)
                    let phase = 2 * Double.pi * nu * shifts[p]
                    let q = spectra[p * half + m]
                    let rotated = Complex(q.real * cos(phase) - q.imaginary * sin(phase),
                                          q.real * sin(phase) + q.imaginary * cos(phase))
                    ramped[p * half + m] = rotated
                    let factor = 2 * Double.pi * nu
                    rampedDerivative[p * half + m] = Complex(-factor * rotated.imaginary, factor * rotated.real)
                }
            }
            guard let back = try? FFT.irfft(Tensor(shape: [count, half], elements: ramped), n: n, axis: 1),
                  let backDerivative = try? FFT.irfft(Tensor(shape: [count, half], elements: rampedDerivative), n: n, axis: 1)
            else { return (values, derivatives) }
            let (v, d) = (back.elements, backDerivative.elements)
            for p in 0..<count {
                for (k, y) in window.enumerated() {
                    let i = ((y % n) + n) % n
                    values[p * w + k] = v[p * n + i]
                    derivatives[p * w + k] = d[p * n + i]
                }
            }
        }
        return (values, derivatives)
    }
}

/// The two samples that linear interpolation at `t` reads from a
/// sequence of `count` values, clamped to its ends, and the fraction
/// `t − ⌊t⌋` (values beyond the ends repeat the edge value).
@inline(__always)
func linearNeighbours(_ t: Double, count: Int) -> (lower: Int, upper: Int, fraction: Double) {
    let floor = t.rounded(.down)
    let i = Int(max(-1, min(Double(count), floor)))
    return (min(max(i, 0), count - 1), min(max(i + 1, 0), count - 1), t - floor)
}

/// Half-sample mirroring (scipy.ndimage's "reflect": `d c b a | a b c d | d c b a`).
@inline(__always)
func mirroredIndex(_ i: Int, _ n: Int) -> Int {
    guard n > 1 else { return 0 }
    let period = 2 * n
    var j = i % period
    if j < 0 { j += period }
    return j < n ? j : period - 1 - j
}

/// In-place cubic B-spline prefilter (Unser's recursive filter, pole
/// `√3 − 2`, gain 6), started from the first sample and ended with the
/// standard anticausal initial value. The callers extend the signal far
/// enough that the start-up transients never reach the samples they read.
func splinePrefilter(_ c: inout [Double]) {
    let n = c.count
    guard n > 1 else { return }
    let z = 3.0.squareRoot() - 2
    for i in 0..<n { c[i] *= 6 }
    for i in 1..<n { c[i] += z * c[i - 1] }
    c[n - 1] = (z / (z * z - 1)) * (c[n - 1] + z * c[n - 2])
    for i in stride(from: n - 2, through: 0, by: -1) { c[i] = z * (c[i + 1] - c[i]) }
}
