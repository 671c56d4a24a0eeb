import BeamlineTensor
import Foundation

extension IntensityScaler {
    /// cbclib's `unmerge_signal`: each row's share of the measured signal,
    /// Î_j = (I_j − bgd_j − Σ_pixel b) · m_j / Σ_pixel m (table order), where
    /// m = exp θ · χ · f² is the structure part of the model; the share is
    /// clipped to [0, 1] and is 0 where the pixel's model is not positive.
    ///
    /// - Throws: ``CrystallographyError/argument(_:)`` for a bad `x`.
    public func unmergedSignal(_ x: [Double], fitIntercept: Bool = true) throws(CrystallographyError) -> [Double] {
        try check(x)
        let (a, b) = streakFactors(x, fitIntercept: fitIntercept)
        let scaled = unmerged(a, b)
        var out = [Double](repeating: 0, count: table.count)
        for j in 0..<table.count { out[Int(order[j])] = scaled[j] }
        return out
    }

    /// Î in scaler order.
    func unmerged(_ a: [Double], _ b: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: table.count)
        for p in 0..<(groupStart.count - 1) {
            let lo = Int(groupStart[p]), hi = Int(groupStart[p + 1])
            var model = 0.0, intercept = 0.0
            for j in lo..<hi { let s = Int(rowStreak[j]); model += a[s] * Double(weight[j]); intercept += b[s] }
            for j in lo..<hi {
                let m = a[Int(rowStreak[j])] * Double(weight[j])
                let ratio = model > 0 ? Swift.min(1, Swift.max(0, m / model)) : 0
                out[j] = (Double(counts[j]) - Double(background[j]) - intercept) * ratio
            }
        }
        return out
    }

    /// cbclib's `update_xtal`: new projection maps by Gaussian kernel
    /// regression of the unmerged signal, per frame,
    /// χ̂ₙ(k) = Σᵢ Îᵢ f²ᵢ K((k − uᵢ)/h) / Σᵢ |q|² f⁴ᵢ K((k − uᵢ)/h),
    /// K(d) = exp(−d²/2), over the grid points within ±4h of uᵢ along each
    /// axis (cbclib's cut-off) inside the frame's bounding box of grid
    /// points (zero outside it and where the denominator is 0); then the maps
    /// are divided by their mean and its logarithm is added to every θ, so
    /// the model is unchanged by the normalisation.
    ///
    /// - Parameters:
    ///   - x: the current parameters.
    ///   - bandwidth: h in aperture units, > 0.
    ///   - fitIntercept: whether the intercepts of `x` are used.
    /// - Returns: the scaler with the new maps, and `x` with θ rescaled.
    /// - Throws: ``CrystallographyError/argument(_:)`` for a bad `x` or
    ///   `bandwidth`, or maps whose mean is not positive (no signal).
    public func updatingMaps(_ x: [Double], bandwidth: Double,
                             fitIntercept: Bool = true) throws(CrystallographyError) -> (scaler: IntensityScaler, x: [Double]) {
        try check(x)
        guard bandwidth > 0, bandwidth.isFinite else {
            throw .invalidArgument(name: "bandwidth", expected: "a positive finite kernel bandwidth (aperture units)",
                                   received: "\(bandwidth)")
        }
        let (a, b) = streakFactors(x, fitIntercept: fitIntercept)
        let signal = unmerged(a, b)
        let nx = maps.nx, ny = maps.ny, stride = nx * ny
        let frames = maps.frames.count
        var values = [Float](repeating: 0, count: frames * stride)
        let frameRows = self.frameRows
        let (rs, pr, kn) = (rowStreak, profile, kins)
        maps.gridX.withUnsafeBufferPointer { gxp in
            maps.gridY.withUnsafeBufferPointer { gyp in
                signal.withUnsafeBufferPointer { sp in
                    a.withUnsafeBufferPointer { ap in
                        values.withUnsafeMutableBufferPointer { vp in
                            let gx = SendableBuffer(gxp), gy = SendableBuffer(gyp), sig = SendableBuffer(sp)
                            let A = SendableBuffer(ap), out = SendableMutableBuffer(vp)
                            Parallel.forEachBlock(count: frames, blockSize: 1) { f, _ in
                                let gxb = UnsafeBufferPointer(start: gx.baseAddress, count: nx)
                                let gyb = UnsafeBufferPointer(start: gy.baseAddress, count: ny)
                                Self.regress(rows: frameRows[f]..<frameRows[f + 1], gx: gxb, gy: gyb, h: bandwidth,
                                             signal: sig.baseAddress, a: A.baseAddress, streak: rs.pointer, profile: pr.pointer,
                                             kins: kn.pointer, out: out.baseAddress + f * stride)
                            }
                        }
                    }
                }
            }
        }
        var total = 0.0
        for v in values { total += Double(v) }
        let norm = total / Double(values.count)
        guard norm > 0, norm.isFinite else {
            throw .invalidArgument(name: "maps", expected: "a positive mean after the kernel-regression update (some signal)",
                                   received: "mean \(norm)")
        }
        let scaledValues = values.map { Float(Double($0) / norm) }
        var newX = x
        let shift = Foundation.log(norm)
        for r in 0..<reflections.count { newX[streakCount + r] += shift }
        let newMaps = try ProjectionMaps(gridX: maps.gridX, gridY: maps.gridY, frames: maps.frames, values: scaledValues)
        return (try replacingMaps(newMaps), newX)
    }

    /// cbclib's `search_lbound`: the largest i with grid[i] ≤ u, clamped to the grid.
    @inline(__always)
    static func lowerBound(_ u: Double, _ g: UnsafeBufferPointer<Double>) -> Int {
        let n = g.count
        if u <= g[0] { return 0 }
        if u >= g[n - 1] { return n - 1 }
        var lo = 0, hi = n - 1
        while hi - lo > 1 { let mid = (lo + hi) >> 1; if g[mid] <= u { lo = mid } else { hi = mid } }
        return lo
    }

    /// cbclib's `search_rbound`: the smallest i with grid[i] > u, clamped to the grid.
    @inline(__always)
    static func upperBound(_ u: Double, _ g: UnsafeBufferPointer<Double>) -> Int {
        let n = g.count
        if u <= g[0] { return 0 }
        if u >= g[n - 1] { return n - 1 }
        return lowerBound(u, g) + 1
    }

    static func regress(rows: Range<Int>, gx: UnsafeBufferPointer<Double>, gy: UnsafeBufferPointer<Double>, h: Double,
                        signal: UnsafePointer<Double>, a: UnsafePointer<Double>, streak: UnsafePointer<Int32>,
                        profile: UnsafePointer<Float>, kins: UnsafePointer<SIMD2<Float>>, out: UnsafeMutablePointer<Float>) {
        guard !rows.isEmpty else { return }
        let nx = gx.count
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        for j in rows {
            let u = kins[j]
            minX = Swift.min(minX, Double(u.x)); maxX = Swift.max(maxX, Double(u.x))
            minY = Swift.min(minY, Double(u.y)); maxY = Swift.max(maxY, Double(u.y))
        }
        let x0 = lowerBound(minX, gx), x1 = upperBound(maxX, gx) + 1
        let y0 = lowerBound(minY, gy), y1 = upperBound(maxY, gy) + 1
        let w = x1 - x0, hgt = y1 - y0
        var num = [Double](repeating: 0, count: w * hgt), den = num
        // The Gaussian is separable: exp(−(dx² + dy²)/2h²) = exp(−dx²/2h²) · exp(−dy²/2h²),
        // so each row needs nx + ny exponentials instead of nx · ny.
        var kx = [Double](repeating: 0, count: nx), ky = [Double](repeating: 0, count: gy.count)
        let cut = 4 * h, inv = -0.5 / (h * h)
        num.withUnsafeMutableBufferPointer { num in
            den.withUnsafeMutableBufferPointer { den in
                kx.withUnsafeMutableBufferPointer { kx in
                    ky.withUnsafeMutableBufferPointer { ky in
                        for j in rows {
                            let ux = Double(kins[j].x), uy = Double(kins[j].y)
                            let fp = Double(profile[j])
                            let yw = signal[j] * fp, ww = a[Int(streak[j])] * fp * fp
                            let ix0 = Swift.min(Swift.max(lowerBound(ux - cut, gx), x0), x1)
                            let ix1 = Swift.min(Swift.max(upperBound(ux + cut, gx) + 1, x0), x1)
                            let iy0 = Swift.min(Swift.max(lowerBound(uy - cut, gy), y0), y1)
                            let iy1 = Swift.min(Swift.max(upperBound(uy + cut, gy) + 1, y0), y1)
                            if ix0 >= ix1 || iy0 >= iy1 { continue }
                            for ix in ix0..<ix1 { let dx = gx[ix] - ux; kx[ix] = Foundation.exp(inv * dx * dx) }
                            for iy in iy0..<iy1 { let dy = gy[iy] - uy; ky[iy] = Foundation.exp(inv * dy * dy) }
                            for iy in iy0..<iy1 {
                                let yk = yw * ky[iy], wk = ww * ky[iy]
                                let base = (iy - y0) * w - x0
                                for ix in ix0..<ix1 {
                                    num[base + ix] += yk * kx[ix]
                                    den[base + ix] += wk * kx[ix]
                                }
                            }
                        }
                    }
                }
            }
        }
        for iy in y0..<y1 {
            for ix in x0..<x1 {
                let idx = (iy - y0) * w + (ix - x0)
                out[iy * nx + ix] = den[idx] > 0 ? Float(num[idx] / den[idx]) : 0
            }
        }
    }
}
