import BeamlineTensor
import ComplexModule
import RealModule

/// How `spline(_:by:order:mode:cval:)` extends an image
/// beyond its edges, named and defined as in `scipy.ndimage` (SciPy ≥ 1.6).
///
/// For an input `a b c d`:
/// - ``constant``: `k k k k | a b c d | k k k k` (points that map outside
///   the input get `cval`; no interpolation beyond the edge);
/// - ``nearest``: `a a a a | a b c d | d d d d`;
/// - ``reflect`` (half-sample symmetric, SciPy's `grid-mirror`): `d c b a | a b c d | d c b a`;
/// - ``mirror`` (whole-sample symmetric): `d c b | a b c d | c b a`;
/// - ``wrap`` (SciPy's legacy periodic mode with period `n − 1`): `a b c d | a b c d`
///   with the first and last samples identified;
/// - ``gridWrap`` (periodic with period `n`): `a b c d | a b c d | a b c d`.
public enum SplineBoundaryMode: String, Sendable, CaseIterable {
    /// Constant extension with `cval` (SciPy `constant`).
    case constant
    /// Repeat the edge sample (SciPy `nearest`).
    case nearest
    /// Half-sample symmetric reflection (SciPy `reflect`).
    case reflect
    /// Whole-sample symmetric reflection (SciPy `mirror`).
    case mirror
    /// SciPy's `wrap` (period `n − 1`, kept for compatibility).
    case wrap
    /// Periodic with period `n` (SciPy `grid-wrap`).
    case gridWrap = "grid-wrap"

    /// `NI_ExtendMode` number of the mode in SciPy's C code.
    @usableFromInline var code: ExtendCode {
        switch self {
        case .nearest: return .nearest
        case .wrap: return .wrap
        case .reflect: return .reflect
        case .mirror: return .mirror
        case .constant: return .constant
        case .gridWrap: return .gridWrap
        }
    }
}

/// SciPy's `NI_ExtendMode` values used by the interpolation engine.
@usableFromInline
enum ExtendCode: Sendable {
    case nearest, wrap, reflect, mirror, constant, gridWrap
}

/// B-spline prefilter and shift interpolation, a port of the conventions
/// of `scipy/ndimage/src/ni_splines.c` and `NI_ZoomShift` in
/// `ni_interpolation.c` (SciPy 1.17), computed in `Double`.
@usableFromInline
enum SplineEngine {
    /// Poles of the B-spline prefilter of each order (`get_filter_poles`).
    static func poles(order: Int) -> [Double] {
        switch order {
        case 2: return [-0.171572875253809902396622551580603843]
        case 3: return [-0.267949192431122706472553658494127633]
        case 4: return [-0.361341225900220177092212841325675255, -0.013725429297339121360331226939128204]
        case 5: return [-0.430575347099973791851434783493520110, -0.043096288203264653822712376822550182]
        default: return []
        }
    }

