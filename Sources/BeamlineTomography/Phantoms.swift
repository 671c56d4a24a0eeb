import BeamlineTensor
import Foundation

/// Test objects for tests, demos and benchmarks.
public enum Phantom {
    /// The modified Shepp–Logan phantom (Toft's higher-contrast values, as
    /// MATLAB's `phantom('Modified Shepp-Logan')`), `size × size`, point-
    /// sampled at pixel centres on [−1, 1]², row 0 at the top (y = +1).
    /// Values lie in [0, 1].
    public static func sheppLogan2D<T: RealElement>(size: Int, as: T.Type = Double.self) -> Tensor<T> {
        let ellipses: [(Double, Double, Double, Double, Double, Double)] = [
            (1, 0.69, 0.92, 0, 0, 0), (-0.8, 0.6624, 0.874, 0, -0.0184, 0),
            (-0.2, 0.11, 0.31, 0.22, 0, -18), (-0.2, 0.16, 0.41, -0.22, 0, 18),
            (0.1, 0.21, 0.25, 0, 0.35, 0), (0.1, 0.046, 0.046, 0, 0.1, 0),
            (0.1, 0.046, 0.046, 0, -0.1, 0), (0.1, 0.046, 0.023, -0.08, -0.605, 0),
            (0.1, 0.023, 0.023, 0, -0.606, 0), (0.1, 0.023, 0.046, 0.06, -0.605, 0),
        ]
        let n = Swift.max(0, size)
        var values = [T](repeating: 0, count: n * n)
        for r in 0..<n {
            let y = 1 - (2 * Double(r) + 1) / Double(n)
            for c in 0..<n {
                let x = (2 * Double(c) + 1) / Double(n) - 1
                var v = 0.0
                for (a, ax, ay, x0, y0, phi) in ellipses {
                    let t = phi * Double.pi / 180
                    let (dx, dy) = (x - x0, y - y0)
                    let u = dx * cos(t) + dy * sin(t), w = -dx * sin(t) + dy * cos(t)
                    if (u * u) / (ax * ax) + (w * w) / (ay * ay) <= 1 { v += a }
                }
                values[r * n + c] = T(v)
            }
        }
        return Tensor(shape: [n, n], elements: values)
    }

    /// The 3-d modified Shepp–Logan phantom (ten ellipsoids, Kak & Slaney's
    /// table with Toft's contrasts), shape `(size, size, size, 1)` with
    /// axes (x, y, z) on [−1, 1]³ sampled at voxel centres. Values in [0, 1].
    public static func sheppLogan3D<T: RealElement>(size: Int, as: T.Type = Double.self) -> Tensor<T> {
        let e: [(Double, Double, Double, Double, Double, Double, Double, Double)] = [
            (1, 0.69, 0.92, 0.81, 0, 0, 0, 0), (-0.8, 0.6624, 0.874, 0.78, 0, -0.0184, 0, 0),
            (-0.2, 0.11, 0.31, 0.22, 0.22, 0, 0, -18), (-0.2, 0.16, 0.41, 0.28, -0.22, 0, 0, 18),
            (0.1, 0.21, 0.25, 0.41, 0, 0.35, -0.15, 0), (0.1, 0.046, 0.046, 0.05, 0, 0.1, 0.25, 0),
            (0.1, 0.046, 0.046, 0.05, 0, -0.1, 0.25, 0), (0.1, 0.046, 0.023, 0.05, -0.08, -0.605, 0, 0),
            (0.1, 0.023, 0.023, 0.02, 0, -0.606, 0, 0), (0.1, 0.023, 0.046, 0.02, 0.06, -0.605, 0, 0),
        ]
        let ellipsoids = e.map { Ellipsoid(value: [$0.0], axes: SIMD3($0.1, $0.2, $0.3), center: SIMD3($0.4, $0.5, $0.6),
                                           rotation: Matrix3.rotation(axis: SIMD3(0, 0, 1), angle: $0.7 * Double.pi / 180)) }
        return render(ellipsoids, shape: [size, size, size], channels: 1)
    }

