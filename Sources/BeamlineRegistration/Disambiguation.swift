import BeamlineTensor
import ComplexModule
import RealModule

/// scikit-image's `_disambiguate_shift`: the periodic shift is shifted onto
/// the moving image with `grid-wrap` (cubic spline if sub-pixel, nearest
/// otherwise); the 2^ndim tiles cut at the wrapped shift are correlated
/// with the reference (`numpy.corrcoef`, clipped to [−1, 1]) and the tile
/// with the largest correlation picks the positive or negative candidate
/// on each axis (first one wins ties; tiles of ≤ 2 pixels or with zero
/// variance are skipped; if none qualifies the shift is returned as is).
/// Complex images are shifted part by part and compared by the real part
/// of the complex correlation coefficient (NumPy orders complex numbers by
/// real part first).
enum Disambiguation {
    static func resolve<T: RegistrationScalar>(reference: Tensor<Complex<T>>, moving: Tensor<Complex<T>>,
                                               shift: [Double]) -> [Double] {
        let shape = reference.shape
        let rank = shape.count
        var positive = [Double](repeating: 0, count: rank)
        var negative = [Double](repeating: 0, count: rank)
        var subpixel = false
        for a in 0..<rank {
            let n = Double(shape[a])
            var p = shift[a].truncatingRemainder(dividingBy: n)
            if p < 0 { p += n }
            positive[a] = p
            negative[a] = p - n
            if shift[a].truncatingRemainder(dividingBy: 1) != 0 { subpixel = true }
        }
        let order = subpixel ? 3 : 0
        let movingValues = moving.elements
        let re = SplineEngine.shift(movingValues.map { Double($0.real) }, shape: shape, by: shift, order: order,
                                    mode: .gridWrap, cval: 0)
        let im = SplineEngine.shift(movingValues.map { Double($0.imaginary) }, shape: shape, by: shift, order: order,
                                    mode: .gridWrap, cval: 0)
        let referenceValues = reference.elements
        let cuts = positive.map { Int($0.rounded(.toNearestOrEven)) }
        let strides = rowMajorStrides(shape)
        var best = -1.0
        var bestChoice: [Int]? = nil
        // itertools.product order: the first axis varies slowest; 0 = [0, cut), 1 = [cut, n).
        let combinations = 1 << rank
        for combination in 0..<combinations {
            var choice = [Int](repeating: 0, count: rank)
            for a in 0..<rank { choice[a] = (combination >> (rank - 1 - a)) & 1 }
            var lower = [Int](repeating: 0, count: rank), upper = shape
            for a in 0..<rank {
                let cut = Swift.min(Swift.max(cuts[a], 0), shape[a])
                if choice[a] == 0 { upper[a] = cut } else { lower[a] = cut }
            }
            let extent = (0..<rank).map { Swift.max(0, upper[$0] - lower[$0]) }
            let size = extent.reduce(1, *)
            var correlation = -1.0
            if size > 2 {
                // Gather the tile (row-major order within the tile).
                var xr = [Double](), xi = [Double](), yr = [Double](), yi = [Double]()
                xr.reserveCapacity(size); xi.reserveCapacity(size); yr.reserveCapacity(size); yi.reserveCapacity(size)
                var index = lower
                for _ in 0..<size {
                    var flat = 0
                    for a in 0..<rank { flat += index[a] * strides[a] }
                    xr.append(Double(referenceValues[flat].real)); xi.append(Double(referenceValues[flat].imaginary))
                    yr.append(re[flat]); yi.append(im[flat])
                    var a = rank - 1
                    while a >= 0 {
                        index[a] += 1
                        if index[a] < upper[a] { break }
                        index[a] = lower[a]
                        a -= 1
                    }
                }
                correlation = correlationCoefficient(xr, xi, yr, yi)
            }
            if correlation > best {   // NaN never wins
                best = correlation
                bestChoice = choice
            }
        }
        guard let bestChoice else { return shift }
        return (0..<rank).map { bestChoice[$0] == 1 ? positive[$0] : negative[$0] }
    }

    /// Real part of `numpy.corrcoef(x, y)[0, 1]` for complex `x`, `y`,
    /// clipped to [−1, 1] (NaN for zero variance).
    static func correlationCoefficient(_ xr: [Double], _ xi: [Double], _ yr: [Double], _ yi: [Double]) -> Double {
        let n = Double(xr.count)
        var mxr = 0.0, mxi = 0.0, myr = 0.0, myi = 0.0
        for i in 0..<xr.count { mxr += xr[i]; mxi += xi[i]; myr += yr[i]; myi += yi[i] }
        mxr /= n; mxi /= n; myr /= n; myi /= n
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in 0..<xr.count {
            let ar = xr[i] - mxr, ai = xi[i] - mxi, br = yr[i] - myr, bi = yi[i] - myi
            sxx += ar * ar + ai * ai
            syy += br * br + bi * bi
            sxy += ar * br + ai * bi          // Re(a · conj(b))
        }
        let c = (sxy / (n - 1)) / (sxx / (n - 1)).squareRoot() / (syy / (n - 1)).squareRoot()
        if c.isNaN { return c }
        return Swift.min(1, Swift.max(-1, c))
    }
}