    /// Interpolation weights of the `order + 1` samples around `x`
    /// (`get_spline_interpolation_weights`).
    @inline(__always)
    static func weights(_ x0: Double, order: Int, _ w: UnsafeMutablePointer<Double>) {
        var x = x0
        x -= (order & 1 == 1 ? x : x + 0.5).rounded(.down)
        var y = x
        var z = 1.0 - x
        switch order {
        case 1:
            w[0] = 1.0 - x
        case 2:
            w[1] = 0.75 - x * x
            y = 0.5 - x
            w[0] = 0.5 * y * y
        case 3:
            w[1] = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0
            w[2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0
            w[0] = z * z * z / 6.0
        case 4:
            let t = x * x
            w[2] = t * (t * 0.25 - 0.625) + 115.0 / 192.0
            y = 1.0 + x
            w[1] = y * (y * (y * (5.0 - y) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
            w[3] = z * (z * (z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0
            y = 0.5 - x
            let s = y * y
            w[0] = s * s / 24.0
        case 5:
            var t = y * y
            w[2] = t * (t * (0.25 - y / 12.0) - 0.5) + 0.55
            t = z * z
            w[3] = t * (t * (0.25 - z / 12.0) - 0.5) + 0.55
            y += 1.0
            w[1] = y * (y * (y * (y * (y / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
            z += 1.0
            w[4] = z * (z * (z * (z * (z / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425
            y = 1.0 - x
            t = y * y
            w[0] = y * t * t / 120.0
        default:
            return
        }
        w[order] = 1.0
        for i in 0..<order { w[order] -= w[i] }
    }

    /// Maps a coordinate outside `0...len-1` back inside (`map_coordinate`);
    /// -1 means "outside" for ``ExtendCode/constant``.
    @inline(__always)
    static func mapCoordinate(_ x: Double, _ len: Int, _ mode: ExtendCode) -> Double {
        var v = x
        if v < 0 {
            switch mode {
            case .mirror:
                if len <= 1 { v = 0 } else {
                    let sz2 = 2 * len - 2
                    v = Double(sz2 * Int(-v / Double(sz2))) + v
                    v = v <= Double(1 - len) ? v + Double(sz2) : -v
                }
            case .reflect:
                if len <= 1 { v = 0 } else {
                    let sz2 = 2 * len
                    if v < Double(-sz2) { v = Double(sz2 * Int(-v / Double(sz2))) + v }
                    v = v < Double(-len) ? v + Double(sz2) : (v > -1e-15 ? 1e-15 : -v) - 1
                }
            case .wrap:
                if len <= 1 { v = 0 } else {
                    let sz = len - 1
                    v += Double(sz * (Int(-v / Double(sz)) + 1))
                }
            case .gridWrap:
                if len <= 1 { v = 0 } else {
                    v += Double(len * (Int((-1 - v) / Double(len)) + 1))
                }
            case .nearest:
                v = 0
            case .constant:
                v = -1
            }
        } else if v > Double(len - 1) {
            switch mode {
            case .mirror:
                if len <= 1 { v = 0 } else {
                    let sz2 = 2 * len - 2
                    v -= Double(sz2 * Int(v / Double(sz2)))
                    if v >= Double(len) { v = Double(sz2) - v }
                }
            case .reflect:
                if len <= 1 { v = 0 } else {
                    let sz2 = 2 * len
                    v -= Double(sz2 * Int(v / Double(sz2)))
                    if v >= Double(len) { v = Double(sz2) - v - 1 }
                }
            case .wrap:
                if len <= 1 { v = 0 } else {
                    let sz = len - 1
                    v -= Double(sz * Int(v / Double(sz)))
                }
            case .gridWrap:
                if len <= 1 { v = 0 } else { v -= Double(len * Int(v / Double(len))) }
            case .nearest:
                v = Double(len - 1)
            case .constant:
                v = -1
            }
        }
        return v
    }

    // MARK: Prefilter

    /// Boundary initialisation of the recursive prefilter.
    enum FilterInit { case mirror, wrap, reflect }

    /// The prefilter initialisation SciPy uses for `mode` (`apply_filter`).
    static func filterInit(_ mode: ExtendCode) -> FilterInit {
        switch mode {
        case .constant, .mirror, .wrap: return .mirror
        case .gridWrap: return .wrap
        case .nearest, .reflect: return .reflect
        }
    }

    /// Applies the B-spline prefilter of `order` in place to one line of
    /// `n > 1` samples.
    static func filterLine(_ c: UnsafeMutablePointer<Double>, _ n: Int, poles: [Double], initKind: FilterInit) {
        var gain = 1.0
        for z in poles { gain *= (1.0 - z) * (1.0 - 1.0 / z) }
        for i in 0..<n { c[i] *= gain }
        for z in poles {
            // causal initialisation
            switch initKind {
            case .mirror:
                var zi = z
                let zn1 = Double.pow(z, n - 1)
                c[0] = c[0] + zn1 * c[n - 1]
                var i = 1
                while i < n - 1 {
                    c[0] += zi * (c[i] + zn1 * c[n - 1 - i])
                    zi *= z
                    i += 1
                }
                c[0] /= 1 - zn1 * zn1
            case .wrap:
                var zi = z
                for i in 1..<n {
                    c[0] += zi * c[n - i]
                    zi *= z
                }
                c[0] /= 1 - zi
            case .reflect:
                var zi = z
                let zn = Double.pow(z, n)
                var sum = c[0] + zn * c[n - 1]
                for i in 1..<n {
                    sum += zi * (c[i] + zn * c[n - 1 - i])
                    zi *= z
                }
                c[0] += sum * z / (1 - zn * zn)
            }
            for i in 1..<n { c[i] += z * c[i - 1] }
            // anticausal initialisation
            switch initKind {
            case .mirror:
                c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1)
            case .wrap:
                var zi = z
                for i in 0..<(n - 1) {
                    c[n - 1] += zi * c[i]
                    zi *= z
                }
                c[n - 1] *= z / (zi - 1)
            case .reflect:
                c[n - 1] *= z / (z - 1)
            }
            var i = n - 2
            while i >= 0 {
                c[i] = z * (c[i + 1] - c[i])
                i -= 1
            }
        }
    }

    /// Prefilters `data` (row-major `shape`) along every axis in place.
    static func prefilter(_ data: inout [Double], shape: [Int], order: Int, mode: ExtendCode) {
        let poles = poles(order: order)
        guard !poles.isEmpty else { return }
        let kind = filterInit(mode)
        let strides = rowMajorStrides(shape)
        let total = data.count
        data.withUnsafeMutableBufferPointer { buffer in
            let base = SendableMutableBuffer(buffer)
            for axis in 0..<shape.count {
                let n = shape[axis]
                guard n > 1 else { continue }
                let stride = strides[axis]
                let lines = total / n
                // line l: outer index o = l / stride, inner i = l % stride
                Parallel.forEachChunk(count: lines, minimumChunk: Swift.max(1, 16384 / n)) { range in
                    let line = UnsafeMutablePointer<Double>.allocate(capacity: n)
                    defer { line.deallocate() }
                    for l in range {
                        let start = (l / stride) * stride * n + l % stride
                        for k in 0..<n { line[k] = base[start + k * stride] }
                        filterLine(line, n, poles: poles, initKind: kind)
                        for k in 0..<n { base[start + k * stride] = line[k] }
                    }
                }
            }
        }
    }

    // MARK: Shift

    /// `scipy.ndimage.shift(input, shift, order=order, mode=mode, cval=cval)`
    /// on a `Double` array of row-major `shape` (prefilter included).
    static func shift(_ input: [Double], shape: [Int], by shift: [Double], order: Int,
                      mode: SplineBoundaryMode, cval: Double) -> [Double] {
        let code = mode.code
        var coefficients: [Double]
        var inShape = shape
        var npad = 0
        if order > 1 {
            if code == .nearest {
                npad = 12
                inShape = shape.map { $0 + 24 }
                coefficients = edgePadded(input, shape: shape, pad: npad)
            } else {
                coefficients = input
            }
            prefilter(&coefficients, shape: inShape, order: order, mode: code)
        } else {
            coefficients = input
        }
        return interpolate(coefficients, inShape: inShape, outShape: shape, shift: shift.map { -$0 },
                           npad: npad, order: order, mode: code, cval: cval)
    }

    /// `numpy.pad(x, pad, mode='edge')`.
    static func edgePadded(_ x: [Double], shape: [Int], pad: Int) -> [Double] {
        let outShape = shape.map { $0 + 2 * pad }
        let count = outShape.reduce(1, *)
        var out = [Double](repeating: 0, count: count)
        let inStrides = rowMajorStrides(shape)
        var index = [Int](repeating: 0, count: shape.count)
        for flat in 0..<count {
            var source = 0
            for a in 0..<shape.count {
                source += Swift.min(Swift.max(index[a] - pad, 0), shape[a] - 1) * inStrides[a]
            }
            out[flat] = x[source]
            var a = shape.count - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < outShape[a] { break }
                index[a] = 0
                a -= 1
            }
        }
        return out
    }

    /// The interpolation half of `NI_ZoomShift` (shift only, no zoom).
    static func interpolate(_ c: [Double], inShape: [Int], outShape: [Int], shift: [Double], npad: Int,
                            order: Int, mode: ExtendCode, cval: Double) -> [Double] {
        let rank = inShape.count
        let taps = order + 1
        let inStrides = rowMajorStrides(inShape)
        let splineMode: ExtendCode = (mode == .constant || mode == .wrap) ? .mirror : mode
        // Per axis and output index: outside flag, tap offsets (in elements) and weights.
        var outside: [[Bool]] = []
        var tapOffsets: [[Int]] = []
        var tapWeights: [[Double]] = []
        var w = [Double](repeating: 0, count: taps)
        for axis in 0..<rank {
            let len = inShape[axis]
            let n = outShape[axis]
            var out = [Bool](repeating: false, count: n)
            var offsets = [Int](repeating: 0, count: n * taps)
            var weightTable = [Double](repeating: 1, count: n * taps)
            for k in 0..<n {
                var cc = Double(k) + shift[axis]
                cc += Double(npad)
                if mode != .nearest { cc = mapCoordinate(cc, len, mode) }
                if cc > -1.0 || mode == .nearest {
                    let start = order & 1 == 1 ? Int(cc.rounded(.down)) - order / 2
                                               : Int((cc + 0.5).rounded(.down)) - order / 2
                    for h in 0..<taps {
                        var idx = start + h
                        if start < 0 || start + order >= len {
                            idx = Int(mapCoordinate(Double(idx), len, splineMode))
                        }
                        offsets[k * taps + h] = idx * inStrides[axis]
                    }
                    if order > 0 {
                        w.withUnsafeMutableBufferPointer { weights(cc, order: order, $0.baseAddress!) }
                        for h in 0..<taps { weightTable[k * taps + h] = w[h] }
                    }
                } else {
                    out[k] = true
                }
            }
            outside.append(out)
            tapOffsets.append(offsets)
            tapWeights.append(weightTable)
        }
        let count = outShape.reduce(1, *)
        var result = [Double](repeating: 0, count: count)
        let filterSize = [Int](repeating: taps, count: rank).reduce(1, *)
        let lastLength = outShape[rank - 1]
        let rows = count / lastLength
        result.withUnsafeMutableBufferPointer { resultBuffer in
            let output = SendableMutableBuffer(resultBuffer)
            c.withUnsafeBufferPointer { cBuffer in
                let coefficients = SendableBuffer(cBuffer)
                let (outside, tapOffsets, tapWeights) = (outside, tapOffsets, tapWeights)
                Parallel.forEachChunk(count: rows, minimumChunk: Swift.max(1, 8192 / lastLength)) { range in
                    var index = [Int](repeating: 0, count: rank)
                    var ff = [Int](repeating: 0, count: rank)
                    for row in range {
                        // multi-index of the row's first element
                        var rest = row
                        for a in stride(from: rank - 2, through: 0, by: -1) {
                            index[a] = rest % outShape[a]
                            rest /= outShape[a]
                        }
                        var rowOutside = false
                        for a in 0..<(rank - 1) where outside[a][index[a]] { rowOutside = true }
                        for k in 0..<lastLength {
                            index[rank - 1] = k
                            if rowOutside || outside[rank - 1][k] {
                                output[row * lastLength + k] = cval
                                continue
                            }
                            var t = 0.0
                            for a in 0..<rank { ff[a] = 0 }
                            for _ in 0..<filterSize {
                                var idx = 0
                                for a in 0..<rank { idx += tapOffsets[a][index[a] * taps + ff[a]] }
                                var coeff = coefficients[idx]
                                if order > 0 {
                                    for a in 0..<rank { coeff *= tapWeights[a][index[a] * taps + ff[a]] }
                                }
                                t += coeff
                                var a = rank - 1
                                while a >= 0 {
                                    ff[a] += 1
                                    if ff[a] < taps { break }
                                    ff[a] = 0
                                    a -= 1
                                }
                            }
                            output[row * lastLength + k] = t
                        }
                    }
                }
            }
        }
        return result
    }
}