    /// `count` random ellipsoids inside the unit ball of a `(X, Y, Z, C)`
    /// volume, from a seeded generator (the same seed gives the same
    /// phantom on every platform). Each ellipsoid has semi-axes in
    /// [0.1, 0.4], a random orientation and, per channel, a value in
    /// [0.1, 1]; with `channels` > 1 the channels differ (a multi-channel
    /// phantom for tensor-tomography-like tests). Values add up where
    /// ellipsoids overlap.
    public static func randomEllipsoids<T: RealElement>(shape: [Int], count: Int = 8, channels: Int = 1, seed: UInt64 = 0,
                                                        as: T.Type = Double.self) -> Tensor<T> {
        precondition(shape.count == 3 && channels >= 1, "Phantom.randomEllipsoids: shape must be (X, Y, Z), channels ≥ 1")
        var rng = SplitMix64(seed: seed)
        var ellipsoids: [Ellipsoid] = []
        for _ in 0..<Swift.max(0, count) {
            let axes = SIMD3(rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.4), rng.uniform(0.1, 0.4))
            let radius = rng.uniform(0, 0.5)
            var direction = SIMD3(rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1))
            let length = (direction * direction).sum().squareRoot()
            direction = length > 1e-9 ? direction / length : SIMD3(1, 0, 0)
            let axis = SIMD3(rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1))
            let rotation = Matrix3.rotation(axis: axis, angle: rng.uniform(0, Double.pi))
            let value = (0..<channels).map { _ in rng.uniform(0.1, 1) }
            ellipsoids.append(Ellipsoid(value: value, axes: axes, center: direction * radius, rotation: rotation))
        }
        return render(ellipsoids, shape: shape, channels: channels)
    }

    struct Ellipsoid {
        var value: [Double]
        var axes: SIMD3<Double>
        var center: SIMD3<Double>
        var rotation: Matrix3
    }

    static func render<T: RealElement>(_ ellipsoids: [Ellipsoid], shape: [Int], channels: Int) -> Tensor<T> {
        let (nx, ny, nz) = (Swift.max(0, shape[0]), Swift.max(0, shape[1]), Swift.max(0, shape[2]))
        var values = [T](repeating: 0, count: nx * ny * nz * channels)
        values.withUnsafeMutableBufferPointer { buffer in
            guard buffer.baseAddress != nil else { return }
            let out = SendableMutableBuffer(buffer)
            Parallel.forEachChunk(count: nx, minimumChunk: 1) { xs in
                for x in xs {
                    let px = (2 * Double(x) + 1) / Double(nx) - 1
                    for y in 0..<ny {
                        let py = (2 * Double(y) + 1) / Double(ny) - 1
                        for z in 0..<nz {
                            let p = SIMD3(px, py, (2 * Double(z) + 1) / Double(nz) - 1)
                            for e in ellipsoids {
                                let q = e.rotation.transposeMultiply(p - e.center) / e.axes
                                if (q * q).sum() <= 1 {
                                    let o = ((x * ny + y) * nz + z) * channels
                                    for c in 0..<channels { out[o + c] += T(e.value[c]) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [nx, ny, nz, channels], elements: values)
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small seeded generator with
/// the same sequence on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The state.
    public var state: UInt64
    /// A generator from a seed.
    public init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A uniform number in [a, b).
    public mutating func uniform(_ a: Double, _ b: Double) -> Double {
        a + (b - a) * Double(next() >> 11) / Double(UInt64(1) << 53)
    }
    /// A Poisson-distributed count with mean `lambda` (Knuth's method for
    /// small means, a rounded normal approximation above 30).
    public mutating func poisson(_ lambda: Double) -> Double {
        guard lambda > 0 else { return 0 }
        if lambda > 30 {
            let u1 = Swift.max(uniform(0, 1), 1e-300), u2 = uniform(0, 1)
            let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            return Swift.max(0, (lambda + lambda.squareRoot() * normal).rounded())
        }
        let limit = exp(-lambda)
        var k = 0.0, p = 1.0
        repeat { k += 1; p *= uniform(0, 1) } while p > limit
        return k - 1
    }
}
