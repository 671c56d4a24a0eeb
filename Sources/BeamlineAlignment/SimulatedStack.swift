import BeamlineTensor
import BeamlineTomography
import Foundation

/// A simulated tomography stack of Gaussian blobs, for tests, demos and
/// benchmarks of the alignment methods: with analytic
/// projections in the Radon projector's geometry (scikit-image's: a point
/// at (X, Y) from the centre projects to column `n/2 + X cos θ − Y sin θ`),
/// misaligned by known shifts in toupy's convention
/// (`measured(y, x) = aligned(y − v, x − h)`).
public struct SimulatedStack: Sendable {
    /// The misaligned stack `(projections, rows, columns)`.
    public let stack: Tensor<Double>
    /// The projection angles in degrees, evenly over [0°, 180°).
    public let angles: [Double]
    /// The true vertical shifts (what an alignment should find).
    public let vertical: [Double]
    /// The true horizontal shifts, including the axis offset.
    public let horizontal: [Double]

    struct Blob { var x, y, z, sigma, amplitude: Double }

    static let blobs: [Blob] = [
        Blob(x: -5, y: 3, z: -4, sigma: 2.5, amplitude: 1.0),
        Blob(x: 6, y: -2, z: 3, sigma: 2.0, amplitude: 0.8),
        Blob(x: 1, y: 7, z: 6, sigma: 1.8, amplitude: 1.2),
        Blob(x: -2, y: -6, z: -1, sigma: 3.0, amplitude: 0.6),
    ]

    /// `projections` over [0°, 180°), `rows × columns` detector, shifts
    /// drawn uniformly in ±`maximumShift` (seeded), plus `axisOffset` on
    /// every horizontal shift and Gaussian noise of `noise` × the maximum.
    public init(projections: Int = 45, rows: Int = 32, columns: Int = 40, maximumShift: Double = 2,
         axisOffset: Double = 0, noise: Double = 0, seed: UInt64 = 7, shiftVertical: Bool = true,
         shiftHorizontal: Bool = true) {
        var generator = SplitMix64(seed: seed)
        angles = (0..<projections).map { Double($0) * 180 / Double(projections) }
        vertical = (0..<projections).map { _ in shiftVertical ? generator.uniform(-maximumShift, maximumShift) : 0 }
        horizontal = (0..<projections).map { _ in
            (shiftHorizontal ? generator.uniform(-maximumShift, maximumShift) : 0) + axisOffset
        }
        let centreColumn = Double(columns / 2), centreRow = Double(rows) / 2
        var values = [Double](repeating: 0, count: projections * rows * columns)
        for p in 0..<projections {
            let theta = angles[p] * Double.pi / 180
            for blob in Self.blobs {
                let u = blob.x * cos(theta) - blob.y * sin(theta)
                let weight = blob.amplitude * (2 * Double.pi).squareRoot() * blob.sigma
                for r in 0..<rows {
                    let dz = Double(r) - vertical[p] - (centreRow + blob.z)
                    let fz = exp(-dz * dz / (2 * blob.sigma * blob.sigma))
                    for c in 0..<columns {
                        let du = Double(c) - horizontal[p] - (centreColumn + u)
                        values[(p * rows + r) * columns + c] += weight * fz * exp(-du * du / (2 * blob.sigma * blob.sigma))
                    }
                }
            }
        }
        if noise > 0 {
            let peak = values.max() ?? 1
            for i in values.indices { values[i] += noise * peak * generator.normal() }
        }
        stack = Tensor(shape: [projections, rows, columns], elements: values)
    }

    /// RMS of `found − true` after removing the mean.
    public static func rmsAfterMean(_ found: [Double], _ truth: [Double]) -> Double {
        let d = zip(found, truth).map { $0 - $1 }
        let mean = d.reduce(0, +) / Double(d.count)
        return (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d.count)).squareRoot()
    }

    /// RMS of `found − true` after removing its least-squares fit on
    /// (1, cos θ, sin θ) (a translation of the sample and a common offset,
    /// which no consistency cost can see).
    public static func rmsAfterSinusoid(_ found: [Double], _ truth: [Double], anglesDegrees: [Double]) -> Double {
        let d = zip(found, truth).map { $0 - $1 }
        let basis: [[Double]] = [anglesDegrees.map { _ in 1 }, anglesDegrees.map { cos($0 * .pi / 180) },
                                 anglesDegrees.map { sin($0 * .pi / 180) }]
        // Normal equations (3 × 3), solved by Cramer's rule.
        var a = [[Double]](repeating: [0, 0, 0], count: 3), b = [0.0, 0, 0]
        for i in 0..<3 {
            for j in 0..<3 { a[i][j] = zip(basis[i], basis[j]).map { $0 * $1 }.reduce(0, +) }
            b[i] = zip(basis[i], d).map { $0 * $1 }.reduce(0, +)
        }
        func det(_ m: [[Double]]) -> Double {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        }
        let d0 = det(a)
        let coefficients = (0..<3).map { k -> Double in
            var m = a
            for i in 0..<3 { m[i][k] = b[i] }
            return det(m) / d0
        }
        let residual = d.indices.map { i in d[i] - (0..<3).map { coefficients[$0] * basis[$0][i] }.reduce(0, +) }
        return (residual.map { $0 * $0 }.reduce(0, +) / Double(d.count)).squareRoot()
    }
}

extension SplitMix64 {
    /// A standard normal variate (Box–Muller on two uniforms).
    mutating func normal() -> Double {
        let u = max(uniform(0, 1), 1e-300), v = uniform(0, 1)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
