import ComplexModule
import RealModule

/// `exp(iωt)` for the integers `t` of a range, from two small tables:
/// with `t − lower = h·L + l` (`L` a power of two near the square root of
/// the range's length), `exp(iωt) = H[h] · Λ[l]` where `H[h] = exp(iω(lower + hL))`
/// and `Λ[l] = exp(iωl)`. Building it costs about `2√count` sine/cosine
/// pairs instead of one per value, and each value (a product of two
/// correctly rounded table entries) is within a few ulp of the direct
/// `exp`. The upsampled DFT's kernels and the normalised error's phase
/// factors use it.
struct PhaseTable {
    private let low: [Complex<Double>]
    private let high: [Complex<Double>]
    private let lower: Int
    private let bits: Int

    /// The table of `exp(iωt)` for `t` in `range`.
    init(omega: Double, range: ClosedRange<Int>) {
        let count = range.upperBound - range.lowerBound + 1
        var bits = 0
        while (1 << (2 * bits)) < count { bits += 1 }    // L = 2^bits ≥ √count
        let length = 1 << bits
        lower = range.lowerBound
        self.bits = bits
        low = (0..<length).map { l in
            let angle = omega * Double(l)
            return Complex(Double.cos(angle), Double.sin(angle))
        }
        high = (0...((count - 1) >> bits)).map { h in
            let angle = omega * Double(range.lowerBound + h * length)
            return Complex(Double.cos(angle), Double.sin(angle))
        }
    }

    /// `exp(iωt)`; `t` must lie in the table's range.
    @inline(__always)
    subscript(t: Int) -> Complex<Double> {
        let d = t - lower
        return high[d >> bits] * low[d & ((1 << bits) - 1)]
    }
}
